package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client"
)

// samplesOf returns the samples of the series name, keyed as scrape keys
// them.
func samplesOf(t *testing.T, m *Metrics, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for k, v := range scrape(t, m) {
		if k == name || strings.HasPrefix(k, name+"{") {
			out[k] = v
		}
	}
	return out
}

// TestV2OutcomesByCode drives a real v2 client against an upstream
// answering each kind of outcome and reads passgw_v2_outcomes_total: codes
// Adobe documents are labels as they are, item-level codes count per
// decision, anything else is "other", failures without a code "no_code".
func TestV2OutcomesByCode(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v2/REF30/configuration":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c","mvpds":[]}`)
		case "GET /api/v2/REF30/profiles":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"status":403,"code":"authenticated_profile_missing","action":"authentication"}`)
		case "GET /api/v2/REF30/profiles/AcmeCable":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"status":400,"code":"a_code_adobe_never_documented","action":"none"}`)
		case "GET /api/v2/REF30/sessions/ABC1234":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<html>oops</html>`)
		case "POST /api/v2/REF30/decisions/authorize/AcmeCable":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"decisions":[`+
				`{"resource":"news","serviceProvider":"REF30","mvpd":"AcmeCable","source":"mvpd","authorized":true},`+
				`{"resource":"movies","serviceProvider":"REF30","mvpd":"AcmeCable","source":"mvpd","authorized":false,"error":{"status":403,"code":"authorization_denied_by_mvpd","action":"none"}},`+
				`{"resource":"kids","serviceProvider":"REF30","mvpd":"AcmeCable","source":"mvpd","authorized":false,"error":{"status":403,"code":"authorization_denied_by_mvpd","action":"none"}}]}`)
		case "POST /o/client/token":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_client"}`)
		default:
			t.Errorf("unexpected upstream call %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	defer upstream.Close()
	m := NewMetrics("test")
	c := &v2client.Client{BaseURL: upstream.URL, Retries: -1, Outcome: m.V2Outcome}
	ctx := context.Background()
	if _, err := c.Configuration(ctx, "REF30"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Profiles(ctx, "REF30"); err == nil {
		t.Fatal("profiles: want an error")
	}
	if _, err := c.Profile(ctx, "REF30", "AcmeCable"); err == nil {
		t.Fatal("profile: want an error")
	}
	if _, err := c.RetrieveSession(ctx, "REF30", "ABC1234"); err == nil {
		t.Fatal("session: want an error")
	}
	if _, err := c.Authorize(ctx, "REF30", "AcmeCable", []string{"news", "movies", "kids"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Token(ctx, v2client.ClientCredentials{ClientID: "id", ClientSecret: "secret"}); err == nil {
		t.Fatal("token: want an error")
	}
	// A caller giving up says nothing of Adobe: not counted.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = c.Profiles(cancelled, "REF30")

	series := func(template, code string) string {
		method, route, _ := strings.Cut(template, " ")
		return testenv.MetricSeries("passgw_v2_outcomes_total", map[string]string{"method": method, "route": route, "error_code": code})
	}
	want := map[string]float64{
		series("GET /api/v2/{serviceProvider}/configuration", "none"):                                       1,
		series("GET /api/v2/{serviceProvider}/profiles", "authenticated_profile_missing"):                   1,
		series("GET /api/v2/{serviceProvider}/profiles/{mvpd}", "other"):                                    1,
		series("GET /api/v2/{serviceProvider}/sessions/{code}", "no_code"):                                  1,
		series("POST /api/v2/{serviceProvider}/decisions/authorize/{mvpd}", "none"):                         1,
		series("POST /api/v2/{serviceProvider}/decisions/authorize/{mvpd}", "authorization_denied_by_mvpd"): 2,
		series("POST /o/client/token", "invalid_client"):                                                    1,
	}
	if diff := cmp.Diff(want, samplesOf(t, m, "passgw_v2_outcomes_total")); diff != "" {
		t.Errorf("passgw_v2_outcomes_total (-want +got):\n%s", diff)
	}
}

func TestDocumentedCodes(t *testing.T) {
	for _, code := range []string{"authenticated_profile_missing", "authorization_denied_by_mvpd", "network_connection_timeout", "invalid_client", "invalid_software_statement"} {
		if !v2client.DocumentedCode(code) {
			t.Errorf("%s: not documented", code)
		}
	}
	for _, code := range []string{"", "none", "other", "no_code", "AUTHENTICATED_PROFILE_MISSING", "made_up"} {
		if v2client.DocumentedCode(code) {
			t.Errorf("%q: documented", code)
		}
	}
}

// TestBreakerSeries: the breaker's state is read at scrape time and each
// opening counts.
func TestBreakerSeries(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer upstream.Close()
	clock := testenv.NewClock(time.Unix(1_800_000_000, 0))
	b := &v2client.Breaker{Threshold: 2, Cooldown: time.Minute, Now: clock.Now}
	m := NewMetrics("test")
	host := strings.TrimPrefix(upstream.URL, "http://")
	m.WatchBreaker(b, host)
	c := &v2client.Client{BaseURL: upstream.URL, Retries: -1, Breaker: b}

	state := func(s string) string {
		return testenv.MetricSeries("passgw_v2_breaker_state", map[string]string{"host": host, "state": s})
	}
	opens := testenv.MetricSeries("passgw_v2_breaker_opens_total", map[string]string{"host": host})
	check := func(step, current string, opened float64) {
		t.Helper()
		want := map[string]float64{state("closed"): 0, state("open"): 0, state("half-open"): 0}
		want[state(current)] = 1
		if diff := cmp.Diff(want, samplesOf(t, m, "passgw_v2_breaker_state")); diff != "" {
			t.Errorf("%s: breaker state (-want +got):\n%s", step, diff)
		}
		if got := scrape(t, m)[opens]; got != opened {
			t.Errorf("%s: %s = %v, want %v", step, opens, got, opened)
		}
	}
	check("start", "closed", 0)
	for range 2 {
		_, _ = c.Profiles(context.Background(), "REF30")
	}
	check("after two failures", "open", 1)
	clock.Advance(time.Minute)
	check("after the cooldown", "half-open", 1)
	_, _ = c.Profiles(context.Background(), "REF30") // the probe fails
	check("after a failed probe", "open", 2)
}

type failingTokens struct{ err error }

func (f failingTokens) AccessToken(context.Context, string) (string, error) { return "", f.err }
func (f failingTokens) RefreshToken(context.Context, string, string) (string, error) {
	return "", f.err
}

func TestTokenErrors(t *testing.T) {
	m := NewMetrics("test")
	p := m.Tokens(failingTokens{errors.New("dcr down")})
	ctx := context.Background()
	_, _ = p.AccessToken(ctx, "REF30")
	_, _ = p.RefreshToken(ctx, "REF30", "old")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = p.AccessToken(cancelled, "REF30")
	want := map[string]float64{testenv.MetricSeries("passgw_v2_token_errors_total", map[string]string{"service_provider": "REF30"}): 2}
	if diff := cmp.Diff(want, samplesOf(t, m, "passgw_v2_token_errors_total")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestStoreSeriesFromStart: every store operation is timed, and the error,
// latency and in-flight series of each operation exist at zero before any call, so
// that alert ratios over them are defined from the first scrape.
func TestStoreSeriesFromStart(t *testing.T) {
	m := NewMetrics("test")
	got := scrape(t, m)
	for _, op := range storeOperations() {
		for _, k := range []string{
			testenv.MetricSeries("passgw_store_errors_total", map[string]string{"operation": op}),
			testenv.MetricSeries("passgw_store_operation_duration_seconds_count", map[string]string{"operation": op}),
			testenv.MetricSeries("passgw_store_operations_in_flight", map[string]string{"operation": op}),
		} {
			if v, ok := got[k]; !ok || v != 0 {
				t.Errorf("%s = %v (present %v), want 0", k, v, ok)
			}
		}
	}
	s := m.Store(store.NewMemory(time.Now))
	ctx := context.Background()
	_ = s.Set(ctx, "k", []byte("v"), 0)
	_, _ = s.Get(ctx, "k")
	_, _ = s.Get(ctx, "absent")
	_, _ = s.SetNX(ctx, "k", []byte("v"), 0)
	_ = s.Replace(ctx, "k", []byte("w"))
	_, _ = s.Take(ctx, "k")
	_ = s.Delete(ctx, "k")
	got = scrape(t, m)
	for op, n := range map[string]float64{"get": 2, "set": 1, "setnx": 1, "replace": 1, "take": 1, "delete": 1} {
		k := testenv.MetricSeries("passgw_store_operation_duration_seconds_count", map[string]string{"operation": op})
		if got[k] != n {
			t.Errorf("%s = %v, want %v", k, got[k], n)
		}
	}
}

// TestMigrationCalls: a call the migration router labelled counts by
// requestor, mode, backend and code; other calls do not.
func TestMigrationCalls(t *testing.T) {
	m := NewMetrics("test")
	tel := &Telemetry{Metrics: m}
	h := tel.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("requestor") == "REF30" {
			Routed(r, "REF30", "canary", BackendV1)
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	}), describeAs(fakeCall{route: "GET /api/v1/checkauthn"}))
	for _, target := range []string{"/api/v1/checkauthn?requestor=REF30", "/api/v1/checkauthn?requestor=REF30", "/api/v1/checkauthn?requestor=X"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
	}
	want := map[string]float64{testenv.MetricSeries("passgw_migration_calls_total",
		map[string]string{"requestor": "REF30", "mode": "canary", "backend": "v1", "code": "502"}): 2}
	if diff := cmp.Diff(want, samplesOf(t, m, "passgw_migration_calls_total")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Outside a call served by Handler, Routed does nothing (and does not
	// panic).
	Routed(httptest.NewRequest("GET", "/", nil), "REF30", "canary", BackendV1)
}
