package telemetry

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate/store"
)

const (
	testDeviceID = "device-4f1c-raw-id"
	testToken    = "v2-access-token-secret"
)

// newTraced returns a Telemetry recording spans in memory.
func newTraced() (*Telemetry, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	return &Telemetry{TracerProvider: tp, Metrics: NewMetrics("test")}, rec
}

func attrMap(kvs []attribute.KeyValue) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.Emit()
	}
	return m
}

// TestHandlerAndTransportTrace runs one v1 call that makes one v2 call and
// checks the span tree, the context sent upstream, the attributes and the
// counters.
func TestHandlerAndTransportTrace(t *testing.T) {
	var upstreamTraceparent, upstreamPath string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamTraceparent = r.Header.Get("traceparent")
		upstreamPath = r.URL.Path
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("upstream: Authorization %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"profiles":{}}`)
	}))
	defer upstream.Close()

	tel, spans := newTraced()
	v2route := func(*http.Request) string { return "GET /api/v2/{serviceProvider}/profiles/code/{code}" }
	client := &http.Client{Transport: tel.Transport(nil, v2route)}
	device := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", upstream.URL+"/api/v2/REF30/profiles/code/ABC1234", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("AP-Device-Identifier", "fingerprint "+testDeviceID)
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("upstream call: %v", err)
			return
		}
		resp.Body.Close()
		w.Header().Set("Adobe-Request-Id", "req-1")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":200}`)
	})
	h := tel.Handler(device, describeAs(fakeCall{route: "GET /api/v1/checkauthn/{code}", requestor: "REF30", deviceID: testDeviceID, format: "json"}))

	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req := httptest.NewRequest("GET", "/api/v1/checkauthn/ABC1234?requestor=REF30&deviceId="+testDeviceID, nil)
	req.Header.Set("traceparent", parent)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}

	ended := spans.Ended()
	if len(ended) != 2 {
		t.Fatalf("%d spans, want 2 (server, client)", len(ended))
	}
	var server, clientSpan sdktrace.ReadOnlySpan
	for _, s := range ended {
		switch s.SpanKind() {
		case trace.SpanKindServer:
			server = s
		case trace.SpanKindClient:
			clientSpan = s
		}
	}
	if server == nil || clientSpan == nil {
		t.Fatalf("want one server and one client span, got %v", ended)
	}
	if server.Name() != "GET /api/v1/checkauthn/{code}" {
		t.Errorf("server span %q", server.Name())
	}
	if clientSpan.Name() != "GET /api/v2/{serviceProvider}/profiles/code/{code}" {
		t.Errorf("client span %q", clientSpan.Name())
	}
	if got := server.SpanContext().TraceID().String(); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("server span trace %s, want the device's", got)
	}
	if got := server.Parent().SpanID().String(); got != "b7ad6b7169203331" {
		t.Errorf("server span parent %s, want the device's span", got)
	}
	if clientSpan.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Error("client span is not a child of the server span")
	}
	wantTP := "00-" + server.SpanContext().TraceID().String() + "-" + clientSpan.SpanContext().SpanID().String() + "-01"
	if upstreamTraceparent != wantTP {
		t.Errorf("upstream traceparent %q, want %q", upstreamTraceparent, wantTP)
	}

	sa := attrMap(server.Attributes())
	for k, want := range map[attribute.Key]string{
		AttrRequestor:  "REF30",
		AttrDeviceHash: HashDeviceID(testDeviceID),
		AttrFormat:     "json",
		AttrRequestID:  "req-1",
		"http.route":   "/api/v1/checkauthn/{code}",
	} {
		if sa[k] != want {
			t.Errorf("server attribute %s = %q, want %q", k, sa[k], want)
		}
	}
	// The path carries the registration code: absent, never a template.
	if p, ok := sa["url.path"]; ok {
		t.Errorf("server attribute url.path = %q, want none", p)
	}
	if len(HashDeviceID(testDeviceID)) != 16 {
		t.Errorf("device hash %q, want 16 hex digits", HashDeviceID(testDeviceID))
	}
	ca := attrMap(clientSpan.Attributes())
	if want := "/api/v2/{serviceProvider}/profiles/code/{code}"; ca["url.template"] != want {
		t.Errorf("client url.template %q, want %q", ca["url.template"], want)
	}
	if u, ok := ca["url.full"]; ok {
		t.Errorf("client url.full %q, want none (the path carries the code)", u)
	}
	if ca["http.response.status_code"] != "200" {
		t.Errorf("client status attribute %q", ca["http.response.status_code"])
	}
	for _, s := range ended {
		for k, v := range attrMap(s.Attributes()) {
			for _, secret := range []string{testDeviceID, testToken, "ABC1234"} {
				if strings.Contains(v, secret) {
					t.Errorf("span %q attribute %s = %q carries %q", s.Name(), k, v, secret)
				}
			}
		}
	}
	if upstreamPath != "/api/v2/REF30/profiles/code/ABC1234" {
		t.Errorf("upstream path %q", upstreamPath)
	}

	got := scrape(t, tel.Metrics)
	for key, want := range map[string]float64{
		testenv.MetricSeries("passgw_v1_requests_total", map[string]string{"method": "GET", "route": "/api/v1/checkauthn/{code}", "format": "json", "code": "200"}):  1,
		testenv.MetricSeries("passgw_v1_request_duration_seconds_count", map[string]string{"method": "GET", "route": "/api/v1/checkauthn/{code}"}):                   1,
		testenv.MetricSeries("passgw_v2_calls_total", map[string]string{"method": "GET", "route": "/api/v2/{serviceProvider}/profiles/code/{code}", "code": "200"}):  1,
		testenv.MetricSeries("passgw_v2_call_duration_seconds_count", map[string]string{"method": "GET", "route": "/api/v2/{serviceProvider}/profiles/code/{code}"}): 1,
		testenv.MetricSeries("passgw_build_info", map[string]string{"version": "test"}):                                                                              1,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}

