package main

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/passgw/passgw/v1api/callerauth"
	"github.com/passgw/passgw/v2client"
)

// dcrKeyPoll is how often a starting instance reads the store while it
// waits for a running one to write the device DCR key back.
const dcrKeyPoll = 100 * time.Millisecond

// sharedKey is the device DCR key kept in the store, which the gateway
// signs device credentials with when no dcr_keys are configured. It is
// read (or generated) once and then held for the life of the process. At
// start on a shared store that holds none, the gateway first waits, as
// long as it waits for v2 client credentials, for a running instance to
// write its key back (keepSharedKey), rather than generate a second key
// whose device credentials the running instances would refuse.
func (gw *gateway) sharedKey(cfg *Config, starting bool) (callerauth.Key, error) {
	if k := gw.dcrKey.Load(); k != nil {
		return *k, nil
	}
	var wait time.Duration
	if starting && cfg.Store != "memory" {
		wait = v2client.DefaultAdoptWait
	}
	k, err := callerauth.AdoptSharedKey(context.Background(), gw.store, rand.Reader, wait, dcrKeyPoll)
	if err != nil {
		return callerauth.Key{}, err
	}
	gw.dcrKey.Store(&k)
	return k, nil
}

// keepSharedKey writes the device DCR key the gateway holds back into the
// shared store every interval while the store has lost it (flushed,
// restarted empty, evicted), so that an instance started meanwhile adopts
// it and the device credentials issued with it stay valid on every
// instance. A store holding another key is logged once: the instances
// then disagree, and devices must register again on the other key's
// instances (configure dcr_keys to rule it out).
func (gw *gateway) keepSharedKey(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	log := gw.logger.With("component", "dcr")
	reported := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k := gw.dcrKey.Load()
		if k == nil {
			continue // dcr_keys configured
		}
		written, differs, err := callerauth.WriteBackSharedKey(ctx, gw.store, *k)
		switch {
		case err != nil:
			log.WarnContext(ctx, "checking the device DCR key in the store failed", "error", err)
		case written:
			log.WarnContext(ctx, "the device DCR key was missing from the store; wrote back the one in use", "key_id", k.ID)
		case differs && !reported:
			log.ErrorContext(ctx, "the store holds another device DCR key than the one in use: device credentials issued by this instance "+
				"are refused by instances signing with the other; configure dcr_keys", "key_id", k.ID)
		}
		reported = differs
	}
}
