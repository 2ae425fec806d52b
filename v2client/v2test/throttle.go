package v2test

import (
	_ "embed"
	"net/http"
	"strings"
	"time"
)

// throttlePage is Adobe's documented 429 body (an openresty page).
//
//go:embed throttling-429.html
var throttlePage string

// Throttle parameters (§12): one request per second after a one-time
// burst of ten.
const throttleBurst = 10

// bucket reads the documented token bucket as testdata/spec/v1.md §1.11 does: every
// whole second since a device's first request allows one call; further calls
// in that second spend the burst, which never refills; with neither left the
// call is refused, and a refusal spends nothing.
type bucket struct {
	first    time.Time
	lastSec  int64
	usedSec  bool
	burstUse int
}

func (b *bucket) take(now time.Time) bool {
	sec := int64(now.Sub(b.first) / time.Second)
	if !b.usedSec || sec > b.lastSec {
		b.usedSec, b.lastSec = true, sec
		return true
	}
	if b.burstUse < throttleBurst {
		b.burstUse++
		return true
	}
	return false
}

// throttled reports whether Adobe throttles the path.
func throttled(path string) bool {
	return strings.HasPrefix(path, "/o/client/") || strings.HasPrefix(path, "/api/v2/")
}

// allow takes a token from the device's bucket.
func (s *Server) allow(device string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.throttling {
		return true
	}
	now := s.nowLocked()
	b := s.buckets[device]
	if b == nil {
		b = &bucket{first: now}
		s.buckets[device] = b
	}
	return b.take(now)
}

func writeThrottled(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(throttlePage))
}
