package translate

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

const (
	testRequestor = "REF30"
	testRedirect  = "https://example.com/done"
	testDomain    = "example.com"
)

// newTestClock returns the manually advanced clock shared by the gateway
// and the sandbox.
func newTestClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
}

type env struct {
	t       testing.TB
	ctx     context.Context
	clock   *testenv.Clock
	sandbox *sandbox.Server
	store   store.Store
	gw      *Gateway
	logs    *testenv.LogBuffer
}

type envOption struct {
	sandbox func(*sandbox.Config)
	client  func(*v2client.Client)
	gateway func(*GatewayConfig)
}

// newEnv starts a sandbox and a gateway for requestor REF30 in front of it.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	clock := newTestClock()
	scfg := sandbox.Config{Now: clock.Now, IDs: sandbox.DeterministicIDs(42), DisableThrottling: true}
	for _, o := range opts {
		if o.sandbox != nil {
			o.sandbox(&scfg)
		}
	}
	sb, err := sandbox.NewServer(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)

	st := store.NewMemory(clock.Now)
	client := &v2client.Client{BaseURL: sb.URL, Retries: -1}
	client.Tokens = &v2client.TokenSource{
		Client: &v2client.Client{BaseURL: sb.URL, Retries: -1},
		Statement: v2client.StaticStatements(map[string]v2client.RegisterRequest{
			testRequestor: {SoftwareStatement: "sandbox-statement"},
		}),
		Store: Credentials{Store: st, Now: clock.Now},
		Now:   clock.Now,
	}
	for _, o := range opts {
		if o.client != nil {
			o.client(client)
		}
	}
	logs := &testenv.LogBuffer{}
	cfg := GatewayConfig{
		Client: client,
		Store:  st,
		Now:    clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Requestors: []Requestor{{
			ID:             testRequestor,
			DomainName:     testDomain,
			RedirectURL:    testRedirect,
			EnhancedErrors: true,
			TempPassMVPD:   "TempPass_REF30",
		}},
	}
	for _, o := range opts {
		if o.gateway != nil {
			o.gateway(&cfg)
		}
	}
	gw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: context.Background(), clock: clock, sandbox: sb, store: st, gw: gw, logs: logs}
}

// advance moves the shared clock.
func (e *env) advance(d time.Duration) { e.clock.Advance(d) }

// device returns a legacy Roku device without device information, as the
// oldest clients call.
func testDevice(id string) v1model.Device {
	return v1model.Device{
		Requestor: testRequestor,
		DeviceID:  id,
		IP:        netip.MustParseAddr("203.0.113.7"),
		Port:      51234,
		UserAgent: "Roku/DVP-9.10 (519.10E04111A)",
	}
}

// signIn registers the device and signs user in on the second screen
// through the gateway's authenticate redirect; it returns the code.
func (e *env) signIn(d v1model.Device, mvpd, user string) string {
	e.t.Helper()
	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d})
	if err != nil {
		e.t.Fatalf("CreateRegcode: %v", err)
	}
	e.secondScreen(reg.Code, mvpd, user)
	return reg.Code
}

// secondScreen plays the login web app and the user's browser for code.
func (e *env) secondScreen(code, mvpd, user string) {
	e.t.Helper()
	redirect, err := e.gw.Authenticate(e.ctx, &v1model.AuthenticateRequest{
		Device: v1model.Device{Requestor: testRequestor, IP: netip.MustParseAddr("198.51.100.9"), UserAgent: "Mozilla/5.0"},
		MVPD:   mvpd, Code: code, DomainName: testDomain, RedirectURL: testRedirect,
	})
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	landed, err := sandbox.SignIn(e.ctx, &http.Client{}, redirect.URL, user, user+"-pass")
	if err != nil {
		e.t.Fatalf("SignIn(%s) via %s: %v", user, redirect.URL, err)
	}
	if !strings.HasPrefix(landed, testRedirect) {
		e.t.Fatalf("browser landed on %q, want the requestor's redirect URL %q", landed, testRedirect)
	}
}

// v1err asserts err is a *v1model.Error with the given status and enhanced code.
func v1err(t *testing.T, err error, status int, code string) *v1model.Error {
	t.Helper()
	var e *v1model.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *v1model.Error %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error = %d %q (%s), want %d %q", e.Status, e.Code, e.Message, status, code)
	}
	return e
}

// upstream returns the sandbox requests whose path contains part.
func (e *env) upstream(part string) []sandbox.Request {
	var out []sandbox.Request
	for _, r := range e.sandbox.Requests() {
		if strings.Contains(r.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
