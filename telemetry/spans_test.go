package telemetry

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestServerSpanConventions serves calls through Handler with spans
// recorded in memory and checks each span against OpenTelemetry's HTTP
// server conventions: named "{method} {route}" or by the method alone,
// http.route the route's path, url.path the real path or absent (never a
// template, never a path that may carry a code), 5xx an error.
func TestServerSpanConventions(t *testing.T) {
	tests := []struct {
		name, method, target, route string
		status                      int
		wantName                    string
		want                        map[attribute.Key]string // "" means absent
		wantError                   bool
	}{
		{"route without code", "GET", "/api/v1/authorize?requestor=REF30&deviceId=d1&resource=sports", "GET /api/v1/authorize", 200,
			"GET /api/v1/authorize", map[attribute.Key]string{"http.request.method": "GET", "http.route": "/api/v1/authorize",
				"url.path": "/api/v1/authorize", "url.scheme": "http", "server.address": "gw.example", "server.port": "8080",
				"http.response.status_code": "200", "url.query": "", "url.full": ""}, false},
		{"route with a code", "GET", "/api/v1/checkauthn/ABC1234?requestor=REF30", "GET /api/v1/checkauthn/{code}", 403,
			"GET /api/v1/checkauthn/{code}", map[attribute.Key]string{"http.route": "/api/v1/checkauthn/{code}", "url.path": "",
				"http.response.status_code": "403", "error.type": ""}, false},
		{"registration code lookup", "GET", "/reggie/v1/REF30/regcode/ABC1234", "GET /reggie/v1/{requestor}/regcode/{code}", 200,
			"GET /reggie/v1/{requestor}/regcode/{code}", map[attribute.Key]string{"http.route": "/reggie/v1/{requestor}/regcode/{code}", "url.path": ""}, false},
		{"unmatched", "DELETE", "/api/v1/ABC1234/nothing", "", 404,
			"DELETE", map[attribute.Key]string{"http.request.method": "DELETE", "http.route": "", "url.path": "", "http.response.status_code": "404"}, false},
		{"unknown method", "BREW", "/api/v1/pot", "", 405,
			"HTTP", map[attribute.Key]string{"http.request.method": "_OTHER", "http.request.method_original": "BREW", "http.route": ""}, false},
		{"server error", "GET", "/api/v1/config/REF30", "GET /api/v1/config/{requestor}", 500,
			"GET /api/v1/config/{requestor}", map[attribute.Key]string{"url.path": "/api/v1/config/REF30", "http.response.status_code": "500", "error.type": "500"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, spans := newTraced()
			h := tel.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
			}), describeAs(fakeCall{route: tt.route, requestor: "REF30", format: "xml"}))
			req := httptest.NewRequest(tt.method, "http://gw.example:8080"+tt.target, nil)
			h.ServeHTTP(httptest.NewRecorder(), req)
			checkSpan(t, spans, trace.SpanKindServer, tt.wantName, tt.want, tt.wantError)
		})
	}
}

