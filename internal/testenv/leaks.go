package testenv

import (
	"testing"

	"go.uber.org/goleak"
)

// VerifyTestMain runs a package's tests and fails them when any goroutine
// they started is still running at the end (go.uber.org/goleak). The
// in-memory store's expiry sweep (go-cache's janitor) is left out: it stops
// when its cache is collected, not when a test ends.
func VerifyTestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/patrickmn/go-cache.(*janitor).Run"))
}
