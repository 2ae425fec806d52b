package compat

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/http"
	"time"

	"github.com/passgw/passgw/compat/golden"
	"github.com/passgw/passgw/translate/store"
)

// CanaryBuckets is the number of buckets devices are hashed into: a
// percentage is honoured to 0.01.
const CanaryBuckets = 10000

// DefaultStickyTTL is how long a canary device that registered through
// translate stays there: longer than any MVPD keeps an authentication.
const DefaultStickyTTL = 90 * 24 * time.Hour

// Store key prefixes of the canary's memory.
const (
	stickyDevicePrefix = "compat:canary-device"
	stickyCodePrefix   = "compat:canary-code"
)

// CanaryBucket places a device in one of CanaryBuckets buckets by the
// SHA-256 of its requestor and deviceId, so the same device always lands
// in the same bucket, on every instance and across restarts.
func CanaryBucket(requestor, deviceID string) int {
	h := sha256.New()
	var n [8]byte
	for _, p := range []string{requestor, deviceID} {
		// Length-prefixed, so ("ab","c") and ("a","bc") differ.
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return int(binary.BigEndian.Uint64(h.Sum(nil)[:8]) % CanaryBuckets)
}

// InCanary reports whether the device falls into the first percent of the
// buckets, that is, goes to translate.
func InCanary(requestor, deviceID string, percent float64) bool {
	return float64(CanaryBucket(requestor, deviceID)) < percent*CanaryBuckets/100
}

// canaryTranslate decides the side of a canary call: a device pinned to
// translate, or hashed into the canary, goes there; a call without a
// deviceId follows its registration code (codes issued by translate are
// remembered), else goes to v1.
func (rt *Router) canaryTranslate(ctx context.Context, call Call, percent float64) bool {
	if call.DeviceID != "" {
		return rt.pinned(ctx, store.Key(stickyDevicePrefix, call.Requestor, call.DeviceID)) ||
			InCanary(call.Requestor, call.DeviceID, percent)
	}
	if call.Code != "" {
		return rt.pinned(ctx, store.Key(stickyCodePrefix, call.Code))
	}
	return false
}

func (rt *Router) pinned(ctx context.Context, key string) bool {
	if rt.Store == nil {
		return false
	}
	_, err := rt.Store.Get(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		rt.logger().WarnContext(ctx, "reading the canary pin from the store failed; the hash decides", "error", err.Error())
	}
	return err == nil
}

// serveCanary answers a canary call through translate and pins the device
// (and the code it got) there once it registered: its authentication will
// live behind translate, so it must not move back to v1.
func (rt *Router) serveCanary(w http.ResponseWriter, r *http.Request, call Call) {
	if rt.Store == nil || (call.Op != opRegcodeCreate && call.Op != opFreePreview) || call.DeviceID == "" {
		rt.Translate.ServeHTTP(w, r)
		return
	}
	cw := &capture{ResponseWriter: w}
	rt.Translate.ServeHTTP(cw, r)
	if cw.status < 200 || cw.status > 299 {
		return
	}
	ttl := rt.StickyTTL
	if ttl <= 0 {
		ttl = DefaultStickyTTL
	}
	ctx := context.WithoutCancel(r.Context())
	keys := []string{store.Key(stickyDevicePrefix, call.Requestor, call.DeviceID)}
	if code := golden.RegistrationCode(cw.response()); code != "" && call.Op == opRegcodeCreate {
		keys = append(keys, store.Key(stickyCodePrefix, code))
	}
	for _, k := range keys {
		if err := rt.Store.Set(ctx, k, []byte(ModeTranslate), ttl); err != nil {
			rt.logger().WarnContext(ctx, "pinning a canary device to translate failed", "error", err.Error())
		}
	}
}
