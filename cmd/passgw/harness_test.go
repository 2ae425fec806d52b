package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client/sandbox"
)

// enhancedRequestor is the second requestor of the test gateway: the same
// service provider as REF30, with Enhanced Error Codes on.
const enhancedRequestor = "REF30E"

// counter makes deterministic ids: prefix-free decimal sequences formatted by
// format.
type counter struct {
	mu     sync.Mutex
	n      int
	format string
}

func (c *counter) Next() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return fmt.Sprintf(c.format, c.n)
}

// syncBuffer is the log sink of the package's tests.
type syncBuffer = testenv.LogBuffer

// testWorld is a gateway in front of a sandbox, both real HTTP servers on
// loopback, with one fake clock and deterministic ids everywhere.
type testWorld struct {
	t       *testing.T
	URL     string // the gateway's base URL
	clock   *testenv.Clock
	sandbox *sandbox.Server
	// client is a device: it does not follow redirects.
	client *http.Client
	logs   *syncBuffer
}

// newTestWorld starts the sandbox (throttling off, DeterministicIDs) and the
// gateway built by newGatewayHandler from the zero Config (requestor REF30,
// redirect_url PublicURL + /passgw/signed-in) plus REF30E.
func newTestWorld(t *testing.T) *testWorld {
	t.Helper()
	return startWorld(t, nil, func(cfg *Config) {
		enhanced := cfg.Requestors[0]
		enhanced.ID, enhanced.ServiceProvider, enhanced.EnhancedErrors = enhancedRequestor, "REF30", true
		cfg.Requestors = append(cfg.Requestors, enhanced)
	}, hooks{})
}

// startWorld starts the sandbox and a gateway in front of it on a Config
// changed by before (may be nil) ahead of provisioning and by after (may be
// nil) once provisioned. The gateway takes hk with the world's clock and
// deterministic ids.
func startWorld(t *testing.T, before, after func(*Config), hk hooks) *testWorld {
	t.Helper()
	clock := testenv.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	logger, logs := testenv.DebugLogger(t)

	sb, err := sandbox.NewServer(sandbox.Config{
		Now: clock.Now, IDs: sandbox.DeterministicIDs(1), DisableThrottling: true,
		Logger: logger.With("component", "sandbox"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)

	ids := &counter{format: "00000000-0000-4000-8000-%012d"}
	codes := &counter{format: "GW%05d"}
	reqIDs := &counter{format: "req-%06d"}
	hk.Now, hk.NewID, hk.NewCode, hk.RequestID = clock.Now, ids.Next, codes.Next, reqIDs.Next
	base, _ := serveGateway(t, sb.URL, logger, hk, before, after)
	return &testWorld{t: t, URL: base, clock: clock, sandbox: sb, logs: logs, client: deviceClient()}
}

// serveGateway serves the gateway newGatewayHandler builds in front of
// upstream on a fresh loopback port, until the test ends, and returns its
// base URL and handler. Its Config has the port's address and base URL,
// the v1 throttle and the upstream budget off like the sandbox's throttle
// (on a fixed clock their one-call-per-second buckets would never refill);
// before (may be nil) changes it ahead of provisioning, after (may be nil)
// once provisioned.
func serveGateway(t *testing.T, upstream string, logger *slog.Logger, hk hooks, before, after func(*Config)) (string, http.Handler) {
	t.Helper()
	gw := httptest.NewUnstartedServer(nil)
	base := "http://" + gw.Listener.Addr().String()
	cfg := &Config{Addr: gw.Listener.Addr().String(), PublicURL: base, Throttle: ThrottleConfig{Off: true}, UpstreamBudget: BudgetConfig{Off: true}}
	if before != nil {
		before(cfg)
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if after != nil {
		after(cfg)
	}
	h, err := newGatewayHandler(cfg, upstream, logger, hk)
	if err != nil {
		t.Fatal(err)
	}
	gw.Config.Handler = h
	gw.Start()
	t.Cleanup(gw.Close)
	return base, h
}

// deviceClient is the HTTP client of a test device: it does not follow
// redirects, so that the test sees each one the gateway answers.
func deviceClient() *http.Client {
	return &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// deviceCall sends a device call with client and returns the answer and
// its body; a non-empty form is the body, as a form unless header says
// otherwise.
func deviceCall(t *testing.T, client *http.Client, method, target string, header http.Header, form string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if form != "" {
		rd = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	return resp, b
}

// do sends a device call to the gateway and returns the status, headers and
// body.
func (w *testWorld) do(method, target string, header map[string]string, body string) (*http.Response, []byte) {
	w.t.Helper()
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	return deviceCall(w.t, w.client, method, w.URL+target, h, body)
}

// authenticateURL is the v1 second-screen URL a login web app opens for
// code.
func (w *testWorld) authenticateURL(code, requestor string) string {
	q := url.Values{
		"reg_code": {code}, "requestor_id": {requestor}, "mso_id": {"AcmeCable"}, "domain_name": {"localhost"},
		"redirect_url": {w.URL + signedInPath}, "noflash": {"true"}, "no_iframe": {"false"},
	}
	return w.URL + "/api/v1/authenticate?" + q.Encode()
}
