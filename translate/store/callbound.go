package store

import (
	"context"
	"sync"
	"time"
)

// A device's v1 call may need several store operations (its registration,
// a kept decision, a media-token mark, the gateway's v2 credentials...). A
// store bounding each operation by its own timeout would hold a device up
// to that timeout once per operation when the store stalls. A call scope,
// opened once per device call with [WithCallBound], makes the operations
// made under it share one bound instead, which the store implementation
// applies through [BoundCall].

type callBoundKey struct{}

// callScope is a call scope's context: the store time spent under it.
type callScope struct {
	context.Context
	mu    sync.Mutex
	spent time.Duration
}

func (c *callScope) Value(key any) any {
	if key == (callBoundKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// WithCallBound opens a call scope: the store operations made with the
// returned context (and contexts derived from it) share one bound, the
// store's timeout, for all their time together.
func WithCallBound(ctx context.Context) context.Context {
	return &callScope{Context: ctx}
}

// InCallScope reports whether ctx is under a call scope.
func InCallScope(ctx context.Context) bool {
	_, ok := ctx.Value(callBoundKey{}).(*callScope)
	return ok
}

// BoundCall returns ctx limited for one store operation to limit, or,
// under a call scope, to what remains of limit once the scope's earlier
// operations are counted; when nothing remains, the context returned is
// already done (context.DeadlineExceeded). The cancel function counts the
// operation's time against the scope; call it when the operation ends.
// A deadline of ctx that comes first is kept. Operations running at the
// same time each count their own time, so that a scope's operations never
// take longer than limit together, whatever their concurrency.
func BoundCall(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	c, _ := ctx.Value(callBoundKey{}).(*callScope)
	if c == nil {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= limit {
			return ctx, func() {}
		}
		return context.WithTimeout(ctx, limit)
	}
	c.mu.Lock()
	left := limit - c.spent
	c.mu.Unlock()
	start := time.Now()
	bounded, cancel := context.WithTimeout(ctx, max(left, 0))
	return bounded, func() {
		cancel()
		c.mu.Lock()
		c.spent += time.Since(start)
		c.mu.Unlock()
	}
}
