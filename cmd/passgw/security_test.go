package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/v2client/sandbox"
)

// xmlDoc is a parsed v1 XML body: every element name, and the texts of
// each element by name.
type xmlDoc struct {
	names []string
	texts map[string][]string
}

// parseXML parses body strictly; it fails the test on a malformed body.
func parseXML(t *testing.T, body []byte) xmlDoc {
	t.Helper()
	doc, err := decodeXML(body)
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	return doc
}

// decodeXML parses a body strictly as one XML document.
func decodeXML(body []byte) (xmlDoc, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	doc := xmlDoc{texts: map[string][]string{}}
	var stack []string
	var text []byte
	roots := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return xmlDoc{}, fmt.Errorf("malformed XML: %w", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
			}
			stack = append(stack, tok.Name.Local)
			doc.names = append(doc.names, tok.Name.Local)
			text = text[:0]
		case xml.CharData:
			text = append(text, tok...)
		case xml.EndElement:
			name := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			doc.texts[name] = append(doc.texts[name], string(text))
			text = text[:0]
		}
	}
	if roots != 1 {
		return xmlDoc{}, fmt.Errorf("%d root elements", roots)
	}
	return doc, nil
}

func (d xmlDoc) has(name string) bool {
	for _, n := range d.names {
		if n == name {
			return true
		}
	}
	return false
}

// checkV1Error asserts that r is a v1 error answer with the given status,
// without a Location, and with a well-formed body.
func checkV1Error(t *testing.T, what string, r *reply, status int) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "" {
		t.Errorf("%s: Location %q on a refused call", what, loc)
	}
	if strings.Contains(r.Header.Get("Content-Type"), "xml") {
		if doc := parseXML(t, r.Body); !doc.has("error") {
			t.Errorf("%s: not a v1 error body: %s", what, r.Body)
		}
	}
}

// resumes counts the upstream session resumes of code (POST sessions/{code}).
func resumes(w *loopWorld, code string) int {
	n := 0
	for _, r := range w.up.all() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/sessions/"+code) {
			n++
		}
	}
	return n
}

// TestAuthenticateRedirectAttacks sends the second-screen call with a live
// code and hostile redirect_url or domain_name values: each is refused with
// a v1 400, no Location, and no v2 session resumed, both for a code whose
// session must still be resumed and for a device already signed in (whose
// code the gateway answers itself with a redirect to redirect_url).
func TestAuthenticateRedirectAttacks(t *testing.T) {
	w := newLoopWorld(t, loopOptions{})
	ctx := t.Context()
	good := w.URL + signedInPath
	hostPort := w.Addr
	redirects := []string{
		"https://evil.net/",
		"http://evil.net" + signedInPath,
		"//evil.net" + signedInPath,
		"/\\evil.net" + signedInPath,
		"http://" + hostPort + ".evil.net" + signedInPath,
		"http://127.0.0.1.evil.net:" + strings.Split(hostPort, ":")[1] + signedInPath,
		"http://evil.net/" + good,
		"http://" + hostPort + "@evil.net" + signedInPath,
		"http://" + hostPort + "%40evil.net" + signedInPath,
		"http://user:pw@" + hostPort + signedInPath,
		"javascript:alert(document.cookie)//" + good,
		"JAVASCRIPT:alert(1)",
		"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
		"http:%2F%2Fevil.net" + signedInPath,
		"%68ttp://evil.net" + signedInPath,
		"HTTP://EVIL.NET" + signedInPath,
		"http://evil.net\\@" + hostPort + signedInPath,
		"http:\\\\evil.net" + signedInPath,
		"http://" + hostPort + "\\.evil.net" + signedInPath,
		"http://ev\til.net" + signedInPath,
		"http://evil.net\n" + signedInPath,
		"java\tscript:alert(1)",
		good + "\r\nSet-Cookie: session=stolen",
		good + "/../../admin",
		good + "/%2e%2e/%2e%2e/admin",
		good + "/..\\..\\admin",
		good + "x",
		"http://" + hostPort + "/passgw",
	}
	domains := []string{"evil.net", "localhost.evil.net", "example.com.evil.net", "evilexample.com", "localhost\r\nX-Injected: 1", "localhost%00", ""}

	code, err := w.regcode(ctx, "dev-redirect")
	if err != nil {
		t.Fatal(err)
	}
	check := func(code string) {
		for _, red := range redirects {
			r := w.must(http.MethodGet, authenticateTarget(code, red, "localhost"), nil, "")
			checkV1Error(t, fmt.Sprintf("redirect_url %q", red), r, http.StatusBadRequest)
		}
		for _, d := range domains {
			r := w.must(http.MethodGet, authenticateTarget(code, good, d), nil, "")
			checkV1Error(t, fmt.Sprintf("domain_name %q", d), r, http.StatusBadRequest)
		}
	}
	check(code)
	if n := resumes(w, code); n != 0 {
		t.Fatalf("%d v2 session resumes for refused calls", n)
	}
	r := w.must(http.MethodGet, authenticateTarget(code, good, "localhost"), nil, "")
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), w.sandboxURL) {
		t.Fatalf("the registered redirect_url: %d Location %q, want 302 to the sandbox", r.Status, r.Header.Get("Location"))
	}

	// A device already signed in: its next code is answered by the gateway
	// itself, straight to redirect_url.
	if err := w.signIn(ctx, "dev-signed-in"); err != nil {
		t.Fatal(err)
	}
	code, err = w.regcode(ctx, "dev-signed-in")
	if err != nil {
		t.Fatal(err)
	}
	check(code)
	r = w.must(http.MethodGet, authenticateTarget(code, good, "localhost"), nil, "")
	if r.Status != http.StatusFound || r.Header.Get("Location") != good {
		t.Fatalf("signed-in device, registered redirect_url: %d Location %q, want 302 to %s", r.Status, r.Header.Get("Location"), good)
	}
}

