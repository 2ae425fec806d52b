package store

import (
	"context"
	"time"
)

// Marks records that something happened once: a media token handed out, a
// nonce seen. Marking is a single SetNX, so of any number of concurrent
// callers across instances sharing the store exactly one wins.
type Marks struct {
	Store Store
}

// TakeOnce marks key for ttl and reports whether this call was the first to
// do so while the mark lives.
func (m Marks) TakeOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return m.Store.SetNX(ctx, key, []byte{1}, ttl)
}
