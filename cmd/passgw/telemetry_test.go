package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client/sandbox"
)

// obsWorld is a gateway with telemetry on (spans in memory, a metrics
// registry) in front of the sandbox, on the real clock.
type obsWorld struct {
	t       *testing.T
	URL     string
	sandbox *sandbox.Server
	spans   *tracetest.InMemoryExporter
	tel     *telemetry.Telemetry
	logs    *syncBuffer
	device  *http.Client
}

func newObsWorld(t *testing.T, configure func(*Config)) *obsWorld {
	t.Helper()
	return newObsWorldStore(t, configure, nil)
}

// newObsWorldStore is newObsWorld keeping the gateway's state in st (nil:
// a fresh in-memory store).
func newObsWorldStore(t *testing.T, configure func(*Config), st store.Store) *obsWorld {
	t.Helper()
	logs := testenv.NewLogBuffer(t)
	logger := slog.New(telemetry.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	sb, err := sandbox.NewServer(sandbox.Config{DisableThrottling: true, Logger: logger.With("component", "sandbox")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)

	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	tel := &telemetry.Telemetry{TracerProvider: tp, Metrics: telemetry.NewMetrics("test"), Logger: logger.With("component", "http")}
	base, _ := serveGateway(t, sb.URL, logger, hooks{Telemetry: tel, Store: st}, configure, nil)
	return &obsWorld{t: t, URL: base, sandbox: sb, spans: spans, tel: tel, logs: logs, device: deviceClient()}
}

// call sends a device call; header may carry a traceparent.
func (w *obsWorld) call(method, target string, header http.Header, form string) (*http.Response, string) {
	w.t.Helper()
	resp, b := deviceCall(w.t, w.device, method, w.URL+target, header, form)
	return resp, string(b)
}

// exported scrapes the gateway's /metrics over HTTP and returns each
// series name with the label names its samples carry.
func (w *obsWorld) exported() map[string]map[string]bool {
	t := w.t
	t.Helper()
	resp, err := http.Get(w.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	out := map[string]map[string]bool{}
	for key := range testenv.MetricSamples(t, resp.Body) {
		name, labels, _ := strings.Cut(key, "{")
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for _, m := range labelPair.FindAllStringSubmatch(labels, -1) {
			out[name][m[1]] = true
		}
	}
	return out
}

// labelPair matches one label of a sample in the text format.
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)

// signIn registers deviceID, logs in as alice on the second screen and
// returns the registration code.
func (w *obsWorld) signIn(deviceID string) string {
	w.t.Helper()
	resp, body := w.call("POST", "/reggie/v1/REF30/regcode.json", nil, "deviceId="+url.QueryEscape(deviceID))
	if resp.StatusCode != http.StatusCreated {
		w.t.Fatalf("regcode: %d %s", resp.StatusCode, body)
	}
	var reg struct{ Code string }
	if err := json.Unmarshal([]byte(body), &reg); err != nil || reg.Code == "" {
		w.t.Fatalf("regcode body %s: %v", body, err)
	}
	q := url.Values{"reg_code": {reg.Code}, "requestor_id": {"REF30"}, "mso_id": {"AcmeCable"},
		"domain_name": {"localhost"}, "redirect_url": {w.URL + signedInPath}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := sandbox.SignIn(ctx, &http.Client{Timeout: 10 * time.Second}, w.URL+"/api/v1/authenticate?"+q.Encode(), "alice", "alice-pass"); err != nil {
		w.t.Fatalf("sign-in: %v", err)
	}
	return reg.Code
}

// TestTraceOfDeviceFlow runs a device through regcode, second-screen login,
// tokens/authn, authorize and media token, and checks the trace tree: one
// server span per v1 call named by route template, the v2 calls as client
// spans under it named by v2 route template, the device's trace context
// continued and passed to the sandbox, and no secret or raw device id in
// any attribute.
func TestTraceOfDeviceFlow(t *testing.T) {
	w := newObsWorld(t, nil)
	const deviceID = "living-room-tv-8c2f"
	dev := "?requestor=REF30&deviceId=" + deviceID
	code := w.signIn(deviceID)

	for _, c := range []string{"/api/v1/tokens/authn" + dev, "/api/v1/authorize" + dev + "&resource=sports"} {
		if resp, body := w.call("GET", c, nil, ""); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c, resp.StatusCode, body)
		}
	}
	// The media token call continues the device's own trace.
	const deviceTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	header := http.Header{"Traceparent": {"00-" + deviceTrace + "-00f067aa0ba902b7-01"}}
	resp, mediaBody := w.call("GET", "/api/v1/tokens/media"+dev+"&resource=sports", header, "")
	if resp.StatusCode != 200 {
		t.Fatalf("tokens/media: %d %s", resp.StatusCode, mediaBody)
	}

	spans := w.spans.GetSpans()
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	children := func(parent tracetest.SpanStub) []string {
		var names []string
		for _, s := range spans {
			if s.Parent.SpanID() == parent.SpanContext.SpanID() && s.SpanKind == trace.SpanKindClient {
				names = append(names, s.Name)
			}
		}
		sort.Strings(names)
		return names
	}
	servers := map[string][]tracetest.SpanStub{}
	for _, s := range spans {
		switch s.SpanKind {
		case trace.SpanKindServer:
			servers[s.Name] = append(servers[s.Name], s)
		case trace.SpanKindClient:
			parent, ok := byID[s.Parent.SpanID()]
			if !ok || parent.SpanKind != trace.SpanKindServer || parent.SpanContext.TraceID() != s.SpanContext.TraceID() {
				t.Errorf("client span %q is not under a server span of its trace", s.Name)
			}
		default:
			t.Errorf("span %q of kind %v", s.Name, s.SpanKind)
		}
	}
	for name, ss := range servers {
		if strings.Contains(name, code) || strings.Contains(name, "REF30") {
			t.Errorf("server span named by raw path: %q", name)
		}
		if len(ss) != 1 && name != "GET /api/v1/authenticate" {
			t.Errorf("%d server spans %q, want 1", len(ss), name)
		}
	}

	tests := []struct {
		server  string
		clients []string // at least these, as direct children
		device  bool     // carries the device hash
	}{
		// The first call also registers the gateway with DCR.
		{"POST /reggie/v1/{requestor}/regcode", []string{"POST /api/v2/{serviceProvider}/sessions", "POST /o/client/register", "POST /o/client/token"}, true},
		{"GET /api/v1/authenticate", []string{"POST /api/v2/{serviceProvider}/sessions/{code}"}, false},
		{"GET /api/v1/tokens/authn", []string{"GET /api/v2/{serviceProvider}/profiles"}, true},
		{"GET /api/v1/authorize", []string{"POST /api/v2/{serviceProvider}/decisions/authorize/{mvpd}"}, true},
		{"GET /api/v1/tokens/media", nil, true},
	}
	for _, tt := range tests {
		ss := servers[tt.server]
		if len(ss) == 0 {
			t.Errorf("no server span %q; have %v", tt.server, keys(servers))
			continue
		}
		s := ss[0]
		got := children(s)
		for _, want := range tt.clients {
			if !contains(got, want) {
				t.Errorf("%s: client spans %v lack %q", tt.server, got, want)
			}
		}
		attrs := attrValues(s.Attributes)
		if attrs["passgw.requestor"] != "REF30" {
			t.Errorf("%s: requestor attribute %q", tt.server, attrs["passgw.requestor"])
		}
		if want := telemetry.HashDeviceID(deviceID); tt.device && attrs["passgw.device.hash"] != want {
			t.Errorf("%s: device hash %q, want %q", tt.server, attrs["passgw.device.hash"], want)
		}
		if attrs["passgw.request_id"] == "" {
			t.Errorf("%s: no request id attribute", tt.server)
		}
	}

	media := servers["GET /api/v1/tokens/media"][0]
	if got := media.SpanContext.TraceID().String(); got != deviceTrace {
		t.Errorf("tokens/media trace %s, want the device's %s", got, deviceTrace)
	}
	if got := media.Parent.SpanID().String(); got != "00f067aa0ba902b7" {
		t.Errorf("tokens/media parent %s, want the device's span", got)
	}

	// The sandbox received each client span's context.
	clientSpans := map[string]bool{}
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindClient {
			clientSpans["00-"+s.SpanContext.TraceID().String()+"-"+s.SpanContext.SpanID().String()+"-01"] = true
		}
	}
	var secrets []string
	upstream := w.sandbox.Requests()
	if len(upstream) == 0 {
		t.Fatal("the sandbox saw no requests")
	}
	for _, r := range upstream {
		if browser := !strings.HasPrefix(r.Path, "/api/v2/") && !strings.HasPrefix(r.Path, "/o/client/") ||
			strings.HasPrefix(r.Path, "/api/v2/authenticate/"); browser {
			// The user's browser on the login pages, not the gateway.
			continue
		}
		tp := r.Header.Get("Traceparent")
		if !clientSpans[tp] {
			t.Errorf("sandbox %s %s: traceparent %q is not a client span's", r.Method, r.Path, tp)
		}
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
			secrets = append(secrets, strings.TrimPrefix(a, "Bearer "))
		}
		if r.Path == "/o/client/token" {
			form, _ := url.ParseQuery(string(r.Body))
			secrets = append(secrets, form.Get("client_secret"))
		}
		if id := r.Header.Get("AP-Device-Identifier"); id != "" {
			secrets = append(secrets, strings.TrimPrefix(id, "fingerprint "))
		}
	}
	var media1 struct{ SerializedToken string }
	_ = json.Unmarshal([]byte(mediaBody), &media1)
	secrets = append(secrets, deviceID, code, sandboxStatement, media1.SerializedToken)
	for _, s := range spans {
		for _, kv := range s.Attributes {
			v := kv.Value.Emit()
			for _, secret := range secrets {
				if secret != "" && strings.Contains(v, secret) {
					t.Errorf("span %q attribute %s = %q carries a secret or raw id (%.12s...)", s.Name, kv.Key, v, secret)
				}
			}
		}
	}

	// HTTP semantic conventions: the route's path in http.route (server)
	// or url.template (client); url.path and url.full real, never a
	// template.
	for _, s := range spans {
		attrs := attrValues(s.Attributes)
		_, path, _ := strings.Cut(s.Name, " ")
		key := "http.route"
		if s.SpanKind == trace.SpanKindClient {
			key = "url.template"
		}
		if attrs[key] != path {
			t.Errorf("span %q: %s = %q, want %q", s.Name, key, attrs[key], path)
		}
		for _, k := range []string{"url.path", "url.full"} {
			if strings.Contains(attrs[k], "{") {
				t.Errorf("span %q: %s = %q is a template", s.Name, k, attrs[k])
			}
		}
	}

	// Every log line of a v1 call names its request id.
	reqID := attrValues(servers["GET /api/v1/authorize"][0].Attributes)["passgw.request_id"]
	traceID := servers["GET /api/v1/authorize"][0].SpanContext.TraceID().String()
	var lines int
	for _, line := range strings.Split(w.logs.String(), "\n") {
		if strings.Contains(line, `"trace_id":"`+traceID+`"`) {
			lines++
			if !strings.Contains(line, `"request_id":"`+reqID+`"`) {
				t.Errorf("log line of the authorize call without its request id %s: %s", reqID, line)
			}
		}
	}
	if lines < 2 {
		t.Errorf("%d log lines of the authorize call, want its v2 call and v1 lines", lines)
	}
}

