package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	start := time.Now()
	if err := For(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatalf("For(20ms) = %v", err)
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Errorf("For(20ms) returned after %v", took)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	start = time.Now()
	if err := For(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("For(1h) on a context cancelled after 10ms = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("For(1h) returned %v after the context ended", took)
	}

	if err := For(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("For(0) on an ended context = %v, want context.Canceled", err)
	}
	if err := For(context.Background(), -time.Second); err != nil {
		t.Errorf("For(-1s) = %v, want nil at once", err)
	}
}
