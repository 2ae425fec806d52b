package callerauth

import (
	"context"
	"sync"
	"time"
)

// NonceStore remembers nonces of signed headers. SetIfAbsent records key
// for ttl and reports true, or reports false when key is already recorded
// and live. It must be atomic across every gateway instance that shares it,
// or a nonce replayed to two instances at once is accepted twice.
type NonceStore interface {
	SetIfAbsent(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// MemoryNonces is a NonceStore for a single process. Its zero value is
// ready to use. Expired entries are swept when the table has doubled since
// the last sweep, so memory follows the number of live nonces.
type MemoryNonces struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	seen    map[string]time.Time
	sweepAt int
}

const minNonceSweep = 1024

// SetIfAbsent implements NonceStore.
func (m *MemoryNonces) SetIfAbsent(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = make(map[string]time.Time)
	}
	if exp, ok := m.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	if len(m.seen) >= max(m.sweepAt, minNonceSweep) {
		for k, exp := range m.seen {
			if !now.Before(exp) {
				delete(m.seen, k)
			}
		}
		m.sweepAt = 2 * len(m.seen)
	}
	m.seen[key] = now.Add(ttl)
	return true, nil
}

// Len is the number of nonces held, expired ones not yet swept included.
func (m *MemoryNonces) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}
