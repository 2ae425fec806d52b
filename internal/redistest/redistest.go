// Package redistest starts throwaway redis-server processes, Sentinel sets
// and Clusters for tests, on internal/redisproc: each server on a free
// loopback port, with a private directory and no persistence, stopped when
// its test ends.
//
// When redis-server is not installed the test is skipped, except under CI
// (CI=true), where a missing server is a failure: CI installs it, and a
// silently skipped suite would hide that it stopped doing so.
package redistest

import (
	"context"
	"errors"
	"testing"

	"github.com/passgw/passgw/internal/redisproc"
	"github.com/passgw/passgw/internal/testenv"
)

// Server is a redis-server process started for a test.
type Server struct {
	*redisproc.Server
	t testing.TB
}

// Start starts a redis-server for the test t, in a temporary directory,
// with the configuration directives args (see redisproc.Launch), and stops
// it when the test ends. Without redis-server the test ends as
// testenv.Missing says.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	s, err := redisproc.Launch(context.Background(), t.TempDir(), args...)
	if errors.Is(err, redisproc.ErrNotInstalled) {
		testenv.Missing(t, "redis-server", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return &Server{Server: s, t: t}
}

// Restart starts the server again on the same port, after a Stop: empty,
// unless its configuration persists data. A failure fails the test.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.Server.Restart(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}
