package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client/sandbox"
)

// The world of the caller tests: REF30 requires caller credentials, its apps
// register with rigStatement or sign with rigPrivateKey; REF30B (same
// service provider) has apps of its own.
const (
	rigOtherRequestor = "REF30B"
	// rigStatement and rigOtherStatement are the device software statements,
	// JWT-shaped as the TVE Dashboard issues them.
	rigStatement      = "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6InJlZjMwLXR2In0.c3RhdGVtZW50LW9mLVJFRjMwLWFwcHM"
	rigOtherStatement = "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6InJlZjMwYi10diJ9.c3RhdGVtZW50LW9mLVJFRjMwQi1hcHBz"
	rigPublicKey      = "ref30-public-key"
	rigPrivateKey     = "ref30-private-key-5f0c1e9a7d"
	// rigDCRKey is the configured device DCR key, when a test configures one.
	rigDCRKey = "k1:c2VjcmV0LW9mLXRoZS1kY3Ita2V5LTAxMjM0NTY3ODk"
)

// rig is a gateway built by newGatewayHandler in front of a real sandbox,
// both on loopback, sharing one fake clock; the gateway's upstream budget,
// when a test turns it on, waits for a device's turn by moving that clock
// (waits). Unlike testWorld its
// configuration is the test's: by default REF30 with caller_auth required
// and throttling off, plus REF30B.
type rig struct {
	t       *testing.T
	URL     string
	handler http.Handler
	clock   *testenv.Clock
	sandbox *sandbox.Server
	store   store.Store
	logs    *syncBuffer
	// client is a device: it does not follow redirects.
	client    *http.Client
	configure func(*Config)
	logger    *slog.Logger
	// waits records the upstream budget's waits for a device's turn.
	waits *budgetWaits
	// tel writes the access log (one line per call) to logger.
	tel *telemetry.Telemetry
}

// budgetWaits is what the gateway's upstream budget waited: on the rig's
// manual clock a wait for a device's turn moves the clock.
type budgetWaits struct {
	clock *testenv.Clock
	// real makes waits real, for a test that has the clock follow the
	// real one.
	real  bool
	mu    sync.Mutex
	waits []time.Duration
}

func (w *budgetWaits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	real := w.real
	w.mu.Unlock()
	if real {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return ctx.Err()
	}
	w.clock.Advance(d)
	return ctx.Err()
}

// all returns the waits so far.
func (w *budgetWaits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.waits)
}

// rigRequestors are the rig's requestors before the test's changes.
func rigRequestors(c *Config) {
	requestor := func(id, statement string) RequestorConfig {
		r := sandboxRequestor(id, c.PublicURL)
		r.CallerAuth = "required"
		r.DeviceStatements = []string{statement}
		return r
	}
	ref30 := requestor("REF30", rigStatement)
	ref30.SigningKeys = map[string]string{rigPublicKey: rigPrivateKey}
	c.Requestors = []RequestorConfig{ref30, requestor(rigOtherRequestor, rigOtherStatement)}
}

