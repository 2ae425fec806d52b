package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/internal/wait"
)

func TestThrottling(t *testing.T) {
	s := start(t, func(c *Config) { c.DisableThrottling = false })
	tok := registerClient(t, s, "sandbox-statement") // 2 requests from 127.0.0.1
	d := newDevice(t, s, tok, "tv")
	d.extra.Set("X-Forwarded-For", "203.0.113.7, 10.0.0.1")

	// One for the current second plus a burst of ten.
	for i := range 11 {
		if r := d.get("/profiles"); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
	}
	r := d.get("/profiles")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("12th request: %d, want 429", r.status)
	}
	want := testenv.Sample(t, "v2", "throttling-429.html")
	if !bytes.Equal(r.body, want) || r.header.Get("Content-Type") != "text/html" {
		t.Errorf("429 body/type %q %q, want the documented page", r.body, r.header.Get("Content-Type"))
	}
	// Another device (its first X-Forwarded-For entry) has its own bucket.
	other := newDevice(t, s, tok, "phone")
	other.extra.Set("X-Forwarded-For", "198.51.100.1")
	if r := other.get("/profiles"); r.status != http.StatusOK {
		t.Errorf("other device: %d", r.status)
	}
	// The bucket refills one request per second; the burst never returns.
	s.Advance(time.Second)
	if r := d.get("/profiles"); r.status != http.StatusOK {
		t.Errorf("after 1 s: %d", r.status)
	}
	if r := d.get("/profiles"); r.status != http.StatusTooManyRequests {
		t.Errorf("second request in that second: %d, want 429", r.status)
	}
	// Mock MVPD pages are not throttled.
	if r := send(t, http.MethodGet, s.URL+"/adobe-services/logout?redirect_url=https%3A%2F%2Fexample.com", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, nil); r.status != http.StatusFound {
		t.Errorf("logout page throttled: %d", r.status)
	}
	s.SetThrottling(false)
	if r := d.get("/profiles"); r.status != http.StatusOK {
		t.Errorf("throttling off: %d", r.status)
	}
}

