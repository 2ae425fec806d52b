package redistest

import (
	"context"
	"errors"
	"testing"
)

func TestLaunchAnswersUntilStopped(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("fresh server: %v", err)
	}
	s.Stop()
	if err := ping(s.Addr); err == nil {
		t.Fatal("stopped server still answers PING")
	}
	s.Restart()
	if err := ping(s.Addr); err != nil {
		t.Fatalf("restarted server: %v", err)
	}
}

func TestLaunchWithoutRedis(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Launch(context.Background(), t.TempDir()); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("error %v, want ErrNotInstalled", err)
	}
}

func TestDoAndConfiguration(t *testing.T) {
	s := Start(t, "--maxmemory-policy", "allkeys-lru")
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