// newRig starts a sandbox and a gateway configured by rigRequestors and then
// configure (may be nil), logging at debug level as text into r.logs.
func newRig(t *testing.T, configure func(*Config)) *rig {
	logs := &syncBuffer{}
	return newRigLogging(t, configure, logs, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// newRigLogging is newRig with the gateway's logger; logs is what it writes
// to, shown when the test fails. The sandbox logs elsewhere: it is not the
// gateway.
func newRigLogging(t *testing.T, configure func(*Config), logs *syncBuffer, logger *slog.Logger) *rig {
	t.Helper()
	return startRig(t, configure, logs, logger, "")
}

// newRigOnRedis is newRig with the gateway's store on the redis-server at
// redisURL (store: redis://..., so buckets default to shared) instead of in
// memory. The store judges expiry by the rig's clock, and the buckets kept
// in it count by the same clock: the gateway passes its own now to each
// decision (store.TokenBuckets). Instances (r.instance) share the store.
func newRigOnRedis(t *testing.T, redisURL string, configure func(*Config)) *rig {
	t.Helper()
	logs := &syncBuffer{}
	return startRig(t, configure, logs, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), redisURL)
}

// startRig starts the rig of newRigLogging on the Redis at storeURL, or on
// the in-memory store when storeURL is empty.
func startRig(t *testing.T, configure func(*Config), logs *syncBuffer, logger *slog.Logger, storeURL string) *rig {
	t.Helper()
	clock := testenv.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	var st store.Store = store.NewMemory(clock.Now)
	if storeURL != "" {
		rs, err := redisstore.Open(storeURL, clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rs.Close() })
		st = rs
		testConfigure := configure
		configure = func(c *Config) {
			c.Store = storeURL
			if testConfigure != nil {
				testConfigure(c)
			}
		}
	}
	sbLogs := &syncBuffer{}
	sb, err := sandbox.NewServer(sandbox.Config{
		Now: clock.Now, DisableThrottling: true,
		Logger: slog.New(slog.NewTextHandler(sbLogs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	r := &rig{t: t, clock: clock, sandbox: sb, store: st, logs: logs, configure: configure, logger: logger,
		waits: &budgetWaits{clock: clock},
		tel:   &telemetry.Telemetry{Logger: logger.With("component", "http")}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway logs:\n%s\nsandbox logs:\n%s", logs, sbLogs)
		}
	})
	r.start()
	return r
}

// instance starts another gateway with the same configuration on the same
// store, sandbox and clock, as a second instance behind a load balancer.
func (r *rig) instance() *rig {
	r.t.Helper()
	other := *r
	other.start()
	return &other
}

// start serves a gateway for r on a fresh loopback port.
func (r *rig) start() {
	r.t.Helper()
	r.URL, r.handler = serveGateway(r.t, r.sandbox.URL, r.logger, hooks{Now: r.clock.Now, Store: r.store, Sleep: r.waits.sleep, Telemetry: r.tel}, func(c *Config) {
		rigRequestors(c)
		if r.configure != nil {
			r.configure(c)
		}
	}, nil)
	r.client = deviceClient()
}

// do sends a device call; a non-empty body is a form.
func (r *rig) do(method, target string, header http.Header, body string) (*http.Response, string) {
	r.t.Helper()
	resp, b := deviceCall(r.t, r.client, method, r.URL+target, header, body)
	return resp, string(b)
}

// want fails the test unless the answer has status.
func (r *rig) want(resp *http.Response, body string, status int) {
	r.t.Helper()
	if resp.StatusCode != status {
		r.t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, body)
	}
}

// register registers a device app with statement on /o/client/register.
func (r *rig) register(statement string) (id, secret string) {
	r.t.Helper()
	b, _ := json.Marshal(map[string]string{"software_statement": statement, "redirect_uri": "adobepass://android.app"})
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, r.URL+"/o/client/register", strings.NewReader(string(b)))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&reg) != nil || reg.ClientSecret == "" {
		r.t.Fatalf("register: status %d", resp.StatusCode)
	}
	return reg.ClientID, reg.ClientSecret
}

// tokenRequest asks /o/client/token for an access token.
func (r *rig) tokenRequest(id, secret string) (*http.Response, string) {
	r.t.Helper()
	form := url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}}
	return r.do(http.MethodPost, "/o/client/token", nil, form.Encode())
}

// token obtains an access token for a registered app.
func (r *rig) token(id, secret string) string {
	r.t.Helper()
	resp, body := r.tokenRequest(id, secret)
	r.want(resp, body, http.StatusCreated)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" {
		r.t.Fatalf("token body %s: %v", body, err)
	}
	return tok.AccessToken
}

// bearer is the Authorization header of a DCR access token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// signIn registers deviceID for a code (with header, e.g. a credential)
// and signs the user in on the sandbox's MVPD page, as the second screen
// does.
func (r *rig) signIn(deviceID string, header http.Header, username, password string) (code string) {
	r.t.Helper()
	resp, body := r.do(http.MethodPost, "/reggie/v1/REF30/regcode?format=json", header, "deviceId="+url.QueryEscape(deviceID))
	r.want(resp, body, http.StatusCreated)
	var reg struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal([]byte(body), &reg); err != nil || reg.Code == "" {
		r.t.Fatalf("regcode body %s: %v", body, err)
	}
	q := url.Values{
		"reg_code": {reg.Code}, "requestor_id": {"REF30"}, "mso_id": {"AcmeCable"}, "domain_name": {"localhost"},
		"redirect_url": {r.URL + signedInPath}, "noflash": {"true"}, "no_iframe": {"false"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	landed, err := sandbox.SignIn(ctx, &http.Client{Timeout: 10 * time.Second}, r.URL+"/api/v1/authenticate?"+q.Encode(), username, password)
	if err != nil {
		r.t.Fatalf("sign in: %v", err)
	}
	if !strings.HasPrefix(landed, r.URL+signedInPath) {
		r.t.Fatalf("browser landed on %s, want the gateway's signed-in page", landed)
	}
	return reg.Code
}

// upstreamSince returns the sandbox requests received after the first n.
func (r *rig) upstreamSince(n int) []sandbox.Request {
	return slices.Clone(r.sandbox.Requests()[n:])
}

// upstreamCount is the number of requests the sandbox has received.
func (r *rig) upstreamCount() int { return len(r.sandbox.Requests()) }

// paths lists the method and path of each request.
func paths(reqs []sandbox.Request) []string {
	var out []string
	for _, q := range reqs {
		out = append(out, q.Method+" "+q.Path)
	}
	return out
}