// TestMetricsMove scrapes /metrics before and after device calls and finds
// the counters moved.
func TestMetricsMove(t *testing.T) {
	w := newObsWorld(t, nil)
	before := w.scrape()
	const deviceID = "metrics-device"
	dev := "?requestor=REF30&deviceId=" + deviceID
	w.signIn(deviceID)
	for _, c := range []string{
		"/api/v1/config/REF30.json", "/api/v1/config/REF30.json",
		"/api/v1/tokens/authn" + dev, "/api/v1/authorize" + dev + "&resource=sports",
		"/api/v1/tokens/authz.xml" + dev + "&resource=sports",
	} {
		if resp, body := w.call("GET", c, nil, ""); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c, resp.StatusCode, body)
		}
	}
	// The gateway's token is refused once: refreshed after the 401.
	w.sandbox.ExpireAccessTokens()
	if resp, body := w.call("GET", "/api/v1/authorize"+dev+"&resource=news", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("authorize after token expiry: %d %s", resp.StatusCode, body)
	}
	after := w.scrape()

	tests := []struct {
		name    string
		labels  map[string]string
		atLeast float64
	}{
		{"passgw_v1_requests_total", map[string]string{"method": "POST", "route": "/reggie/v1/{requestor}/regcode", "format": "json", "code": "201"}, 1},
		{"passgw_v1_requests_total", map[string]string{"method": "GET", "route": "/api/v1/config/{requestor}", "format": "json", "code": "200"}, 2},
		{"passgw_v1_requests_total", map[string]string{"method": "GET", "route": "/api/v1/authorize", "format": "xml", "code": "200"}, 1},
		{"passgw_v1_requests_total", map[string]string{"method": "GET", "route": "/api/v1/tokens/authz", "format": "xml", "code": "200"}, 1},
		{"passgw_v1_requests_total", map[string]string{"method": "GET", "route": "/api/v1/authenticate", "format": "none", "code": "302"}, 1},
		{"passgw_v1_request_duration_seconds_count", map[string]string{"method": "GET", "route": "/api/v1/authorize"}, 1},
		{"passgw_v2_calls_total", map[string]string{"method": "POST", "route": "/api/v2/{serviceProvider}/decisions/authorize/{mvpd}", "code": "200"}, 1},
		{"passgw_v2_calls_total", map[string]string{"method": "POST", "route": "/api/v2/{serviceProvider}/decisions/authorize/{mvpd}", "code": "401"}, 1},
		{"passgw_v2_calls_total", map[string]string{"method": "POST", "route": "/o/client/token", "code": "201"}, 2},
		{"passgw_v2_call_duration_seconds_count", map[string]string{"method": "GET", "route": "/api/v2/{serviceProvider}/configuration"}, 1},
		{"passgw_cache_lookups_total", map[string]string{"cache": "config", "result": "miss"}, 1},
		{"passgw_cache_lookups_total", map[string]string{"cache": "config", "result": "hit"}, 1},
		{"passgw_cache_lookups_total", map[string]string{"cache": "profiles", "result": "hit"}, 1},
		{"passgw_v2_token_refreshes_total", map[string]string{"service_provider": "REF30", "reason": "rejected"}, 1},
	}
	for _, tt := range tests {
		key := testenv.MetricSeries(tt.name, tt.labels)
		if moved := after[key] - before[key]; moved < tt.atLeast {
			t.Errorf("%s moved by %v, want at least %v", key, moved, tt.atLeast)
		}
	}
	// Config is fetched once and then served from the cache.
	if n := after[testenv.MetricSeries("passgw_v2_calls_total", map[string]string{"method": "GET", "route": "/api/v2/{serviceProvider}/configuration", "code": "200"})]; n != 1 {
		t.Errorf("v2 configuration fetched %v times, want 1", n)
	}
	for key := range after {
		if strings.Contains(key, deviceID) || strings.Contains(key, "REF30/") {
			t.Errorf("series labelled with a raw value: %s", key)
		}
	}
}

