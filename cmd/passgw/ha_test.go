package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
)

// TestClusterTwoInstances: two instances on a Redis Cluster of three
// masters created by the test run the two-instance device flows, with the
// state spread over the nodes and each device's keys under one hash tag.
func TestClusterTwoInstances(t *testing.T) {
	c := redistest.StartCluster(t, 3, time.Second)
	f := &fleet{t: t, sandbox: startSandboxProc(t), live: map[string]*proc{}}
	f.config = writeServeConfig(t, f.sandbox.URL, c.URL())
	f.start("A")
	f.start("B")
	twoInstanceFlows(t, f.live["A"].URL, f.live["B"].URL, f.sandbox.URL)

	holding := 0
	sizes := make([]int64, len(c.Nodes))
	for i, node := range c.Nodes {
		n, err := node.Do("DBSIZE")
		if err != nil {
			t.Fatal(err)
		}
		sizes[i] = n.(int64)
		if sizes[i] > 0 {
			holding++
		}
		keys, err := node.Do("KEYS", "passgw:gen:*")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys.([]any) {
			if !strings.HasPrefix(k.(string), "passgw:gen:{") {
				t.Errorf("node %d: device key %s has no hash tag", i, k)
			}
		}
	}
	t.Logf("keys per master after the flows: %v", sizes)
	if holding < 2 {
		t.Errorf("state on %d of 3 nodes: not spread over the cluster", holding)
	}
	if n := f.registrations(); n["REF30"] != 1 {
		t.Errorf("the sandbox counted registrations %v, want one", n)
	}
}

// TestSentinelFailover: devices run their flows through two instances on a
// Sentinel set (master, replica, three sentinels) while the master is
// killed. After the failover every flow continues and completes, no media
// token is handed out twice, and the longest a device waited for a working
// answer is bounded.
func TestSentinelFailover(t *testing.T) {
	const (
		devices   = 6
		rounds    = 12
		downAfter = 500 * time.Millisecond
		// outageBound is what the test accepts; RELIABILITY.md gives the
		// figures seen.
		outageBound = 15 * time.Second
	)
	ss := redistest.StartSentinel(t, downAfter)
	f := &fleet{t: t, sandbox: startSandboxProc(t), live: map[string]*proc{}}
	f.config = writeServeConfig(t, f.sandbox.URL, ss.URL())
	f.start("A")
	f.start("B")
	bases := []string{f.live["A"].URL, f.live["B"].URL}

	ds := make([]*device, devices)
	for i := range ds {
		ds[i] = newDevice(t, fmt.Sprintf("failover-device-%d", i))
		code := ds[i].regcode(bases[i%2])
		browserSignIn(t, bases[(i+1)%2], code, "alice")
	}

	var (
		steps     atomic.Int64 // answered steps, to kill the master mid-run
		killed    = make(chan time.Time, 1)
		mu        sync.Mutex
		tokens    = map[string]string{} // media token -> who got it
		retried   int
		maxOutage time.Duration
	)
	totalSteps := int64(devices * rounds * 3)
	go func() {
		for steps.Load() < totalSteps/3 {
			time.Sleep(5 * time.Millisecond)
		}
		ss.Master.Stop()
		killed <- time.Now()
	}()
	// step asks base until it answers 200, taking v1 500s with action retry
	// (the store failing over) as a reason to ask again, and returns the
	// body.
	step := func(d *device, name, base, path string) ([]byte, bool) {
		var failedSince time.Time
		for {
			a, err := d.try(base, http.MethodGet, path, url.Values{"resource": {"sports"}})
			if err == nil && a.Status == http.StatusOK {
				if !failedSince.IsZero() {
					mu.Lock()
					maxOutage = max(maxOutage, time.Since(failedSince))
					mu.Unlock()
				}
				steps.Add(1)
				return a.Body, true
			}
			var e v1ErrorBody
			if err != nil || a.Status != http.StatusInternalServerError || json.Unmarshal(a.Body, &e) != nil || e.Action != "retry" {
				t.Errorf("%s %s: %v %d %s", d.id, name, err, a.Status, a.Body)
				return nil, false
			}
			if failedSince.IsZero() {
				failedSince = time.Now()
			}
			if time.Since(failedSince) > outageBound {
				t.Errorf("%s %s: still failing after %v: %s", d.id, name, outageBound, a.Body)
				return nil, false
			}
			mu.Lock()
			retried++
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() {
			for r := range rounds {
				// authorize on one instance, then the media token twice
				// on the other: the second call must get a fresh token.
				if _, ok := step(d, "authorize", bases[(i+r)%2], "/api/v1/authorize"); !ok {
					return
				}
				for k := range 2 {
					body, ok := step(d, "mediatoken", bases[(i+r+1)%2], "/api/v1/mediatoken")
					if !ok {
						return
					}
					var m mediaToken
					if err := json.Unmarshal(body, &m); err != nil || m.SerializedToken == "" {
						t.Errorf("%s: media token answer %s: %v", d.id, body, err)
						return
					}
					who := fmt.Sprintf("%s round %d call %d", d.id, r, k)
					mu.Lock()
					prev, dup := tokens[m.SerializedToken]
					tokens[m.SerializedToken] = who
					mu.Unlock()
					if dup {
						t.Errorf("media token handed out twice: to %s and to %s", prev, who)
					}
				}
			}
		})
	}
	wg.Wait()
	var at time.Time
	select {
	case at = <-killed:
	case <-time.After(10 * time.Second):
		t.Fatal("the master was never killed: the flows ended too early")
	}
	// The sentinel that led the failover tells the others through its hello
	// messages (every 2 s), so the one MasterAddr asks may still name the
	// dead master for a moment after the flows have gone on.
	testenv.Eventually(t, "the replica promoted", 10*time.Second, func() error {
		if got, err := ss.MasterAddr(); err != nil || got != ss.Replica.Addr {
			return fmt.Errorf("master = %q, %v; want the replica %s", got, err, ss.Replica.Addr)
		}
		return nil
	})
	t.Logf("master killed at %s; %d media tokens, %d calls answered 500 retry, longest wait for a working answer %v",
		at.Format("15:04:05.000"), len(tokens), retried, maxOutage.Round(time.Millisecond))
	if want := devices * rounds * 2; len(tokens) != want && !t.Failed() {
		t.Errorf("%d distinct media tokens, want %d", len(tokens), want)
	}
}
