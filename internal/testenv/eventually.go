package testenv

import (
	"testing"
	"time"
)

// Eventually retries fn every 50 ms until it succeeds, for what settles by
// itself in the background (a client reconnecting after an outage, a
// listener closing, a comparison finishing); it fails the test with what
// and fn's last error when limit passes first.
func Eventually(t testing.TB, what string, limit time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