// TestReadiness: /readyz is 503 while the gateway cannot obtain a v2
// token, and 200 when it can, on the device listener with the verdict
// alone (TestReadyzDetailsForOperators shows where the failed checks are
// told); /healthz is 200 regardless.
func TestReadiness(t *testing.T) {
	tests := []struct {
		name      string
		statement string
		status    int
		body      string
	}{
		{"token obtained", sandboxStatement, 200, "ready\n"},
		{"statement refused", "not-a-statement", 503, "not ready\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newObsWorld(t, func(c *Config) {
				c.Requestors = []RequestorConfig{
					{
						Requestor: translate.Requestor{
							ID:          "REF30",
							DomainName:  "localhost",
							RedirectURL: "http://localhost/done",
						},
						SoftwareStatement: tt.statement,
					},
				}
			})
			resp, body := w.call("GET", "/readyz", nil, "")
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("/readyz: %d %q, want %d with %q", resp.StatusCode, body, tt.status, tt.body)
			}
			if strings.Contains(body, tt.statement) {
				t.Errorf("/readyz shows the software statement: %q", body)
			}
			if resp, _ := w.call("GET", "/healthz", nil, ""); resp.StatusCode != 200 {
				t.Errorf("/healthz: %d", resp.StatusCode)
			}
			// Operator endpoints are not v1 calls.
			for _, s := range w.spans.GetSpans() {
				if s.SpanKind == trace.SpanKindServer {
					t.Errorf("server span %q for an operator endpoint", s.Name)
				}
			}
		})
	}
}

