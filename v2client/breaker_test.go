package v2client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
)

// switchable is an upstream whose answer the test sets between calls; a
// status of 0 drops the connection. It counts the requests that reach it.
type switchable struct {
	status atomic.Int32
	hits   atomic.Int32
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if s.status.Load() == 0 {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(s.status.Load()))
	io.WriteString(w, `{"profiles":{}}`)
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// newBreakerWorld returns an upstream answering status, a client with
// retries off (so attempts equal calls) and a breaker of threshold 3.
func newBreakerWorld(t *testing.T, status int) (*switchable, *Client, *testenv.Clock) {
	t.Helper()
	up := &switchable{}
	up.status.Store(int32(status))
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	clock := testenv.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	c := &Client{BaseURL: srv.URL, Retries: -1, Breaker: &Breaker{Threshold: 3, Cooldown: 10 * time.Second, Now: clock.Now}}
	return up, c, clock
}

func callProfiles(ctx context.Context, c *Client) error {
	_, err := c.Profiles(ctx, "REF30")
	return err
}

func TestBreakerOpensOnUpstreamFailures(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"500", 500},
		{"502", 502},
		{"503", 503},
		{"dropped connections", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, c, _ := newBreakerWorld(t, tt.status)
			for i := range 3 {
				if err := callProfiles(t.Context(), c); err == nil || errors.Is(err, ErrCircuitOpen) {
					t.Fatalf("call %d: err = %v, want the upstream's failure", i, err)
				}
			}
			err := callProfiles(t.Context(), c)
			if !errors.Is(err, ErrCircuitOpen) {
				t.Fatalf("4th call: err = %v, want ErrCircuitOpen", err)
			}
			if n := up.hits.Load(); n != 3 {
				t.Errorf("upstream got %d requests, want 3: an open circuit must not reach it", n)
			}
			if got := c.Breaker.State(hostOf(t, c.BaseURL)); got != BreakerOpen {
				t.Errorf("state %s, want open", got)
			}
		})
	}
}

func TestBreakerIgnoresClientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 429} {
		up, c, _ := newBreakerWorld(t, status)
		for range 6 {
			if err := callProfiles(t.Context(), c); errors.Is(err, ErrCircuitOpen) {
				t.Fatalf("status %d opened the circuit", status)
			}
		}
		if n := up.hits.Load(); n != 6 {
			t.Errorf("status %d: upstream got %d requests, want 6", status, n)
		}
	}
}

func TestBreakerCountsConsecutiveFailuresOnly(t *testing.T) {
	up, c, _ := newBreakerWorld(t, 500)
	for range 2 {
		_ = callProfiles(t.Context(), c)
	}
	up.status.Store(200)
	if err := callProfiles(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	up.status.Store(500)
	for i := range 2 {
		if err := callProfiles(t.Context(), c); errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("failure %d after a success opened the circuit: the count must restart", i+1)
		}
	}
	if err := callProfiles(t.Context(), c); errors.Is(err, ErrCircuitOpen) {
		t.Fatal("the third consecutive failure itself must still reach the upstream")
	}
	if err := callProfiles(t.Context(), c); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("err = %v after three consecutive failures, want ErrCircuitOpen", err)
	}
}

func TestBreakerTimeoutsCount(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := &Client{BaseURL: srv.URL, Retries: -1, Timeout: 200 * time.Millisecond, Breaker: &Breaker{Threshold: 2}}
	for range 2 {
		if err := callProfiles(t.Context(), c); !IsTimeout(err) {
			t.Fatalf("err = %v, want a timeout", err)
		}
	}
	if err := callProfiles(t.Context(), c); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("err = %v, want ErrCircuitOpen after two timeouts", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("upstream got %d requests, want 2", n)
	}
}

func TestBreakerIgnoresCallerCancellation(t *testing.T) {
	started := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Retries: -1, Timeout: -1, Breaker: &Breaker{Threshold: 1}}
	for range 3 {
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-started; cancel() }()
		if err := callProfiles(ctx, c); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	}
	if got := c.Breaker.State(hostOf(t, srv.URL)); got != BreakerClosed {
		t.Errorf("state %s after calls the device abandoned, want closed", got)
	}
}

