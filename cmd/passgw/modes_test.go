package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/compat/golden"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate/store"
)

// newModeWorld is a test world (REF30 only) on the configuration changed by
// mutate (migration modes), with the gateway's Store and Shadow from hk.
func newModeWorld(t *testing.T, mutate func(*Config), hk hooks) *testWorld {
	t.Helper()
	return startWorld(t, mutate, nil, hooks{Store: hk.Store, Shadow: hk.Shadow})
}

// caseTree copies named golden cases ("scenario/file") into one
// directory, in the order given, applying edits (file -> old, new).
func caseTree(t *testing.T, names []string, edits map[string][2]string) string {
	t.Helper()
	dst := t.TempDir()
	for i, n := range names {
		b, err := os.ReadFile(filepath.Join(goldenDir(t), n))
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := edits[n]; ok {
			if !bytes.Contains(b, []byte(e[0])) {
				t.Fatalf("%s no longer holds %s", n, e[0])
			}
			b = bytes.Replace(b, []byte(e[0]), []byte(e[1]), 1)
		}
		name := filepath.Join(dst, strings.Replace(filepath.Base(n), filepath.Base(n)[:2], twoDigits(i), 1))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func twoDigits(i int) string { return string([]byte{'0' + byte(i/10), '0' + byte(i%10)}) }

// rawExchange is an answer as bytes: status, every header but Date, body.
type rawExchange struct {
	Status int
	Header http.Header
	Body   []byte
}

func sendRaw(t *testing.T, base string, r golden.Request) rawExchange {
	t.Helper()
	if r.Header.Get("X-Forwarded-For") == "" {
		r.Header = r.Header.Clone()
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Set("X-Forwarded-For", deviceIP)
	}
	req, err := r.NewHTTPRequest(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	return rawExchange{resp.StatusCode, h, b}
}

// TestPassthroughOnReplay puts the gateway in passthrough mode in front of
// a stand-in v1 upstream (golden replay of two scenarios) and proves every
// answer is byte for byte what the upstream gives a device directly —
// status, headers, body — that the upstream saw the device address and its
// own Host, and that v2 was never called.
func TestPassthroughOnReplay(t *testing.T) {
	root := t.TempDir()
	for _, sc := range []string{"01-regcode", "02-config"} {
		if err := os.CopyFS(filepath.Join(root, sc), os.DirFS(filepath.Join(goldenDir(t), sc))); err != nil {
			t.Fatal(err)
		}
	}
	behind, upstream := replayServer(t, root)
	_, direct := replayServer(t, root)
	w := newModeWorld(t, func(c *Config) { c.Mode, c.V1Upstream = "passthrough", upstream.URL }, hooks{})

	scenarios, err := golden.LoadScenarios(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sc := range scenarios {
		var codes []string
		for _, st := range sc.Steps {
			r := st.Case.Request
			for i := len(codes); i > 0; i-- {
				r.Target = strings.ReplaceAll(r.Target, "{{code"+strconv.Itoa(i)+"}}", codes[i-1])
			}
			if len(codes) > 0 {
				r.Target = strings.ReplaceAll(r.Target, "{{code}}", codes[len(codes)-1])
			}
			viaGateway := sendRaw(t, w.URL, r)
			want := sendRaw(t, direct.URL, r)
			if diff := cmp.Diff(want, viaGateway); diff != "" {
				t.Errorf("%s: through the gateway (-direct +gateway):\n%s", st.Path, diff)
			}
			if viaGateway.Status != st.Case.Response.Status {
				t.Errorf("%s: status %d, recorded %d", st.Path, viaGateway.Status, st.Case.Response.Status)
			}
			if c := golden.RegistrationCode(golden.Response{Body: viaGateway.Body}); viaGateway.Status == 201 && c != "" {
				codes = append(codes, c)
			}
			n++
		}
	}
	hits := behind.Hits()
	if len(hits) != n {
		t.Fatalf("upstream got %d calls, want %d", len(hits), n)
	}
	for _, h := range hits {
		if h.Case == "" {
			t.Errorf("upstream had no case for %s %s", h.Method, h.Target)
		}
		if xff := h.Header.Values("X-Forwarded-For"); !slices.Equal(xff, []string{deviceIP}) {
			t.Errorf("%s %s: upstream got X-Forwarded-For %q", h.Method, h.Target, xff)
		}
		if host := h.Header.Get("X-Forwarded-Host"); host != strings.TrimPrefix(w.URL, "http://") {
			t.Errorf("X-Forwarded-Host %q", host)
		}
	}
	if reqs := w.sandbox.Requests(); len(reqs) != 0 {
		t.Errorf("passthrough reached v2: %d calls, first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
	}
}

// shadowReadOnly are golden cases of read-only calls whose answers a fresh
// gateway reproduces: config, checkauthn, tokens/authn, tokens/authz,
// preauthorize, usermetadata (before any login) and regcode GET.
var shadowReadOnly = []string{
	"02-config/01-config-xml.txtar", "02-config/02-config-json.txtar", "02-config/03-config-post-json.txtar", "02-config/07-config-post-xml.txtar",
	"03-signin-alice/01-checkauthn-xml.txtar", "03-signin-alice/02-checkauthn-json.txtar",
	"03-signin-alice/03-tokens-authn-xml.txtar", "03-signin-alice/04-tokens-authn-json.txtar",
	"03-signin-alice/05-tokens-authz-xml.txtar", "03-signin-alice/06-tokens-authz-json.txtar",
	"03-signin-alice/10-preauthorize-xml.txtar", "03-signin-alice/11-preauthorize-json.txtar",
	"03-signin-alice/12-usermetadata-xml.txtar", "03-signin-alice/13-usermetadata-json.txtar",
	"01-regcode/06-get-unknown-xml.txtar", "01-regcode/07-get-unknown-json.txtar",
}

// shadowStateChanging are golden cases of calls shadow mode must never
// duplicate.
var shadowStateChanging = []string{
	"01-regcode/01-create-xml.txtar",
	"03-signin-alice/07-authorize-xml.txtar",
	"03-signin-alice/09-tokens-media-xml.txtar",
	"01-regcode/13-delete-unknown-xml.txtar",
}

// TestShadowOnReplay runs the gateway in shadow mode in front of a
// stand-in v1 upstream serving answers the gateway itself recorded: every
// read-only call is compared and matches; with three answers seeded to
// differ, exactly those three are counted and logged; state-changing calls
// reach v1 exactly once and v2 never.
func TestShadowOnReplay(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string][2]string
		// differ is the expected difference count by endpoint.
		differ map[string]int
	}{
		{name: "matching"},
		{name: "seeded", edits: map[string][2]string{
			"02-config/01-config-xml.txtar":              {"<displayName>Acme Cable</displayName>", "<displayName>Acme Cable Co.</displayName>"},
			"03-signin-alice/02-checkauthn-json.txtar":   {`"message":"Authentication token expired"`, `"message":"Not authenticated"`},
			"03-signin-alice/11-preauthorize-json.txtar": {"HTTP/1.1 412 Precondition Failed", "HTTP/1.1 401 Unauthorized"},
		}, differ: map[string]int{"GET /api/v1/config/{requestor}": 1, "GET /api/v1/checkauthn": 1, "GET /api/v1/preauthorize": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := caseTree(t, append(slices.Clone(shadowReadOnly), shadowStateChanging...), tt.edits)
			rp, upstream := replayServer(t, dir)
			diffs := t.TempDir()
			sh := &compat.Shadow{}
			w := newModeWorld(t, func(c *Config) {
				c.Mode, c.V1Upstream = "shadow", upstream.URL
				c.Shadow.LogDir = diffs
				// More slots than calls: none is skipped.
				c.Shadow.Concurrency = 32
			}, hooks{Shadow: sh})
			scenarios, err := golden.LoadScenarios(dir)
			if err != nil {
				t.Fatal(err)
			}
			steps := scenarios[0].Steps
			readOnly, changing := steps[:len(shadowReadOnly)], steps[len(shadowReadOnly):]

			for _, st := range readOnly {
				got := sendRaw(t, w.URL, st.Case.Request)
				if got.Status != st.Case.Response.Status || string(got.Body) != golden.ReplayText(string(st.Case.Response.Body), upstream.URL) {
					t.Errorf("%s: the device did not get v1's answer: %d %s", st.Path, got.Status, got.Body)
				}
			}
			sh.Wait()
			counts := sh.Counts()
			match, differ := 0, map[string]int{}
			for ep, c := range counts {
				match += c.Match
				if c.Differ > 0 {
					differ[ep] = c.Differ
				}
				if c.Skipped+c.Failed > 0 {
					t.Errorf("%s: %d skipped, %d failed", ep, c.Skipped, c.Failed)
				}
			}
			wantDiffer := tt.differ
			if wantDiffer == nil {
				wantDiffer = map[string]int{}
			}
			if diff := cmp.Diff(wantDiffer, differ); diff != "" {
				t.Errorf("differences by endpoint (-want +got):\n%s", diff)
			}
			if want := len(shadowReadOnly) - len(tt.edits); match != want {
				t.Errorf("%d matches, want %d: %+v", match, want, counts)
			}
			logged, _ := filepath.Glob(filepath.Join(diffs, "*.txtar"))
			if len(logged) != len(tt.edits) {
				t.Errorf("%d difference files, want %d", len(logged), len(tt.edits))
			}
			if len(w.sandbox.Requests()) == 0 {
				t.Error("no v2 call: the translated path did not run")
			}

			// State-changing calls: v1 once each, v2 never, nothing compared.
			v2Before := len(w.sandbox.Requests())
			hitsBefore := len(rp.Hits())
			for _, st := range changing {
				got := sendRaw(t, w.URL, st.Case.Request)
				if got.Status != st.Case.Response.Status || string(got.Body) != golden.ReplayText(string(st.Case.Response.Body), upstream.URL) {
					t.Errorf("%s: the device did not get v1's answer: %d %s", st.Path, got.Status, got.Body)
				}
			}
			sh.Wait()
			hits := rp.Hits()[hitsBefore:]
			var names []string
			for _, h := range hits {
				names = append(names, h.Case)
			}
			var want []string
			for _, st := range changing {
				want = append(want, st.Case.Name)
			}
			if diff := cmp.Diff(want, names); diff != "" {
				t.Errorf("v1 hits of the state-changing calls (-want +got):\n%s", diff)
			}
			if v2 := w.sandbox.Requests()[v2Before:]; len(v2) != 0 {
				t.Errorf("a state-changing call reached v2: %s %s", v2[0].Method, v2[0].Path)
			}
			if diff := cmp.Diff(counts, sh.Counts()); diff != "" {
				t.Errorf("state-changing calls were compared (-before +after):\n%s", diff)
			}
		})
	}
}

// TestConfigModes proves the migration settings are read from YAML,
// inherited from the top level, and checked with the field named.
func TestConfigModes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "passgw.yaml")
	yaml := `
mode: shadow
v1_upstream: https://api.auth.adobe.com
canary_percent: 5
shadow:
  concurrency: 2
  timeout: 3s
  ignore: [id, header:Date]
  log_dir: /var/log/passgw/shadow
requestors:
  - id: A
    software_statement: s
    domain_name: example.com
    redirect_url: https://example.com/done
  - id: B
    software_statement: s
    domain_name: example.com
    redirect_url: https://example.com/done
    mode: canary
    canary_percent: 12.5
    v1_upstream: https://v1.example.com/prefix
  - id: C
    software_statement: s
    domain_name: example.com
    redirect_url: https://example.com/done
    mode: translate
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if !cfg.migrating() || cfg.Shadow.Concurrency != 2 || cfg.Shadow.Timeout != 3*time.Second || len(cfg.Shadow.Ignore) != 2 {
		t.Errorf("shadow settings not read: %+v", cfg.Shadow)
	}
	pol := cfg.policies()
	got := map[string]string{}
	for _, r := range []string{"A", "B", "C", "", "UNKNOWN"} {
		p := pol(r)
		up := ""
		if p.Upstream != nil {
			up = p.Upstream.String()
		}
		got[r] = string(p.Mode) + " " + up + " " + strconv.FormatFloat(p.CanaryPercent, 'f', -1, 64)
	}
	want := map[string]string{
		"A":       "shadow https://api.auth.adobe.com 5",
		"B":       "canary https://v1.example.com/prefix 12.5",
		"C":       "translate https://api.auth.adobe.com 5",
		"":        "shadow https://api.auth.adobe.com 5",
		"UNKNOWN": "shadow https://api.auth.adobe.com 5",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}

	bad := []struct {
		mutate func(*Config)
		field  string
	}{
		{func(c *Config) { c.Mode = "mirror" }, "mode: want translate, passthrough, shadow or canary"},
		{func(c *Config) { c.Mode = "passthrough" }, "v1_upstream: required by mode passthrough"},
		{func(c *Config) { c.Requestors[0].Mode = "shadow" }, "requestors[0].v1_upstream: required by mode shadow"},
		{func(c *Config) { c.V1Upstream = "v1.example.com" }, "v1_upstream: not an absolute http(s) URL"},
		{func(c *Config) { c.CanaryPercent = 101 }, "canary_percent: want 0 to 100"},
		{func(c *Config) { p := -1.0; c.Requestors[0].CanaryPercent = &p }, "requestors[0].canary_percent: want 0 to 100"},
		{func(c *Config) { c.Shadow.Concurrency = -1 }, "shadow: concurrency and timeout must not be negative"},
		{func(c *Config) { c.V1Guard.FailureShare = 1.5 }, "v1_guard.failure_share: want a share above 0 and at most 1"},
		{func(c *Config) { c.V1Guard.Window = -time.Second }, "v1_guard.window: must be positive"},
		{func(c *Config) { c.V1Guard.MinCalls = -1 }, "v1_guard.min_calls: must not be negative"},
		{func(c *Config) { c.V1Guard.Recheck = -time.Second }, "v1_guard.recheck: must be positive"},
	}
	for _, tt := range bad {
		c := &Config{}
		if err := c.provision(func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
		tt.mutate(c)
		err := c.provision(func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("want an error naming %q, got %v", tt.field, err)
		}
	}
	if c := (&Config{}); c.provision(func(string) string { return "" }) != nil || c.migrating() {
		t.Error("the zero configuration must be plain translate")
	}
}

// TestCanaryStickyAcrossInstances runs two gateways sharing a store, the
// first with canary at 100 %, the second at 0 %: a device that registered
// through the first is still answered by translate on the second (and so
// is the browser call naming its code), while another device goes to v1.
func TestCanaryStickyAcrossInstances(t *testing.T) {
	dir := caseTree(t, []string{"02-config/01-config-xml.txtar", "03-signin-alice/01-checkauthn-xml.txtar"}, nil)
	rp, upstream := replayServer(t, dir)
	st := store.NewMemory(nil)
	canary := func(percent float64) func(*Config) {
		return func(c *Config) { c.Mode, c.V1Upstream, c.CanaryPercent = "canary", upstream.URL, percent }
	}
	all := newModeWorld(t, canary(100), hooks{Store: st})
	none := newModeWorld(t, canary(0), hooks{Store: st})

	resp, body := all.do("POST", "/reggie/v1/REF30/regcode.json", map[string]string{"X-Forwarded-For": deviceIP}, "deviceId=dev-canary")
	code := golden.RegistrationCode(golden.Response{Body: body})
	if resp.StatusCode != 201 || code == "" || len(all.sandbox.Requests()) == 0 {
		t.Fatalf("registration at 100%%: %d %s", resp.StatusCode, body)
	}
	for _, target := range []string{
		"/api/v1/checkauthn?requestor=REF30&deviceId=dev-canary",
		"/reggie/v1/REF30/regcode/" + code,
	} {
		before := len(none.sandbox.Requests())
		resp, body := none.do("GET", target, map[string]string{"X-Forwarded-For": deviceIP}, "")
		if len(rp.Hits()) != 0 {
			t.Fatalf("%s: the registered device reached v1 (%d %s)", target, resp.StatusCode, body)
		}
		if target == "/api/v1/checkauthn?requestor=REF30&deviceId=dev-canary" && len(none.sandbox.Requests()) == before {
			t.Errorf("%s: translate did not ask v2", target)
		}
	}
	resp, body = none.do("GET", "/api/v1/checkauthn?requestor=REF30&deviceId=dev-alice", map[string]string{"X-Forwarded-For": deviceIP}, "")
	if hits := rp.Hits(); len(hits) != 1 || hits[0].Case == "" || resp.StatusCode != 403 {
		t.Errorf("another device at 0%%: %d %s, v1 hits %d", resp.StatusCode, body, len(hits))
	}
}

// TestShadowOutcomesCounted: the shadow comparisons the configuration
// sets up tell the metrics of every outcome, each counted by route in
// passgw_shadow_comparisons_total.
func TestShadowOutcomesCounted(t *testing.T) {
	m := telemetry.NewMetrics("test")
	sh, err := (&Config{}).setUpShadow(&compat.Shadow{}, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if sh.Compared == nil || sh.Skipped == nil || sh.Failed == nil {
		t.Fatalf("hooks not set: compared %v, skipped %v, failed %v", sh.Compared != nil, sh.Skipped != nil, sh.Failed != nil)
	}
	const route = "GET /api/v1/checkauthn"
	sh.Compared(route, true)
	sh.Compared(route, false)
	sh.Skipped(route)
	sh.Failed(route)
	sh.Failed(route)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	got := testenv.MetricSamples(t, rec.Body)
	for result, want := range map[string]float64{"match": 1, "difference": 1, "skipped": 1, "failed": 2} {
		k := testenv.MetricSeries("passgw_shadow_comparisons_total", map[string]string{"method": "GET", "route": "/api/v1/checkauthn", "result": result})
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
}