// TestBrokenConfigNamesField: serve refuses to start on a broken
// configuration, naming each offending field.
func TestBrokenConfigNamesField(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown field", "adress: 127.0.0.1:0\n", []string{"adress"}},
		{"bad values", "log_level: loud\nupstream_timeout: 10s\ntrusted_proxies: [10.0.0.0/33]\n",
			[]string{"log_level", "trusted_proxies[0]"}},
		{"requestor without statement", "upstream: production\nrequestors:\n  - id: NBC\n    domain_name: example.com\n    redirect_url: https://example.com/done\n",
			[]string{"requestors[0].software_statement", "PASSGW_SOFTWARE_STATEMENT_NBC"}},
		{"requestor incomplete", "requestors:\n  - id: REF30\n    software_statement: s\n    redirect_url: /done\n",
			[]string{"requestors[0].domain_name", "requestors[0].redirect_url"}},
		// The translation settings are checked once, by translate, named as
		// in the file.
		{"requestor contradictions", "requestors:\n  - id: REF30\n    software_statement: s\n    domain_name: example.com\n" +
			"    redirect_url: https://example.com/done\n    preauthorize_chunk: -1\n    allowed_redirect_urls: [myapp://example.com/done]\n",
			[]string{"requestors[0].preauthorize_chunk", "requestors[0].allowed_redirect_urls[0]"}},
		{"bad inline type", "requestors:\n  - id: REF30\n    preauthorize_chunk: many\n", []string{"requestors[0].preauthorize_chunk (line 3)"}},
		{"bad upstream", "upstream: ftp:/nowhere\n", []string{"upstream"}},
		{"bad duration", "log_level: info\nshutdown_timeout: soon\n", []string{"shutdown_timeout (line 2)"}},
		{"bad nested type", "requestors:\n  - id: REF30\n    throttle:\n      burst: lots\n", []string{"requestors[0].throttle.burst (line 4)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "passgw.yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr strings.Builder
			err := run(ctx, []string{"serve", "--config", file, "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0"}, &stdout, &stderr)
			if err == nil {
				t.Fatal("serve started on a broken configuration")
			}
			for _, field := range tt.want {
				if !strings.Contains(err.Error(), field) {
					t.Errorf("error %q does not name %s", err, field)
				}
			}
			if strings.Contains(stdout.String(), "listening") {
				t.Errorf("serve listened: %s", stdout.String())
			}
		})
	}
}

