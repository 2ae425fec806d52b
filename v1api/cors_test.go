package v1api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"testing"
)

func TestOriginsAllows(t *testing.T) {
	set, err := ParseOrigins([]string{"https://login.example.com", "http://localhost:8080", "https://*.tv.example.org", "example.net"})
	if err != nil {
		t.Fatal(err)
	}
	set.AddOriginOf("https://app.example.io:8443/signed-in?x=1")
	set.AddDomain("Partner.COM")
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://login.example.com", true},
		{"https://login.example.com:443", true},
		{"HTTPS://LOGIN.EXAMPLE.COM", true},
		{"http://login.example.com", false},
		{"https://login.example.com:444", false},
		{"https://evil-login.example.com", false},
		{"http://localhost:8080", true},
		{"http://localhost", false},
		{"https://a.tv.example.org", true},
		{"https://a.b.tv.example.org", true},
		{"https://tv.example.org", false},
		{"https://a.tv.example.org:8443", false},
		{"https://example.net", true},
		{"http://www.example.net:3000", true},
		{"https://notexample.net", false},
		{"https://app.example.io:8443", true},
		{"https://app.example.io", false},
		{"https://sso.partner.com", true},
		{"null", false},
		{"", false},
		{"ftp://example.net", false},
		{"https://example.net/path", false},
		{"https://user@example.net", false},
	}
	for _, tt := range tests {
		if got := set.Allows(tt.origin); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}

	anyOrigin, err := ParseOrigins([]string{"*"})
	if err != nil || !anyOrigin.Allows("https://anything.test") || anyOrigin.Allows("null") {
		t.Errorf("* must allow any real origin and not null (err %v)", err)
	}
	var none *Origins
	if none.Allows("https://example.com") || !none.Empty() || (&Origins{}).Allows("https://example.com") {
		t.Error("an empty set allows nothing")
	}
}

func TestParseOriginsRejects(t *testing.T) {
	for _, e := range []string{"", "https://", "https://example.com/path", "ftp://example.com", "https://*.", "https://a.*.com", "exa*mple.com", "example.com/x", "https://u@example.com"} {
		if _, err := ParseOrigins([]string{e}); err == nil {
			t.Errorf("ParseOrigins(%q) accepted", e)
		}
	}
}

// corsTestAllowed allows http://localhost:3000 for REF30 only, and
// https://dcr.example.com for any requestor.
func corsTestAllowed(requestor, origin string) bool {
	switch origin {
	case "http://localhost:3000":
		return requestor == "REF30" || requestor == ""
	case "https://dcr.example.com":
		return true
	}
	return false
}

// wantGrant checks the CORS headers of an answer to origin: the whole
// grant of Adobe's v1 answers when grant, none at all otherwise, and
// Vary: Origin in both cases.
func wantGrant(t *testing.T, name string, h http.Header, origin string, grant bool) {
	t.Helper()
	if !slices.Contains(h.Values("Vary"), "Origin") {
		t.Errorf("%s: Vary %q, want Origin", name, h.Values("Vary"))
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "POST,GET,OPTIONS,DELETE",
		"Access-Control-Allow-Headers":     corsAllowHeaders,
		"Access-Control-Expose-Headers":    "pass_sfp,Authzf-Error-Code,Authzf-Sub-Error-Code,Authzf-Error-Details,Adobe-Request-Id",
	}
	for k, v := range want {
		got := h.Values(k)
		switch {
		case grant && (len(got) != 1 || got[0] != v):
			t.Errorf("%s: %s = %q, want %q", name, k, got, v)
		case !grant && len(got) != 0:
			t.Errorf("%s: %s = %q on a disallowed origin", name, k, got)
		}
	}
}

