package callerauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v1api"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// recordingBackend answers checkauthn and regcode creation and records the
// device of each call; any other operation is a test failure (nil Backend).
type recordingBackend struct {
	v1api.Backend
	mu      sync.Mutex
	devices []v1model.Device
}

func (b *recordingBackend) record(d v1model.Device) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.devices = append(b.devices, d)
}

func (b *recordingBackend) calls() []v1model.Device {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]v1model.Device(nil), b.devices...)
}

func (b *recordingBackend) CheckAuthn(_ context.Context, r *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error) {
	b.record(r.Device)
	return &v1model.AuthnToken{Requestor: r.Device.Requestor, MVPD: "AcmeCable", UserID: "alice", Expires: time.Unix(1_800_000_000, 0)}, nil
}

func (b *recordingBackend) CreateRegcode(_ context.Context, r *v1model.CreateRegcodeRequest) (*v1model.Registration, error) {
	b.record(r.Device)
	return &v1model.Registration{ID: "00000000-0000-4000-8000-000000000000", Code: "ABC123", Requestor: r.Device.Requestor,
		Info: v1model.RegistrationInfo{AuthorizationType: r.Device.Caller.AuthorizationType, SourceApplication: r.Device.Caller.Application}}, nil
}

// gateway is the three parts wired as the gateway's server wires them.
type gateway struct {
	srv     *httptest.Server
	backend *recordingBackend
	clock   *testenv.Clock
	logs    *testenv.LogBuffer
	issuer  *Issuer
}

