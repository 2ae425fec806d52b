package compat

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1api"
)

// upstreamCall is what a fake v1 upstream received.
type upstreamCall struct {
	method, uri, host string
	header            http.Header
	body              string
}

// fakeV1 is a real HTTP server standing in for the v1 service: it records
// each call and answers with answer.
type fakeV1 struct {
	*httptest.Server
	mu    sync.Mutex
	calls []upstreamCall
}

func newFakeV1(t *testing.T, answer http.HandlerFunc) *fakeV1 {
	f := &fakeV1{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("upstream reading the body: %v", err)
		}
		f.mu.Lock()
		f.calls = append(f.calls, upstreamCall{r.Method, r.RequestURI, r.Host, r.Header.Clone(), string(b)})
		f.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeV1) Calls() []upstreamCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]upstreamCall(nil), f.calls...)
}

func (f *fakeV1) url(t *testing.T) *url.URL {
	u, err := url.Parse(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fakeTranslate counts the calls the translated path got.
type fakeTranslate struct {
	mu    sync.Mutex
	calls []string
	serve http.HandlerFunc
}

func (f *fakeTranslate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI()+" "+string(b))
	f.mu.Unlock()
	if f.serve != nil {
		f.serve(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "translated")
}

func (f *fakeTranslate) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func onePolicy(requestor string, p Policy) func(string) Policy {
	return func(r string) Policy {
		if r == requestor {
			return p
		}
		return Policy{}
	}
}

// TestPassthrough proves a passthrough call reaches v1 as the device sent
// it — method, path with its extension, query, streamed body — with the
// device address in X-Forwarded-For and the upstream's Host, and that the
// answer reaches the device unchanged, status, headers and body.
func TestPassthrough(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Location", "https://mvpd.example/login?x=1")
		w.Header().Set("X-Custom", "kept")
		w.WriteHeader(201)
		io.WriteString(w, `{"code":"V1CODE"}`)
	})
	tr := &fakeTranslate{}
	rt := &Router{Translate: tr, Policy: onePolicy("REF30", Policy{Mode: ModePassthrough, Upstream: v1.url(t)})}
	gw := httptest.NewServer(rt)
	defer gw.Close()

	body := "deviceId=dev-1&ttl=60&" + strings.Repeat("x", 300<<10) // longer than the peek
	req, _ := http.NewRequest("POST", gw.URL+"/reggie/v1/REF30/regcode.json?a=%2F&b=1", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.7") // from a trusted loopback proxy
	req.Header.Set("User-Agent", "Roku/DVP-9.10")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	if resp.StatusCode != 201 || string(got) != `{"code":"V1CODE"}` {
		t.Errorf("device got %d %q, want v1's 201 answer", resp.StatusCode, got)
	}
	for k, want := range map[string]string{"Content-Type": "application/json; charset=utf-8", "Location": "https://mvpd.example/login?x=1", "X-Custom": "kept"} {
		if resp.Header.Get(k) != want {
			t.Errorf("device got %s %q, want %q", k, resp.Header.Get(k), want)
		}
	}
	calls := v1.Calls()
	if len(calls) != 1 {
		t.Fatalf("v1 got %d calls, want 1", len(calls))
	}
	c := calls[0]
	if c.method != "POST" || c.uri != "/reggie/v1/REF30/regcode.json?a=%2F&b=1" || c.body != body {
		t.Errorf("v1 got %s %s with a %d-byte body, want the device's call unchanged", c.method, c.uri, len(c.body))
	}
	if c.host != v1.url(t).Host {
		t.Errorf("v1 got Host %q, want its own %q", c.host, v1.url(t).Host)
	}
	if xff := c.header.Values("X-Forwarded-For"); len(xff) != 1 || xff[0] != "203.0.113.7" {
		t.Errorf("v1 got X-Forwarded-For %q, want the device address alone", xff)
	}
	if c.header.Get("User-Agent") != "Roku/DVP-9.10" {
		t.Errorf("v1 got User-Agent %q", c.header.Get("User-Agent"))
	}
	if len(tr.Calls()) != 0 {
		t.Errorf("translate got %v, want nothing", tr.Calls())
	}
}

// TestPassthroughUntrustedPeer proves a device cannot name another
// address: from an untrusted peer, X-Forwarded-For is the peer.
func TestPassthroughUntrustedPeer(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {})
	rt := &Router{Translate: &fakeTranslate{}, Policy: onePolicy("REF30", Policy{Mode: ModePassthrough, Upstream: v1.url(t)})}
	r := httptest.NewRequest("GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d", nil)
	r.RemoteAddr = "192.0.2.9:5555"
	r.Header.Set("X-Forwarded-For", "10.1.1.1")
	rt.ServeHTTP(httptest.NewRecorder(), r)
	if calls := v1.Calls(); len(calls) != 1 || calls[0].header.Get("X-Forwarded-For") != "192.0.2.9" {
		t.Fatalf("v1 calls %+v, want one with X-Forwarded-For 192.0.2.9", calls)
	}
}

