// Package wait is the module's one context-aware sleep: the v2 client's
// retries and budget turns, the sandbox's latency faults and the golden
// runner's waits after a throttled call all wait with For.
package wait

import (
	"context"
	"time"
)

// For waits d on a real timer, or until ctx ends (its error is then
// returned). d <= 0 returns at once, nil unless ctx has already ended.
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
