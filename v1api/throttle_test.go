package v1api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v1model"
)

// fakeClock is a settable clock for throttle tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) set(d time.Duration)     { c.t = time.Unix(1_700_000_000, 0).Add(d) }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.set(0)
	return c
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// TestThrottleAdobeExample replays the scenario of Adobe's throttling page
// against the handler: the same calls succeed and fail, a refused call
// never reaches the backend, and the refusal is the documented HTML page.
func TestThrottleAdobeExample(t *testing.T) {
	timeline := []struct {
		at   float64
		want int
	}{
		{0, 200}, {0.3, 200}, {0.6, 200}, {0.9, 200}, {1.2, 200}, {1.3, 200}, {1.4, 200}, {1.5, 200},
		{1.6, 200}, {1.7, 200}, {1.8, 200}, {2.1, 200}, {2.2, 200},
		{2.4, 429}, {2.6, 429}, {2.8, 429},
		{3.1, 200},
	}
	clock := newFakeClock()
	b := &countingBackend{Backend: newRecordingBackend()}
	h := newTestHandler(t, b, func(c *Config) { c.Throttle = &Throttle{Now: clock.now} })
	wantPage := strings.ReplaceAll(string(testenv.Sample(t, "v1", "throttle-429.html")), "\n", "\r\n")
	calls := 0
	for _, step := range timeline {
		clock.set(secs(step.at))
		w := serve(h, testRequest{target: "/api/v1/checkauthn?requestor=R&deviceId=d&format=json", remote: "203.0.113.7:4000"})
		if w.Code != step.want {
			t.Fatalf("t=%.1fs: status %d, want %d", step.at, w.Code, step.want)
		}
		if step.want == 200 {
			calls++
			continue
		}
		if got := w.Body.String(); got != wantPage {
			t.Errorf("t=%.1fs: body %q, want the sample page %q", step.at, got, wantPage)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("t=%.1fs: Content-Type %q", step.at, ct)
		}
		if w.Header().Get("Retry-After") != "" {
			t.Errorf("t=%.1fs: Retry-After sent; the page has none", step.at)
		}
	}
	if b.checkAuthn != calls {
		t.Errorf("backend saw %d calls, want %d (429s must not reach it)", b.checkAuthn, calls)
	}
}

// countingBackend counts CheckAuthn calls.
type countingBackend struct {
	Backend
	checkAuthn int
}

func (b *countingBackend) CheckAuthn(ctx context.Context, r *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error) {
	b.checkAuthn++
	return b.Backend.CheckAuthn(ctx, r)
}

// exhaust spends a device's first interval and whole burst at the current
// time through h, failing if any of those calls is refused.
func exhaust(t *testing.T, h http.Handler, tr testRequest) {
	t.Helper()
	for i := 0; i < 1+DefaultThrottleBurst; i++ {
		if w := serve(h, tr); w.Code == http.StatusTooManyRequests {
			t.Fatalf("call %d refused while exhausting", i)
		}
	}
	if w := serve(h, tr); w.Code != http.StatusTooManyRequests {
		t.Fatalf("call after the burst: status %d, want 429", w.Code)
	}
}

// TestThrottleDeviceAddress proves the bucket follows the trusted-proxy
// rule: an untrusted peer cannot get a fresh bucket by naming another
// address, while a trusted proxy's X-Forwarded-For separates devices.
func TestThrottleDeviceAddress(t *testing.T) {
	const target = "/api/v1/tokens/authn?requestor=R&deviceId=d"
	tests := []struct {
		name      string
		remote    string
		first     string // X-Forwarded-For while exhausting
		then      string // X-Forwarded-For of the next call
		wantAfter int
	}{
		{name: "untrusted peer spoofing another address", remote: "203.0.113.7:4000",
			first: "198.51.100.1", then: "198.51.100.2", wantAfter: 429},
		{name: "untrusted peer adding a header", remote: "203.0.113.7:4000",
			first: "", then: "198.51.100.2", wantAfter: 429},
		{name: "trusted proxy, another device", remote: "127.0.0.1:4000",
			first: "198.51.100.1", then: "198.51.100.2", wantAfter: 200},
		{name: "trusted proxy, same device", remote: "127.0.0.1:4000",
			first: "198.51.100.1", then: "10.0.0.1, 198.51.100.1", wantAfter: 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			h := newTestHandler(t, newRecordingBackend(), func(c *Config) { c.Throttle = &Throttle{Now: clock.now} })
			tr := testRequest{target: target, remote: tt.remote, header: map[string]string{}}
			if tt.first != "" {
				tr.header["X-Forwarded-For"] = tt.first
			}
			exhaust(t, h, tr)
			tr.header = map[string]string{"X-Forwarded-For": tt.then}
			if w := serve(h, tr); w.Code != tt.wantAfter {
				t.Errorf("status %d, want %d", w.Code, tt.wantAfter)
			}
		})
	}
}