// TestPassthroughUpstreamDown proves a v1 upstream that does not answer
// gives the device a v1-shaped 502 in the format it asked for.
func TestPassthroughUpstreamDown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(dead.URL)
	dead.Close()
	rt := &Router{Translate: &fakeTranslate{}, Policy: onePolicy("REF30", Policy{Mode: ModePassthrough, Upstream: u})}
	tests := []struct{ target, accept, ctype, body string }{
		{"/api/v1/checkauthn?requestor=REF30&deviceId=d", "", "application/xml; charset=utf-8",
			`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><error><status>502</status><message>Bad Gateway</message></error>`},
		{"/api/v1/checkauthn.json?requestor=REF30&deviceId=d", "", "application/json; charset=utf-8", `{"status":502,"message":"Bad Gateway"}`},
		{"/api/v1/checkauthn?requestor=REF30&deviceId=d", "application/json", "application/json; charset=utf-8", `{"status":502,"message":"Bad Gateway"}`},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.target, nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if w.Code != 502 || w.Header().Get("Content-Type") != tt.ctype || w.Body.String() != tt.body {
			t.Errorf("%s: got %d %q %s, want 502 %q %s", tt.target, w.Code, w.Header().Get("Content-Type"), w.Body, tt.ctype, tt.body)
		}
	}
}

// TestPassthroughClientClosed: a device that goes away while the v1
// upstream answers is recorded as client closed (499), not as a 502.
func TestPassthroughClientClosed(t *testing.T) {
	started := make(chan struct{})
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	rt := &Router{Translate: &fakeTranslate{}, Policy: onePolicy("REF30", Policy{Mode: ModePassthrough, Upstream: v1.url(t)})}
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d", nil).WithContext(ctx)
	go func() { <-started; cancel() }()
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, r)
	if w.Code != v1api.StatusClientClosed || w.Body.Len() != 0 {
		t.Errorf("abandoned passthrough call: %d %q, want %d and no body", w.Code, w.Body, v1api.StatusClientClosed)
	}
}

// TestRouterModes proves each call goes where its requestor's mode says,
// and that the body a POST was identified by still reaches translate.
func TestRouterModes(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "v1") })
	u := v1.url(t)
	policies := map[string]Policy{"PT": {Mode: ModePassthrough, Upstream: u}, "TR": {Mode: ModeTranslate}, "NOUP": {Mode: ModeShadow}}
	tr := &fakeTranslate{}
	rt := &Router{Translate: tr, Policy: func(r string) Policy { return policies[r] }}
	tests := []struct{ method, target, body, want string }{
		{"POST", "/reggie/v1/TR/regcode", "deviceId=d1", "translated"},
		{"POST", "/reggie/v1/PT/regcode", "deviceId=d1", "v1"},
		{"GET", "/api/v1/checkauthn?requestor=PT&deviceId=d", "", "v1"},
		{"GET", "/api/v1/unknown?requestor=PT", "", "v1"},
		{"GET", "/api/v1/checkauthn?requestor=OTHER&deviceId=d", "", "translated"},
		{"GET", "/api/v1/checkauthn?deviceId=d", "", "translated"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if w.Body.String() != tt.want {
			t.Errorf("%s %s: answered %q, want %q", tt.method, tt.target, w.Body, tt.want)
		}
	}
	if calls := tr.Calls(); len(calls) == 0 || calls[0] != "POST /reggie/v1/TR/regcode deviceId=d1" {
		t.Errorf("translate calls %q, want the first with its whole body", calls)
	}
	// A mode needing an upstream without one is a 500, never a silent
	// translate.
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/config/NOUP", nil))
	if w.Code != 500 {
		t.Errorf("shadow without upstream: %d, want 500", w.Code)
	}
}

