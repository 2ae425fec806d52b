package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client/sandbox"
)

// loopWorld is the gateway as `passgw serve` runs it (newGatewayHandler
// behind newGatewayServer, with its request limits) in front of a sandbox,
// on loopback with the real clock. Unlike testWorld it sees what reaches
// the sandbox: every upstream request is recorded.
type loopWorld struct {
	t       *testing.T
	URL     string // the gateway's base URL
	Addr    string // the gateway's host:port
	cfg     *Config
	sandbox *sandbox.Server
	// sandboxURL is the sandbox's base URL.
	sandboxURL string
	// sandboxServer is the sandbox's HTTP server.
	sandboxServer *httptest.Server
	up            *upstreamLog
	server        *http.Server
	logs          *syncBuffer
	logger        *slog.Logger
	// client is a device: no redirects followed, a generous bound so a
	// gateway that hangs is seen as a hang, not a client error.
	client *http.Client
}

// upstreamLog records the requests the sandbox receives.
type upstreamLog struct {
	mu   sync.Mutex
	reqs []upstreamRequest
	next http.Handler
}

type upstreamRequest struct {
	Method string
	Path   string // escaped, as sent
	Header http.Header
	// Body is kept for DCR calls only (where the gateway's credentials
	// travel in the form).
	Body string
}

func (u *upstreamLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := upstreamRequest{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone()}
	if strings.HasPrefix(r.URL.Path, "/o/") && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		rec.Body = string(b)
		r.Body = io.NopCloser(strings.NewReader(rec.Body))
	}
	u.mu.Lock()
	u.reqs = append(u.reqs, rec)
	u.mu.Unlock()
	u.next.ServeHTTP(w, r)
}

func (u *upstreamLog) all() []upstreamRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]upstreamRequest(nil), u.reqs...)
}

func (u *upstreamLog) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

// loopOptions adjust a loopWorld.
type loopOptions struct {
	// config edits the configuration before it is provisioned.
	config func(*Config)
	// sandboxSleep replaces the sandbox's wait for injected latency.
	sandboxSleep func(ctx context.Context, d time.Duration) error
	// store holds the gateway's state; nil is a fresh in-memory store.
	store store.Store
}

func newLoopWorld(t *testing.T, opts loopOptions) *loopWorld {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			out := logs.String()
			if len(out) > 20000 {
				out = "...\n" + out[len(out)-20000:]
			}
			t.Logf("logs:\n%s", out)
		}
	})

	up := &upstreamLog{}
	sbSrv := httptest.NewUnstartedServer(up)
	sb, err := sandbox.New(sandbox.Config{
		BaseURL: "http://" + sbSrv.Listener.Addr().String(), DisableThrottling: true, Sleep: opts.sandboxSleep,
		Logger: logger.With("component", "sandbox"),
	})
	if err != nil {
		t.Fatal(err)
	}
	up.next = sb
	sbSrv.Start()
	t.Cleanup(sbSrv.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := &Config{Addr: ln.Addr().String(), PublicURL: base, Throttle: ThrottleConfig{Off: true}, UpstreamBudget: BudgetConfig{Off: true}}
	if opts.config != nil {
		opts.config(cfg)
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	h, err := newGatewayHandler(cfg, sbSrv.URL, logger, hooks{Store: opts.store})
	if err != nil {
		t.Fatal(err)
	}
	srv := newGatewayServer(h, logger)
	// Under the connection caps, as runServe serves it.
	go srv.Serve(h.(*gateway).capListener(ln))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &loopWorld{
		t: t, URL: base, Addr: ln.Addr().String(), cfg: cfg, sandbox: sb, sandboxURL: sbSrv.URL, sandboxServer: sbSrv, up: up, server: srv, logs: logs, logger: logger,
		client: &http.Client{
			Timeout:       hangBound,
			Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// hangBound is how long a device waits before it calls the gateway hung:
// far beyond any upstream timeout the tests configure.
const hangBound = 10 * time.Second

// reply is a gateway answer as a device sees it.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// send makes one device call; header values are set as given, so tests can
// send what a real client library would refuse to build only through raw
// connections (see rawRequest).
func (w *loopWorld) send(ctx context.Context, method, target string, header http.Header, body string) (*reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.URL+target, rd)
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &reply{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// must is send that fails the test on a transport error.
func (w *loopWorld) must(method, target string, header http.Header, body string) *reply {
	w.t.Helper()
	r, err := w.send(context.Background(), method, target, header, body)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, target, err)
	}
	return r
}

// regcode creates a registration code for device.
func (w *loopWorld) regcode(ctx context.Context, device string) (string, error) {
	r, err := w.send(ctx, http.MethodPost, "/reggie/v1/REF30/regcode.json", nil, url.Values{"deviceId": {device}}.Encode())
	if err != nil {
		return "", err
	}
	if r.Status != http.StatusCreated {
		return "", fmt.Errorf("regcode: %d %s", r.Status, r.Body)
	}
	var reg struct{ Code string }
	if err := json.Unmarshal(r.Body, &reg); err != nil || reg.Code == "" {
		return "", fmt.Errorf("regcode: no code in %s", r.Body)
	}
	return reg.Code, nil
}

// authenticateTarget is the second-screen call for code with the given
// redirect_url and domain_name.
func authenticateTarget(code, redirect, domain string) string {
	q := url.Values{"reg_code": {code}, "requestor_id": {"REF30"}, "mso_id": {"AcmeCable"},
		"domain_name": {domain}, "redirect_url": {redirect}}
	return "/api/v1/authenticate?" + q.Encode()
}

// signIn runs the whole login of device as alice: regcode, the
// second-screen authenticate call, the MVPD form, then checkauthn.
func (w *loopWorld) signIn(ctx context.Context, device string) error {
	code, err := w.regcode(ctx, device)
	if err != nil {
		return err
	}
	r, err := w.send(ctx, http.MethodGet, authenticateTarget(code, w.URL+signedInPath, "localhost"), nil, "")
	if err != nil {
		return err
	}
	if r.Status != http.StatusFound {
		return fmt.Errorf("authenticate: %d %s", r.Status, r.Body)
	}
	landed, err := sandbox.SignIn(ctx, &http.Client{Timeout: hangBound}, r.Header.Get("Location"), "alice", "alice-pass")
	if err != nil {
		return fmt.Errorf("MVPD sign-in: %w", err)
	}
	if !strings.HasPrefix(landed, w.URL+signedInPath) {
		return fmt.Errorf("browser landed on %s", landed)
	}
	r, err = w.send(ctx, http.MethodGet, "/api/v1/checkauthn?"+url.Values{"requestor": {"REF30"}, "deviceId": {device}}.Encode(), nil, "")
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("checkauthn after sign-in: %d %s", r.Status, r.Body)
	}
	return nil
}

func deviceQuery(device string, extra ...string) string {
	q := url.Values{"requestor": {"REF30"}, "deviceId": {device}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Add(extra[i], extra[i+1])
	}
	return q.Encode()
}