func TestFaults(t *testing.T) {
	var mu sync.Mutex
	var slept []time.Duration
	s := start(t, func(c *Config) {
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			slept = append(slept, d)
			return nil
		}
	})
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	d.login("AcmeCable", "alice")

	t.Run("latency", func(t *testing.T) {
		if _, err := s.AddFault(Fault{Kind: FaultLatency, Path: "/api/v2/*/profiles", Latency: Duration(3 * time.Second), Count: 1}); err != nil {
			t.Fatal(err)
		}
		d.get("/configuration")
		d.get("/profiles")
		d.get("/profiles")
		mu.Lock()
		defer mu.Unlock()
		if len(slept) != 1 || slept[0] != 3*time.Second {
			t.Errorf("slept %v, want one 3s delay on the first matching request", slept)
		}
	})

	t.Run("status", func(t *testing.T) {
		id, err := s.AddFault(Fault{Kind: FaultStatus, Path: "/api/v2/*/decisions/**", Method: "POST", Status: 503, Code: "network_connection_timeout"})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			wantStatusCode(t, d.decide("authorize", "AcmeCable", "news"), 503, "network_connection_timeout")
		}
		if r := d.get("/profiles"); r.status != http.StatusOK {
			t.Errorf("unmatched path: %d", r.status)
		}
		if !s.RemoveFault(id) || s.RemoveFault(id) {
			t.Error("RemoveFault did not remove exactly once")
		}
		if it := decisions(t, d.decide("authorize", "AcmeCable", "news"))[0]; it["authorized"] != true {
			t.Errorf("after removal: %v", it)
		}
		if _, err := s.AddFault(Fault{Kind: FaultStatus, Path: "/o/client/token", Status: 500, Count: 1}); err != nil {
			t.Fatal(err)
		}
		r := send(t, http.MethodPost, s.URL+"/o/client/token", nil, nil)
		if r.status != 500 || r.json(t)["error"] != "internal_server_error" {
			t.Errorf("DCR forced status: %d %s", r.status, r.body)
		}
	})

	t.Run("throttle", func(t *testing.T) {
		if _, err := s.AddFault(Fault{Kind: FaultThrottle, Count: 2}); err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{429, 429, 200} {
			if r := d.get("/profiles"); r.status != want {
				t.Errorf("request %d: %d, want %d", i, r.status, want)
			}
		}
	})

	t.Run("drop", func(t *testing.T) {
		if _, err := s.AddFault(Fault{Kind: FaultDrop, Path: "/api/v2/REF30/profiles", Count: 1}); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v2/REF30/profiles", nil)
		req.Header = d.headers()
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("dropped connection answered %d", resp.StatusCode)
		}
		if r := d.get("/profiles"); r.status != http.StatusOK {
			t.Errorf("after the drop: %d", r.status)
		}
	})

	t.Run("expire tokens", func(t *testing.T) {
		if _, err := s.AddFault(Fault{Kind: FaultExpireTokens, Path: "/api/v2/*/profiles", Count: 1}); err != nil {
			t.Fatal(err)
		}
		wantStatusCode(t, d.get("/profiles"), http.StatusUnauthorized, CodeInvalidTokenClientApplication)
		if len(s.Faults()) != 0 {
			t.Errorf("faults left: %+v", s.Faults())
		}
		wantStatusCode(t, d.get("/configuration"), http.StatusUnauthorized, CodeInvalidTokenClientApplication)
		d.token = registerClient(t, s, "sandbox-statement")
		if r := d.get("/configuration"); r.status != http.StatusOK {
			t.Errorf("new token: %d", r.status)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, f := range []Fault{
			{Kind: "explode"},
			{Kind: FaultStatus, Status: 200},
			{Kind: FaultLatency},
			{Kind: FaultDrop, Count: -1},
			{Kind: FaultDrop, Path: "/api/["},
		} {
			if _, err := s.AddFault(f); !errors.Is(err, ErrInvalidFault) {
				t.Errorf("AddFault(%+v) = %v, want ErrInvalidFault", f, err)
			}
		}
	})
}

func TestLatencyFaultHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := wait.For(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait.For on a cancelled context = %v", err)
	}

	entered := make(chan struct{})
	s := start(t, func(c *Config) {
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			close(entered)
			return wait.For(ctx, d)
		}
	})
	if _, err := s.AddFault(Fault{Kind: FaultLatency, Latency: Duration(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v2/REF30/configuration", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-entered // the sandbox is holding the request
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client error %v, want context.Canceled", err)
	}
}

func TestAdminEndpoint(t *testing.T) {
	off := start(t)
	r := send(t, http.MethodPost, off.URL+"/_sandbox/faults", nil, []byte(`{"kind":"drop"}`))
	if r.status != http.StatusNotFound || len(off.UnhandledRequests()) != 1 || len(off.Faults()) != 0 {
		t.Fatalf("admin off: %d, unhandled %d, faults %d", r.status, len(off.UnhandledRequests()), len(off.Faults()))
	}

	s := start(t, func(c *Config) { c.Admin = true })
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	post := func(path, body string) response {
		return send(t, http.MethodPost, s.URL+path, http.Header{"Content-Type": {"application/json"}}, []byte(body))
	}
	r = post("/_sandbox/faults", `{"kind":"status","path":"/api/v2/*/configuration","status":500,"count":1}`)
	if r.status != http.StatusCreated {
		t.Fatalf("add fault: %d %s", r.status, r.body)
	}
	wantStatusCode(t, d.get("/configuration"), 500, CodeInternalServerError)
	if r := d.get("/configuration"); r.status != http.StatusOK {
		t.Errorf("count 1 fault applied twice: %d", r.status)
	}
	id := post("/_sandbox/faults", `{"kind":"throttle"}`).json(t)["id"].(string)
	if r := d.get("/configuration"); r.status != 429 {
		t.Errorf("throttle fault: %d", r.status)
	}
	if r := send(t, http.MethodDelete, s.URL+"/_sandbox/faults/"+id, nil, nil); r.status != http.StatusNoContent {
		t.Errorf("delete fault: %d", r.status)
	}
	if r := post("/_sandbox/faults", `{"kind":"nope"}`); r.status != http.StatusBadRequest {
		t.Errorf("bad fault: %d", r.status)
	}

	r = post("/_sandbox/clock", `{"advance":"1h"}`)
	if r.status != http.StatusOK || r.json(t)["now"] != float64(epoch.Add(time.Hour).UnixMilli()) {
		t.Errorf("clock: %d %s", r.status, r.body)
	}
	if !s.Now().Equal(epoch.Add(time.Hour)) {
		t.Errorf("Now %v", s.Now())
	}
	if r := post("/_sandbox/tokens/expire", ``); r.status != http.StatusNoContent {
		t.Errorf("expire: %d", r.status)
	}
	wantStatusCode(t, d.get("/configuration"), http.StatusUnauthorized, CodeInvalidTokenClientApplication)

	if r := post("/_sandbox/media-token/verify", `{"token":"bm90IGEgdG9rZW4="}`); r.status != http.StatusBadRequest || r.json(t)["error"] != "invalid" {
		t.Errorf("verify forged token: %d %s", r.status, r.body)
	}
	if r := post("/_sandbox/partner/saml-response", `{"request":"eA==","username":"alice"}`); r.status != http.StatusBadRequest {
		t.Errorf("SAML response for an unknown request: %d %s", r.status, r.body)
	}
	if r := post("/_sandbox/throttling", `{"enabled":true}`); r.status != http.StatusNoContent {
		t.Errorf("throttling on: %d", r.status)
	}
	s.mu.Lock()
	on := s.throttling
	s.mu.Unlock()
	if !on {
		t.Error("throttling not switched on")
	}

	send(t, http.MethodGet, s.URL+"/nowhere", nil, nil)
	var un []map[string]any
	if err := json.Unmarshal(send(t, http.MethodGet, s.URL+"/_sandbox/unhandled", nil, nil).body, &un); err != nil || len(un) != 1 || un[0]["path"] != "/nowhere" {
		t.Errorf("unhandled over admin: %v %v", un, err)
	}
	// Only the reset request itself is left in the log.
	if r := post("/_sandbox/reset", ``); r.status != http.StatusNoContent || len(s.Requests()) != 1 || s.Requests()[0].Path != "/_sandbox/reset" {
		t.Errorf("reset: %d, requests left %+v", r.status, s.Requests())
	}
	if r := send(t, http.MethodGet, s.URL+"/_sandbox/nothing", nil, nil); r.status != http.StatusNotFound || !strings.Contains(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("unknown admin path: %d", r.status)
	}
}

func TestFaultPathPatterns(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"", "/anything", true},
		{"/api/v2/*/profiles", "/api/v2/REF30/profiles", true},
		{"/api/v2/*/profiles", "/api/v2/REF30/profiles/AcmeCable", false},
		{"/api/v2/*/decisions/**", "/api/v2/REF30/decisions/authorize/AcmeCable", true},
		{"/api/v2/*/decisions/**", "/api/v2/REF30/decisions", true},
		{"/api/v2/*/decisions/**", "/api/v2/REF30/profiles", false},
		{"/o/**", "/o/client/token", true},
		{"/o/**", "/api/v2/REF30/profiles", false},
	}
	for _, tc := range tests {
		r, _ := http.NewRequest(http.MethodGet, "http://sandbox"+tc.path, nil)
		if got := (Fault{Path: tc.pattern}).matches(r); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}