// TestCanarySplit hashes 10,000 synthetic devices: the share sent to
// translate is within one point of the percentage, and a device always
// lands on the same side, whoever asks.
func TestCanarySplit(t *testing.T) {
	for _, percent := range []float64{1, 10, 25, 50, 90} {
		n := 0
		for i := range 10000 {
			id := "device-" + strings.Repeat("x", i%7) + "-" + string(rune('a'+i%26)) + "-" + itoa(i)
			in := InCanary("REF30", id, percent)
			if in != InCanary("REF30", id, percent) || CanaryBucket("REF30", id) != CanaryBucket("REF30", id) {
				t.Fatalf("device %s changes side", id)
			}
			if in {
				n++
			}
		}
		if got := float64(n) / 100; got < percent-1 || got > percent+1 {
			t.Errorf("%v%%: %v%% of devices went to translate", percent, got)
		}
	}
	if InCanary("REF30", "d", 0) || !InCanary("REF30", "d", 100) {
		t.Error("0% must send nobody and 100% everybody")
	}
	// The requestor is part of the hash: the same device id of two
	// requestors is two devices.
	same := 0
	for i := range 1000 {
		if CanaryBucket("A", itoa(i)) == CanaryBucket("B", itoa(i)) {
			same++
		}
	}
	if same > 5 {
		t.Errorf("%d of 1000 device ids share a bucket across requestors", same)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestCanaryRouting proves the side of each canary call: a device follows
// its hash; a device that registered through translate stays there when
// the percentage drops to zero, and so do the calls naming its code; other
// devices and codes go to v1.
func TestCanaryRouting(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "v1") })
	tr := &fakeTranslate{serve: func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"x","code":"GWCODE1"}`)
			return
		}
		io.WriteString(w, "translated")
	}}
	percent := 50.0
	var inDev, outDev string
	for i := 0; inDev == "" || outDev == ""; i++ {
		id := "dev-" + itoa(i)
		if InCanary("REF30", id, percent) {
			inDev = id
		} else {
			outDev = id
		}
	}
	pol := Policy{Mode: ModeCanary, Upstream: v1.url(t), CanaryPercent: percent}
	st := store.NewMemory(nil)
	rt := &Router{Translate: tr, Store: st, Policy: func(string) Policy { return pol }}
	do := func(method, target, body string) string {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if w.Code >= 300 {
			t.Fatalf("%s %s: %d", method, target, w.Code)
		}
		if strings.Contains(w.Body.String(), "GWCODE1") {
			return "translated"
		}
		return w.Body.String()
	}
	if got := do("GET", "/api/v1/checkauthn?requestor=REF30&deviceId="+outDev, ""); got != "v1" {
		t.Errorf("device outside the canary: %s", got)
	}
	if got := do("GET", "/api/v1/checkauthn?requestor=REF30&deviceId="+inDev, ""); got != "translated" {
		t.Errorf("device inside the canary before registering: %s", got)
	}
	if got := do("POST", "/reggie/v1/REF30/regcode", "deviceId="+inDev); got != "translated" {
		t.Fatalf("registration of the canary device: %s", got)
	}
	pol.CanaryPercent = 0
	for _, target := range []string{
		"/api/v1/checkauthn?requestor=REF30&deviceId=" + inDev,
		"/reggie/v1/REF30/regcode/GWCODE1",
		"/api/v1/authenticate?requestor_id=REF30&reg_code=GWCODE1&mso_id=AcmeCable",
		"/api/v1/checkauthn/GWCODE1?requestor=REF30",
	} {
		if got := do("GET", target, ""); got != "translated" {
			t.Errorf("%s after the canary dropped to 0%%: %s, want translated (registered there)", target, got)
		}
	}
	for _, target := range []string{
		"/api/v1/checkauthn?requestor=REF30&deviceId=" + outDev,
		"/reggie/v1/REF30/regcode/V1CODE9",
		"/api/v1/config/REF30",
	} {
		if got := do("GET", target, ""); got != "v1" {
			t.Errorf("%s: %s, want v1", target, got)
		}
	}
	// Pinning lasts StickyTTL: a store entry, not process memory.
	rt2 := &Router{Translate: tr, Store: st, Policy: rt.Policy}
	w := httptest.NewRecorder()
	rt2.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/tokens/authz?requestor=REF30&resource=r&deviceId="+inDev, nil))
	if w.Body.String() != "translated" {
		t.Errorf("another instance sharing the store sends the pinned device to %q", w.Body)
	}
}
