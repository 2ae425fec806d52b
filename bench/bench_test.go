package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMixSequence(t *testing.T) {
	counts := map[Op]int{}
	var order []Op
	for step := range mixPeriod {
		op := mixOp(step)
		counts[op]++
		if op == OpLogout || op == OpRegcode || op == OpSignIn {
			order = append(order, op)
		}
		if again := mixOp(step + mixPeriod); again != op {
			t.Fatalf("step %d: %s, one period later %s", step, op, again)
		}
	}
	for _, op := range mixCycle {
		if counts[op] != logoutEvery {
			t.Errorf("%s: %d per period, want %d", op, counts[op], logoutEvery)
		}
	}
	if want := []Op{OpLogout, OpRegcode, OpSignIn}; !equalOps(order, want) {
		t.Errorf("logout and registration in a period: %v, want %v", order, want)
	}
}

func equalOps(a, b []Op) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLatencyStats(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := latencyStats(d)
	want := Latency{P50: 50, P90: 90, P99: 99, Max: 100}
	if got != want {
		t.Errorf("latencyStats = %+v, want %+v", got, want)
	}
	if (latencyStats(nil) != Latency{}) {
		t.Error("empty input has non-zero stats")
	}
}

// TestOwnCounters reads this process's figures from /proc and the runtime
// and checks they move with the work done.
func TestOwnCounters(t *testing.T) {
	pid := os.Getpid()
	cpu0, err := cpuTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	st0 := ReadProcessStats()
	var sink [][]byte
	for cpu, _ := cpuTime(pid); cpu-cpu0 < 30*time.Millisecond; cpu, _ = cpuTime(pid) {
		for range 1000 {
			sink = append(sink, make([]byte, 64))
		}
		sink = sink[:0]
	}
	if st := ReadProcessStats(); st.Mallocs < st0.Mallocs+1000 {
		t.Errorf("mallocs went from %d to %d after 1000 allocations", st0.Mallocs, st.Mallocs)
	}
	rss, err := peakRSS(pid)
	if err != nil || rss < 1<<20 {
		t.Errorf("peak RSS %d bytes, %v", rss, err)
	}
	if _, err := cpuTime(1 << 30); err == nil {
		t.Error("CPU time of a process that does not exist")
	}
}

func TestInstrument(t *testing.T) {
	var passed atomic.Int32
	h := Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		passed.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, StatsPath, nil))
	var st ProcessStats
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || st.Mallocs == 0 {
		t.Errorf("stats %q: %v", w.Body, err)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v2/REF30/profiles", nil))
	if w.Code != http.StatusTeapot || passed.Load() != 1 {
		t.Errorf("other paths not passed through: %d, %d calls", w.Code, passed.Load())
	}
}