// TestThrottlePerRequestor proves a requestor can be exempted or given its
// own limit, with buckets of its own.
func TestThrottlePerRequestor(t *testing.T) {
	limit := func(requestor string) (ThrottleLimit, bool) {
		switch requestor {
		case "free":
			return ThrottleLimit{}, false
		case "strict":
			return ThrottleLimit{Interval: time.Second, Burst: 0}, true
		}
		return DefaultThrottleLimit(), true
	}
	clock := newFakeClock()
	h := newTestHandler(t, newRecordingBackend(), func(c *Config) { c.Throttle = &Throttle{Now: clock.now, Limit: limit} })
	call := func(requestor string) int {
		return serve(h, testRequest{target: "/api/v1/checkauthn?deviceId=d&requestor=" + requestor, remote: "203.0.113.7:1"}).Code
	}
	exhaust(t, h, testRequest{target: "/api/v1/checkauthn?requestor=R&deviceId=d", remote: "203.0.113.7:1"})
	for i := 0; i < 30; i++ {
		if got := call("free"); got != 200 {
			t.Fatalf("exempt requestor, call %d: status %d", i, got)
		}
	}
	if got := call("strict"); got != 200 {
		t.Fatalf("strict requestor, first call: status %d (its bucket is not the default one)", got)
	}
	if got := call("strict"); got != 429 {
		t.Fatalf("strict requestor without burst, second call in the same second: status %d", got)
	}
	clock.advance(time.Second)
	if got := call("strict"); got != 200 {
		t.Fatalf("strict requestor, next second: status %d", got)
	}
	// The requestor may come from the path or from the signed header too.
	if got := serve(h, testRequest{target: "/api/v1/config/free", remote: "203.0.113.7:1"}).Code; got != 200 {
		t.Errorf("exempt requestor in the path: status %d", got)
	}
	hdr := map[string]string{"Authorization": "GET requestor_id=free, nonce=n, signature_method=HMAC-SHA1, request_time=1, request_uri=/x, public_key=k, signature=s"}
	if got := serve(h, testRequest{target: "/api/v1/checkauthn?deviceId=d", remote: "203.0.113.7:1", header: hdr}).Code; got == 429 {
		t.Errorf("exempt requestor in the signed header: throttled")
	}
}

// TestThrottleCoveredPaths: only Adobe's listed paths count; the browser
// call and unlisted paths pass however often they are called.
func TestThrottleCoveredPaths(t *testing.T) {
	covered := []string{
		"/o/client/register", "/o/client/token", "/api/v2/REF30/sessions",
		"/api/v1/tokens/usermetadata", "/api/v1/tokens/authn.json", "/api/v1/tokens/authz", "/api/v1/tokens/media",
		"/api/v1/config/REF30", "/api/v1/checkauthn", "/api/v1/checkauthn/ABC", "/api/v1/logout", "/api/v1/authorize",
		"/api/v1/preauthorize", "/api/v1/preauthorize/ABC", "/api/v1/mediatoken", "/api/v1/authenticate/freepreview",
		"/api/v1/authenticate/ABC", "/api/v1/REF30/profile-requests/AcmeCable", "/api/v1/identities",
		"/adobe-services/config/REF30", "/reggie/v1/REF30/regcode", "/reggie/v1/REF30/regcode/ABC",
		"/reggie/v1/regcode/ABC",
	}
	notCovered := []string{
		"/api/v1/authenticate", "/", "/healthz", "/api/v1/profile-requests/x", "/api/v1/REF30/profile-requests/",
		"/reggie/v1/regcode", "/o/client/", "/api/v1/config",
	}
	for _, p := range covered {
		if !ThrottledPath(p) {
			t.Errorf("%s not covered", p)
		}
	}
	for _, p := range notCovered {
		if ThrottledPath(p) {
			t.Errorf("%s covered", p)
		}
	}

	clock := newFakeClock()
	h := newTestHandler(t, newRecordingBackend(), func(c *Config) { c.Throttle = &Throttle{Now: clock.now} })
	browser := testRequest{target: "/api/v1/authenticate?requestor_id=R&mso_id=m&reg_code=c&domain_name=d&redirect_url=u", remote: "203.0.113.7:1"}
	for i := 0; i < 3*DefaultThrottleBurst; i++ {
		if w := serve(h, browser); w.Code != http.StatusFound {
			t.Fatalf("browser call %d: status %d", i, w.Code)
		}
	}
	// Unknown covered paths count too: the edge throttled before routing.
	exhaust(t, h, testRequest{target: "/api/v1/identities", remote: "203.0.113.7:1"})
}