// TestHeaderInjectionThroughParameters puts CR LF sequences followed by a
// header into every parameter a v1 call reads: no answer carries the
// header (or any header value holding it), and no upstream request does.
func TestHeaderInjectionThroughParameters(t *testing.T) {
	w := newLoopWorld(t, loopOptions{})
	if err := w.signIn(t.Context(), "dev-crlf"); err != nil {
		t.Fatal(err)
	}
	const inj = "x\r\nX-Injected: 1\r\nSet-Cookie: s=1\r\n\r\n<injected/>"
	params := []string{"requestor", "requestor_id", "deviceId", "resource", "ast", "device_info", "generic_data",
		"deviceType", "deviceUser", "appId", "appVersion", "registrationURL", "mso_id", "mvpd", "domain_name",
		"redirect_url", "reg_code", "format", "ttl", "access_token", "SAMLResponse"}
	calls := []struct{ method, path string }{
		{http.MethodPost, "/reggie/v1/REF30/regcode"},
		{http.MethodGet, "/api/v1/authenticate"},
		{http.MethodGet, "/api/v1/checkauthn"},
		{http.MethodGet, "/api/v1/tokens/authn"},
		{http.MethodGet, "/api/v1/authorize"},
		{http.MethodGet, "/api/v1/tokens/media"},
		{http.MethodGet, "/api/v1/preauthorize"},
		{http.MethodPost, "/api/v1/authenticate/freepreview"},
		{http.MethodGet, "/api/v1/tokens/usermetadata"},
		{http.MethodDelete, "/api/v1/logout"},
	}
	base := url.Values{"requestor": {"REF30"}, "requestor_id": {"REF30"}, "deviceId": {"dev-crlf"}, "resource": {"news"},
		"mso_id": {"AcmeCable"}, "domain_name": {"localhost"}, "redirect_url": {w.URL + signedInPath}, "reg_code": {"X"},
		"deviceType": {"tv"}}
	for _, c := range calls {
		for _, p := range params {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			q.Set(p, inj)
			target, body := c.path+"?"+q.Encode(), ""
			if c.method == http.MethodPost {
				target, body = c.path, q.Encode()
			}
			r := w.must(c.method, target, nil, body)
			what := fmt.Sprintf("%s %s with %s", c.method, c.path, p)
			if r.Status >= 500 && r.Status != http.StatusInternalServerError {
				t.Errorf("%s: status %d", what, r.Status)
			}
			for name, vs := range r.Header {
				if strings.EqualFold(name, "X-Injected") || strings.EqualFold(name, "Set-Cookie") {
					t.Errorf("%s: injected header %s in the answer", what, name)
				}
				for _, v := range vs {
					if strings.ContainsAny(v, "\r\n") || strings.Contains(v, "X-Injected") {
						t.Errorf("%s: header %s = %q", what, name, v)
					}
				}
			}
			if strings.Contains(r.Header.Get("Content-Type"), "xml") {
				if doc := parseXML(t, r.Body); doc.has("injected") {
					t.Errorf("%s: element injected into the body: %s", what, r.Body)
				}
			}
		}
	}
	for _, u := range w.up.all() {
		for name, vs := range u.Header {
			if strings.EqualFold(name, "X-Injected") || strings.EqualFold(name, "Set-Cookie") {
				t.Errorf("upstream %s %s got injected header %s", u.Method, u.Path, name)
			}
			for _, v := range vs {
				if strings.Contains(v, "X-Injected") {
					t.Errorf("upstream %s %s: header %s = %q", u.Method, u.Path, name, v)
				}
			}
		}
	}
	// The gateway still serves devices normally (dev-crlf itself was
	// logged out by the logout calls above).
	if err := w.signIn(t.Context(), "dev-after-crlf"); err != nil {
		t.Errorf("a sign-in after the injection attempts: %v", err)
	}
}

