package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v1api/callerauth"
	"github.com/passgw/passgw/v2client"
)

// DefaultStoreMaxEntries is the default cap of the in-memory store: about
// 420 MB of registration records (BENCHMARKS.md), less of smaller entries.
const DefaultStoreMaxEntries = 1_000_000

// storePingTimeout bounds the reachability check of a Redis store at start.
const storePingTimeout = 5 * time.Second

// openStore builds the store named by cfg.Store (provisioned: "memory" or a
// Redis URL) and returns it with the function that releases it.
//
// An unreachable Redis does not stop the gateway from starting: it is
// logged, calls that need shared state fail with a v1 500 (action retry)
// meanwhile, and the gateway recovers by itself when Redis answers.
func openStore(ctx context.Context, cfg *Config, logger *slog.Logger) (store.Store, func(), error) {
	if cfg.Store == "memory" {
		logger.Info("state kept in memory: registrations and kept decisions end with this process and are not shared with other instances",
			"max_entries", cfg.StoreMaxEntries)
		return &store.Memory{Now: time.Now, MaxEntries: max(cfg.StoreMaxEntries, 0)}, func() {}, nil
	}
	opts, err := redisstore.ParseURL(cfg.Store)
	if err != nil {
		return nil, nil, err
	}
	rs, err := redisstore.Open(cfg.Store, time.Now)
	if err != nil {
		return nil, nil, err
	}
	// The addresses and database only: the URL may carry a password.
	log := logger.With("component", "store", "redis", strings.Join(opts.InitAddress, ","), "db", opts.SelectDB)
	if opts.Sentinel.MasterSet != "" {
		log = log.With("sentinel_master_set", opts.Sentinel.MasterSet)
	} else if redisstore.Clustered(cfg.Store) {
		log = log.With("cluster", true)
	}
	pctx, cancel := context.WithTimeout(ctx, storePingTimeout)
	defer cancel()
	if err := rs.Ping(pctx); err != nil {
		log.Error("redis store unreachable at start; calls that need shared state fail until it answers; its settings were not checked", "error", err)
	} else {
		log.Info("state kept in redis, shared with every instance using it")
		if err := checkRedis(pctx, cfg, rs, log); err != nil {
			rs.Close()
			return nil, nil, err
		}
	}
	return rs, func() {
		if err := rs.Close(); err != nil {
			log.Warn("closing the redis store", "error", err)
		}
	}, nil
}

// checkRedis reads the persistence and eviction settings of the Redis
// servers behind rs and says loudly which would lose the gateway's state
// (CONFIG.md, "Running Redis"); with store_check refuse, any such setting
// stops the start.
func checkRedis(ctx context.Context, cfg *Config, rs *redisstore.Store, log *slog.Logger) error {
	if cfg.StoreCheck == "off" {
		return nil
	}
	servers, err := rs.Settings(ctx)
	if err != nil {
		log.Warn("redis settings could not be read; persistence and eviction not checked", "error", err)
		return nil
	}
	var problems []string
	for _, st := range servers {
		for _, p := range st.Problems() {
			log.Error("REDIS CAN LOSE THE GATEWAY'S STATE: "+p, "server", st.Addr,
				"appendonly", st.AOF, "save", st.Save, "maxmemory_policy", st.Policy)
			problems = append(problems, st.Addr+": "+p)
		}
	}
	if len(problems) > 0 && cfg.StoreCheck == "refuse" {
		return fmt.Errorf("store_check refuse: the redis store can lose the gateway's state:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}

// sealer is the translate.Sealer of store_keys, nil when none is
// configured.
func (c *Config) sealer() (*translate.Sealer, error) {
	if len(c.StoreKeys) == 0 {
		return nil, nil
	}
	keys := make([]translate.SealKey, 0, len(c.StoreKeys))
	for i, s := range c.StoreKeys {
		// The format of dcr_keys; its errors never quote the secret.
		k, err := callerauth.ParseKey(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		keys = append(keys, translate.SealKey{ID: k.ID, Secret: k.Secret})
	}
	return translate.NewSealer(keys[0], keys[1:]...)
}

// provisionPins rejects two requestors of one service provider pinning
// different v2 client credentials: the service provider has one identity.
func (c *Config) provisionPins(bad func(field, format string, args ...any)) {
	first := map[string]int{}
	for i, r := range c.Requestors {
		if r.V2ClientID == "" {
			continue
		}
		sp := r.serviceProvider()
		j, seen := first[sp]
		if !seen {
			first[sp] = i
			continue
		}
		if o := c.Requestors[j]; o.V2ClientID != r.V2ClientID || o.V2ClientSecret != r.V2ClientSecret {
			bad(fmt.Sprintf("requestors[%d].v2_client_id", i), "service provider %q has other v2 client credentials pinned in requestors[%d]", sp, j)
		}
	}
}

// pinned maps each service provider with pinned v2 client credentials to
// them.
func (c *Config) pinned() map[string]v2client.ClientCredentials {
	m := map[string]v2client.ClientCredentials{}
	for _, r := range c.Requestors {
		if r.V2ClientID != "" {
			m[r.serviceProvider()] = v2client.ClientCredentials{ClientID: r.V2ClientID, ClientSecret: r.V2ClientSecret}
		}
	}
	return m
}

// tokenSource is the gateway's v2 token source on st: credentials sealed
// with store_keys, pinned ones never registered, and, on a shared store,
// a wait for running instances to write theirs back before registering
// (their KeepStored, which runServe starts).
func (c *Config) tokenSource(client *v2client.Client, st store.Store, now func() time.Time, logger *slog.Logger) (*v2client.TokenSource, error) {
	seal, err := c.sealer() // checked by provision
	if err != nil {
		return nil, err
	}
	ts := &v2client.TokenSource{
		Client:    client,
		Store:     translate.Credentials{Store: st, Now: now, Seal: seal},
		Now:       now,
		Statement: v2client.StaticStatements(c.statements()),
		Pinned:    c.pinned(),
		Logger:    logger,
	}
	if c.Store != "memory" {
		ts.AdoptWait = v2client.DefaultAdoptWait
		if seal == nil {
			logger.Warn("no store_keys configured: the gateway's v2 client secret and access tokens are kept in clear in redis")
		}
	}
	return ts, nil
}
