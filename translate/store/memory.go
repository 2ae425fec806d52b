package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/patrickmn/go-cache"
)

// DefaultEvictionGrace is how long past its expiry (by the wall clock) an
// entry may linger in memory before the background sweep drops it.
const DefaultEvictionGrace = time.Minute

// Memory is the in-process Store, backed by go-cache. It is the default when
// the gateway runs as a single instance. The zero value is ready to use.
//
// Expiry is judged against Now, not against go-cache's own wall-clock expiry,
// so a test can move time; go-cache's expiry (the TTL plus EvictionGrace) only
// bounds how long dead entries occupy memory.
type Memory struct {
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// EvictionGrace is added to each TTL for go-cache's background sweep,
	// so that entries a moved-back or frozen clock still considers live are
	// not swept early. Zero means DefaultEvictionGrace.
	EvictionGrace time.Duration
	// MaxEntries caps the entries held, so that a flood of new devices
	// cannot take the process' memory: storing a new key when that many are
	// held (expired ones dropped first) fails with ErrFull, while replacing
	// or removing a key still works. Full reports the store full for new
	// work a little earlier, at nine tenths, so that what devices already
	// registered keep (decisions, marks) still fits. Zero means no cap.
	MaxEntries int

	once sync.Once
	c    *cache.Cache
	// mu serialises writers so that check-then-act operations (SetNX,
	// Replace, Take) are atomic; go-cache only locks single calls.
	mu sync.Mutex
	// swept is when entries expired by Now were last dropped to make room
	// (guarded by mu).
	swept time.Time
}

// ErrFull reports that a store holds as many entries as it may: nothing
// new is stored until entries expire or are removed.
var ErrFull = errors.New("store: full")

// Capacity is implemented by stores with a bound on what they hold.
type Capacity interface {
	// Full reports whether the store should take no new work (a new
	// registration) because what it holds nears its bound.
	Full() bool
}

// Full reports whether s is a Capacity that is full; a store without a
// bound never is.
func Full(s Store) bool {
	c, ok := s.(Capacity)
	return ok && c.Full()
}

// sweepEvery bounds how often a full Memory walks its entries to drop
// those expired by Now but not yet swept by go-cache.
const sweepEvery = time.Second

// Full implements Capacity: at nine tenths of MaxEntries.
func (m *Memory) Full() bool {
	if m.MaxEntries <= 0 {
		return false
	}
	m.init()
	if m.c.ItemCount() < m.MaxEntries-m.MaxEntries/10 {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	return m.c.ItemCount() >= m.MaxEntries-m.MaxEntries/10
}

// room reports whether key may be stored: it is held already, or there is
// room for one more entry. The caller holds m.mu.
func (m *Memory) room(key string) bool {
	if m.MaxEntries <= 0 || m.c.ItemCount() < m.MaxEntries {
		return true
	}
	if _, held := m.c.Get(key); held {
		return true
	}
	m.sweep()
	return m.c.ItemCount() < m.MaxEntries
}

// sweep drops the entries expired by Now, at most once per sweepEvery.
// The caller holds m.mu.
func (m *Memory) sweep() {
	now := m.now()
	if now.Sub(m.swept) < sweepEvery && !m.swept.IsZero() {
		return
	}
	m.swept = now
	m.c.DeleteExpired()
	for k, it := range m.c.Items() {
		if e := it.Object.(memEntry); !e.expires.IsZero() && !now.Before(e.expires) {
			m.c.Delete(k)
		}
	}
}

var _ Store = (*Memory)(nil)

// NewMemory returns a Memory store that reads the time from now (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	return &Memory{Now: now}
}

type memEntry struct {
	value   []byte
	expires time.Time // zero: never
}

func (m *Memory) init() {
	m.once.Do(func() { m.c = cache.New(cache.NoExpiration, time.Minute) })
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Memory) grace() time.Duration {
	if m.EvictionGrace > 0 {
		return m.EvictionGrace
	}
	return DefaultEvictionGrace
}

// live returns the entry under key if it has not expired by m.now().
func (m *Memory) live(key string) (memEntry, bool) {
	v, ok := m.c.Get(key)
	if !ok {
		return memEntry{}, false
	}
	e := v.(memEntry)
	if !e.expires.IsZero() && !m.now().Before(e.expires) {
		return memEntry{}, false
	}
	return e, true
}

// put stores value for ttl; the caller holds m.mu.
func (m *Memory) put(key string, value []byte, ttl time.Duration) {
	e := memEntry{value: bytes.Clone(value)}
	if e.value == nil {
		e.value = []byte{}
	}
	sweep := cache.NoExpiration
	if ttl > 0 {
		e.expires = m.now().Add(ttl)
		sweep = ttl + m.grace()
	}
	m.c.Set(key, e, sweep)
}

func checkTTL(op, key string, ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("store: %s %q: %w (%v)", op, key, ErrInvalidTTL, ttl)
	}
	return nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: get %q: %w", key, err)
	}
	m.init()
	e, ok := m.live(key)
	if !ok {
		return nil, fmt.Errorf("store: get %q: %w", key, ErrNotFound)
	}
	return bytes.Clone(e.value), nil
}

// GetMany implements ManyGetter.
func (m *Memory) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	m.init()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		if e, ok := m.live(k); ok {
			out[i] = bytes.Clone(e.value)
		}
	}
	return out, nil
}

// Set implements Store.
func (m *Memory) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: set %q: %w", key, err)
	}
	if err := checkTTL("set", key, ttl); err != nil {
		return err
	}
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.room(key) {
		return fmt.Errorf("store: set %q: %w", key, ErrFull)
	}
	m.put(key, value, ttl)
	return nil
}

// SetNX implements Store.
func (m *Memory) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: setnx %q: %w", key, err)
	}
	if err := checkTTL("setnx", key, ttl); err != nil {
		return false, err
	}
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live(key); ok {
		return false, nil
	}
	if !m.room(key) {
		return false, fmt.Errorf("store: setnx %q: %w", key, ErrFull)
	}
	m.put(key, value, ttl)
	return true, nil
}

// Replace implements Store.
func (m *Memory) Replace(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: replace %q: %w", key, err)
	}
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(key)
	if !ok {
		return fmt.Errorf("store: replace %q: %w", key, ErrNotFound)
	}
	sweep := cache.NoExpiration
	if !e.expires.IsZero() {
		sweep = e.expires.Sub(m.now()) + m.grace()
	}
	e.value = bytes.Clone(value)
	if e.value == nil {
		e.value = []byte{}
	}
	m.c.Set(key, e, sweep)
	return nil
}

// Take implements Store.
func (m *Memory) Take(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: take %q: %w", key, err)
	}
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(key)
	m.c.Delete(key)
	if !ok {
		return nil, fmt.Errorf("store: take %q: %w", key, ErrNotFound)
	}
	return e.value, nil
}

// Delete implements Store.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: delete %q: %w", key, err)
	}
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.c.Delete(key)
	return nil
}

// Len is how many entries the store holds, expired ones not yet dropped
// included.
func (m *Memory) Len() int {
	m.init()
	return m.c.ItemCount()
}