// TestXMLInjection sends markup through the values v1 bodies echo
// (resource, deviceId and the other registration fields, requestor): every
// answer is well-formed, gains no element, and gives the value back
// exactly.
func TestXMLInjection(t *testing.T) {
	w := newLoopWorld(t, loopOptions{})
	const device = "dev-<x>&\"'</deviceId><injected/>"
	if err := w.signIn(t.Context(), device); err != nil {
		t.Fatal(err)
	}
	resources := []string{
		"news</resource><injected/><resource>",
		"<![CDATA[x]]></resource><injected/>",
		"&amp;&lt;injected/&gt;&#x3C;",
		`<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>news</title><item><title>a&amp;b</title></item></channel></rss>`,
		"\"quoted\" 'single' ]]> --> <!-- ",
	}
	for _, res := range resources {
		for _, path := range []string{"/api/v1/authorize", "/api/v1/tokens/authz", "/api/v1/tokens/media"} {
			r := w.must(http.MethodGet, path+"?"+deviceQuery(device, "resource", res), nil, "")
			if r.Status != http.StatusOK {
				t.Errorf("%s resource %q: %d %s", path, res, r.Status, r.Body)
				continue
			}
			doc := parseXML(t, r.Body)
			if doc.has("injected") {
				t.Errorf("%s: element injected: %s", path, r.Body)
			}
			if got := doc.texts["resource"]; len(got) != 1 || got[0] != res {
				t.Errorf("%s: resource texts %q, want [%q]", path, got, res)
			}
		}
		r := w.must(http.MethodGet, "/api/v1/authorize.json?"+deviceQuery(device, "resource", res), nil, "")
		var j struct{ Resource string }
		if err := json.Unmarshal(r.Body, &j); err != nil || j.Resource != res {
			t.Errorf("authorize JSON: resource %q (%v), want %q: %s", j.Resource, err, res, r.Body)
		}
	}

	// Preauthorize ids (not MRSS: commas split them).
	ids := []string{"a</id><injected/>", "b&c", "<d>"}
	r := w.must(http.MethodGet, "/api/v1/preauthorize?"+deviceQuery(device, "resource", strings.Join(ids, ",")), nil, "")
	if r.Status != http.StatusOK {
		t.Fatalf("preauthorize: %d %s", r.Status, r.Body)
	}
	doc := parseXML(t, r.Body)
	if doc.has("injected") || strings.Join(doc.texts["id"], ",") != strings.Join(ids, ",") {
		t.Errorf("preauthorize ids %q, want %q: %s", doc.texts["id"], ids, r.Body)
	}

	// Registration fields.
	fields := url.Values{"deviceId": {device}, "deviceType": {"<injected/>"}, "deviceUser": {"u&</deviceUser><injected/>"},
		"appId": {"]]>"}, "appVersion": {"\"'"}, "registrationURL": {"http://x/?a=1&b=<injected/>"}}
	r = w.must(http.MethodPost, "/reggie/v1/REF30/regcode", nil, fields.Encode())
	if r.Status != http.StatusCreated {
		t.Fatalf("regcode: %d %s", r.Status, r.Body)
	}
	doc = parseXML(t, r.Body)
	if doc.has("injected") {
		t.Errorf("regcode: element injected: %s", r.Body)
	}
	if got := doc.texts["deviceId"]; len(got) != 1 || got[0] != base64.StdEncoding.EncodeToString([]byte(device)) {
		t.Errorf("regcode deviceId %q, want the Base64 of %q", got, device)
	}
	for _, f := range []string{"deviceType", "deviceUser", "appId", "appVersion", "registrationURL"} {
		if got := doc.texts[f]; len(got) != 1 || got[0] != fields.Get(f) {
			t.Errorf("regcode %s = %q, want %q", f, got, fields.Get(f))
		}
	}

	// Requestor values the gateway does not know: refused, never echoed
	// into markup.
	for _, target := range []string{
		"/api/v1/config/" + url.PathEscape("REF30</requestor><injected/>"),
		"/api/v1/checkauthn?" + url.Values{"requestor": {"REF30</status><injected/>"}, "deviceId": {"d"}}.Encode(),
		"/api/v1/authorize?" + url.Values{"requestor": {"<injected/>"}, "deviceId": {"d"}, "resource": {"r"}}.Encode(),
	} {
		r := w.must(http.MethodGet, target, nil, "")
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("%s: status %d", target, r.Status)
		}
		if doc := parseXML(t, r.Body); doc.has("injected") {
			t.Errorf("%s: element injected: %s", target, r.Body)
		}
	}
}

