package tokenbucket

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Defaults of Shared.
const (
	// DefaultSharedTimeout bounds one decision asked of the store: a
	// throttle decision is on the path of every call, so a store slower
	// than this counts the call in process rather than hold the device.
	DefaultSharedTimeout = 50 * time.Millisecond
	// DefaultSharedRetry is how long decisions stay in process after the
	// store failed, before it is asked again: a store that is down costs
	// one timed-out decision per DefaultSharedRetry, not one per call.
	DefaultSharedRetry = time.Second
)

// Store keeps buckets that several processes share: the gateway's store
// when every instance uses the same Redis (translate/store's TokenBuckets).
type Store interface {
	// Bucket applies r to the bucket under key in one atomic step and
	// returns the decision. A bucket is forgotten when Bucket.Idle says
	// so, counted from its last decision that changed it.
	Bucket(ctx context.Context, key string, r Request, idle time.Duration) (Decision, error)
}

// Shared asks a Store for decisions, so that every process sharing it spends
// one bucket per key; when the Store fails or is slower than Timeout the
// caller counts the call in its own buckets instead (Apply's error says so),
// and for Retry after that the Store is not asked at all.
//
// The zero value is not usable: Store is required.
type Shared struct {
	// Store keeps the shared buckets. Required.
	Store Store
	// Timeout bounds each decision; zero means DefaultSharedTimeout.
	Timeout time.Duration
	// Retry is how long decisions are not asked of the Store after it
	// failed; zero means DefaultSharedRetry.
	Retry time.Duration
	// IdleTimeout forgets buckets unused that long; zero means
	// DefaultIdle.
	IdleTimeout time.Duration
	// OnFallback, when set, is told each failure of the Store (at most
	// one per Retry), for a log line and a metric.
	OnFallback func(ctx context.Context, err error)

	// down is when the last failure was seen (Unix nanoseconds), zero
	// while the Store answers.
	down atomic.Int64
}

// ErrStoreSkipped is the error of Apply while the Store is left alone after
// a failure: the caller counts the call in process.
var ErrStoreSkipped = errors.New("tokenbucket: shared store failed less than its retry time ago")

// Apply asks the Store for key's decision. An error means the Store could
// not decide (it failed, took longer than Timeout, or failed within the
// last Retry): the caller decides in process.
func (s *Shared) Apply(ctx context.Context, key string, r Request) (Decision, error) {
	retry := s.Retry
	if retry <= 0 {
		retry = DefaultSharedRetry
	}
	if down := s.down.Load(); down != 0 && time.Since(time.Unix(0, down)) < retry {
		return Decision{}, ErrStoreSkipped
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSharedTimeout
	}
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdle
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	d, err := s.Store.Bucket(cctx, key, r, idle)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up: not the Store's failure.
			return Decision{}, err
		}
		s.down.Store(time.Now().UnixNano())
		if s.OnFallback != nil {
			s.OnFallback(ctx, err)
		}
		return Decision{}, fmt.Errorf("tokenbucket: shared bucket: %w", err)
	}
	if s.down.Load() != 0 {
		s.down.Store(0)
	}
	return d, nil
}