// TestProxy checks that the baseline forwards requests unchanged: method,
// path, query, headers and body reach the upstream, and its answer comes
// back.
func TestProxy(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/REF30/decisions/authorize/AcmeCable" ||
			r.URL.RawQuery != "a=1" || r.Header.Get("Authorization") != "Bearer t" || string(body) != `{"resources":["news"]}` {
			t.Errorf("upstream got %s %s?%s auth=%q body=%s", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), body)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"decisions":[]}`)
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	proxy := httptest.NewServer(NewProxy(u))
	defer proxy.Close()
	req, _ := http.NewRequest(http.MethodPost, proxy.URL+"/api/v2/REF30/decisions/authorize/AcmeCable?a=1", strings.NewReader(`{"resources":["news"]}`))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || string(body) != `{"decisions":[]}` {
		t.Errorf("answer %d %s", resp.StatusCode, body)
	}
}

// countingDevice succeeds, except every third call which fails.
type countingDevice struct{ n atomic.Int64 }

func (d *countingDevice) do(context.Context, Op) error {
	if d.n.Add(1)%3 == 0 {
		return &opError{op: OpCheckAuthn, status: 500, detail: "boom"}
	}
	return nil
}

func TestLoops(t *testing.T) {
	for _, mode := range []string{ModeClosed, ModeOpen} {
		t.Run(mode, func(t *testing.T) {
			dev := &countingDevice{}
			slots := []*slot{{dev: dev, next: func() Op { return OpCheckAuthn }}, {dev: dev, next: func() Op { return OpCheckAuthn }}}
			var marks []bool
			mark := func(begin bool) { marks = append(marks, begin) }
			var res loadResult
			if mode == ModeClosed {
				res = closedLoop(context.Background(), slots, 10*time.Millisecond, 50*time.Millisecond, mark)
			} else {
				res = openLoop(context.Background(), slots, 2000, 10*time.Millisecond, 50*time.Millisecond, mark)
			}
			ok, failed := len(res.latencies[OpCheckAuthn]), res.errors[OpCheckAuthn]
			if ok == 0 || failed == 0 || !strings.Contains(res.firstErr, "boom") {
				t.Errorf("%d ok, %d failed, first error %q", ok, failed, res.firstErr)
			}
			// Every call made is either measured or outside the window.
			if total := int(dev.n.Load()); ok+failed > total {
				t.Errorf("%d samples from %d calls", ok+failed, total)
			}
			if len(marks) != 2 || !marks[0] || marks[1] {
				t.Errorf("marks %v, want [true false]", marks)
			}
			if res.elapsed < 50*time.Millisecond {
				t.Errorf("window of %v", res.elapsed)
			}
		})
	}
}

// sampleSummary is a summary where the gateway costs 1.2 times the
// proxy's front CPU and answers checkauthn at 3 times the direct rate.
func sampleSummary() []Result {
	res := func(workload, mode, config string, load, rps, p99, frontCPU float64) Result {
		r := Result{Workload: workload, Mode: mode, Config: config, Load: load, Throughput: rps, Requests: 1000,
			Latency:   Latency{P50: p99 / 2, P90: p99 * 0.8, P99: p99, Max: p99 * 2},
			Processes: []Process{{Name: "sandbox", CPUPer1000: 0.1}, {Name: "loadgen", CPUPer1000: 0.05}}}
		front := map[string]string{ConfigGateway: "gateway", ConfigGatewayRedis: "gateway", ConfigProxy: "proxy"}[config]
		if front != "" {
			r.Processes = append(r.Processes, Process{Name: front, CPUPer1000: frontCPU, AllocsPerOp: 100, PeakRSS: 20 << 20})
		}
		return r
	}
	var out []Result
	for _, op := range []Op{OpCheckAuthn, OpAuthnToken, OpAuthorize, OpMediaToken} {
		out = append(out,
			res(string(op), ModeClosed, ConfigGateway, 0, 3000, 4, 0.24),
			res(string(op), ModeClosed, ConfigProxy, 0, 2000, 5, 0.2),
			res(string(op), ModeClosed, ConfigDirect, 0, 1000, 2, 0))
	}
	return append(out,
		res(WorkloadMix, ModeClosed, ConfigGateway, 0, 2000, 10, 0.3),
		res(WorkloadMix, ModeClosed, ConfigGatewayRedis, 0, 1200, 12, 0.4),
		res(WorkloadMix, ModeClosed, ConfigProxy, 0, 2500, 8, 0.2),
		res(WorkloadMix, ModeOpen, ConfigGateway, 0.5, 1250, 3.5, 0.3),
		res(WorkloadMix, ModeOpen, ConfigProxy, 0.5, 1250, 2, 0.2),
	)
}

func TestRatiosAndTargets(t *testing.T) {
	sum := sampleSummary()
	var proxyMix *Ratio
	for _, r := range ratios(sum) {
		if r.Workload == WorkloadMix && r.Mode == ModeClosed && r.Baseline == ConfigProxy {
			proxyMix = &r
		}
	}
	near := func(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }
	if proxyMix == nil || !near(proxyMix.Throughput, 0.8) || !near(proxyMix.FrontCPU, 1.5) || !near(proxyMix.P99, 1.25) {
		t.Fatalf("gateway/proxy mix ratio %+v", proxyMix)
	}
	if !near(proxyMix.ServiceCPU, (0.3+0.1)/(0.2+0.1)) {
		t.Errorf("service CPU ratio %v", proxyMix.ServiceCPU)
	}
	got := map[string]Target{}
	for _, tg := range targets(sum, nil, Options{Loads: []float64{0.25, 0.5}, Latency: 20 * time.Millisecond}) {
		got[tg.Name] = tg
	}
	check := func(prefix string, met bool, value float64) {
		t.Helper()
		for name, tg := range got {
			if strings.HasPrefix(name, prefix) {
				if !tg.Measured || tg.Met != met || tg.Value < value-1e-9 || tg.Value > value+1e-9 {
					t.Errorf("%s: %+v, want met=%t value=%g", name, tg, met, value)
				}
				return
			}
		}
		t.Errorf("no target %q", prefix)
	}
	check("gateway CPU per authorize", true, 1.2)
	check("p99 gateway - proxy", false, 1.5)
	check("checkauthn rate", true, 3)
	check("device mix throughput, Redis", false, 0.6)

	// With the dedicated measurement at upstream latency, the target is
	// judged from it.
	withCache := append(sampleSummary(),
		Result{Workload: cacheWorkload(20 * time.Millisecond), Mode: ModeClosed, Config: ConfigGateway, Throughput: 4000},
		Result{Workload: cacheWorkload(20 * time.Millisecond), Mode: ModeClosed, Config: ConfigDirect, Throughput: 800})
	for _, tg := range targets(withCache, nil, Options{Ops: []Op{OpCheckAuthn}, CacheLatency: 20 * time.Millisecond}) {
		if strings.HasPrefix(tg.Name, "checkauthn rate") && (!tg.Measured || !tg.Met || tg.Value != 5) {
			t.Errorf("checkauthn target from the 20ms measurement: %+v, want met with 5", tg)
		}
	}

	// The cache's gain over direct v2 calls is judged only when the v2
	// service is not on the same machine with no latency.
	for _, tg := range targets(sum, nil, Options{Loads: []float64{0.5}}) {
		if strings.HasPrefix(tg.Name, "checkauthn rate") && (tg.Measured || !strings.Contains(tg.Note, "3.00x")) {
			t.Errorf("checkauthn target at --latency 0: %+v, want not judged, with the ratio in the note", tg)
		}
	}
}

func TestReportOutputs(t *testing.T) {
	rep := &Report{Summary: sampleSummary()}
	rep.Ratios = ratios(rep.Summary)
	rep.Targets = targets(rep.Summary, nil, Options{Loads: []float64{0.5}})
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ratios gateway/baseline", "1.50x", "MISSED", "MET"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var svg bytes.Buffer
	if err := rep.WriteChart(&svg); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName   xml.Name   `xml:"svg"`
		Polylines []struct{} `xml:"polyline"`
	}
	if err := xml.Unmarshal(svg.Bytes(), &doc); err != nil {
		t.Fatalf("chart: %v", err)
	}
	if len(doc.Polylines) != 4 { // p50 and p99 of gateway and proxy
		t.Errorf("%d lines, want 4", len(doc.Polylines))
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("report does not encode as JSON: %v", err)
	}
}

func TestParseFlags(t *testing.T) {
	if f, err := ParseFloats("0.25, 0.5"); err != nil || len(f) != 2 || f[1] != 0.5 {
		t.Errorf("ParseFloats = %v, %v", f, err)
	}
	if _, err := ParseFloats("0.5,-1"); err == nil {
		t.Error("negative rate accepted")
	}
	if ops, err := ParseOps("checkauthn,tokens/authn"); err != nil || len(ops) != 2 {
		t.Errorf("ParseOps = %v, %v", ops, err)
	}
	if _, err := ParseOps("logout"); err == nil {
		t.Error("logout accepted as a single operation")
	}
	o := Options{}
	if err := o.defaults(); err == nil {
		t.Error("options without a launcher accepted")
	}
	var e *opError
	if !errors.As(error(&opError{op: OpLogout}), &e) {
		t.Error("opError is not an error")
	}
}

// TestProxyKeepsConnections: the baseline proxy reuses its upstream
// connections under concurrent load, as the gateway's v2 client does, so
// that the comparison does not measure dialing.
func TestProxyKeepsConnections(t *testing.T) {
	var dials atomic.Int64
	upstream := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	upstream.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	upstream.Start()
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	proxy := httptest.NewServer(NewProxy(u))
	defer proxy.Close()
	const clients, rounds = 16, 20
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range rounds {
				resp, err := client.Get(proxy.URL + "/api/v2/REF30/profiles")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if n := dials.Load(); n > 2*clients {
		t.Errorf("the proxy opened %d upstream connections for %d concurrent clients", n, clients)
	}
}

// TestSandboxResetLatency: a reset may set the upstream latency of the next
// measurement; a reset without one returns to the run's latency (none here).
func TestSandboxResetLatency(t *testing.T) {
	sb, h, err := newSandbox("http://127.0.0.1:1", 0)
	if err != nil {
		t.Fatal(err)
	}
	latencies := func() []time.Duration {
		var out []time.Duration
		for _, f := range sb.Faults() {
			out = append(out, time.Duration(f.Latency))
		}
		return out
	}
	reset := func(query string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, ResetPath+query, nil))
		return rec.Code
	}
	if code := reset("?latency=20ms"); code != http.StatusNoContent {
		t.Fatalf("reset with a latency: %d", code)
	}
	if got := latencies(); len(got) != 1 || got[0] != 20*time.Millisecond {
		t.Errorf("latencies after a reset to 20ms: %v, want [20ms]", got)
	}
	if code := reset(""); code != http.StatusNoContent {
		t.Fatalf("reset: %d", code)
	}
	if got := latencies(); len(got) != 0 {
		t.Errorf("latencies after a plain reset: %v, want none", got)
	}
	if code := reset("?latency=soon"); code != http.StatusBadRequest {
		t.Errorf("reset with a malformed latency: %d, want 400", code)
	}
}

func TestSummarizeMergesRepetitions(t *testing.T) {
	// Three repetitions of the open loop: each window's tail alone would
	// give a different p99; merged, the percentiles come from all 300
	// operations, CPU and allocations are medians and the peak RSS is
	// the highest.
	rep := func(n int, slow time.Duration, cpu, allocs float64, rss int64, errs int) Result {
		d := make([]time.Duration, 100)
		for i := range d {
			d[i] = time.Duration(i+1) * time.Millisecond / 10 // 0.1 .. 10 ms
		}
		d[99] = slow
		return Result{Workload: WorkloadMix, Mode: ModeOpen, Config: ConfigGateway, Load: 0.5, Rep: n,
			Throughput: 1000 + float64(n), Requests: 100 + errs, Errors: errs, Seconds: 2,
			Ops:       map[string]OpStats{string(OpAuthorize): {Requests: 100 + errs, Errors: errs}},
			samples:   map[Op][]time.Duration{OpAuthorize: d},
			Processes: []Process{{Name: "gateway", CPUPer1000: cpu, AllocsPerOp: allocs, PeakRSS: rss}}}
	}
	results := []Result{
		rep(1, 50*time.Millisecond, 0.30, 250, 30<<20, 0),
		rep(2, 20*time.Millisecond, 0.10, 260, 50<<20, 2),
		rep(3, 90*time.Millisecond, 0.20, 240, 40<<20, 0),
	}
	sum := summarize(results)
	if len(sum) != 1 {
		t.Fatalf("%d summaries, want 1", len(sum))
	}
	m := sum[0]
	if m.Reps != 3 || m.Rep != 0 || m.Requests != 302 || m.Errors != 2 || m.Throughput != 1002 {
		t.Errorf("merged counts: reps %d rep %d requests %d errors %d throughput %g", m.Reps, m.Rep, m.Requests, m.Errors, m.Throughput)
	}
	// 300 samples: the 3 slow ones are the top 1%, so p99 is the
	// highest of the ordinary ones (9.9 ms) and max is the slowest.
	if m.Latency.Max != 90 || m.Latency.P99 != 9.9 {
		t.Errorf("merged latency %+v, want p99 9.9 and max 90", m.Latency)
	}
	if st := m.Ops[string(OpAuthorize)]; st.Requests != 302 || st.Errors != 2 || st.Latency.Max != 90 {
		t.Errorf("merged authorize stats %+v", st)
	}
	g, _ := m.Process("gateway")
	if g.CPUPer1000 != 0.20 || g.AllocsPerOp != 250 || g.PeakRSS != 50<<20 {
		t.Errorf("merged gateway process %+v, want median CPU 0.20, median allocs 250, peak 50 MiB", g)
	}
	// The unmerged measurements are untouched.
	if p, _ := results[0].Process("gateway"); p.CPUPer1000 != 0.30 {
		t.Errorf("summarize changed a repetition: %+v", p)
	}
	// A single measurement stands for itself.
	one := summarize(results[:1])[0]
	if p, _ := one.Process("gateway"); one.Reps != 1 || one.Rep != 0 || one.Throughput != 1001 || p.CPUPer1000 != 0.30 {
		t.Errorf("single measurement: %+v", one)
	}
}

func TestTargetNotesShowRepetitions(t *testing.T) {
	mk := func(config string, rep int, p99, cpu float64) Result {
		front := "gateway"
		if config == ConfigProxy {
			front = "proxy"
		}
		return Result{Workload: WorkloadMix, Mode: ModeOpen, Config: config, Load: 0.5, Rep: rep, Throughput: 1000,
			Latency: Latency{P99: p99}, Processes: []Process{{Name: front, CPUPer1000: cpu}}}
	}
	results := []Result{mk(ConfigGateway, 1, 5, 1), mk(ConfigProxy, 1, 4, 1), mk(ConfigGateway, 2, 6, 1), mk(ConfigProxy, 2, 7, 1)}
	for _, tg := range targets(summarize(results), results, Options{Loads: []float64{0.5}}) {
		if strings.HasPrefix(tg.Name, "p99") && !strings.Contains(tg.Note, "per repetition +1.00 ms, -1.00 ms") {
			t.Errorf("p99 target note %q lacks the per-repetition deltas", tg.Note)
		}
	}
}