// TestPathTricks sends dot segments, encoded slashes and very long values
// in the requestor and code segments: each is answered with a v1 4xx (or
// the router's redirect to the cleaned path), and no request the gateway
// sends upstream climbs out of its v2 path.
func TestPathTricks(t *testing.T) {
	w := newLoopWorld(t, loopOptions{})
	long := strings.Repeat("A", 8000)
	targets := []struct{ method, target string }{
		{http.MethodGet, "/reggie/v1/REF30/regcode/..%2F..%2Fapi%2Fv2%2FREF30%2Fprofiles"},
		{http.MethodGet, "/reggie/v1/REF30/regcode/%2e%2e"},
		{http.MethodGet, "/reggie/v1/REF30/regcode/.."},
		{http.MethodDelete, "/reggie/v1/REF30/regcode/..%2f..%2fx"},
		{http.MethodPost, "/reggie/v1/..%2FREF30/regcode"},
		{http.MethodPost, "/reggie/v1/%2e%2e/regcode"},
		{http.MethodPost, "/reggie/v1/REF30%2F..%2F..%2Fo%2Fclient/regcode"},
		{http.MethodGet, "/api/v1/checkauthn/..%2F..%2Fprofiles?requestor=REF30"},
		{http.MethodGet, "/api/v1/checkauthn/%2e%2e?requestor=REF30"},
		{http.MethodGet, "/api/v1/checkauthn/.%2e?requestor=REF30"},
		{http.MethodGet, "/api/v1/authenticate/..%5C..%5Cconfiguration?requestor=REF30"},
		{http.MethodGet, "/api/v1/preauthorize/..%2Fsessions?requestor=REF30&resource=a"},
		{http.MethodGet, "/api/v1/config/..%2FREF30"},
		{http.MethodGet, "/api/v1/config/%2e%2e"},
		{http.MethodGet, "/api/v1/config/REF30%00"},
		{http.MethodGet, "/api/v1/REF30/profile-requests/..%2F..%2Fsessions?deviceType=tv"},
		{http.MethodGet, "/api/v1/REF30/profile-requests/%2e%2e?deviceType=tv"},
		{http.MethodGet, "/api/v1/checkauthn/" + long + "?requestor=REF30"},
		{http.MethodGet, "/reggie/v1/" + long + "/regcode/" + long},
		{http.MethodGet, "/api/v1/config/" + long},
	}
	for _, tt := range targets {
		body := ""
		if tt.method == http.MethodPost {
			body = "deviceId=d"
		}
		r := w.must(tt.method, tt.target, nil, body)
		what := tt.method + " " + tt.target
		if len(what) > 120 {
			what = what[:120] + "..."
		}
		switch {
		case r.Status == http.StatusMovedPermanently || r.Status == http.StatusTemporaryRedirect:
			// net/http's cleaning of dot segments: the Location stays on
			// the gateway.
			if loc := r.Header.Get("Location"); strings.Contains(loc, "://") || strings.HasPrefix(loc, "//") {
				t.Errorf("%s: redirect off the gateway to %q", what, loc)
			}
		case r.Status >= 400 && r.Status < 500:
			if strings.Contains(r.Header.Get("Content-Type"), "xml") {
				parseXML(t, r.Body)
			}
		default:
			t.Errorf("%s: status %d, want a 4xx: %.200s", what, r.Status, r.Body)
		}
	}
	for _, u := range w.up.all() {
		if !strings.HasPrefix(u.Path, "/api/v2/") && !strings.HasPrefix(u.Path, "/o/client/") {
			t.Errorf("upstream request outside the v2 API: %s %s", u.Method, u.Path)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if dec, err := url.PathUnescape(seg); err != nil || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\") {
				t.Errorf("upstream request with a hostile segment %q: %s %s", seg, u.Method, u.Path)
			}
		}
	}
}

