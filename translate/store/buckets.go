package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/passgw/passgw/internal/tokenbucket"
)

// TokenBuckets is implemented by stores that keep Adobe's token buckets
// (package internal/tokenbucket) for every process using the store: with
// Redis, the gateway's instances spend one v1 throttle bucket and one
// upstream budget per device address, so that Adobe's limit holds once for
// the fleet, not once per instance. Memory implements it too, for one
// process.
//
// Each decision is one atomic step against every other on the same key,
// in one round trip; a bucket's key is one key (one Cluster slot).
type TokenBuckets interface {
	// Bucket applies r to the bucket under key and returns the decision,
	// as tokenbucket.Bucket.Apply does. A bucket is forgotten when
	// tokenbucket.Bucket.Idle says so, counted from its last decision that
	// changed it (a refusal or a check changes nothing): idle after it, or
	// at the end of its hold or reserved turn if later. Times are kept to
	// the microsecond.
	Bucket(ctx context.Context, key string, r tokenbucket.Request, idle time.Duration) (tokenbucket.Decision, error)
}

var _ TokenBuckets = (*Memory)(nil)

// Bucket implements TokenBuckets. The bucket is an entry like any other: it
// counts against MaxEntries, and a new one is refused (ErrFull) when the
// store is full.
func (m *Memory) Bucket(ctx context.Context, key string, r tokenbucket.Request, idle time.Duration) (tokenbucket.Decision, error) {
	if err := ctx.Err(); err != nil {
		return tokenbucket.Decision{}, fmt.Errorf("store: bucket %q: %w", key, err)
	}
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	// The bucket is kept to the microsecond, as in Redis.
	r.Now = r.Now.Truncate(time.Microsecond)
	var b tokenbucket.Bucket
	if e, ok := m.live(key); ok {
		if err := decodeBucket(e.value, &b); err != nil {
			return tokenbucket.Decision{}, fmt.Errorf("store: bucket %q: %w", key, err)
		}
	}
	before := b
	d := b.Apply(r)
	if b.Equal(before) {
		return d, nil
	}
	if !m.room(key) {
		return tokenbucket.Decision{}, fmt.Errorf("store: bucket %q: %w", key, ErrFull)
	}
	// Forgotten as tokenbucket.Bucket.Idle says, counted from now.
	until := r.Now.Add(idle)
	for _, t := range [...]time.Time{b.Next, b.HeldUntil} {
		if t.After(until) {
			until = t
		}
	}
	m.put(key, encodeBucket(b), until.Sub(r.Now))
	return d, nil
}

// bucketSize is the encoded size of a bucket: next turn and end of hold in
// microseconds since the Unix epoch (0: zero time), and the burst left.
const bucketSize = 24

func encodeBucket(b tokenbucket.Bucket) []byte {
	out := make([]byte, 0, bucketSize)
	out = binary.BigEndian.AppendUint64(out, uint64(unixMicro(b.Next)))
	out = binary.BigEndian.AppendUint64(out, uint64(unixMicro(b.HeldUntil)))
	return binary.BigEndian.AppendUint64(out, uint64(int64(b.Left)))
}

func decodeBucket(v []byte, b *tokenbucket.Bucket) error {
	if len(v) != bucketSize {
		return fmt.Errorf("malformed bucket of %d bytes", len(v))
	}
	b.Next = fromMicro(int64(binary.BigEndian.Uint64(v)))
	b.HeldUntil = fromMicro(int64(binary.BigEndian.Uint64(v[8:])))
	b.Left = int(int64(binary.BigEndian.Uint64(v[16:])))
	return nil
}

func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us)
}
