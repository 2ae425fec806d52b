package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/internal/testenv"
)

const reloadToken = "ops-token-for-the-reload-test"

// reloadConfig is the configuration file of TestReloadUnderLoad: REF30 in
// canary mode at percent in front of the v1 stand-in, plus extra.
func reloadConfig(sandbox, standIn string, percent, extra string) string {
	return fmt.Sprintf(`upstream: %s
store: memory
log_buffer: {off: true}
throttle: {off: true}
upstream_budget: {off: true}
dcr_keys: [%q]
v1_upstream: %s
ops: {token: %s}
requestors:
  - id: REF30
    software_statement: %s
    domain_name: example.com
    redirect_url: %s
    mode: canary
    canary_percent: %s
%s`, sandbox, procDCRKey, standIn, reloadToken, sandboxStatement, procRedirect, percent, extra)
}

// newRequestor is the requestor the first reload adds.
const newRequestor = `  - id: REF30N
    service_provider: REF30
    software_statement: sandbox-statement
    domain_name: example.com
    redirect_url: https://example.com/done
`

// TestReloadUnderLoad changes a running gateway process while devices
// call it. SIGHUP raises REF30's canary_percent from 0 to 50 and adds
// REF30N: no call fails or is dropped, the devices the new percentage
// picks are answered by translate and the others still by v1, REF30N is
// served, the reload is logged and counted and passgw_config_info shows
// the new file's hash. Then a file with a bad field (SIGHUP) and one
// changing the store (POST /ops/reload) are refused, naming the field, and
// the running configuration keeps serving.
func TestReloadUnderLoad(t *testing.T) {
	sb := startSandboxProc(t)
	_, standIn := replayServer(t, standInDir(t))
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(reloadConfig(sb.URL, standIn.URL, "0", ""))
	p := startServe(t, "gateway", path, "127.0.0.1:0")

	load := startLoad(16, func(i, n int) (string, string, string, string) {
		if n%3 == 2 {
			return "", p.URL, "REF30N", "/api/v1/config/REF30N"
		}
		return "", p.URL, "REF30", "/api/v1/checkauthn?requestor=REF30&deviceId={device}"
	})
	client := &http.Client{Timeout: 10 * time.Second}
	reloads := func(result string) float64 {
		return scrapeURL(t, p.URL)[testenv.MetricSeries("passgw_config_reloads_total", map[string]string{"result": result})]
	}
	time.Sleep(500 * time.Millisecond)

	// The reload: 50 % and a new requestor.
	newFile := reloadConfig(sb.URL, standIn.URL, "50", newRequestor)
	write(newFile)
	p.signal(syscall.SIGHUP)
	testenv.Eventually(t, "the reload applied", 10*time.Second, func() error {
		if n := reloads("applied"); n != 1 {
			return fmt.Errorf("%v applied", n)
		}
		return nil
	})
	reloaded := time.Now()
	hash := configHash([]byte(newFile))
	if v := scrapeURL(t, p.URL)[testenv.MetricSeries("passgw_config_info", map[string]string{"hash": hash})]; v != 1 {
		t.Errorf("passgw_config_info{hash=%q} = %v", hash, v)
	}
	time.Sleep(700 * time.Millisecond)

	// A broken file by SIGHUP: refused, naming the field.
	write(reloadConfig(sb.URL, standIn.URL, "150", newRequestor))
	p.signal(syscall.SIGHUP)
	testenv.Eventually(t, "the broken file refused", 10*time.Second, func() error {
		if n := reloads("refused"); n != 1 {
			return fmt.Errorf("%v refused", n)
		}
		return nil
	})
	// A store change by the endpoint: refused, naming the setting.
	write(strings.Replace(newFile, "store: memory", "store: redis://127.0.0.1:1/0", 1))
	post := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/ops/reload", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(""); code != http.StatusUnauthorized {
		t.Errorf("POST /ops/reload without the token: %d %s", code, body)
	}
	if code, body := post("not-" + reloadToken); code != http.StatusUnauthorized {
		t.Errorf("POST /ops/reload with another token: %d %s", code, body)
	}
	if code, body := post(reloadToken); code != http.StatusUnprocessableEntity || !strings.Contains(body, "change only with a restart: store") {
		t.Errorf("POST /ops/reload changing the store: %d %s", code, body)
	}
	time.Sleep(500 * time.Millisecond)
	calls := load.finish()

	if n := reloads("refused"); n != 2 {
		t.Errorf("%v reloads refused, want 2", n)
	}
	if v := scrapeURL(t, p.URL)[testenv.MetricSeries("passgw_config_info", map[string]string{"hash": hash})]; v != 1 {
		t.Errorf("after the refusals passgw_config_info{hash=%q} = %v, want the reloaded file's still", hash, v)
	}
	logs := p.stderr.String()
	if countLines(logs, `msg="configuration reloaded" trigger=SIGHUP hash=`+hash) != 1 {
		t.Errorf("no log line of the reload:\n%s", logs)
	}
	if !strings.Contains(logs, "configuration reload refused") || !strings.Contains(logs, "requestors[0].canary_percent: want 0 to 100, got 150") {
		t.Errorf("the refusal of the broken file is not logged naming the field:\n%s", logs)
	}

	// Every call answered, as the configuration in effect when it started
	// says (either one while the reload was being applied).
	var before, after, inCanary, outCanary int
	for _, c := range calls {
		if c.err != nil {
			t.Errorf("%s: %v", c.path, c.err)
			continue
		}
		config := strings.HasPrefix(c.path, "/api/v1/config/")
		var oldOK, newOK bool
		if config {
			oldOK = c.status == http.StatusBadRequest && !c.standIn // REF30N unknown
			newOK = c.status == http.StatusOK && !c.standIn
		} else {
			oldOK = c.status == http.StatusOK && c.standIn // 0 %: all on v1
			if compat.InCanary("REF30", c.device, 50) {
				newOK = c.status == http.StatusForbidden && !c.standIn // translate: not signed in
			} else {
				newOK = oldOK
			}
		}
		if c.start.After(reloaded) {
			after++
			if !newOK {
				t.Errorf("%s of %s after the reload: %d (stand-in %v)", c.path, c.device, c.status, c.standIn)
			}
			if !config && compat.InCanary("REF30", c.device, 50) {
				inCanary++
			} else if !config {
				outCanary++
			}
			continue
		}
		before++
		if !oldOK && !newOK {
			t.Errorf("%s of %s around the reload: %d (stand-in %v)", c.path, c.device, c.status, c.standIn)
		}
	}
	if after == 0 || inCanary == 0 || outCanary == 0 {
		t.Errorf("after the reload: %d calls, %d of canary devices, %d of others", after, inCanary, outCanary)
	}
	t.Logf("%d calls before or during the reloads, %d after the first one (%d canary, %d v1), none failed", before, after, inCanary, outCanary)
}

