package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1api"
	"github.com/passgw/passgw/v1api/callerauth"
	"github.com/passgw/passgw/v1model"
)

// instantBackend answers every v1 operation at once with fixed values, so
// that a benchmark of the device-facing chain measures the chain alone.
type instantBackend struct{}

var _ v1api.Backend = instantBackend{}

func chainExpiry() time.Time { return time.UnixMilli(1601114932000) }

func (instantBackend) CreateRegcode(_ context.Context, req *v1model.CreateRegcodeRequest) (*v1model.Registration, error) {
	return &v1model.Registration{ID: "678f9fea-a1cafec8-1ff0-4a26-8564-f6cd020acf13", Code: "TJJCFK",
		Requestor: req.Device.Requestor, Generated: chainExpiry(), Expires: chainExpiry(),
		Info: v1model.RegistrationInfo{DeviceID: []byte(req.Device.DeviceID), DeviceType: req.Device.DeviceType}}, nil
}

func (instantBackend) GetRegcode(context.Context, *v1model.GetRegcodeRequest) (*v1model.Registration, error) {
	return nil, v1model.ErrNotFound("")
}

func (instantBackend) DeleteRegcode(context.Context, *v1model.DeleteRegcodeRequest) error {
	return nil
}

func (instantBackend) Config(context.Context, *v1model.ConfigRequest) (*v1model.Config, error) {
	return &v1model.Config{}, nil
}

func (instantBackend) Authenticate(context.Context, *v1model.AuthenticateRequest) (*v1model.AuthenticateRedirect, error) {
	return &v1model.AuthenticateRedirect{URL: "https://sandbox.example/"}, nil
}

func (instantBackend) CheckAuthn(_ context.Context, req *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error) {
	return &v1model.AuthnToken{Requestor: req.Device.Requestor, MVPD: "sampleMvpdId", UserID: "sampleUserId", Expires: chainExpiry()}, nil
}

func (instantBackend) AuthnToken(_ context.Context, req *v1model.AuthnTokenRequest) (*v1model.AuthnToken, error) {
	return &v1model.AuthnToken{Requestor: req.Device.Requestor, MVPD: "sampleMvpdId", UserID: "sampleUserId", Expires: chainExpiry()}, nil
}

func (instantBackend) Authorize(_ context.Context, req *v1model.AuthorizeRequest) (*v1model.AuthzToken, error) {
	return &v1model.AuthzToken{Requestor: req.Device.Requestor, MVPD: "sampleMvpdId", Resource: req.Resource, Expires: chainExpiry()}, nil
}

func (instantBackend) AuthzToken(_ context.Context, req *v1model.AuthzTokenRequest) (*v1model.AuthzToken, error) {
	return &v1model.AuthzToken{Requestor: req.Device.Requestor, MVPD: "sampleMvpdId", Resource: req.Resource, Expires: chainExpiry()}, nil
}

func (instantBackend) MediaToken(_ context.Context, req *v1model.MediaTokenRequest) (*v1model.MediaToken, error) {
	return &v1model.MediaToken{Requestor: req.Device.Requestor, Resource: req.Resource, Expires: chainExpiry(),
		MVPDID: "sampleMvpdId", SerializedToken: "PHNpZ25hdHVyZUluZm8+", UserID: "sampleUserId"}, nil
}

func (instantBackend) Preauthorize(_ context.Context, req *v1model.PreauthorizeRequest) (*v1model.Preauthorization, error) {
	p := &v1model.Preauthorization{}
	for _, id := range req.Resources {
		p.Resources = append(p.Resources, v1model.ResourceDecision{ID: id, Authorized: true})
	}
	return p, nil
}

func (instantBackend) UserMetadata(context.Context, *v1model.UserMetadataRequest) (*v1model.UserMetadata, error) {
	return &v1model.UserMetadata{}, nil
}

func (instantBackend) Logout(context.Context, *v1model.LogoutRequest) error { return nil }

func (instantBackend) FreePreview(context.Context, *v1model.FreePreviewRequest) error { return nil }

func (instantBackend) ProfileRequest(context.Context, *v1model.ProfileRequest) (*v1model.ProfileRequestPayload, error) {
	return &v1model.ProfileRequestPayload{}, nil
}

func (instantBackend) TokenExchange(context.Context, *v1model.TokenExchangeRequest) error {
	return nil
}

// deviceChain assembles the device-facing chain with newGatewayHandler's
// deviceSurface — ops mux, telemetry handler with metrics and the access
// log (to io.Discard), route naming, the gateway mux, the v1 handler with
// caller verification and the throttle hook — around an instant backend,
// with the benchmark harness's configuration (throttling off, no tracing).
func deviceChain(tb testing.TB) http.Handler {
	tb.Helper()
	cfg := &Config{
		Addr:           "127.0.0.1:0",
		Throttle:       ThrottleConfig{Off: true},
		UpstreamBudget: BudgetConfig{Off: true},
		Requestors:     []RequestorConfig{sandboxRequestor("REF30", "http://localhost")},
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		tb.Fatal(err)
	}
	logger := newLogger(cfg, io.Discard)
	tel, _, err := newTelemetry(context.Background(), func(string) string { return "" }, logger)
	if err != nil {
		tb.Fatal(err)
	}
	raw := store.NewMemory(time.Now)
	trackProgress(tel, raw, cfg, logger)
	st := instrumentStore(tel, raw)
	modes := map[string]callerauth.Mode{}
	for _, r := range cfg.Requestors {
		modes[r.ID], _ = callerauth.ParseMode(r.CallerAuth)
	}
	verifier := callerauth.NewVerifier(callerauth.VerifierConfig{
		Policy: func(requestor string) callerauth.Mode { return modes[requestor] },
		Nonces: callerauth.StoreNonces{Store: st},
		Logger: logger.With("component", "callerauth"),
	})
	throttle := &v1api.Throttle{Limit: cfg.throttleLimit(), TrustedProxies: cfg.trustedProxies()}
	v1, err := v1api.New(v1api.Config{
		Backend:        instantBackend{},
		Logger:         logger.With("component", "v1api"),
		TrustedProxies: cfg.trustedProxies(),
		Enhanced:       func(string) bool { return false },
		Authenticate:   verifier.Authenticate,
		Throttle:       throttle,
	})
	if err != nil {
		tb.Fatal(err)
	}
	front, err := cfg.migrationRouter(v1, st, nil, nil, tel.Metrics, logger)
	if err != nil {
		tb.Fatal(err)
	}
	ready := readiness(st, nil, cfg, logger)
	return deviceSurface(front, throttle.Wrap(http.NotFoundHandler()), v1, tel, ready)
}