// TestThrottleEviction proves memory stays bounded: idle buckets and the
// least recently used beyond MaxDevices are forgotten, and a forgotten
// device starts again with a fresh burst.
func TestThrottleEviction(t *testing.T) {
	clock := newFakeClock()
	th := &Throttle{Now: clock.now, MaxDevices: 3}
	dev := netip.MustParseAddr("203.0.113.7")
	for i := 0; i < 1+DefaultThrottleBurst; i++ {
		th.Allow(context.Background(), dev, "")
	}
	if th.Allow(context.Background(), dev, "") {
		t.Fatal("burst not spent")
	}
	clock.advance(DefaultThrottleIdle - time.Millisecond)
	th.Allow(context.Background(), netip.MustParseAddr("203.0.113.8"), "")
	if th.Len() != 2 {
		t.Fatalf("%d buckets before the idle timeout, want 2", th.Len())
	}
	clock.advance(time.Millisecond)
	th.Allow(context.Background(), netip.MustParseAddr("203.0.113.9"), "")
	if th.Len() != 2 {
		t.Fatalf("%d buckets after the first device's idle timeout, want 2", th.Len())
	}
	for i := 0; i < 1+DefaultThrottleBurst; i++ {
		if !th.Allow(context.Background(), dev, "") {
			t.Fatalf("returning device, call %d refused: no fresh burst", i)
		}
	}
	for i := 10; i < 20; i++ {
		th.Allow(context.Background(), netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), "")
	}
	if th.Len() != 3 {
		t.Fatalf("%d buckets, want MaxDevices=3", th.Len())
	}
}

// TestThrottleWrap proves the middleware for handlers outside v1api (the
// DCR issuer) throttles covered paths only, keyed by the trusted-proxy rule.
func TestThrottleWrap(t *testing.T) {
	clock := newFakeClock()
	th := &Throttle{Now: clock.now}
	hits := 0
	h := th.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	do := func(path, remote, xff string) int {
		r := httptest.NewRequest(http.MethodPost, path, nil)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for i := 0; i < 1+DefaultThrottleBurst; i++ {
		if got := do("/o/client/token", "203.0.113.7:1", ""); got != 200 {
			t.Fatalf("call %d: status %d", i, got)
		}
	}
	if got := do("/o/client/register", "203.0.113.7:1", "198.51.100.1"); got != 429 {
		t.Errorf("spoofed X-Forwarded-For from an untrusted peer: status %d, want 429", got)
	}
	if got := do("/o/client/token", "127.0.0.1:1", "198.51.100.1"); got != 200 {
		t.Errorf("another device behind a trusted proxy: status %d, want 200", got)
	}
	if got := do("/healthz", "203.0.113.7:1", ""); got != 200 {
		t.Errorf("uncovered path: status %d", got)
	}
	if want := 1 + DefaultThrottleBurst + 2; hits != want {
		t.Errorf("next served %d calls, want %d", hits, want)
	}
}

func BenchmarkThrottleAllow(b *testing.B) {
	clock := newFakeClock()
	th := &Throttle{Now: clock.now}
	addrs := make([]netip.Addr, 1024)
	for i := range addrs {
		addrs[i] = netip.MustParseAddr(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clock.t = clock.t.Add(time.Microsecond)
		th.Allow(context.Background(), addrs[i%len(addrs)], "R")
	}
}