// TestReloadKeepsCallsInFlight proves a call finishes on the configuration
// it started with: a passthrough call waiting on v1 while a reload moves
// the requestor to translate still gets v1's answer, and the next call is
// translate's.
func TestReloadKeepsCallsInFlight(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	v1 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.Header().Set("X-Stand-In", "v1")
		io.WriteString(w, "{}")
	}))
	defer v1.Close()
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	file := func(mode string) string {
		return fmt.Sprintf("mode: %s\nv1_upstream: %s\nthrottle: {off: true}\nlog_level: error\n", mode, v1.URL)
	}
	if err := os.WriteFile(path, []byte(file("passthrough")), 0o600); err != nil {
		t.Fatal(err)
	}
	src := &configSource{path: path, addr: "127.0.0.1:0"}
	cfg, _, err := src.read()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	sb := startSandboxProc(t)
	logger, _ := testenv.DebugLogger(t)
	gw, err := newGateway(cfg, sb.URL, logger, hooks{})
	if err != nil {
		t.Fatal(err)
	}
	gw.source = src
	srv := httptest.NewServer(gw)
	defer srv.Close()

	type result struct {
		status  int
		standIn bool
	}
	get := func() result {
		resp, err := http.Get(srv.URL + "/api/v1/checkauthn?requestor=REF30&deviceId=d1")
		if err != nil {
			t.Error(err)
			return result{}
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return result{resp.StatusCode, resp.Header.Get("X-Stand-In") != ""}
	}
	inFlight := make(chan result)
	go func() { inFlight <- get() }()
	<-arrived
	if err := os.WriteFile(path, []byte(file("translate")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.reload("test"); err != nil {
		t.Fatal(err)
	}
	close(release)
	if r := <-inFlight; r.status != http.StatusOK || !r.standIn {
		t.Errorf("the call in flight during the reload got %+v, want v1's answer", r)
	}
	if r := get(); r.status != http.StatusForbidden || r.standIn {
		t.Errorf("the call after the reload got %+v, want translate's 403", r)
	}
}

// TestReloadRefusals proves what a reload refuses, naming each field, with
// the running configuration left in effect: a file that does not provision,
// one changing settings fixed for the life of the process, one that does
// not parse, and no file at all.
func TestReloadRefusals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	base := "throttle: {off: true}\nlog_level: error\n"
	tests := []struct {
		name, file string
		want       []string
	}{
		{"provision", base + "mode: canary\ncanary_percent: 300\n", []string{"invalid configuration", "canary_percent: want 0 to 100", "v1_upstream: required by mode canary"}},
		{"restart only", base + "store: redis://127.0.0.1:1/0\nupstream_timeout: 3s\nshutdown_timeout: 1s\n", []string{"change only with a restart: upstream_timeout, shutdown_timeout, store"}},
		{"store cap", base + "store_max_entries: 5000\n", []string{"change only with a restart: store_max_entries"}},
		{"parse", base + "canary_percent: lots\n", []string{"canary_percent (line 3)"}},
		{"unknown field", base + "canary_percnet: 5\n", []string{"canary_percnet"}},
	}
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	src := &configSource{path: path}
	cfg, _, _ := src.read()
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	logger, logs := testenv.DebugLogger(t)
	gw, err := newGateway(cfg, "http://127.0.0.1:1", logger, hooks{})
	if err != nil {
		t.Fatal(err)
	}
	gw.source = src
	running := gw.cur.Load()
	for _, tt := range tests {
		if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := gw.reload("test")
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want one naming %q", tt.name, err, w)
			}
		}
		if gw.cur.Load() != running {
			t.Errorf("%s: the running configuration was replaced", tt.name)
		}
	}
	if !strings.Contains(logs.String(), "configuration reload refused") {
		t.Errorf("refusals not logged:\n%s", logs)
	}
	gw.source = &configSource{}
	if _, err := gw.reload("test"); err == nil || !strings.Contains(err.Error(), "without --config") {
		t.Errorf("reload without a file: %v", err)
	}
}