// TestExampleConfigStarts runs `passgw serve --config passgw.example.yaml`
// on free ports, waits for /readyz, scrapes /metrics and probes it with the
// healthcheck subcommand, then stops it with the context.
func TestExampleConfigStarts(t *testing.T) {
	example := filepath.Join(testenv.ModuleRoot(t), "passgw.example.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, outW := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", example, "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0"}, outW, &stderr)
		outW.Close()
	}()
	lines := bufio.NewScanner(out)
	var base string
	for lines.Scan() {
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			break
		}
	}
	go io.Copy(io.Discard, out)
	if base == "" {
		t.Fatalf("serve did not report its address: %v\n%s", <-done, stderr.String())
	}
	if strings.HasSuffix(base, ":0") {
		t.Fatalf("serve reports port 0: %s", base)
	}

	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/readyz: %d %s\n%s", resp.StatusCode, body, stderr.String())
	}
	// The default requestor's landing page is on the port actually bound.
	resp, err = http.Get(base + "/api/v1/config/REF30.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("config: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	samples := testenv.MetricSamples(t, resp.Body)
	resp.Body.Close()
	if n := samples[testenv.MetricSeries("passgw_v1_requests_total", map[string]string{"method": "GET", "route": "/api/v1/config/{requestor}", "format": "json", "code": "200"})]; n != 1 {
		t.Errorf("config calls counted %v, want 1", n)
	}

	var hcOut, hcErr strings.Builder
	if err := run(ctx, []string{"healthcheck", "--url", base + "/readyz"}, &hcOut, &hcErr); err != nil {
		t.Errorf("healthcheck: %v", err)
	}
	if err := run(ctx, []string{"healthcheck", "--url", base + "/nothing-here"}, &hcOut, &hcErr); err == nil {
		t.Error("healthcheck passed on a 404")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestHealthcheckUnreachable: nothing listening is a failure, not a hang.
func TestHealthcheckUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	var out, errw strings.Builder
	err := run(context.Background(), []string{"healthcheck", "--url", addr + "/readyz", "--timeout", "5s"}, &out, &errw)
	if err == nil {
		t.Fatal("healthcheck passed with nothing listening")
	}
	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		t.Errorf("error %v, want the connection failure", err)
	}
}

func (w *obsWorld) scrape() map[string]float64 {
	w.t.Helper()
	resp, err := http.Get(w.URL + "/metrics")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		w.t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return testenv.MetricSamples(w.t, resp.Body)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func attrValues(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}
