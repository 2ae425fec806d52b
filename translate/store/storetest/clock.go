package storetest

import (
	"time"

	"github.com/passgw/passgw/internal/testenv"
)

// Clock is a manually advanced clock for expiry tests.
type Clock = testenv.Clock

// NewClock returns a Clock set to the current wall time, so stores that
// also keep a server-side TTL (Redis) see plausible absolute times.
func NewClock() *Clock {
	return testenv.NewClock(time.Now())
}
