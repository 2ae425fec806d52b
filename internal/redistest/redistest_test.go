package redistest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redisproc"
)

// TestStartRestart: a test's server answers until stopped, and Restart
// brings it back on the same address.
func TestStartRestart(t *testing.T) {
	s := Start(t)
	if v, err := s.DoString("PING"); err != nil || v != "PONG" {
		t.Fatalf("fresh server: PING = %q, %v", v, err)
	}
	s.Stop()
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("stopped server still answers PING")
	}
	s.Restart()
	if v, err := s.DoString("PING"); err != nil || v != "PONG" {
		t.Fatalf("restarted server: PING = %q, %v", v, err)
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
		var e redisproc.Error
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
