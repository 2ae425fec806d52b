package telemetry

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// cachePrefixes are the store key prefixes of the caches of v2 answers,
// mapped to their name in passgw_cache_lookups_total.
func cachePrefixes() map[string]string {
	return map[string]string{"profiles:": "profiles", "config:": "config"}
}

// Store instruments s: every operation is timed in
// passgw_store_operation_duration_seconds and counted in
// passgw_store_operations_in_flight while it runs, failed operations count
// in passgw_store_errors_total (an absent key is an answer, not a failure;
// neither is a caller giving up), and reads of cache keys in
// passgw_cache_lookups_total.
//
// The gateway reads a cache key twice on a miss (once more under the
// single-flight lock before going upstream); within a call served by
// Handler a key's misses count once.
func (m *Metrics) Store(s store.Store) store.Store {
	return &countingStore{next: s, m: m, prefixes: cachePrefixes(), timer: m.storeTimer()}
}

type countingStore struct {
	next     store.Store
	m        *Metrics
	prefixes map[string]string
	timer    storeTimer
}

func (c *countingStore) fail(ctx context.Context, op string, err error) {
	if err == nil || errors.Is(err, store.ErrNotFound) || ctx.Err() != nil {
		return
	}
	c.m.StoreError(op)
}

func (c *countingStore) cache(key string) string {
	prefix, _, ok := strings.Cut(key, ":")
	if !ok {
		return ""
	}
	return c.prefixes[prefix+":"]
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	call, start := c.timer.begin("get")
	v, err := c.next.Get(ctx, key)
	call.end(start)
	c.fail(ctx, "get", err)
	if name := c.cache(key); name != "" {
		switch {
		case err == nil:
			c.m.CacheLookup(name, true)
		case errors.Is(err, store.ErrNotFound) && firstMiss(ctx, key):
			c.m.CacheLookup(name, false)
		}
	}
	return v, err
}

// Full implements store.Capacity, so that a bounded store stays bounded
// behind the counters.
func (c *countingStore) Full() bool { return store.Full(c.next) }

// GetMany implements store.ManyGetter, so that the store's own one-step
// read is not hidden by the instrumentation.
func (c *countingStore) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	call, start := c.timer.begin("get")
	vals, err := store.GetMany(ctx, c.next, keys...)
	call.end(start)
	c.fail(ctx, "get", err)
	if err != nil {
		return vals, err
	}
	for i, key := range keys {
		if name := c.cache(key); name != "" {
			switch {
			case vals[i] != nil:
				c.m.CacheLookup(name, true)
			case firstMiss(ctx, key):
				c.m.CacheLookup(name, false)
			}
		}
	}
	return vals, nil
}

func (c *countingStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	call, start := c.timer.begin("set")
	err := c.next.Set(ctx, key, value, ttl)
	call.end(start)
	c.fail(ctx, "set", err)
	return err
}

func (c *countingStore) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	call, start := c.timer.begin("setnx")
	ok, err := c.next.SetNX(ctx, key, value, ttl)
	call.end(start)
	c.fail(ctx, "setnx", err)
	return ok, err
}

func (c *countingStore) Replace(ctx context.Context, key string, value []byte) error {
	call, start := c.timer.begin("replace")
	err := c.next.Replace(ctx, key, value)
	call.end(start)
	c.fail(ctx, "replace", err)
	return err
}

func (c *countingStore) Take(ctx context.Context, key string) ([]byte, error) {
	call, start := c.timer.begin("take")
	v, err := c.next.Take(ctx, key)
	call.end(start)
	c.fail(ctx, "take", err)
	return v, err
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	call, start := c.timer.begin("delete")
	err := c.next.Delete(ctx, key)
	call.end(start)
	c.fail(ctx, "delete", err)
	return err
}

// Ping checks that the store answers: reading an absent key must give
// ErrNotFound, anything else is a failure. Readiness checks use it.
func Ping(ctx context.Context, s store.Store) error {
	_, err := s.Get(ctx, "passgw:readiness-probe")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

type missesKey struct{}

// misses are the cache keys already counted as missed in one call.
type misses struct {
	mu   sync.Mutex
	keys map[string]bool
}

func withMisses(ctx context.Context) context.Context {
	return context.WithValue(ctx, missesKey{}, &misses{keys: map[string]bool{}})
}

// firstMiss reports whether a miss of key has not yet been counted in the
// call ctx belongs to, and marks it counted.
func firstMiss(ctx context.Context, key string) bool {
	ms, ok := ctx.Value(missesKey{}).(*misses)
	if !ok {
		return true
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.keys[key] {
		return false
	}
	if ms.keys == nil {
		ms.keys = make(map[string]bool)
	}
	ms.keys[key] = true
	return true
}
