package storetest

import (
	"sync"
	"time"
)

// Clock is a manually advanced clock for expiry tests. It starts at the wall
// time it was created, so stores that also keep a server-side TTL (Redis) see
// plausible absolute times.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock set to the current wall time.
func NewClock() *Clock {
	return &Clock{now: time.Now()}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