// TestForwardedForSpoofing checks that the device address sent to Adobe
// (X-Forwarded-For, which keys Adobe's throttling and geolocation) and the
// gateway's own throttle cannot be chosen by the device.
func TestForwardedForSpoofing(t *testing.T) {
	lastForwarded := func(w *loopWorld) []string {
		var out []string
		for _, u := range w.up.all() {
			if strings.HasPrefix(u.Path, "/api/v2/") {
				out = append(out, u.Header.Values("X-Forwarded-For")...)
			}
		}
		return out
	}
	t.Run("untrusted peer cannot name an address", func(t *testing.T) {
		w := newLoopWorld(t, loopOptions{config: func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8"} }})
		for _, xff := range []string{"203.0.113.9", "203.0.113.9, 10.1.1.1", "127.0.0.2", "::1"} {
			r := w.must(http.MethodGet, "/api/v1/checkauthn?"+deviceQuery("dev-xff"), http.Header{"X-Forwarded-For": {xff}}, "")
			if r.Status != http.StatusForbidden {
				t.Fatalf("checkauthn: %d %s", r.Status, r.Body)
			}
		}
		got := lastForwarded(w)
		if len(got) == 0 {
			t.Fatal("no v2 call carried X-Forwarded-For")
		}
		for _, v := range got {
			if v != "127.0.0.1" {
				t.Errorf("X-Forwarded-For %q sent upstream, want the peer 127.0.0.1", v)
			}
		}
	})
	t.Run("trusted proxy: rightmost untrusted hop", func(t *testing.T) {
		w := newLoopWorld(t, loopOptions{})
		w.must(http.MethodGet, "/api/v1/checkauthn?"+deviceQuery("dev-xff"),
			http.Header{"X-Forwarded-For": {"198.51.100.66, 203.0.113.9"}}, "")
		got := lastForwarded(w)
		if len(got) == 0 {
			t.Fatal("no v2 call carried X-Forwarded-For")
		}
		for _, v := range got {
			if v != "203.0.113.9" {
				t.Errorf("X-Forwarded-For %q sent upstream, want 203.0.113.9 (the address the proxy saw)", v)
			}
		}
	})
	t.Run("throttle not evaded by rotating the header", func(t *testing.T) {
		w := newLoopWorld(t, loopOptions{config: func(c *Config) {
			c.TrustedProxies = []string{"10.0.0.0/8"}
			c.Throttle = ThrottleConfig{Interval: time.Hour, Burst: 2}
		}})
		var statuses []int
		for i := range 5 {
			r := w.must(http.MethodGet, "/api/v1/checkauthn?"+deviceQuery("dev-xff"),
				http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i+1)}}, "")
			statuses = append(statuses, r.Status)
		}
		// Whatever the exact burst, the device is throttled by its own
		// address: the last calls are refused however the header varies.
		for i, s := range statuses[3:] {
			if s != http.StatusTooManyRequests {
				t.Errorf("call %d with a fresh X-Forwarded-For: %d, want 429 (statuses %v)", i+4, s, statuses)
			}
		}
	})
}

