package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
)

// standInCases are the v1 stand-in's recorded answers: every device is
// signed in on v1 (checkauthn 200) and every configuration is served, each
// answer marked with X-Stand-In so a test tells v1's answers from
// translate's.
var standInCases = map[string]string{
	"01-checkauthn.txtar": `A device signed in on v1.
-- request --
GET /api/v1/checkauthn?requestor={{requestor}}&deviceId={{device}} HTTP/1.1

-- response --
HTTP/1.1 200 OK
Content-Type: application/json; charset=utf-8
X-Stand-In: v1

{}
`,
	"02-config.txtar": `A requestor's configuration.
-- request --
GET /api/v1/config/{{requestor}} HTTP/1.1

-- response --
HTTP/1.1 200 OK
Content-Type: application/json; charset=utf-8
X-Stand-In: v1

{"requestor":{"id":"stand-in","mvpds":[]}}
`,
}

var replayReady = regexp.MustCompile(`^golden replay: \d+ cases on (http://\S+)`)

// standInDir writes standInCases to a new directory.
func standInDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, c := range standInCases {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startStandIn runs `passgw golden replay` on standInCases.
func startStandIn(t *testing.T) *proc {
	t.Helper()
	return startProc(t, "v1 stand-in", replayReady, "golden", "replay", "--addr", "127.0.0.1:0", standInDir(t))
}

// loadCall is one device call of a steady load and how it was answered.
type loadCall struct {
	instance, requestor, device, path string
	start, end                        time.Time
	status                            int
	standIn                           bool // answered by the v1 stand-in
	err                               error
}

// deviceLoad is devices calling gateways in a loop, each call recorded.
type deviceLoad struct {
	mu    sync.Mutex
	calls []loadCall
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

// startLoad starts devices goroutines; next says the n-th call of device
// i: the instance's name and base URL, the requestor and the path (JSON
// asked for).
func startLoad(devices int, next func(i, n int) (instance, base, requestor, path string)) *deviceLoad {
	ctx, stop := context.WithCancel(context.Background())
	l := &deviceLoad{stop: stop}
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range devices {
		l.wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				c := loadCall{device: fmt.Sprintf("load-device-%d", i)}
				var base string
				c.instance, base, c.requestor, c.path = next(i, n)
				c.path = strings.ReplaceAll(c.path, "{device}", c.device)
				c.start = time.Now()
				req, _ := http.NewRequest(http.MethodGet, base+c.path, nil)
				req.Header.Set("Accept", "application/json")
				resp, err := client.Do(req)
				c.end, c.err = time.Now(), err
				if err == nil {
					_, c.err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					c.status, c.standIn = resp.StatusCode, resp.Header.Get("X-Stand-In") != ""
				}
				l.mu.Lock()
				l.calls = append(l.calls, c)
				l.mu.Unlock()
				time.Sleep(3 * time.Millisecond)
			}
		})
	}
	return l
}

// finish stops the load and returns every call.
func (l *deviceLoad) finish() []loadCall {
	l.stop()
	l.wg.Wait()
	return l.calls
}

// guardWindow is the v1_guard window of TestV1EndOfLife.
const guardWindow = 2 * time.Second