// BenchmarkDeviceChain serves v1 calls through the whole device-facing
// chain (telemetry, metrics, access log, routing, v1 handler) on a backend
// that answers at once: what the gateway adds around the backend's work,
// wrappers included. The requests are those of the harness's devices.
func BenchmarkDeviceChain(b *testing.B) {
	h := deviceChain(b)
	info := base64.StdEncoding.EncodeToString([]byte(`{"primaryHardwareType":"SetTopBox","model":"Roku Ultra","osName":"Roku OS"}`))
	const dev = "requestor=REF30&deviceId=bench-device-0001"
	calls := []struct {
		name, method, target, body string
		status                     int
	}{
		{"regcode", http.MethodPost, "/reggie/v1/REF30/regcode", "deviceId=bench-device-0001&deviceType=Roku", http.StatusCreated},
		{"checkauthn", http.MethodGet, "/api/v1/checkauthn?" + dev, "", http.StatusOK},
		{"tokens-authn", http.MethodGet, "/api/v1/tokens/authn?" + dev, "", http.StatusOK},
		{"authorize", http.MethodGet, "/api/v1/authorize?" + dev + "&resource=sports", "", http.StatusOK},
		{"mediatoken", http.MethodGet, "/api/v1/mediatoken?" + dev + "&resource=sports", "", http.StatusOK},
		{"preauthorize", http.MethodGet, "/api/v1/preauthorize?" + dev + "&resource=news,sports,movies,kids,weather", "", http.StatusOK},
	}
	for _, c := range calls {
		for _, format := range []string{"xml", "json"} {
			b.Run(c.name+"/"+format, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var body io.Reader
					if c.body != "" {
						body = strings.NewReader(c.body)
					}
					r := httptest.NewRequest(c.method, c.target, body)
					if body != nil {
						r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					}
					if format == "json" {
						r.Header.Set("Accept", "application/json")
					}
					r.Header.Set("X-Device-Info", info)
					r.Header.Set("User-Agent", "Roku/DVP-11.5 (11.5.0.4312-46)")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != c.status || !strings.Contains(w.Header().Get("Content-Type"), format) {
						b.Fatalf("status %d (want %d), Content-Type %q: %s", w.Code, c.status, w.Header().Get("Content-Type"), w.Body)
					}
				}
			})
		}
	}
}

// TestDeviceChainAnswers checks the benchmark's chain answers the calls as
// the gateway does (v1 body, request id, format), so the benchmark
// measures real work.
func TestDeviceChainAnswers(t *testing.T) {
	h := deviceChain(t)
	r := httptest.NewRequest(http.MethodGet, "/api/v1/authorize?requestor=REF30&deviceId=d1&resource=sports&format=json", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	want := `{"mvpd":"sampleMvpdId","resource":"sports","requestor":"REF30","expires":"1601114932000"}`
	if w.Code != http.StatusOK || w.Body.String() != want || len(w.Header().Get("Adobe-Request-Id")) != 36 {
		t.Fatalf("got %d %q (request id %q), want 200 %s", w.Code, w.Body, w.Header().Get("Adobe-Request-Id"), want)
	}
}

// TestDeviceSurfaceRouting: v1 calls take the short way to the v1 handler,
// still traced and counted; every other path, and v1 paths the mux would
// clean first, is routed by the muxes as before.
func TestDeviceSurfaceRouting(t *testing.T) {
	h := deviceChain(t)
	tests := []struct {
		method, target string
		status         int
		location       string // for redirects
		bodyHas        string
	}{
		{"GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d1", 200, "", ""},
		{"GET", "/reggie/v1/REF30/regcode/ABC123?deviceId=d1", 404, "", "<error>"},
		{"GET", "/api/v1/nothing-here", 404, "", "<error>"},
		{"GET", "/api/v1//checkauthn", 307, "/api/v1/checkauthn", ""},
		{"GET", "/api/v1/./checkauthn", 307, "/api/v1/checkauthn", ""},
		{"GET", "/api/v1/x/../checkauthn", 307, "/api/v1/checkauthn", ""},
		{"GET", "/healthz", 200, "", "ok"},
		{"GET", "/o/client/register", 404, "", ""},
		{"GET", signedInPath, 200, "", "<!doctype html>"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status || w.Header().Get("Location") != tt.location || !strings.Contains(w.Body.String(), tt.bodyHas) {
			t.Errorf("%s %s: %d (Location %q) %.80q, want %d (Location %q) with %q",
				tt.method, tt.target, w.Code, w.Header().Get("Location"), w.Body, tt.status, tt.location, tt.bodyHas)
		}
	}
	// The short way is still traced and counted.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(w.Body.String(), `passgw_v1_requests_total{code="200",format="xml",method="GET",route="/api/v1/checkauthn"} 1`) {
		t.Errorf("the v1 call was not counted:\n%s", w.Body)
	}
}