func TestBreakerHalfOpenProbe(t *testing.T) {
	tests := []struct {
		name        string
		probeStatus int
		wantState   BreakerState
	}{
		{"probe succeeds: closed", 200, BreakerClosed},
		{"probe 4xx: closed", 404, BreakerClosed},
		{"probe fails: open again", 503, BreakerOpen},
		{"probe dropped: open again", 0, BreakerOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, c, clock := newBreakerWorld(t, 500)
			host := hostOf(t, c.BaseURL)
			for range 3 {
				_ = callProfiles(t.Context(), c)
			}
			clock.Advance(9 * time.Second)
			if err := callProfiles(t.Context(), c); !errors.Is(err, ErrCircuitOpen) {
				t.Fatalf("before the cooldown ends: err = %v, want ErrCircuitOpen", err)
			}
			clock.Advance(time.Second)
			if got := c.Breaker.State(host); got != BreakerHalfOpen {
				t.Fatalf("after the cooldown: state %s, want half-open", got)
			}
			up.status.Store(int32(tt.probeStatus))
			before := up.hits.Load()
			_ = callProfiles(t.Context(), c)
			if up.hits.Load() <= before {
				t.Fatal("the probe did not reach the upstream")
			}
			if got := c.Breaker.State(host); got != tt.wantState {
				t.Fatalf("after the probe: state %s, want %s", got, tt.wantState)
			}
			err := callProfiles(t.Context(), c)
			if open := errors.Is(err, ErrCircuitOpen); open != (tt.wantState == BreakerOpen) {
				t.Errorf("call after the probe: err = %v", err)
			}
		})
	}
}

func TestBreakerSingleProbe(t *testing.T) {
	var hits atomic.Int32
	var failing atomic.Bool
	failing.Store(true)
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		entered <- struct{}{}
		<-release
		io.WriteString(w, `{"profiles":{}}`)
	}))
	defer srv.Close()
	clock := testenv.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	c := &Client{BaseURL: srv.URL, Retries: -1, Breaker: &Breaker{Threshold: 1, Cooldown: time.Second, Now: clock.Now}}
	_ = callProfiles(t.Context(), c)
	clock.Advance(time.Second)
	failing.Store(false)

	probeErr := make(chan error, 1)
	go func() { probeErr <- callProfiles(context.Background(), c) }()
	<-entered
	// While the probe is in flight, every other call fails fast.
	for range 3 {
		if err := callProfiles(t.Context(), c); !errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("during the probe: err = %v, want ErrCircuitOpen", err)
		}
	}
	close(release)
	if err := <-probeErr; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("upstream got %d requests, want 2 (one failure, one probe)", n)
	}
	go func() { <-entered }()
	if err := callProfiles(t.Context(), c); err != nil {
		t.Fatalf("after a successful probe: %v", err)
	}
}

func TestBreakerIsPerHost(t *testing.T) {
	dead := &switchable{}
	dead.status.Store(503)
	alive := &switchable{}
	alive.status.Store(200)
	deadSrv, aliveSrv := httptest.NewServer(dead), httptest.NewServer(alive)
	defer deadSrv.Close()
	defer aliveSrv.Close()
	shared := &Breaker{Threshold: 2}
	cDead := &Client{BaseURL: deadSrv.URL, Retries: -1, Breaker: shared}
	cAlive := &Client{BaseURL: aliveSrv.URL, Retries: -1, Breaker: shared}
	for range 3 {
		_ = callProfiles(t.Context(), cDead)
	}
	if err := callProfiles(t.Context(), cDead); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("dead host: err = %v, want ErrCircuitOpen", err)
	}
	if err := callProfiles(t.Context(), cAlive); err != nil {
		t.Fatalf("a healthy host behind the same breaker: %v", err)
	}
}

// An open circuit cuts a GET's retries short: the upstream sees no more
// attempts than the threshold, whatever the retry budget.
func TestBreakerStopsRetries(t *testing.T) {
	up := &switchable{}
	up.status.Store(503)
	srv := httptest.NewServer(up)
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Retries: 10, RetryBackoff: time.Nanosecond, Breaker: &Breaker{Threshold: 3}}
	err := callProfiles(t.Context(), c)
	if !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("err = %v, want ErrCircuitOpen once the retries open the circuit", err)
	}
	if n := up.hits.Load(); n != 3 {
		t.Errorf("upstream got %d requests, want 3", n)
	}
}

func TestNilBreakerNeverOpens(t *testing.T) {
	up := &switchable{}
	up.status.Store(500)
	srv := httptest.NewServer(up)
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Retries: -1}
	for range 10 {
		if err := callProfiles(t.Context(), c); errors.Is(err, ErrCircuitOpen) {
			t.Fatal("a Client without a Breaker refused a call")
		}
	}
	if n := up.hits.Load(); n != 10 {
		t.Errorf("upstream got %d requests, want 10", n)
	}
}