// TestHandlerCountsOutcomes checks what is recorded of answered calls: the
// route, requestor, hashed device id and format the Call describes, 429
// counted as throttled, and the body left whole for the handler.
func TestHandlerCountsOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		call       fakeCall
		method     string
		body       string
		status     int
		wantDevice string
	}{
		{"xml", fakeCall{route: "GET /api/v1/config/{requestor}", requestor: "REF30", format: "xml"}, "GET", "", 200, ""},
		{"throttled", fakeCall{route: "GET /api/v1/authorize", requestor: "REF30", deviceID: "d1", format: "html"}, "GET", "", 429, HashDeviceID("d1")},
		{"no content", fakeCall{route: "DELETE /api/v1/logout", requestor: "REF30", deviceID: "d2", format: "none"}, "DELETE", "", 204, HashDeviceID("d2")},
		{"form body", fakeCall{route: "POST /reggie/v1/{requestor}/regcode", requestor: "REF30", deviceID: "d3", format: "json"},
			"POST", "deviceId=d3&mvpd=AcmeCable", 201, HashDeviceID("d3")},
		{"unmatched", fakeCall{format: "xml"}, "GET", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, spans := newTraced()
			var seenBody string
			h := tel.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				seenBody = string(b)
				w.WriteHeader(tt.status)
			}), describeAs(tt.call))
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req := httptest.NewRequest(tt.method, "/any/path", body)
			h.ServeHTTP(httptest.NewRecorder(), req)
			if seenBody != tt.body {
				t.Errorf("handler read body %q, want %q", seenBody, tt.body)
			}
			ended := spans.Ended()
			if len(ended) != 1 {
				t.Fatalf("%d spans", len(ended))
			}
			wantName := tt.call.route
			if wantName == "" {
				wantName = tt.method
			}
			if ended[0].Name() != wantName {
				t.Errorf("span %q, want %q", ended[0].Name(), wantName)
			}
			a := attrMap(ended[0].Attributes())
			if a[AttrFormat] != tt.call.format || a[AttrDeviceHash] != tt.wantDevice || a[AttrRequestor] != tt.call.requestor {
				t.Errorf("attributes format=%q device=%q requestor=%q, want %q %q %q",
					a[AttrFormat], a[AttrDeviceHash], a[AttrRequestor], tt.call.format, tt.wantDevice, tt.call.requestor)
			}
			got := scrape(t, tel.Metrics)
			method, route := RouteLabels(tt.call.route, tt.method)
			key := testenv.MetricSeries("passgw_v1_requests_total", map[string]string{"method": method, "route": route, "format": tt.call.format, "code": strconv.Itoa(tt.status)})
			if got[key] != 1 {
				t.Errorf("%s = %v, want 1", key, got[key])
			}
			throttled := got[testenv.MetricSeries("passgw_v1_throttled_total", map[string]string{"method": method, "route": route})]
			if want := map[bool]float64{true: 1}[tt.status == 429]; throttled != want {
				t.Errorf("throttled = %v, want %v", throttled, want)
			}
		})
	}
}

// fakeCall is a Call as the layer that parsed it would describe it.
type fakeCall struct{ route, requestor, deviceID, format string }