// TestV1EndOfLife is the day v1 turns off. Two gateway processes sit in
// front of a v1 stand-in (`passgw golden replay`) and the sandbox, with
// REF30 in canary mode (30%) and REF30P in passthrough, under steady load
// from devices calling both instances. The stand-in is stopped. Within the
// guard's window each instance diverts each requestor to translate; from
// the moment an instance answered a requestor's call through translate,
// every call of that requestor there is answered through translate (the
// device is no longer signed in: 403, sign in again through v2) and none
// gets a 502. Each instance shows the switch in /metrics, in /readyz and
// in one error log line per requestor.
func TestV1EndOfLife(t *testing.T) {
	sb := startSandboxProc(t)
	standIn := startStandIn(t)
	cfg := fmt.Sprintf(`upstream: %s
store: memory
log_buffer: {off: true}
throttle: {off: true}
upstream_budget: {off: true}
dcr_keys: [%q]
ops: {addr: 127.0.0.1:0}
v1_upstream: %s
v1_guard: {window: %s, min_calls: 5, failure_share: 0.5}
requestors:
  - id: REF30
    software_statement: %s
    domain_name: example.com
    redirect_url: %s
    mode: canary
    canary_percent: 30
  - id: REF30P
    service_provider: REF30
    software_statement: %s
    domain_name: example.com
    redirect_url: %s
    mode: passthrough
`, sb.URL, procDCRKey, standIn.URL, guardWindow, sandboxStatement, procRedirect, sandboxStatement, procRedirect)
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	instances := map[string]*proc{
		"A": startServe(t, "instance A", path, "127.0.0.1:0"),
		"B": startServe(t, "instance B", path, "127.0.0.1:0"),
	}

	load := startLoad(8, func(i, n int) (string, string, string, string) {
		name := []string{"A", "B"}[n%2]
		requestor := []string{"REF30", "REF30P"}[(n/2+i)%2]
		p := "/api/v1/checkauthn?requestor=" + requestor + "&deviceId={device}"
		if n%3 == 2 {
			p = "/api/v1/config/" + requestor
		}
		return name, instances[name].URL, requestor, p
	})
	time.Sleep(time.Second)

	stopped := time.Now()
	standIn.signal(syscall.SIGTERM)
	if err := standIn.wait(10 * time.Second); err != nil {
		t.Fatalf("stand-in: %v", err)
	}
	// Every instance diverts every requestor within the window (and the
	// load's pace).
	limit := guardWindow + 3*time.Second
	for name, p := range instances {
		testenv.Eventually(t, "instance "+name+" diverting both requestors", limit, func() error {
			m := scrapeURL(t, p.URL)
			for _, r := range []string{"REF30", "REF30P"} {
				if v := m[testenv.MetricSeries("passgw_v1_fallback", map[string]string{"requestor": r})]; v != 1 {
					return fmt.Errorf("passgw_v1_fallback{requestor=%q} = %v", r, v)
				}
			}
			return nil
		})
	}
	switched := time.Since(stopped)
	time.Sleep(time.Second) // load after the switch
	calls := load.finish()

	// switchedAt is, per instance and requestor, the end of the first call
	// answered through translate by a device the canary sends to v1.
	switchedAt := map[string]time.Time{}
	var before, beforeBad, after, failedAfterStop int
	for _, c := range calls {
		k := c.instance + "/" + c.requestor
		if c.err != nil {
			t.Errorf("%s %s: %v", k, c.path, c.err)
			continue
		}
		viaV1 := c.requestor == "REF30P" || strings.HasPrefix(c.path, "/api/v1/config/") ||
			!compat.InCanary(c.requestor, c.device, 30)
		switch {
		case c.end.Before(stopped):
			before++
			if c.status == http.StatusBadGateway || c.standIn != viaV1 {
				beforeBad++
			}
		case viaV1 && !c.standIn && c.status != http.StatusBadGateway:
			if at, ok := switchedAt[k]; !ok || c.end.Before(at) {
				switchedAt[k] = c.end
			}
		}
	}
	if before == 0 || beforeBad != 0 {
		t.Errorf("before the stop: %d calls, %d not answered where their mode says", before, beforeBad)
	}
	for _, c := range calls {
		k := c.instance + "/" + c.requestor
		at, ok := switchedAt[k]
		if c.err != nil || c.start.Before(stopped) {
			continue
		}
		if !ok || c.start.Before(at) {
			if c.status == http.StatusBadGateway {
				failedAfterStop++
			}
			continue
		}
		after++
		want := http.StatusForbidden // signed in on v1 only: sign in again through v2
		if strings.HasPrefix(c.path, "/api/v1/config/") {
			want = http.StatusOK
		}
		if c.standIn || c.status != want {
			t.Errorf("%s %s after the switch: status %d, stand-in %v; want %d through translate", k, c.path, c.status, c.standIn, want)
		}
	}
	for _, name := range []string{"A", "B"} {
		for _, r := range []string{"REF30", "REF30P"} {
			at, ok := switchedAt[name+"/"+r]
			if !ok {
				t.Errorf("instance %s never answered %s through translate", name, r)
				continue
			}
			if d := at.Sub(stopped); d > limit {
				t.Errorf("instance %s switched %s %v after the stop, want within %v", name, r, d, limit)
			}
		}
	}
	if after == 0 {
		t.Error("no call after the switch")
	}
	t.Logf("%d calls before the stop; switched on every instance %v after it (window %v); %d 502s while switching; %d calls after the switch, none failed",
		before, switched.Round(time.Millisecond), guardWindow, failedAfterStop, after)

	for name, p := range instances {
		m := scrapeURL(t, p.URL)
		for _, r := range []string{"REF30", "REF30P"} {
			if v := m[testenv.MetricSeries("passgw_v1_fallback_switches_total", map[string]string{"requestor": r, "to": "translate"})]; v != 1 {
				t.Errorf("instance %s: %s switched %v times, want 1", name, r, v)
			}
			if n := countLines(p.stderr.String(), "level=ERROR msg=\"the v1 upstream stopped answering"); n != 2 {
				t.Errorf("instance %s: %d error lines of the guard, want one per requestor:\n%s", name, n, p.stderr)
			}
			if !strings.Contains(p.stderr.String(), "requestor="+r+" ") {
				t.Errorf("instance %s: no log line names %s", name, r)
			}
		}
		// The guard's lines are for operators: on the operator listener.
		resp, err := http.Get(opsURLOf(t, p) + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, r := range []string{"REF30", "REF30P"} {
			if resp.StatusCode != 200 || !strings.Contains(string(b), "v1 guard: requestor "+r+" answered through translate since ") {
				t.Errorf("instance %s /readyz on the operator listener: %d %s", name, resp.StatusCode, b)
			}
		}
	}
}

// scrapeURL reads the /metrics of the gateway at base.
func scrapeURL(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return testenv.MetricSamples(t, resp.Body)
}

var opsListening = regexp.MustCompile(`(?m)^passgw operator endpoints on (http://\S+)`)

// opsURLOf is the operator listener's URL a serve process printed.
func opsURLOf(t *testing.T, p *proc) string {
	t.Helper()
	m := opsListening.FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("%s printed no operator listener:\n%s", p.name, p.stdout)
	}
	return m[1]
}