// TestRequestSizeLimits checks that oversized requests are refused at
// once, with 431 or a v1 400, and that the server's limits are set.
func TestRequestSizeLimits(t *testing.T) {
	w := newLoopWorld(t, loopOptions{})
	tests := []struct {
		name   string
		method string
		target string
		header http.Header
		body   string
		want   int
	}{
		{"huge query", http.MethodGet, "/api/v1/checkauthn?" + deviceQuery("d", "pad", strings.Repeat("q", 200<<10)), nil, "", http.StatusRequestHeaderFieldsTooLarge},
		{"query above the v1 limit", http.MethodGet, "/api/v1/checkauthn?" + deviceQuery("d", "pad", strings.Repeat("q", 20<<10)), nil, "", http.StatusBadRequest},
		{"huge header", http.MethodGet, "/api/v1/checkauthn?" + deviceQuery("d"), http.Header{"X-Pad": {strings.Repeat("h", 100<<10)}}, "", http.StatusRequestHeaderFieldsTooLarge},
		{"many headers", http.MethodGet, "/api/v1/checkauthn?" + deviceQuery("d"), manyHeaders(4000), "", http.StatusRequestHeaderFieldsTooLarge},
		{"huge X-Device-Info", http.MethodGet, "/api/v1/checkauthn?" + deviceQuery("d"), http.Header{"X-Device-Info": {strings.Repeat("e30", 30<<10)}}, "", http.StatusRequestHeaderFieldsTooLarge},
		{"huge form", http.MethodPost, "/reggie/v1/REF30/regcode", nil, "deviceId=d&pad=" + strings.Repeat("f", 2<<20), http.StatusBadRequest},
		{"huge DCR body", http.MethodPost, "/o/client/register", nil, "software_statement=" + strings.Repeat("s", 2<<20), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.up.count()
			r, err := w.send(t.Context(), tt.method, tt.target, tt.header, tt.body)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if r.Status != tt.want {
				t.Errorf("status %d, want %d: %.200s", r.Status, tt.want, r.Body)
			}
			if n := w.up.count() - before; n != 0 {
				t.Errorf("%d upstream calls for a refused request", n)
			}
		})
	}

	t.Run("server limits are set", func(t *testing.T) {
		s := w.server
		if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 64<<10 {
			t.Errorf("MaxHeaderBytes %d", s.MaxHeaderBytes)
		}
		if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.IdleTimeout <= 0 {
			t.Errorf("timeouts: read header %s, read %s, idle %s", s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout)
		}
	})

	// A client trickling its headers is cut off after ReadHeaderTimeout
	// (shortened here; the mechanism is net/http's).
	t.Run("slow headers", func(t *testing.T) {
		h, err := newGatewayHandler(w.cfg, w.sandboxURL, w.logger, hooks{})
		if err != nil {
			t.Fatal(err)
		}
		srv := newGatewayServer(h, w.logger)
		srv.ReadHeaderTimeout = 200 * time.Millisecond
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		defer srv.Close()
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		conn.SetReadDeadline(time.Now().Add(hangBound))
		_, err = io.ReadAll(bufio.NewReader(conn))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server kept a connection with unfinished headers open for %s", hangBound)
		}
	})
}

func manyHeaders(n int) http.Header {
	h := http.Header{}
	for i := range n {
		h.Set(fmt.Sprintf("X-H%d", i), "vvvvvvvvvvvvvvvvvvvv")
	}
	return h
}

