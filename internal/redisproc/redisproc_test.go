package redisproc

import (
	"context"
	"errors"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

// started starts a redis-server for t and stops it when t ends.
func started(t *testing.T, args ...string) *Server {
	t.Helper()
	s, err := Launch(context.Background(), t.TempDir(), args...)
	if errors.Is(err, ErrNotInstalled) {
		testenv.Missing(t, "redis-server", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func TestLaunchAnswersUntilStopped(t *testing.T) {
	s := started(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("fresh server: %v", err)
	}
	s.Stop()
	if err := ping(s.Addr); err == nil {
		t.Fatal("stopped server still answers PING")
	}
	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ping(s.Addr); err != nil {
		t.Fatalf("restarted server: %v", err)
	}
}

func TestLaunchWithoutRedis(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Launch(context.Background(), t.TempDir()); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("error %v, want ErrNotInstalled", err)
	}
	if _, err := LaunchSentinel(context.Background(), t.TempDir(), "sentinel.conf"); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("sentinel: error %v, want ErrNotInstalled", err)
	}
}

func TestDoAndConfiguration(t *testing.T) {
	s := started(t, "--maxmemory-policy", "allkeys-lru")
	if _, err := s.Do("SET", "k", "v\r\nwith a line break"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.DoString("GET", "k"); err != nil || v != "v\r\nwith a line break" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	r, err := s.Do("CONFIG", "GET", "maxmemory-policy")
	if got, ok := r.([]any); err != nil || !ok || len(got) != 2 || got[1] != "allkeys-lru" {
		t.Fatalf("CONFIG GET maxmemory-policy = %#v, %v", r, err)
	}
	if n, err := s.Do("DBSIZE"); err != nil || n != int64(1) {
		t.Fatalf("DBSIZE = %#v, %v", n, err)
	}
	if v, err := s.Do("GET", "absent"); err != nil || v != nil {
		t.Fatalf("GET absent = %#v, %v", v, err)
	}
	var rerr Error
	if _, err := s.Do("NOSUCHCOMMAND"); !errors.As(err, &rerr) {
		t.Fatalf("unknown command: %v, want an Error", err)
	}
}
