package redistest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
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

func TestSentinelFailover(t *testing.T) {
	s := StartSentinel(t, 300*time.Millisecond)
	if got, err := s.MasterAddr(); err != nil || got != s.Master.Addr {
		t.Fatalf("master = %q, %v; want %s", got, err, s.Master.Addr)
	}
	start := time.Now()
	s.Master.Stop()
	eventuallyTrue(t, "the replica promoted", func() (bool, error) {
		got, err := s.MasterAddr()
		return got == s.Replica.Addr, err
	})
	t.Logf("failover took %v", time.Since(start))
}

func TestCluster(t *testing.T) {
	c := StartCluster(t, 3, time.Second)
	// Keys spread over the three nodes: each answers MOVED for the others'.
	moved := 0
	for i := range 30 {
		_, err := c.Nodes[0].Do("SET", fmt.Sprint("key", i), "v")
		var e Error
		if errors.As(err, &e) && strings.HasPrefix(string(e), "MOVED") {
			moved++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if moved == 0 || moved == 30 {
		t.Errorf("%d of 30 keys moved away from node 0, want some", moved)
	}
}