// TestErrorBodiesCarryNoSecrets drives the gateway through failures that
// involve credentials (the gateway's v2 token refused and expired, DCR
// refusing it, devices presenting bad credentials, upstream errors) and
// checks that no v1 answer body or header holds a secret: the gateway's v2
// client secret or access tokens, its software statement, a device's DCR
// client secret or token.
func TestErrorBodiesCarryNoSecrets(t *testing.T) {
	w := newLoopWorld(t, loopOptions{config: func(c *Config) {
		c.Requestors = []RequestorConfig{
			{
				Requestor: translate.Requestor{
					ID:             "REF30",
					DomainName:     "localhost",
					RedirectURL:    c.PublicURL + signedInPath,
					AllowedDomains: []string{"localhost"},
				},
				SoftwareStatement: sandboxStatement,
				CallerAuth:        "optional",
				DeviceStatements:  []string{"device-statement-3c1f"},
			},
		}
	}})
	ctx := t.Context()
	var answers []*reply
	call := func(method, target string, h http.Header, body string) *reply {
		r := w.must(method, target, h, body)
		answers = append(answers, r)
		return r
	}

	// A device registers with the gateway's DCR and gets a token.
	reg := call(http.MethodPost, "/o/client/register", http.Header{"Content-Type": {"application/json"}}, `{"software_statement":"device-statement-3c1f"}`)
	var creds struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(reg.Body, &creds); err != nil || creds.ClientSecret == "" {
		t.Fatalf("device registration: %d %s", reg.Status, reg.Body)
	}
	tok := call(http.MethodPost, "/o/client/token", nil, url.Values{"grant_type": {"client_credentials"},
		"client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}}.Encode())
	var at struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(tok.Body, &at); err != nil || at.AccessToken == "" {
		t.Fatalf("device token: %d %s", tok.Status, tok.Body)
	}
	// Device credential failures.
	call(http.MethodPost, "/o/client/token", nil, url.Values{"grant_type": {"client_credentials"},
		"client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret + "x"}}.Encode())
	call(http.MethodGet, "/api/v1/checkauthn?"+deviceQuery("dev-s"), http.Header{"Authorization": {"Bearer " + at.AccessToken + "x"}}, "")
	call(http.MethodGet, "/api/v1/checkauthn?"+deviceQuery("dev-s", "access_token", at.AccessToken[:len(at.AccessToken)-2]), nil, "")
	call(http.MethodGet, "/api/v1/checkauthn?"+deviceQuery("dev-s"), http.Header{"Authorization": {"Bearer " + at.AccessToken}}, "")

	// The gateway's own credentials refused and expired upstream, upstream
	// errors.
	faults := []sandbox.Fault{
		{Kind: sandbox.FaultExpireTokens, Count: 1},
		{Kind: sandbox.FaultStatus, Status: 401, Path: "/api/v2/**", Count: 3},
		{Kind: sandbox.FaultStatus, Status: 401, Path: "/o/client/token", Code: "invalid_client", Count: 2},
		{Kind: sandbox.FaultStatus, Status: 500, Path: "/api/v2/**", Count: 1},
		{Kind: sandbox.FaultStatus, Status: 400, Path: "/api/v2/**", Code: "invalid_parameter_service_provider", Count: 1},
	}
	for i, f := range faults {
		if _, err := w.sandbox.AddFault(f); err != nil {
			t.Fatal(err)
		}
		call(http.MethodGet, "/api/v1/checkauthn?"+deviceQuery(fmt.Sprintf("dev-f%d", i)), nil, "")
		call(http.MethodGet, "/api/v1/authorize.json?"+deviceQuery(fmt.Sprintf("dev-f%d", i), "resource", "news"), nil, "")
		w.sandbox.ClearFaults()
	}
	if err := w.signIn(ctx, "dev-s2"); err != nil {
		t.Fatal(err)
	}
	call(http.MethodGet, "/api/v1/tokens/media?"+deviceQuery("dev-s2", "resource", "news"), nil, "")

	// Every secret of the exchange.
	secrets := map[string]string{
		"device client secret":       creds.ClientSecret,
		"gateway software statement": sandboxStatement,
	}
	for _, u := range w.up.all() {
		if v := u.Header.Get("Authorization"); strings.HasPrefix(v, "Bearer ") {
			secrets["gateway v2 access token "+v[len(v)-6:]] = strings.TrimPrefix(v, "Bearer ")
		}
		if u.Body != "" {
			if form, err := url.ParseQuery(u.Body); err == nil && form.Get("client_secret") != "" {
				secrets["gateway v2 client secret"] = form.Get("client_secret")
			}
		}
	}
	if _, ok := secrets["gateway v2 client secret"]; !ok {
		t.Fatal("the gateway's v2 client secret was not seen upstream: the test no longer observes it")
	}
	for i, r := range answers {
		for name, s := range secrets {
			if len(s) < 8 {
				continue
			}
			// The device's own credentials legitimately appear in the
			// answers that issue them.
			if i < 2 && name == "device client secret" {
				continue
			}
			if bytes.Contains(r.Body, []byte(s)) {
				t.Errorf("answer %d (%d) holds the %s: %.300s", i, r.Status, name, r.Body)
			}
			for h, vs := range r.Header {
				for _, v := range vs {
					if strings.Contains(v, s) {
						t.Errorf("answer %d header %s holds the %s", i, h, name)
					}
				}
			}
		}
	}
	if n := len(secrets); n < 4 {
		t.Errorf("only %d secrets observed; want the gateway's tokens too", n)
	}
}