// TestReloadKeepsTheGuard proves the v1 guard's memory outlives a reload:
// a requestor diverted from a dead v1 stays on translate through a reload
// that changes something else (here the log level, which takes effect),
// and goes back when the configuration moves it to translate.
func TestReloadKeepsTheGuard(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	file := func(mode, level string) string {
		return fmt.Sprintf("mode: %s\nv1_upstream: %s\nv1_guard: {min_calls: 3}\nthrottle: {off: true}\nlog_level: %s\n", mode, dead.URL, level)
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(file("passthrough", "info"))
	src := &configSource{path: path}
	cfg, _, _ := src.read()
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	sb := startSandboxProc(t)
	logger, logs := testenv.DebugLogger(t)
	gw, err := newGateway(cfg, sb.URL, logger, hooks{})
	if err != nil {
		t.Fatal(err)
	}
	gw.source, gw.level = src, &slog.LevelVar{}
	call := func() int {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d1", nil)
		r.RemoteAddr = "127.0.0.1:5000"
		gw.ServeHTTP(w, r)
		return w.Code
	}
	for range 3 {
		if code := call(); code != http.StatusBadGateway {
			t.Fatalf("before the switch: %d, want 502", code)
		}
	}
	write(file("passthrough", "debug"))
	if _, err := gw.reload("test"); err != nil {
		t.Fatal(err)
	}
	if gw.level.Level() != slog.LevelDebug {
		t.Errorf("log level %v after the reload, want debug", gw.level.Level())
	}
	if st := gw.cur.Load().guard.Status(); len(st) != 1 || st[0].Requestor != "REF30" {
		t.Fatalf("after a reload the guard holds %+v, want REF30 diverted", st)
	}
	if code := call(); code != http.StatusForbidden {
		t.Errorf("diverted call after the reload: %d, want translate's 403", code)
	}
	write(file("translate", "debug"))
	if _, err := gw.reload("test"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "the configuration no longer sends it to v1") {
		t.Errorf("moving the requestor to translate did not release it:\n%s", logs)
	}
}

// TestConfigSourceFlags proves the flags override the file on every read,
// each its own field even when two carry the same value, and that a
// reload reading the free-port address asked for keeps the one bound.
func TestConfigSourceFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	if err := os.WriteFile(path, []byte("addr: 127.0.0.1:0\nstore: memory\nupstream: staging\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := &configSource{path: path, sandboxAddr: "127.0.0.1:0", upstream: "sandbox", requested: "127.0.0.1:0", bound: "127.0.0.1:41234"}
	cfg, raw, err := src.read()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:41234" || cfg.SandboxAddr != "127.0.0.1:0" || cfg.Upstream != "sandbox" || cfg.Store != "memory" || len(raw) == 0 {
		t.Errorf("read %+v", cfg)
	}
}

// TestOpsListener runs a gateway process with ops.addr: the operator
// endpoints answer there (metrics, readiness, a reload with the token),
// and the device listener serves no /ops/ path.
func TestOpsListener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	file := "ops: {addr: 127.0.0.1:0, token: " + reloadToken + "}\nlog_buffer: {off: true}\nsandbox_addr: 127.0.0.1:0\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "gateway", regexp.MustCompile(`^passgw operator endpoints on (http://\S+)`), "serve", "--config", path, "--addr", "127.0.0.1:0")
	post := func(base string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/ops/reload", nil)
		req.Header.Set("Authorization", "Bearer "+reloadToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(p.URL); code != http.StatusOK {
		t.Errorf("POST /ops/reload on the operator listener: %d", code)
	}
	if v := scrapeURL(t, p.URL)[testenv.MetricSeries("passgw_config_info", map[string]string{"hash": configHash([]byte(file))})]; v != 1 {
		t.Errorf("passgw_config_info on the operator listener: %v", v)
	}
	var device string
	testenv.Eventually(t, "the device listener's address", 5*time.Second, func() error {
		m := regexp.MustCompile(`passgw listening on (http://\S+)`).FindStringSubmatch(p.stdout.String())
		if m == nil {
			return fmt.Errorf("not printed: %q", p.stdout)
		}
		device = m[1]
		return nil
	})
	if code := post(device); code != http.StatusNotFound {
		t.Errorf("POST /ops/reload on the device listener: %d, want 404", code)
	}
	if n := scrapeURL(t, p.URL)[testenv.MetricSeries("passgw_config_reloads_total", map[string]string{"result": "applied"})]; n != 1 {
		t.Errorf("%v reloads applied, want the operator listener's one", n)
	}
}

// TestGuardReleaseEndpoint proves an operator releases a requestor a
// sticky guard diverted: POST /ops/v1-guard/release with the token sends
// it back to v1 (here still dead: 502 again); without the token, or for a
// requestor not diverted, nothing happens.
func TestGuardReleaseEndpoint(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cfg := &Config{Mode: "passthrough", V1Upstream: dead.URL, Throttle: ThrottleConfig{Off: true},
		V1Guard: V1GuardConfig{MinCalls: 3, Sticky: true}, Ops: OpsConfig{Token: reloadToken}}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	logger, _ := testenv.DebugLogger(t)
	gw, err := newGateway(cfg, "http://127.0.0.1:1", logger, hooks{})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(method, target, token string) int {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(method, target, nil)
		r.RemoteAddr = "127.0.0.1:5000"
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		gw.ServeHTTP(w, r)
		return w.Code
	}
	const config = "/api/v1/config/REF30.json"
	for range 3 {
		serve("GET", config, "")
	}
	// Translate answers (its v2 upstream is down here too: a v1 500).
	if code := serve("GET", config, ""); code == http.StatusBadGateway || len(gw.cur.Load().guard.Status()) != 1 {
		t.Fatalf("diverted call: %d, guard %+v", code, gw.cur.Load().guard.Status())
	}
	for _, tt := range []struct {
		target, token string
		want          int
	}{
		{"/ops/v1-guard/release?requestor=REF30", "", http.StatusUnauthorized},
		{"/ops/v1-guard/release?requestor=OTHER", reloadToken, http.StatusNotFound},
		{"/ops/v1-guard/release?requestor=REF30", reloadToken, http.StatusOK},
		{"/ops/v1-guard/release?requestor=REF30", reloadToken, http.StatusNotFound},
	} {
		if code := serve("POST", tt.target, tt.token); code != tt.want {
			t.Errorf("POST %s (token %v): %d, want %d", tt.target, tt.token != "", code, tt.want)
		}
	}
	if code := serve("GET", config, ""); code != http.StatusBadGateway {
		t.Errorf("after the release: %d, want v1's 502 again", code)
	}
}