// TestClientSpanConventions makes v2 attempts through Transport with spans
// recorded in memory and checks each span against OpenTelemetry's HTTP
// client conventions: url.template the v2 route's path, url.full the real
// URL with its query values REDACTED, or absent when the path may carry a
// code; 4xx, 5xx and failed attempts are errors.
func TestClientSpanConventions(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v2/REF30/logout/AcmeCable":
			if r.URL.Query().Get("redirectUrl") != "https://app.example/done" {
				t.Errorf("upstream got query %q", r.URL.RawQuery)
			}
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	host, port, _ := net.SplitHostPort(u.Host)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name, method, url, template string
		wantName                    string
		want                        map[attribute.Key]string
		wantError                   bool
	}{
		{"query values redacted", "GET", upstream.URL + "/api/v2/REF30/logout/AcmeCable?redirectUrl=https%3A%2F%2Fapp.example%2Fdone",
			"GET /api/v2/{serviceProvider}/logout/{mvpd}", "GET /api/v2/{serviceProvider}/logout/{mvpd}",
			map[attribute.Key]string{"http.request.method": "GET", "url.template": "/api/v2/{serviceProvider}/logout/{mvpd}",
				"url.full": upstream.URL + "/api/v2/REF30/logout/AcmeCable?redirectUrl=REDACTED", "server.address": host, "server.port": port,
				"http.response.status_code": "200", "url.path": "", "http.route": ""}, false},
		{"path with a code", "GET", upstream.URL + "/api/v2/REF30/sessions/ABC1234",
			"GET /api/v2/{serviceProvider}/sessions/{code}", "GET /api/v2/{serviceProvider}/sessions/{code}",
			map[attribute.Key]string{"url.template": "/api/v2/{serviceProvider}/sessions/{code}", "url.full": "",
				"http.response.status_code": "403", "error.type": "403"}, true},
		{"no template", "POST", upstream.URL + "/elsewhere/ABC1234", "", "POST",
			map[attribute.Key]string{"http.request.method": "POST", "url.template": "", "url.full": ""}, true},
		{"no answer", "GET", closedURL + "/api/v2/REF30/profiles", "GET /api/v2/{serviceProvider}/profiles", "GET /api/v2/{serviceProvider}/profiles",
			map[attribute.Key]string{"url.template": "/api/v2/{serviceProvider}/profiles", "url.full": closedURL + "/api/v2/REF30/profiles",
				"http.response.status_code": "", "error.type": "_OTHER"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, spans := newTraced()
			client := &http.Client{Transport: tel.Transport(nil, func(*http.Request) string { return tt.template })}
			req, _ := http.NewRequest(tt.method, tt.url, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			// An attempt without an answer fails; its span says so.
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			s := checkSpan(t, spans, trace.SpanKindClient, tt.wantName, tt.want, tt.wantError)
			for k, v := range attrMap(s.Attributes()) {
				if strings.Contains(v, "ABC1234") || strings.Contains(v, testToken) || strings.Contains(v, "app.example") {
					t.Errorf("attribute %s = %q carries a code, a token or a query value", k, v)
				}
			}
		})
	}
}

// checkSpan checks that spans recorded one span, of kind, named name, with
// the attributes of want (see checkAttrs) and an error status or not, and
// returns it.
func checkSpan(t *testing.T, spans *tracetest.SpanRecorder, kind trace.SpanKind, name string, want map[attribute.Key]string, wantError bool) sdktrace.ReadOnlySpan {
	t.Helper()
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans, want 1", len(ended))
	}
	s := ended[0]
	if s.Name() != name || s.SpanKind() != kind {
		t.Errorf("span %q (%v), want %q (%v)", s.Name(), s.SpanKind(), name, kind)
	}
	checkAttrs(t, s.Attributes(), want)
	if got := s.Status().Code == codes.Error; got != wantError {
		t.Errorf("span status %v, want error %v", s.Status().Code, wantError)
	}
	return s
}

// checkAttrs compares the attributes named in want with kvs; a want of ""
// means the attribute must be absent.
func checkAttrs(t *testing.T, kvs []attribute.KeyValue, want map[attribute.Key]string) {
	t.Helper()
	got := attrMap(kvs)
	picked := map[attribute.Key]string{}
	for k := range want {
		if v, ok := got[k]; ok {
			picked[k] = v
		}
	}
	wantPresent := map[attribute.Key]string{}
	for k, v := range want {
		if v != "" {
			wantPresent[k] = v
		}
	}
	if diff := cmp.Diff(wantPresent, picked); diff != "" {
		t.Errorf("attributes (-want +got):\n%s\nall: %v", diff, got)
	}
}

// BenchmarkTracedCall serves a v1 call making one v2 attempt through
// Handler and Transport with spans recorded (an SDK provider without
// exporter), metrics on: what tracing adds to every call when it is on.
func BenchmarkTracedCall(b *testing.B) {
	tel := &Telemetry{TracerProvider: sdktrace.NewTracerProvider(), Metrics: NewMetrics("bench")}
	upstream := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	client := &http.Client{Transport: tel.Transport(upstream, func(*http.Request) string { return "GET /api/v2/{serviceProvider}/profiles" })}
	h := tel.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://adobe.example/api/v2/REF30/profiles", nil)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		w.WriteHeader(http.StatusOK)
	}), describeAs(fakeCall{route: "GET /api/v1/checkauthn", requestor: "REF30", deviceID: "d1", format: "xml"}))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=d1", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}
