package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client/sandbox"
)

// throttledRig is a rig with the default throttle (1 call/s, one-time
// burst of 10), no caller authentication and no profile cache, so every
// call that gets through reaches v2.
func throttledRig(t *testing.T, configure func(*Config)) *rig {
	return newRig(t, func(c *Config) {
		c.Throttle = ThrottleConfig{}
		for i := range c.Requestors {
			c.Requestors[i].CallerAuth = "none"
			c.Requestors[i].ProfileCacheTTL = -1
		}
		if configure != nil {
			configure(c)
		}
	})
}

// throttlePage is the documented 429 body, with the CRLF line ends Adobe
// sent.
func throttlePage(t *testing.T) string {
	t.Helper()
	return strings.ReplaceAll(string(testenv.Sample(t, "v1", "throttle-429.html")), "\n", "\r\n")
}

// TestThrottleAdobeExampleThroughGateway replays the worked example of
// Adobe's throttling page (testdata/spec/v1.md §1.11) against the whole gateway: a
// signed-in device behind the local load balancer authorizes at t = 0, 0.3,
// ... 3.1 s; the same calls succeed and fail as on the page, and a refused
// call never reaches v2.
func TestThrottleAdobeExampleThroughGateway(t *testing.T) {
	r := throttledRig(t, nil)
	r.signIn("dev-t", nil, "alice", "alice-pass")
	page := throttlePage(t)
	device := http.Header{"X-Forwarded-For": {"203.0.113.7"}}

	timeline := []struct {
		at   float64
		want int
	}{
		{0, 200}, {0.3, 200}, {0.6, 200}, {0.9, 200}, {1.2, 200}, {1.3, 200}, {1.4, 200}, {1.5, 200},
		{1.6, 200}, {1.7, 200}, {1.8, 200}, {2.1, 200}, {2.2, 200},
		{2.4, 429}, {2.6, 429}, {2.8, 429},
		{3.1, 200},
	}
	start := r.clock.Now()
	for _, step := range timeline {
		r.clock.Advance(start.Add(time.Duration(step.at * float64(time.Second))).Sub(r.clock.Now()))
		n := r.upstreamCount()
		resp, body := r.do(http.MethodGet, "/api/v1/authorize?requestor=REF30&deviceId=dev-t&resource=news&format=json", device, "")
		if resp.StatusCode != step.want {
			t.Fatalf("t=%.1fs: status %d, want %d; body %s", step.at, resp.StatusCode, step.want, body)
		}
		upstream := r.upstreamSince(n)
		if step.want == http.StatusTooManyRequests {
			if body != page || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("t=%.1fs: %s %q, want the documented HTML page", step.at, resp.Header.Get("Content-Type"), body)
			}
			if len(upstream) != 0 {
				t.Errorf("t=%.1fs: a throttled call reached the sandbox: %v", step.at, paths(upstream))
			}
			continue
		}
		if len(upstream) == 0 {
			t.Fatalf("t=%.1fs: an allowed call made no v2 call", step.at)
		}
		for _, q := range upstream {
			if got := q.Header.Get("X-Forwarded-For"); got != "203.0.113.7" {
				t.Errorf("t=%.1fs: %s %s carried X-Forwarded-For %q, want the device's 203.0.113.7", step.at, q.Method, q.Path, got)
			}
		}
	}
}

// TestThrottleForwardedFor shows whose X-Forwarded-For counts: an untrusted
// peer cannot escape its bucket (nor name another address upstream) by
// spoofing the header, while a configured trusted proxy's header names the
// device, each device with its own bucket.
func TestThrottleForwardedFor(t *testing.T) {
	r := throttledRig(t, func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8"} })
	calls := 0
	// call sends one checkauthn from peer with xff, straight to the
	// gateway's handler (the only way to choose the TCP peer), and returns
	// the status and the X-Forwarded-For the sandbox saw.
	call := func(peer, xff string) (int, string) {
		t.Helper()
		calls++
		req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/checkauthn?requestor=REF30&deviceId=dev-%d&format=json", calls), nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", xff)
		n := r.upstreamCount()
		w := httptest.NewRecorder()
		r.handler.ServeHTTP(w, req)
		upstream := v2Calls(r.upstreamSince(n))
		if w.Code == http.StatusTooManyRequests {
			if len(upstream) != 0 {
				t.Errorf("a throttled call reached the sandbox: %v", paths(upstream))
			}
			return w.Code, ""
		}
		if len(upstream) != 1 {
			t.Fatalf("%d v2 calls, want 1 (GET profiles): %v; answer %d %s", len(upstream), paths(upstream), w.Code, w.Body)
		}
		return w.Code, upstream[0].Header.Get("X-Forwarded-For")
	}
	const burst = 10

	// Untrusted peer: a new spoofed address on every call changes nothing.
	for i := range burst + 1 {
		code, forwarded := call("198.51.100.7:5000", fmt.Sprintf("192.0.2.%d", i+1))
		if code != http.StatusForbidden { // not signed in: the call got through
			t.Fatalf("untrusted call %d: status %d", i+1, code)
		}
		if forwarded != "198.51.100.7" {
			t.Fatalf("untrusted call %d: v2 got X-Forwarded-For %q, want the peer 198.51.100.7", i+1, forwarded)
		}
	}
	if code, _ := call("198.51.100.7:5001", "192.0.2.99"); code != http.StatusTooManyRequests {
		t.Fatalf("untrusted peer past its burst with a spoofed X-Forwarded-For: status %d, want 429", code)
	}

	// Trusted proxy: the device it names is what counts.
	for i := range burst + 1 {
		code, forwarded := call("10.1.2.3:80", "198.18.0.1, 203.0.113.10")
		if code != http.StatusForbidden || forwarded != "203.0.113.10" {
			t.Fatalf("proxied call %d: status %d, v2 got X-Forwarded-For %q; want 403 and 203.0.113.10", i+1, code, forwarded)
		}
	}
	if code, _ := call("10.1.2.3:80", "203.0.113.10"); code != http.StatusTooManyRequests {
		t.Fatalf("proxied device past its burst: status %d, want 429", code)
	}
	code, forwarded := call("10.9.9.9:80", "203.0.113.11")
	if code != http.StatusForbidden || forwarded != "203.0.113.11" {
		t.Fatalf("another device behind the proxy: status %d, X-Forwarded-For %q; want its own bucket", code, forwarded)
	}
	// The first device, now one second later, has its one call again.
	r.clock.Advance(time.Second)
	if code, _ := call("198.51.100.7:5000", "192.0.2.1"); code != http.StatusForbidden {
		t.Fatalf("untrusted peer one second later: status %d", code)
	}
}

// v2Calls keeps the /api/v2 requests, dropping the gateway's own DCR calls.
func v2Calls(reqs []sandbox.Request) []sandbox.Request {
	var out []sandbox.Request
	for _, q := range reqs {
		if strings.HasPrefix(q.Path, "/api/v2/") {
			out = append(out, q)
		}
	}
	return out
}
