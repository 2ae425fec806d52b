package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// TestBoundCall: outside a call scope each operation gets the whole limit;
// under one, the operations share it, and once it is spent the next
// operation's context is already done.
func TestBoundCall(t *testing.T) {
	const limit = time.Second
	deadlineIn := func(ctx context.Context) time.Duration {
		dl, ok := ctx.Deadline()
		if !ok {
			t.Fatal("no deadline")
		}
		return time.Until(dl)
	}

	for range 2 {
		ctx, done := store.BoundCall(context.Background(), limit)
		if d := deadlineIn(ctx); d < limit-100*time.Millisecond {
			t.Errorf("outside a scope: %v left, want the whole %v", d, limit)
		}
		time.Sleep(30 * time.Millisecond)
		done()
	}
	if store.InCallScope(context.Background()) {
		t.Error("InCallScope without a scope")
	}

	scope := store.WithCallBound(context.Background())
	if !store.InCallScope(scope) {
		t.Error("InCallScope of a scope")
	}
	ctx, done := store.BoundCall(scope, limit)
	time.Sleep(300 * time.Millisecond)
	done()
	// Derived contexts share the scope.
	child, cancel := context.WithCancel(scope)
	defer cancel()
	ctx, done = store.BoundCall(child, limit)
	if d := deadlineIn(ctx); d > limit-300*time.Millisecond {
		t.Errorf("second operation: %v left, want at most %v", d, limit-300*time.Millisecond)
	}
	<-ctx.Done() // an operation waiting out the bound
	done()
	ctx, done = store.BoundCall(scope, limit)
	defer done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("after the bound is spent: %v, want a context already past its deadline", ctx.Err())
	}

	// A deadline of the caller that comes first is kept.
	early, cancelEarly := context.WithTimeout(store.WithCallBound(context.Background()), 50*time.Millisecond)
	defer cancelEarly()
	ctx, done = store.BoundCall(early, limit)
	defer done()
	if d := deadlineIn(ctx); d > 50*time.Millisecond {
		t.Errorf("caller's earlier deadline: %v left", d)
	}
}