func TestCORS(t *testing.T) {
	b := newRecordingBackend()
	clock := newFakeClock()
	h := newTestHandler(t, b, func(c *Config) {
		c.Throttle = &Throttle{Now: clock.now}
	})
	issuer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{}`)
	})
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("/o/client/", issuer)
	mux.HandleFunc("/passgw/signed-in", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	cors := &CORS{Allowed: corsTestAllowed}
	srv := cors.Wrap(mux)

	for _, tt := range []struct {
		name       string
		req        testRequest
		status     int
		grant      bool
		emptyBody  bool
		origin     string
		backendHit bool
	}{
		{name: "preflight config", req: testRequest{method: "OPTIONS", target: "/api/v1/config/REF30.json",
			header: map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-device-info"}},
			status: 204, grant: true, emptyBody: true},
		{name: "preflight code call, requestor in query", req: testRequest{method: "OPTIONS", target: "/api/v1/checkauthn/ABC123?requestor=REF30",
			header: map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}},
			status: 204, grant: true, emptyBody: true},
		{name: "preflight other requestor", req: testRequest{method: "OPTIONS", target: "/api/v1/checkauthn/ABC123?requestor=OTHER",
			header: map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}},
			status: 204, grant: false, emptyBody: true},
		{name: "preflight disallowed origin", req: testRequest{method: "OPTIONS", target: "/api/v1/config/REF30",
			header: map[string]string{"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"}},
			status: 204, grant: false, emptyBody: true},
		{name: "preflight DCR", req: testRequest{method: "OPTIONS", target: "/o/client/register",
			header: map[string]string{"Origin": "https://dcr.example.com", "Access-Control-Request-Method": "POST"}},
			status: 204, grant: true, emptyBody: true},
		{name: "config", req: testRequest{target: "/api/v1/config/REF30.json", header: map[string]string{"Origin": "http://localhost:3000"}},
			status: 200, grant: true, backendHit: true},
		{name: "error answer", req: testRequest{target: "/api/v1/checkauthn?requestor=REF30", header: map[string]string{"Origin": "http://localhost:3000"}},
			status: 400, grant: true},
		{name: "disallowed origin answered as without CORS", req: testRequest{target: "/api/v1/config/REF30.json", header: map[string]string{"Origin": "https://evil.test"}},
			status: 200, grant: false, backendHit: true},
		{name: "DCR answer", req: testRequest{method: "POST", target: "/o/client/register", body: "{}", contentType: "application/json", header: map[string]string{"Origin": "https://dcr.example.com"}},
			status: 201, grant: true},
	} {
		b.record("", nil)
		w := serve(srv, tt.req)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, w.Code, tt.status, w.Body)
		}
		if tt.emptyBody && w.Body.Len() != 0 {
			t.Errorf("%s: preflight body %q, want none", tt.name, w.Body)
		}
		if op, _ := b.last(); (op != "") != tt.backendHit {
			t.Errorf("%s: backend called %q, want a call %v", tt.name, op, tt.backendHit)
		}
		wantGrant(t, tt.name, w.Header(), tt.req.header["Origin"], tt.grant)
	}

	// Calls without Origin (devices), and paths that are not v1 or DCR,
	// get no CORS header at all.
	for _, tr := range []testRequest{
		{target: "/api/v1/config/REF30.json"},
		{target: "/passgw/signed-in", header: map[string]string{"Origin": "http://localhost:3000"}},
	} {
		w := serve(srv, tr)
		for k := range w.Header() {
			if k == "Vary" || len(k) > len(corsHeaderPrefix) && k[:len(corsHeaderPrefix)] == corsHeaderPrefix {
				t.Errorf("%s: %s set", tr.target, k)
			}
		}
	}
	// An OPTIONS that is not a preflight is the v1 405.
	if w := serve(srv, testRequest{method: "OPTIONS", target: "/api/v1/config/REF30", header: map[string]string{"Origin": "http://localhost:3000"}}); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("plain OPTIONS: %d, want 405", w.Code)
	}

	// A throttled answer carries the grant too, as Adobe's 429 did.
	tr := testRequest{target: "/api/v1/checkauthn?requestor=REF30&deviceId=d1", remote: "192.0.2.9:1234",
		header: map[string]string{"Origin": "http://localhost:3000"}}
	exhaust(t, srv, tr)
	w := serve(srv, tr)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", w.Code)
	}
	wantGrant(t, "throttled", w.Header(), "http://localhost:3000", true)
}

// TestCORSReplacesUpstreamHeaders: an answer proxied from a v1 upstream
// (passthrough) carries the gateway's grant only, not the upstream's
// headers besides it (two Allow-Origin values make a browser refuse both).
func TestCORSReplacesUpstreamHeaders(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Methods", "GET")
		w.Header().Set("Vary", "Origin")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	cors := &CORS{Allowed: corsTestAllowed}
	srv := cors.Wrap(httputil.NewSingleHostReverseProxy(u))
	for _, tt := range []struct {
		origin string
		grant  bool
	}{{"http://localhost:3000", true}, {"https://evil.test", false}} {
		w := serve(srv, testRequest{target: "/api/v1/config/REF30", header: map[string]string{"Origin": tt.origin}})
		if w.Code != 200 || w.Body.String() != `{"ok":true}` {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		wantGrant(t, tt.origin, w.Header(), tt.origin, tt.grant)
		if v := w.Header().Values("Vary"); len(v) != 1 {
			t.Errorf("Vary %q, want one Origin", v)
		}
	}
}

// TestCORSReadsTheCall: through Front, CORS grants by the requestor of the
// Call Front parsed (Call.NamedRequestor): the path's, for a preflight too,
// else the query's; a requestor sent only in a form body names none, as the
// grant is decided before the body is read.
func TestCORSReadsTheCall(t *testing.T) {
	h := newTestHandler(t, newRecordingBackend(), nil)
	cors := &CORS{Allowed: func(requestor, origin string) bool {
		return origin == "http://localhost:3000" && requestor == "REF30" || origin == "https://any.example.com" && requestor == ""
	}}
	var seen *Call
	v1 := cors.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = CallFrom(r.Context())
		h.ServeHTTP(w, r)
	}))
	srv := &Front{Handler: h, V1: v1}
	preflight := map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
	for _, tt := range []struct {
		name  string
		req   testRequest
		grant bool
	}{
		{"preflight, requestor in the path", testRequest{method: "OPTIONS", target: "/api/v1/config/REF30.json", header: preflight}, true},
		{"preflight, another requestor's path", testRequest{method: "OPTIONS", target: "/api/v1/config/OTHER", header: preflight}, false},
		{"preflight, requestor_id in the query", testRequest{method: "OPTIONS", target: "/api/v1/authenticate?requestor_id=REF30", header: preflight}, true},
		{"preflight, regcode path", testRequest{method: "OPTIONS", target: "/reggie/v1/REF30/regcode", header: preflight}, true},
		{"call, requestor in the query", testRequest{target: "/api/v1/checkauthn?requestor=REF30&deviceId=d1", header: map[string]string{"Origin": "http://localhost:3000"}}, true},
		{"call, another requestor", testRequest{target: "/api/v1/checkauthn?requestor=OTHER&deviceId=d1", header: map[string]string{"Origin": "http://localhost:3000"}}, false},
		{"form body requestor names none", testRequest{method: "POST", target: "/api/v1/authenticate/freepreview", body: "requestor_id=REF30&deviceId=d1",
			header: map[string]string{"Origin": "https://any.example.com"}}, true},
	} {
		seen = nil
		w := serve(srv, tt.req)
		wantGrant(t, tt.name, w.Header(), tt.req.header["Origin"], tt.grant)
		if tt.req.method != "OPTIONS" && seen == nil {
			t.Errorf("%s: no Call in the context behind CORS", tt.name)
		}
	}
}

// TestCORSAllocations: behind Front, CORS reads the Call Front parsed and
// parses nothing itself: a call from an origin it refuses costs the
// Handler's budget plus its response writer and Vary header.
func TestCORSAllocations(t *testing.T) {
	h := newTestHandler(t, newRecordingBackend(), nil)
	cors := &CORS{Allowed: func(string, string) bool { return false }}
	srv := &Front{Handler: h, V1: cors.Wrap(h)}
	c := handlerCalls[1] // checkauthn
	plain := testing.AllocsPerRun(50, func() { serveCall(t, srv, c, "json") })
	withOrigin := testing.AllocsPerRun(50, func() { serveCallFrom(t, srv, c, "json", "https://evil.test") })
	t.Logf("checkauthn through Front and CORS: %.0f allocations, %.0f with a refused Origin", plain, withOrigin)
	if withOrigin > plain+3 {
		t.Errorf("CORS adds %.0f allocations to a call with a refused Origin, want at most 3", withOrigin-plain)
	}
}