// TestV1GuardStickySurvivesRestart: a sticky switch of the guard is kept in
// the shared store, so that a restarted instance, and one added later,
// answer the requestor through translate from their first call instead of
// relaying 502s from a v1 that is gone until they count enough failures
// again; an operator's release drops it for the next start too.
func TestV1GuardStickySurvivesRestart(t *testing.T) {
	redis := redistest.Start(t)
	sb := startSandboxProc(t)
	const token = "ops-token-of-the-test-0123"
	cfg := fmt.Sprintf(`upstream: %s
store: %s
log_buffer: {off: true}
throttle: {off: true}
upstream_budget: {off: true}
dcr_keys: [%q]
ops: {token: %s}
v1_upstream: %s
v1_guard: {sticky: true, min_calls: 5, failure_share: 0.5}
requestors:
  - id: REF30
    software_statement: %s
    domain_name: example.com
    redirect_url: %s
    mode: passthrough
`, sb.URL, redis.URL(), procDCRKey, token, "http://"+closedAddr(t), sandboxStatement, procRedirect)
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	config := func(base string) int {
		t.Helper()
		resp, err := http.Get(base + "/api/v1/config/REF30?format=json")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fallback := func(p *proc) float64 {
		return scrapeURL(t, p.URL)[testenv.MetricSeries("passgw_v1_fallback", map[string]string{"requestor": "REF30"})]
	}

	a := startServe(t, "A", path, "127.0.0.1:0")
	testenv.Eventually(t, "A switching REF30 to translate", 10*time.Second, func() error {
		if status := config(a.URL); status != http.StatusOK {
			return fmt.Errorf("config answered %d", status)
		}
		return nil
	})
	a.kill()

	for _, name := range []string{"A restarted", "B added"} {
		p := startServe(t, name, path, "127.0.0.1:0")
		if v := fallback(p); v != 1 {
			t.Errorf("%s: passgw_v1_fallback{requestor=REF30} = %v at start, want 1", name, v)
		}
		if status := config(p.URL); status != http.StatusOK {
			t.Errorf("%s: the first config call answered %d, want 200 through translate", name, status)
		}
		if !strings.Contains(p.stderr.String(), "switched to translate before this start") {
			t.Errorf("%s: the restored switch is not logged:\n%s", name, p.stderr)
		}
		if name == "B added" {
			req, _ := http.NewRequest(http.MethodPost, p.URL+"/ops/v1-guard/release?requestor=REF30", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("release: %d", resp.StatusCode)
			}
		}
		p.kill()
	}

	released := startServe(t, "after the release", path, "127.0.0.1:0")
	if v := fallback(released); v != 0 {
		t.Errorf("after the release: passgw_v1_fallback{requestor=REF30} = %v at start, want 0", v)
	}
	if status := config(released.URL); status != http.StatusBadGateway {
		t.Errorf("after the release: config answered %d, want v1's 502 until the guard switches again", status)
	}
}
