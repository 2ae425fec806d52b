package sandbox

import (
	_ "embed"
	"net/http"
	"strings"

	"github.com/passgw/passgw/internal/tokenbucket"
)

// throttlePage is Adobe's documented 429 body (an openresty page).
//
//go:embed throttling-429.html
var throttlePage string

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
	// Adobe's bucket per address, on the sandbox's clock.
	return s.buckets.Apply(device, tokenbucket.Request{Now: s.nowLocked(), Limit: tokenbucket.Default()}).OK
}

func writeThrottled(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(throttlePage))
}