func (c fakeCall) Route() string     { return c.route }
func (c fakeCall) Requestor() string { return c.requestor }
func (c fakeCall) DeviceID() string  { return c.deviceID }
func (c fakeCall) Answer(h http.Header) (string, string) {
	return c.format, h.Get("Adobe-Request-Id")
}

func describeAs(c fakeCall) func(*http.Request) Call {
	return func(*http.Request) Call { return c }
}

// TestTransportPropagatesWithoutTracing: with no tracer provider nothing is
// recorded, yet the device's trace context still reaches the upstream.
func TestTransportPropagatesWithoutTracing(t *testing.T) {
	var got, gotBaggage string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotBaggage = r.Header.Get("traceparent"), r.Header.Get("baggage")
	}))
	defer upstream.Close()
	for _, tp := range []trace.TracerProvider{nil, noop.NewTracerProvider()} {
		tel := &Telemetry{TracerProvider: tp}
		client := &http.Client{Transport: tel.Transport(nil, nil)}
		h := tel.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, _ := http.NewRequestWithContext(r.Context(), "GET", upstream.URL+"/api/v2/REF30/profiles", nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if len(req.Header) != 0 {
				t.Errorf("the transport changed the caller's request: %v", req.Header)
			}
		}), describeAs(fakeCall{route: "GET /api/v1/checkauthn"}))
		const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		// Each header travels on its own, and a call with neither sends
		// neither.
		for _, sent := range []struct{ traceparent, baggage string }{
			{parent, "tenant=acme"}, {parent, ""}, {"", "tenant=acme"}, {"", ""},
		} {
			got, gotBaggage = "unset", "unset"
			req := httptest.NewRequest("GET", "/api/v1/checkauthn", nil)
			if sent.traceparent != "" {
				req.Header.Set("traceparent", sent.traceparent)
			}
			if sent.baggage != "" {
				req.Header.Set("baggage", sent.baggage)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got != sent.traceparent || gotBaggage != sent.baggage {
				t.Errorf("provider %T, device sent traceparent %q baggage %q: upstream got %q and %q",
					tp, sent.traceparent, sent.baggage, got, gotBaggage)
			}
		}
	}
}

// TestHandlerCountsMissOncePerCall: within one call served by Handler a
// cache key's repeated misses count once, and each call counts its own.
func TestHandlerCountsMissOncePerCall(t *testing.T) {
	for _, tp := range []trace.TracerProvider{nil, sdktrace.NewTracerProvider()} {
		m := NewMetrics("test")
		tel := &Telemetry{TracerProvider: tp, Metrics: m}
		st := m.Store(store.NewMemory(time.Now))
		h := tel.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range 2 {
				if _, err := st.Get(r.Context(), "profiles:k1"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Get: %v", err)
				}
			}
		}), describeAs(fakeCall{route: "GET /api/v1/checkauthn"}))
		for range 3 {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/checkauthn", nil))
		}
		key := testenv.MetricSeries("passgw_cache_lookups_total", map[string]string{"cache": "profiles", "result": "miss"})
		if got := scrape(t, m)[key]; got != 3 {
			t.Errorf("provider %T: %s = %v, want 3 (one per call)", tp, key, got)
		}
	}
}

// TestOtherHandlerSeries: requests outside the v1 API count in
// passgw_other_requests_total, by method, route and code, and never in the
// v1 series; an unknown method is MethodOther.
func TestOtherHandlerSeries(t *testing.T) {
	m := NewMetrics("test")
	tel := &Telemetry{Metrics: m}
	h := tel.OtherHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/o/client/register" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}), func(r *http.Request) Call {
		if r.Method == "POST" && r.URL.Path == "/o/client/register" {
			return fakeCall{route: "POST /o/client/register", format: "json"}
		}
		return fakeCall{format: "none"}
	})
	for _, req := range []struct{ method, target string }{
		{"POST", "/o/client/register"}, {"GET", "/wp-login.php"}, {"GET", "/.env"}, {"BREW", "/coffee"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.target, nil))
	}
	got := map[string]float64{}
	for k, v := range scrape(t, m) {
		if strings.HasPrefix(k, "passgw_v1_") || strings.HasPrefix(k, "passgw_other_requests_total") {
			got[k] = v
		}
	}
	want := map[string]float64{
		testenv.MetricSeries("passgw_other_requests_total", map[string]string{"method": "POST", "route": "/o/client/register", "code": "201"}): 1,
		testenv.MetricSeries("passgw_other_requests_total", map[string]string{"method": "GET", "route": RouteUnmatched, "code": "404"}):        2,
		testenv.MetricSeries("passgw_other_requests_total", map[string]string{"method": MethodOther, "route": RouteUnmatched, "code": "404"}):  1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
}
