package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client/sandbox"
)

var fleetDevices = flag.Int("fleet-devices", 100, "devices of TestFleet, half JSON and half XML (each with its login web app)")

// fleetSpacing is how far apart one address's calls start: Adobe allows
// each address one call a second after a one-time burst of ten, and a v1
// call may take a few v2 calls.
const (
	deviceSpacing  = 1100 * time.Millisecond
	browserSpacing = 800 * time.Millisecond
)

// TestFleet is a fleet of devices and their login web apps, each on its
// own address behind a trusted local load balancer, running their whole
// flows at once through two gateway instances sharing one redis-server, in
// front of a sandbox that throttles per X-Forwarded-For address as Adobe
// does. Every call must get its right answer, none a 429, and every call
// the gateways make upstream must carry the address of the v1 caller it
// serves (each v1 call carries a trace of its own, which the gateway passes
// upstream, so the sandbox's record tells which call each v2 call served).
func TestFleet(t *testing.T) {
	redis := redistest.Start(t)
	sbLogs := &syncBuffer{}
	sb, err := sandbox.NewServer(sandbox.Config{Logger: slog.New(slog.NewTextHandler(sbLogs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway logs:\n%s\nsandbox logs:\n%s", logs, sbLogs)
		}
	})
	var gateways [2]string
	for i := range gateways {
		srv := httptest.NewUnstartedServer(nil)
		base := "http://" + srv.Listener.Addr().String()
		cfg := &Config{Addr: srv.Listener.Addr().String(), PublicURL: base, Store: redis.URL(), DCRKeys: []string{procDCRKey}}
		if err := cfg.provision(func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
		st, err := redisstore.Open(cfg.Store, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, err := newGatewayHandler(cfg, sb.URL, logger.With("instance", i), hooks{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		srv.Config.Handler = h
		srv.Start()
		t.Cleanup(func() { srv.Close(); st.Close() })
		gateways[i] = base
	}

	f := &deviceFleet{t: t, gateways: gateways, sandbox: sb, callers: map[string]string{}}
	f.client = &http.Client{
		Timeout:       20 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4 * *fleetDevices},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range *fleetDevices {
		d := &fleetDevice{
			f:       f,
			id:      fmt.Sprintf("fleet-tv-%03d", i),
			json:    i%2 == 0,
			addr:    fmt.Sprintf("10.1.%d.%d", i/200, i%200+1),
			browser: fmt.Sprintf("10.2.%d.%d", i/200, i%200+1),
			first:   i % 2,
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread over two seconds, as devices are not switched on at
			// one instant.
			time.Sleep(time.Duration(i) * 2 * time.Second / time.Duration(*fleetDevices))
			if err := d.run(); err != nil {
				f.failed.Add(1)
				t.Errorf("%s (%s): %v", d.id, d.format(), err)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)

	upstream := sb.Requests()
	var v2429, wrongAddr, untraced int
	for _, r := range upstream {
		if r.Status == http.StatusTooManyRequests {
			v2429++
		}
		if strings.HasPrefix(r.Path, "/o/client/") {
			continue // the gateways' own registration with Adobe
		}
		caller, ok := f.caller(r.Header.Get("Traceparent"))
		switch {
		case !ok:
			untraced++
			if untraced <= 5 {
				t.Errorf("upstream %s %s serves no v1 call of the fleet (traceparent %q, X-Forwarded-For %q)", r.Method, r.Path, r.Header.Get("Traceparent"), r.Header.Get("X-Forwarded-For"))
			}
		case r.Header.Get("X-Forwarded-For") != caller:
			wrongAddr++
			if wrongAddr <= 5 {
				t.Errorf("upstream %s %s went with X-Forwarded-For %q, want its caller's %s", r.Method, r.Path, r.Header.Get("X-Forwarded-For"), caller)
			}
		}
	}
	t.Logf("fleet of %d devices (%d JSON, %d XML) and their login apps through 2 instances: %v, %d v1 calls (%d answered 429), %d v2 calls (%d answered 429, %d with another address than their caller's, %d untraced), %d flows failed",
		*fleetDevices, (*fleetDevices+1)/2, *fleetDevices/2, took.Round(100*time.Millisecond), f.calls.Load(), f.throttled.Load(),
		len(upstream), v2429, wrongAddr, untraced, f.failed.Load())
	if f.throttled.Load() != 0 || v2429 != 0 || wrongAddr != 0 || untraced != 0 {
		t.Errorf("want no 429 and every upstream call with its caller's address")
	}
}

// deviceFleet is what the devices of TestFleet share.
type deviceFleet struct {
	t        *testing.T
	gateways [2]string
	sandbox  *sandbox.Server
	client   *http.Client

	mu sync.Mutex
	// callers maps the trace id of each v1 call (and of each request of a
	// browser sign-in) to the address it was made from.
	callers map[string]string

	calls, throttled, failed atomic.Int64
}

// trace returns a new traceparent for a call made from addr.
func (f *deviceFleet) trace(addr string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:16])
	f.mu.Lock()
	f.callers[id] = addr
	f.mu.Unlock()
	return "00-" + id + "-" + hex.EncodeToString(b[16:]) + "-01"
}

func (f *deviceFleet) caller(traceparent string) (string, bool) {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	addr, ok := f.callers[parts[1]]
	return addr, ok
}

// addressed is a browser's transport: every request it makes (to a
// gateway or to the MVPD pages) comes from its address and carries a trace.
type addressed struct {
	f    *deviceFleet
	addr string
	base http.RoundTripper
}

func (a addressed) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", a.addr)
	r.Header.Set("Traceparent", a.f.trace(a.addr))
	return a.base.RoundTrip(r)
}

// fleetDevice is one device and its login web app.
type fleetDevice struct {
	f             *deviceFleet
	id            string
	json          bool
	addr, browser string
	// first is the gateway instance the device starts on; it alternates
	// at every call, and the login app uses the other one.
	first int
	n     int
	// last is when the previous call from each address started.
	last map[string]time.Time
}

func (d *fleetDevice) format() string {
	if d.json {
		return "JSON"
	}
	return "XML"
}

// gateway returns the instance of the next device call.
func (d *fleetDevice) gateway() string {
	d.n++
	return d.f.gateways[(d.first+d.n)%2]
}

// pace waits until the address may call again.
func (d *fleetDevice) pace(addr string, spacing time.Duration) {
	if d.last == nil {
		d.last = map[string]time.Time{}
	}
	if last, ok := d.last[addr]; ok {
		time.Sleep(time.Until(last.Add(spacing)))
	}
	d.last[addr] = time.Now()
}

// call makes a v1 call from addr and checks its status and Content-Type.
func (d *fleetDevice) call(addr, base, method, path string, q url.Values, status int) (string, error) {
	spacing := deviceSpacing
	if addr == d.browser {
		spacing = browserSpacing
	}
	d.pace(addr, spacing)
	target := base + path
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(q.Encode())
	} else if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return "", err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	wantJSON := d.json || addr == d.browser // login apps read JSON
	if wantJSON {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("X-Forwarded-For", addr)
	req.Header.Set("Traceparent", d.f.trace(addr))
	resp, err := d.f.client.Do(req)
	d.f.calls.Add(1)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		d.f.throttled.Add(1)
	}
	if resp.StatusCode != status {
		return "", fmt.Errorf("%s %s from %s: %d %s, want %d", method, path, addr, resp.StatusCode, b, status)
	}
	if len(b) > 0 {
		want := "application/xml"
		if wantJSON {
			want = "application/json"
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			return "", fmt.Errorf("%s %s: Content-Type %q, want %s", method, path, ct, want)
		}
	}
	return string(b), nil
}

// field returns the value of a string field in a JSON or XML v1 body.
func field(body, name string) string {
	re := regexp.MustCompile(`"` + name + `":"([^"]*)"|<` + name + `>([^<]*)</` + name + `>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1] + m[2]
}

// run is the device's whole life: registration, the login on its second
// screen, every call a signed-in device makes, logout.
func (d *fleetDevice) run() error {
	dev := func() url.Values { return url.Values{"requestor": {"REF30"}, "deviceId": {d.id}} }
	with := func(v url.Values, kv ...string) url.Values {
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	type step struct {
		name         string
		addr         string
		method, path string
		q            url.Values
		status       int
		check        func(body string) error
	}
	wantField := func(name, want string) func(string) error {
		return func(body string) error {
			if got := field(body, name); got != want {
				return fmt.Errorf("%s %q, want %q in %s", name, got, want, body)
			}
			return nil
		}
	}
	alice := wantField("userId", "acme-alice-0001")
	run := func(steps []step) error {
		for _, s := range steps {
			base := d.gateway()
			body, err := d.call(s.addr, base, s.method, s.path, s.q, s.status)
			if err == nil && s.check != nil {
				err = s.check(body)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		return nil
	}

	body, err := d.call(d.addr, d.gateway(), http.MethodPost, "/reggie/v1/REF30/regcode", url.Values{"deviceId": {d.id}}, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("regcode: %w", err)
	}
	code := field(body, "code")
	if code == "" {
		return fmt.Errorf("regcode: no code in %s", body)
	}
	mvpds := func(body string) error {
		if !strings.Contains(body, "AcmeCable") {
			return fmt.Errorf("no AcmeCable in %s", body)
		}
		return nil
	}
	byCode := url.Values{"requestor": {"REF30"}}
	if err := run([]step{
		{"config", d.addr, "GET", "/api/v1/config/REF30", nil, 200, mvpds},
		{"checkauthn before the login", d.addr, "GET", "/api/v1/checkauthn", dev(), 403, nil},
		{"tokens/authn before the login", d.addr, "GET", "/api/v1/tokens/authn", dev(), 404, nil},
		{"login app: config", d.browser, "GET", "/api/v1/config/REF30", nil, 200, mvpds},
		{"login app: regcode record", d.browser, "GET", "/reggie/v1/REF30/regcode/" + code, nil, 200, wantField("code", code)},
		{"login app: checkauthn/{code} before the login", d.browser, "GET", "/api/v1/checkauthn/" + code, byCode, 403, nil},
	}); err != nil {
		return err
	}

	// The user signs in on the login app's browser.
	d.pace(d.browser, browserSpacing)
	browser := &http.Client{Timeout: 20 * time.Second, Transport: addressed{f: d.f, addr: d.browser, base: d.f.client.Transport}}
	base := d.gateway()
	q := url.Values{"reg_code": {code}, "requestor_id": {"REF30"}, "mso_id": {"AcmeCable"},
		"domain_name": {"localhost"}, "redirect_url": {base + signedInPath}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	landed, err := sandbox.SignIn(ctx, browser, base+"/api/v1/authenticate?"+q.Encode(), "alice", "alice-pass")
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	if landed != base+signedInPath {
		return fmt.Errorf("sign-in landed on %s", landed)
	}

	return run([]step{
		{"login app: checkauthn/{code}", d.browser, "GET", "/api/v1/checkauthn/" + code, byCode, 200, alice},
		{"login app: preauthorize/{code}", d.browser, "GET", "/api/v1/preauthorize/" + code, with(url.Values{"requestor": {"REF30"}}, "resource", "news,sports"), 200,
			func(body string) error {
				if strings.Count(body, `"authorized":true`) != 2 {
					return fmt.Errorf("want news and sports authorized: %s", body)
				}
				return nil
			}},
		{"authenticate/{code}", d.addr, "GET", "/api/v1/authenticate/" + code, dev(), 200, alice},
		{"checkauthn", d.addr, "GET", "/api/v1/checkauthn", dev(), 200, nil},
		{"tokens/authn", d.addr, "GET", "/api/v1/tokens/authn", dev(), 200, alice},
		{"authorize", d.addr, "GET", "/api/v1/authorize", with(dev(), "resource", "sports"), 200, wantField("resource", "sports")},
		{"tokens/media", d.addr, "GET", "/api/v1/tokens/media", with(dev(), "resource", "sports"), 200, func(body string) error {
			claims, err := d.f.sandbox.VerifyMediaToken(field(body, "serializedToken"))
			if err != nil || claims.UserID != "acme-alice-0001" || claims.Resource != "sports" {
				return fmt.Errorf("media token: %v %+v", err, claims)
			}
			return nil
		}},
		{"preauthorize", d.addr, "GET", "/api/v1/preauthorize", with(dev(), "resource", "news,movies"), 200, func(body string) error {
			if n := strings.Count(body, `"authorized":true`) + strings.Count(body, "<authorized>true</authorized>"); n != 2 {
				return fmt.Errorf("want news and movies authorized: %s", body)
			}
			return nil
		}},
		{"tokens/usermetadata", d.addr, "GET", "/api/v1/tokens/usermetadata", dev(), 200, nil},
		{"logout", d.addr, "DELETE", "/api/v1/logout", dev(), 204, nil},
		{"checkauthn after logout", d.addr, "GET", "/api/v1/checkauthn", dev(), 403, nil},
	})
}