func newGateway(t *testing.T, policy map[string]Mode) *gateway {
	t.Helper()
	g := &gateway{backend: &recordingBackend{}, clock: newClock(), logs: &testenv.LogBuffer{}}
	log := slog.New(slog.NewJSONHandler(g.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	kr, err := NewKeyRing(Key{ID: "k2", Secret: []byte("current-signing-key-0123456789ab")},
		Key{ID: "k1", Secret: []byte("previous-signing-key-0123456789a")})
	if err != nil {
		t.Fatal(err)
	}
	g.issuer, err = NewIssuer(IssuerConfig{Keys: kr, Statements: testStatements(), TokenTTL: time.Hour, Now: g.clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	verifier := NewVerifier(VerifierConfig{
		Issuer:     g.issuer,
		Policy:     func(r string) Mode { return policy[r] },
		SigningKey: legacyKeys,
		Now:        g.clock.Now,
		Logger:     log,
	})
	throttle := &v1api.Throttle{Now: g.clock.Now, Limit: func(string) (v1api.ThrottleLimit, bool) {
		return v1api.ThrottleLimit{Interval: time.Second, Burst: 1000}, true
	}}
	v1, err := v1api.New(v1api.Config{
		Backend:      g.backend,
		Logger:       log,
		Authenticate: verifier.Authenticate,
		Throttle:     throttle,
		Now:          g.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/o/client/", throttle.Wrap(g.issuer))
	mux.Handle("/", v1)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) do(t *testing.T, method, target string, header map[string]string, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := g.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return res.StatusCode, readAll(t, res.Body)
}

// dcr registers with statement and returns the client credentials and an
// access token, over HTTP.
func (g *gateway) dcr(t *testing.T, statement string) (id, secret, tok string) {
	t.Helper()
	reqBody, _ := json.Marshal(map[string]string{"software_statement": statement, "redirect_uri": "adobepass://com.programmer"})
	status, body := g.do(t, http.MethodPost, "/o/client/register", map[string]string{"X-Device-Info": "e30"}, "application/json;charset=utf-8", string(reqBody))
	if status != http.StatusCreated {
		t.Fatalf("register: %d %s", status, body)
	}
	var reg v2client.ClientCredentials
	if err := json.Unmarshal([]byte(body), &reg); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"client_id": {reg.ClientID}, "client_secret": {reg.ClientSecret}, "grant_type": {"client_credentials"}}
	status, body = g.do(t, http.MethodPost, "/o/client/token", nil, "application/x-www-form-urlencoded", form.Encode())
	if status != http.StatusCreated {
		t.Fatalf("token: %d %s", status, body)
	}
	var at v2client.AccessToken
	if err := json.Unmarshal([]byte(body), &at); err != nil {
		t.Fatal(err)
	}
	return reg.ClientID, reg.ClientSecret, at.AccessToken
}

// TestFlowThroughV1 runs register -> token -> v1 calls through the wired
// gateway, then every refusal the issue lists: each answered 401 (the
// token endpoint's 400 for a wrong secret) with nothing reaching the
// backend. Finally no secret appears in any log line.
func TestFlowThroughV1(t *testing.T) {
	g := newGateway(t, map[string]Mode{sandboxRequestor: ModeRequired, "OTHER": ModeRequired})
	id, secret, tok := g.dcr(t, sandboxStatement)
	_, _, otherTok := g.dcr(t, jwtStatement)
	bearer := map[string]string{"Authorization": "Bearer " + tok}

	status, body := g.do(t, http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev1&format=json", bearer, "", "")
	if status != http.StatusOK {
		t.Fatalf("checkauthn with a fresh token: %d %s", status, body)
	}
	status, body = g.do(t, http.MethodPost, "/reggie/v1/OTHER/regcode.json", map[string]string{"Authorization": "Bearer " + otherTok},
		"application/x-www-form-urlencoded", "deviceId=dev2")
	if status != http.StatusCreated || !strings.Contains(body, `"authorizationType":"OAUTH2"`) || !strings.Contains(body, "app-42") {
		t.Fatalf("regcode with a DCR token: %d %s (want authorizationType and the application echoed)", status, body)
	}
	// The access_token parameter and the signed header work too.
	status, _ = g.do(t, http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev1&access_token="+url.QueryEscape(tok), nil, "", "")
	signed := SignHeader("GET", sandboxRequestor, "nonce-1", g.clock.Now().UnixMilli(), "/api/v1/checkauthn", legacyPublicKey, legacyKey)
	status2, _ := g.do(t, http.MethodGet, "/api/v1/checkauthn?deviceId=dev1", map[string]string{"Authorization": signed}, "", "")
	if status != http.StatusOK || status2 != http.StatusOK {
		t.Fatalf("access_token parameter: %d, signed header: %d", status, status2)
	}
	calls := g.backend.calls()
	if len(calls) != 4 {
		t.Fatalf("backend saw %d calls, want 4", len(calls))
	}
	if c := calls[0].Caller; c.AuthorizationType != v1model.AuthorizationOAuth2 || c.Requestor != sandboxRequestor {
		t.Errorf("caller of the bearer call: %+v", c)
	}
	if calls[3].Requestor != sandboxRequestor {
		t.Errorf("signed header did not supply the requestor: %q", calls[3].Requestor)
	}

	// The token endpoint refuses a wrong secret.
	form := url.Values{"client_id": {id}, "client_secret": {"t7AkePiru4"}, "grant_type": {"client_credentials"}}
	if status, body := g.do(t, http.MethodPost, "/o/client/token", nil, "application/x-www-form-urlencoded", form.Encode()); status != 400 || body != `{"error":"invalid_client"}` {
		t.Errorf("wrong secret: %d %s", status, body)
	}

	tampered := tok[:len(tok)-4] + "AAAA"
	if tampered == tok {
		tampered = tok[:len(tok)-4] + "BBBB"
	}
	stale := SignHeader("GET", sandboxRequestor, "nonce-2", g.clock.Now().Add(-10*time.Minute).UnixMilli(), "/api/v1/checkauthn", legacyPublicKey, legacyKey)
	refusals := []struct {
		name     string
		target   string
		header   map[string]string
		advance  time.Duration
		wantBody string
	}{
		{"token for another requestor", "/api/v1/checkauthn?requestor=OTHER&deviceId=dev1&format=json", bearer, 0, `{"error":"access_denied"}`},
		{"tampered token", "/api/v1/checkauthn?requestor=REF30&deviceId=dev1&format=json", map[string]string{"Authorization": "Bearer " + tampered}, 0, `{"error":"access_denied"}`},
		{"replayed nonce", "/api/v1/checkauthn?requestor=REF30&deviceId=dev1&format=json", map[string]string{"Authorization": signed}, 0, `{"status":401,"message":"Unauthorized"}`},
		{"stale request_time", "/api/v1/checkauthn?requestor=REF30&deviceId=dev1&format=json", map[string]string{"Authorization": stale}, 0, `{"status":401,"message":"Unauthorized"}`},
		{"missing credential under required", "/api/v1/checkauthn?requestor=REF30&deviceId=dev1&format=json", nil, 0, `{"status":401,"message":"Unauthorized"}`},
		{"missing credential under required, XML", "/api/v1/checkauthn?requestor=REF30&deviceId=dev1", nil, 0, `<status>401</status><message>Unauthorized</message>`},
		{"expired token", "/api/v1/checkauthn?requestor=REF30&deviceId=dev1&format=json", bearer, time.Hour, `{"error":"access_denied"}`},
	}
	for _, tt := range refusals {
		g.clock.Advance(tt.advance)
		status, body := g.do(t, http.MethodGet, tt.target, tt.header, "", "")
		if status != http.StatusUnauthorized || !strings.Contains(body, tt.wantBody) {
			t.Errorf("%s: %d %s, want 401 %s", tt.name, status, body, tt.wantBody)
		}
	}
	if n := len(g.backend.calls()); n != 4 {
		t.Errorf("backend saw %d calls after the refusals, want still 4", n)
	}

	logs := g.logs.String()
	if !strings.Contains(logs, "caller refused") || !strings.Contains(logs, "dcr access token issued") {
		t.Fatalf("logs do not show the flow: %s", logs)
	}
	for name, secretValue := range map[string]string{
		"client secret":        secret,
		"access token":         tok,
		"access token MAC":     tok[strings.LastIndexByte(tok, '.')+1:],
		"other access token":   otherTok,
		"tampered token":       tampered,
		"signing key":          "current-signing-key",
		"previous signing key": "previous-signing-key",
		"signing key (base64)": base64.StdEncoding.EncodeToString([]byte("current-signing-key-0123456789ab"))[:20],
		"software statement":   sandboxStatement,
		"JWT statement":        jwtStatement[:30],
		"legacy private key":   string(legacyKey),
		"signed header":        signed[strings.LastIndex(signed, "signature=")+len("signature="):],
		"wrong secret attempt": "t7AkePiru4",
	} {
		if strings.Contains(logs, secretValue) {
			t.Errorf("%s found in the logs", name)
		}
	}
}

// TestFlowPolicies: the same tokenless call under each policy.
func TestFlowPolicies(t *testing.T) {
	g := newGateway(t, map[string]Mode{"REQ": ModeRequired, "OPT": ModeOptional})
	for _, tt := range []struct {
		requestor string
		want      int
	}{{"REQ", 401}, {"OPT", 200}, {"NONE", 200}} {
		status, body := g.do(t, http.MethodGet, "/api/v1/checkauthn?deviceId=d&requestor="+tt.requestor, map[string]string{"Authorization": "Basic eDp5"}, "", "")
		if status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.requestor, status, body, tt.want)
		}
	}
}
