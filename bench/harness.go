// Package bench measures what the gateway costs. It starts the v2 sandbox,
// the gateway and a plain httputil.ReverseProxy as separate processes,
// drives them with a device mix (v1 calls through the gateway; the same
// logical work as v2 calls, directly and through the proxy) in closed- and
// open-loop modes, reads each process's CPU time and peak memory from
// /proc and its allocations from the process itself, and reports
// throughput, latency, cost per operation and the gateway's ratios to both
// baselines.
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/passgw/passgw/v2client"
)

// Modes of a load.
const (
	ModeClosed = "closed"
	ModeOpen   = "open"
)

// Configurations measured.
const (
	ConfigGateway      = "gateway"       // v1 device -> gateway -> sandbox
	ConfigGatewayRedis = "gateway-redis" // the same with the Redis store
	ConfigProxy        = "proxy"         // v2 app -> ReverseProxy -> sandbox
	ConfigDirect       = "direct"        // v2 app -> sandbox
)

// WorkloadMix is the device mix workload; the other workloads are single
// operations, named by their Op.
const WorkloadMix = "mix"

// Options configure a run. Launch is required; zero values elsewhere take
// the defaults, which run end to end in under three minutes on two cores.
type Options struct {
	// Launch starts the role processes. Required.
	Launch Launcher
	// Duration is each measurement's window; Warmup runs before it,
	// unmeasured. Defaults 2s and 500ms.
	Duration, Warmup time.Duration
	// Reps is how many times the gateway and proxy measurements are made
	// (the Redis gateway's too): the device mix, each single operation, and
	// the open loop at the load the p99 target is judged at. Repetitions
	// are interleaved across configurations, so that drift in the machine's
	// load spreads evenly, and merged (see summarize). The direct baseline,
	// the profile-cache measurement and the other open-loop loads are
	// measured once. Default 3.
	Reps int
	// Concurrency is the number of devices of a closed loop. Default 16.
	Concurrency int
	// Devices is the device pool of an open loop. Default 4 x Concurrency.
	Devices int
	// Loads are the open-loop arrival rates as fractions of the proxy's
	// closed-loop device-mix throughput. Default 0.25, 0.5, 0.75. Rates,
	// when set, are absolute rates (operations/s) used instead.
	Loads []float64
	Rates []float64
	// Ops are the operations measured alone in closed loop. Nil means
	// checkauthn, tokens/authn, authorize and mediatoken (the calls that
	// map to one v2 call); an empty non-nil slice measures none.
	Ops []Op
	// Closed and Open select the modes; both false means both.
	Closed, Open bool
	// Latency delays every v2 API call in the sandbox. Default 0.
	Latency time.Duration
	// CacheLatency is the upstream latency of one more checkauthn
	// measurement (gateway and direct) that judges the profile cache
	// against direct v2 calls, when checkauthn is among Ops and Latency is
	// 0: the cache saves a round trip to a distant service, which a
	// sandbox answering in microseconds on the same cores cannot show.
	// Default DefaultCacheLatency; negative skips it.
	CacheLatency time.Duration
	// Redis also measures the gateway on a Redis store (redis-server from
	// PATH; skipped with a notice when absent).
	Redis bool
	// ProfileDir, when set, receives a CPU profile of each server process
	// for its whole life (gateway.pprof, proxy.pprof, ...).
	ProfileDir string
	// Progress receives one line per step; nil discards.
	Progress func(format string, args ...any)
}

func (o *Options) defaults() error {
	if o.Launch == nil {
		return errors.New("bench: Options.Launch is required")
	}
	o.Duration = cmp.Or(o.Duration, 2*time.Second)
	o.Warmup = cmp.Or(o.Warmup, 500*time.Millisecond)
	if o.Reps <= 0 {
		o.Reps = 3
	}
	if o.CacheLatency == 0 {
		o.CacheLatency = DefaultCacheLatency
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Devices <= 0 {
		o.Devices = 4 * o.Concurrency
	}
	if o.Loads == nil {
		o.Loads = []float64{0.25, 0.5, 0.75}
	}
	if o.Ops == nil {
		o.Ops = []Op{OpCheckAuthn, OpAuthnToken, OpAuthorize, OpMediaToken}
	}
	for _, op := range o.Ops {
		if !singleOps[op] {
			return fmt.Errorf("bench: %q cannot be measured alone (want checkauthn, tokens/authn, authorize, mediatoken or preauthorize)", op)
		}
	}
	if !o.Closed && !o.Open {
		o.Closed, o.Open = true, true
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	return nil
}

// DefaultCacheLatency is the default Options.CacheLatency: a v2 service in
// another region of the same continent.
const DefaultCacheLatency = 20 * time.Millisecond

// singleOps can be repeated by a signed-in device on their own.
var singleOps = map[Op]bool{OpCheckAuthn: true, OpAuthnToken: true, OpAuthorize: true, OpMediaToken: true, OpPreauthorize: true}

func (o *Options) String() string {
	ops := make([]string, len(o.Ops))
	for i, op := range o.Ops {
		ops[i] = string(op)
	}
	s := fmt.Sprintf("duration=%v warmup=%v reps=%d concurrency=%d devices=%d ops=%s latency=%v redis=%t",
		o.Duration, o.Warmup, o.Reps, o.Concurrency, o.Devices, strings.Join(ops, ","), o.Latency, o.Redis)
	if l := o.cacheLatency(); l > 0 {
		s += fmt.Sprintf(" cache-latency=%v", l)
	}
	if o.Open {
		if len(o.Rates) > 0 {
			s += fmt.Sprintf(" rates=%v", o.Rates)
		} else {
			s += fmt.Sprintf(" loads=%v", o.Loads)
		}
	}
	if !o.Closed || !o.Open {
		s += fmt.Sprintf(" closed=%t open=%t", o.Closed, o.Open)
	}
	return s
}

// harness is the state of one run.
type harness struct {
	opts    Options
	logDir  string
	sandbox *proc
	fronts  map[string]*proc // by config: the gateway or proxy process
	redis   *proc
	self    int
	http    *http.Client // devices and the harness's own calls
	browser *http.Client
	v2      map[string]*v2client.Client // by config: the v2-native apps' client
	seq     atomic.Int64
	notices []string
}

// Run performs a benchmark run and returns its report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	began := time.Now()
	rep := &Report{Machine: machine(), Options: opts.String()}
	logDir, err := os.MkdirTemp("", "passgw-bench-")
	if err != nil {
		return nil, err
	}
	h := &harness{opts: opts, logDir: logDir, fronts: map[string]*proc{}, self: os.Getpid(), v2: map[string]*v2client.Client{}}
	h.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 4 * maxOutstanding, MaxIdleConnsPerHost: maxOutstanding, IdleConnTimeout: time.Minute,
	}}
	h.browser = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}
	ok := false
	defer func() {
		h.stop()
		if ok {
			os.RemoveAll(logDir)
		}
	}()
	if err := h.start(ctx); err != nil {
		return nil, fmt.Errorf("%w (process logs in %s)", err, logDir)
	}
	if err := h.measureAll(ctx, rep); err != nil {
		return nil, fmt.Errorf("%w (process logs in %s)", err, logDir)
	}
	h.stop() // so that the CPU profiles are written
	ok = true
	rep.Notices = h.notices
	rep.Summary = summarize(rep.Results)
	rep.Ratios = ratios(rep.Summary)
	rep.Targets = targets(rep.Summary, rep.Results, opts)
	if opts.ProfileDir != "" {
		for _, name := range []string{"gateway", "gateway-redis", "proxy", "sandbox"} {
			p := filepath.Join(opts.ProfileDir, name+".pprof")
			if _, err := os.Stat(p); err == nil {
				rep.Profiles = append(rep.Profiles, p)
			}
		}
	}
	rep.Machine.LoadAfter = loadAverage()
	rep.Seconds = time.Since(began).Seconds()
	return rep, nil
}

func (h *harness) profileArgs(name string) []string {
	if h.opts.ProfileDir == "" {
		return nil
	}
	return []string{"--cpuprofile", filepath.Join(h.opts.ProfileDir, name+".pprof")}
}

// start starts the processes and waits until the gateways are ready.
func (h *harness) start(ctx context.Context) error {
	if h.opts.ProfileDir != "" {
		if err := os.MkdirAll(h.opts.ProfileDir, 0o755); err != nil {
			return err
		}
	}
	var err error
	args := append([]string{"--addr", "127.0.0.1:0", "--latency", h.opts.Latency.String()}, h.profileArgs("sandbox")...)
	if h.sandbox, err = startRole(ctx, h.opts.Launch, "sandbox", RoleSandbox, args, h.logDir); err != nil {
		return err
	}
	h.opts.Progress("sandbox at %s", h.sandbox.url)
	up := []string{"--addr", "127.0.0.1:0", "--upstream", h.sandbox.url}
	if h.fronts[ConfigProxy], err = startRole(ctx, h.opts.Launch, "proxy", RoleProxy, append(up, h.profileArgs("proxy")...), h.logDir); err != nil {
		return err
	}
	gw := append(append([]string{}, up...), "--store", "memory")
	if h.fronts[ConfigGateway], err = startRole(ctx, h.opts.Launch, "gateway", RoleGateway, append(gw, h.profileArgs("gateway")...), h.logDir); err != nil {
		return err
	}
	if h.opts.Redis {
		switch h.redis, err = startRedis(h.logDir); {
		case errors.Is(err, ErrNoRedis):
			h.notice("the Redis store is not measured: %v", err)
		case err != nil:
			return err
		default:
			gw := append(append([]string{}, up...), "--store", h.redis.url)
			if h.fronts[ConfigGatewayRedis], err = startRole(ctx, h.opts.Launch, "gateway-redis", RoleGateway, append(gw, h.profileArgs("gateway-redis")...), h.logDir); err != nil {
				return err
			}
		}
	}
	for cfg, p := range h.fronts {
		if cfg == ConfigProxy {
			continue
		}
		if err := h.ready(ctx, p); err != nil {
			return err
		}
	}
	for _, cfg := range []string{ConfigProxy, ConfigDirect} {
		base := h.sandbox.url
		if cfg == ConfigProxy {
			base = h.fronts[ConfigProxy].url
		}
		c := &v2client.Client{BaseURL: base, HTTPClient: h.http, Retries: -1}
		c.Tokens = &v2client.TokenSource{Client: c, Statement: v2client.StaticStatements(map[string]v2client.RegisterRequest{
			requestor: {SoftwareStatement: statement},
		})}
		if _, err := c.Tokens.AccessToken(ctx, requestor); err != nil {
			return fmt.Errorf("%s: v2 access token: %w", cfg, err)
		}
		h.v2[cfg] = c
	}
	return nil
}

// ready waits for a gateway's /readyz (which includes its v2 token).
func (h *harness) ready(ctx context.Context, p *proc) error {
	deadline := time.Now().Add(startWait)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := h.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz answered %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready (%v); its log: %s", p.name, err, tail(p.log))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) stop() {
	var wg sync.WaitGroup
	for _, p := range h.fronts {
		wg.Go(p.stop)
	}
	wg.Wait()
	h.fronts = map[string]*proc{}
	h.redis.stop()
	h.sandbox.stop()
	h.redis, h.sandbox = nil, nil
}

func (h *harness) notice(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.notices = append(h.notices, msg)
	h.opts.Progress("notice: %s", msg)
}

// configs lists the configurations measured, gateway first.
func (h *harness) configs(withRedis bool) []string {
	out := []string{ConfigGateway, ConfigProxy, ConfigDirect}
	if withRedis && h.fronts[ConfigGatewayRedis] != nil {
		out = append(out, ConfigGatewayRedis)
	}
	return out
}

// measureAll runs every measurement in order: the closed-loop device
// mix, the single operations (repetitions of each interleaved across
// configurations, so that drift in the machine's load spreads evenly), then the open
// loop at rates derived from the proxy's mix throughput.
func (h *harness) measureAll(ctx context.Context, rep *Report) error {
	o := h.opts
	run := func(spec spec) error {
		r, err := h.measure(ctx, spec)
		if err != nil {
			return err
		}
		h.opts.Progress("%-13s %-6s %-13s %6.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d",
			r.Workload, r.Mode, r.Config, r.Throughput, r.Latency.P50, r.Latency.P99, r.Errors)
		rep.Results = append(rep.Results, *r)
		return nil
	}
	if o.Closed {
		for i := range o.Reps {
			for _, cfg := range h.configs(true) {
				if !o.repeats(cfg, i) {
					continue
				}
				if err := run(spec{workload: WorkloadMix, mode: ModeClosed, config: cfg, rep: i + 1}); err != nil {
					return err
				}
			}
		}
		for i := range o.Reps {
			for _, op := range o.Ops {
				for _, cfg := range h.configs(false) {
					if !o.repeats(cfg, i) {
						continue
					}
					if err := run(spec{workload: string(op), op: op, mode: ModeClosed, config: cfg, rep: i + 1}); err != nil {
						return err
					}
				}
			}
		}
		if l := o.cacheLatency(); l > 0 {
			for _, cfg := range []string{ConfigGateway, ConfigDirect} {
				if err := run(spec{workload: cacheWorkload(l), op: OpCheckAuthn, mode: ModeClosed, config: cfg, rep: 1, latency: l}); err != nil {
					return err
				}
			}
		}
	}
	if !o.Open {
		return nil
	}
	type rate struct{ load, perSecond float64 }
	var rates []rate
	if len(o.Rates) > 0 {
		for _, r := range o.Rates {
			rates = append(rates, rate{perSecond: r})
		}
	} else {
		var proxy []Result
		for _, r := range rep.Results {
			if r.Workload == WorkloadMix && r.Mode == ModeClosed && r.Config == ConfigProxy {
				proxy = append(proxy, r)
			}
		}
		if len(proxy) == 0 {
			// Without the closed loop, find the proxy's saturation first.
			r, err := h.measure(ctx, spec{workload: WorkloadMix, mode: ModeClosed, config: ConfigProxy, rep: 1})
			if err != nil {
				return err
			}
			proxy = append(proxy, *r)
		}
		saturation := summarize(proxy)[0].Throughput
		for _, l := range o.Loads {
			rates = append(rates, rate{load: l, perSecond: l * saturation})
		}
	}
	judged := judgedLoad(o.Loads)
	if len(o.Rates) > 0 {
		judged = -1
	}
	for i := range o.Reps {
		for _, r := range rates {
			if r.perSecond < 1 {
				if i == 0 {
					h.notice("open loop at %.2f/s skipped: below 1 operation per second", r.perSecond)
				}
				continue
			}
			// Only the load the p99 target is judged at is repeated; the
			// others draw the latency-versus-load curve.
			if i > 0 && r.load != judged {
				continue
			}
			for _, cfg := range h.configs(false) {
				if !o.repeats(cfg, i) {
					continue
				}
				if err := run(spec{workload: WorkloadMix, mode: ModeOpen, config: cfg, rep: i + 1, load: r.load, rate: r.perSecond}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// repeats reports whether configuration cfg is measured in repetition i
// (from 0). The gateway and the proxy, which the targets compare, are
// measured Reps times; the direct baseline, which no CPU or latency target
// judges, once.
func (o *Options) repeats(cfg string, i int) bool {
	return i == 0 || cfg != ConfigDirect
}

// judgedLoad is the load among loads closest to half the proxy's
// saturation, where the p99 target is judged; -1 for none.
func judgedLoad(loads []float64) float64 {
	best := -1.0
	for _, l := range loads {
		if best < 0 || abs(l-0.5) < abs(best-0.5) {
			best = l
		}
	}
	return best
}

// spec is one measurement to make.
type spec struct {
	workload, mode, config string
	// op is the operation a single-operation workload repeats.
	op         Op
	rep        int
	load, rate float64
	// latency, when positive, is the sandbox's upstream latency for this
	// measurement instead of Options.Latency.
	latency time.Duration
}

// cacheLatency is the latency of the profile-cache measurement, or 0 when
// it is not made.
func (o *Options) cacheLatency() time.Duration {
	if o.CacheLatency <= 0 || o.Latency > 0 || !slices.Contains(o.Ops, OpCheckAuthn) {
		return 0
	}
	return o.CacheLatency
}

// cacheWorkload names the checkauthn measurement at upstream latency l.
func cacheWorkload(l time.Duration) string { return fmt.Sprintf("checkauthn@%v", l) }

// measure makes one measurement with fresh devices, signed in before the
// clock starts.
func (h *harness) measure(ctx context.Context, s spec) (*Result, error) {
	// Forget the previous measurement's sessions, profiles and the
	// sandbox's record of every request.
	reset := h.sandbox.url + ResetPath
	if s.latency > 0 {
		reset += "?latency=" + url.QueryEscape(s.latency.String())
	}
	if err := post(ctx, h.http, reset); err != nil {
		return nil, fmt.Errorf("resetting the sandbox: %w", err)
	}
	n := h.opts.Concurrency
	if s.mode == ModeOpen {
		n = h.opts.Devices
	}
	slots, err := h.devices(ctx, s, n)
	if err != nil {
		return nil, err
	}
	procs := h.processes(s.config)
	var before, after []counters
	mark := func(begin bool) {
		if begin {
			for _, p := range procs {
				resetPeakRSS(p.pid)
			}
			before = h.read(ctx, procs)
		} else {
			after = h.read(ctx, procs)
		}
	}
	var lr loadResult
	if s.mode == ModeClosed {
		lr = closedLoop(ctx, slots, h.opts.Warmup, h.opts.Duration, mark)
	} else {
		lr = openLoop(ctx, slots, s.rate, h.opts.Warmup, h.opts.Duration, mark)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, p := range procs {
		if p.pid != h.self && !alive(p.pid) {
			return nil, fmt.Errorf("%s exited during the measurement; its log: %s", p.name, tail(p.log))
		}
	}
	return h.result(s, n, lr, procs, before, after), nil
}

// devices makes n devices for the configuration and signs each in.
func (h *harness) devices(ctx context.Context, s spec, n int) ([]*slot, error) {
	batch := h.seq.Add(1)
	slots := make([]*slot, n)
	for i := range slots {
		id := fmt.Sprintf("bench-%d-%d", batch, i)
		var d device
		switch s.config {
		case ConfigGateway, ConfigGatewayRedis:
			ip := fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
			d = newV1Device(h.fronts[s.config].url, id, i%2 == 0, ip, h.http, h.browser)
		default:
			d = newV2Device(h.v2[s.config], id, h.browser)
		}
		sl := &slot{dev: d}
		if s.workload == WorkloadMix {
			// Spread the devices over the sequence, so that logouts and
			// new registrations do not come in waves.
			step := (i * 7) % (len(mixCycle) * logoutEvery)
			sl.next = func() Op {
				op := mixOp(step)
				step++
				return op
			}
		} else {
			op := s.op
			sl.next = func() Op { return op }
		}
		slots[i] = sl
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(h.opts.Concurrency)
	for _, sl := range slots {
		g.Go(func() error {
			for _, op := range []Op{OpRegcode, OpSignIn} {
				if err := sl.dev.do(gctx, op); err != nil {
					return fmt.Errorf("%s: registering a device: %w", s.config, err)
				}
			}
			return nil
		})
	}
	return slots, g.Wait()
}

// processes are those whose cost a configuration's measurement reports.
func (h *harness) processes(config string) []*proc {
	var out []*proc
	if p := h.fronts[config]; p != nil {
		out = append(out, p)
	}
	if config == ConfigGatewayRedis && h.redis != nil {
		out = append(out, h.redis)
	}
	return append(out, h.sandbox, &proc{name: "loadgen", pid: h.self})
}

// counters are a process's cumulative figures at one instant.
type counters struct {
	cpu     time.Duration
	mallocs uint64
	hasAllc bool
	rss     int64
}

func (h *harness) read(ctx context.Context, procs []*proc) []counters {
	out := make([]counters, len(procs))
	for i, p := range procs {
		out[i].cpu, _ = cpuTime(p.pid)
		out[i].rss, _ = peakRSS(p.pid)
		switch {
		case p.pid == h.self:
			out[i].mallocs, out[i].hasAllc = ReadProcessStats().Mallocs, true
		case p.url != "" && !strings.HasPrefix(p.url, "redis:"):
			if st, err := processStats(ctx, h.http, p.url); err == nil {
				out[i].mallocs, out[i].hasAllc = st.Mallocs, true
			}
		}
	}
	return out
}

func (h *harness) result(s spec, n int, lr loadResult, procs []*proc, before, after []counters) *Result {
	r := &Result{Workload: s.workload, Mode: s.mode, Config: s.config, Rep: s.rep, Concurrency: n,
		OfferedRate: s.rate, Load: s.load, Seconds: lr.elapsed.Seconds(), Ops: map[string]OpStats{}, FirstError: lr.firstErr}
	var all []time.Duration
	r.samples = lr.latencies
	for op, d := range lr.latencies {
		all = append(all, d...)
		r.Ops[string(op)] = OpStats{Requests: len(d) + lr.errors[op], Errors: lr.errors[op], Latency: latencyStats(d)}
		r.Requests += len(d)
	}
	for op, e := range lr.errors {
		if _, ok := lr.latencies[op]; !ok {
			r.Ops[string(op)] = OpStats{Requests: e, Errors: e}
		}
		r.Errors += e
	}
	r.Errors += lr.dropped
	if lr.dropped > 0 && r.FirstError == "" {
		r.FirstError = errDropped.Error()
	}
	ok := r.Requests
	r.Requests += r.Errors
	if r.Seconds > 0 {
		r.Throughput = float64(ok) / r.Seconds
	}
	r.Latency = latencyStats(all)
	for i, p := range procs {
		cpu := (after[i].cpu - before[i].cpu).Seconds()
		pr := Process{Name: p.name, CPUSeconds: cpu, PeakRSS: after[i].rss, AllocsPerOp: -1}
		if p.name == ConfigGatewayRedis {
			pr.Name = "gateway"
		}
		if r.Requests > 0 {
			pr.CPUPer1000 = cpu / float64(r.Requests) * 1000
			if after[i].hasAllc && before[i].hasAllc {
				pr.AllocsPerOp = float64(after[i].mallocs-before[i].mallocs) / float64(r.Requests)
			}
		}
		r.Processes = append(r.Processes, pr)
	}
	return r
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.Model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return m
}

func loadAverage() [3]string {
	var out [3]string
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out
	}
	f := strings.Fields(string(b))
	for i := range min(3, len(f)) {
		out[i] = f[i]
	}
	return out
}

// targets judges the run against the speed targets.
// results are the unmerged measurements: the notes show each repetition's
// figure beside the merged one, so that a reader sees the spread.
func targets(summary, results []Result, o Options) []Target {
	// perRep pairs the gateway's and the proxy's measurements of the same
	// repetition (made one after the other) and formats f of each pair.
	perRep := func(workload, mode string, load float64, f func(g, p Result) string) string {
		var parts []string
		for _, g := range results {
			if g.Workload != workload || g.Mode != mode || g.Load != load || g.Config != ConfigGateway {
				continue
			}
			for _, p := range results {
				if p.Workload == workload && p.Mode == mode && p.Load == load && p.Config == ConfigProxy && p.Rep == g.Rep {
					parts = append(parts, f(g, p))
				}
			}
		}
		if len(parts) < 2 {
			return ""
		}
		return "; per repetition " + strings.Join(parts, ", ")
	}
	find := func(workload, mode, config string, load float64) (Result, bool) {
		for _, r := range summary {
			if r.Workload == workload && r.Mode == mode && r.Config == config && (mode == ModeClosed || r.Load == load) {
				return r, true
			}
		}
		return Result{}, false
	}
	var out []Target
	for _, op := range []Op{OpCheckAuthn, OpAuthnToken, OpAuthorize, OpMediaToken} {
		t := Target{Name: "gateway CPU per " + string(op) + " / proxy CPU per call", Limit: "<= 1.5"}
		g, ok1 := find(string(op), ModeClosed, ConfigGateway, 0)
		p, ok2 := find(string(op), ModeClosed, ConfigProxy, 0)
		gf, _ := g.front()
		pf, _ := p.front()
		if ok1 && ok2 && pf.CPUPer1000 > 0 {
			t.Measured, t.Value = true, gf.CPUPer1000/pf.CPUPer1000
			t.Met = t.Value <= 1.5
			t.Note = fmt.Sprintf("%.3f vs %.3f CPU s per 1000", gf.CPUPer1000, pf.CPUPer1000) +
				perRep(string(op), ModeClosed, 0, func(g, p Result) string {
					gf, _ := g.front()
					pf, _ := p.front()
					return fmt.Sprintf("%.2f", gf.CPUPer1000/pf.CPUPer1000)
				})
		}
		out = append(out, t)
	}
	{
		t := Target{Name: "p99 gateway - proxy at half the proxy's saturation rate (ms)", Limit: "<= 1 ms"}
		best := judgedLoad(o.Loads)
		g, ok1 := find(WorkloadMix, ModeOpen, ConfigGateway, best)
		p, ok2 := find(WorkloadMix, ModeOpen, ConfigProxy, best)
		if ok1 && ok2 && len(o.Rates) == 0 {
			t.Measured, t.Value = true, g.Latency.P99-p.Latency.P99
			t.Met = t.Value <= 1
			t.Note = fmt.Sprintf("at %.0f/s (%.0f%% of the proxy's saturation): %.2f vs %.2f ms over %d and %d repetitions",
				g.OfferedRate, best*100, g.Latency.P99, p.Latency.P99, g.Reps, p.Reps) +
				perRep(WorkloadMix, ModeOpen, best, func(g, p Result) string {
					return fmt.Sprintf("%+.2f ms", g.Latency.P99-p.Latency.P99)
				})
		}
		out = append(out, t)
	}
	{
		// The target is about the round trip to Adobe the cache saves, so
		// it is judged with an upstream latency: the run's own, or the
		// dedicated measurement's. With none, the direct call is a map
		// lookup in a process on the same cores, cheaper than any hop.
		t := Target{Name: "checkauthn rate through the gateway / direct v2 profiles rate", Limit: ">= 2"}
		workload, latency := string(OpCheckAuthn), o.Latency
		if l := o.cacheLatency(); l > 0 {
			workload, latency = cacheWorkload(l), l
		}
		g, ok1 := find(workload, ModeClosed, ConfigGateway, 0)
		d, ok2 := find(workload, ModeClosed, ConfigDirect, 0)
		switch {
		case !ok1 || !ok2 || d.Throughput <= 0:
		case latency <= 0:
			t.Note = fmt.Sprintf("judged only with an upstream latency (--cache-latency or --latency): at --latency 0 it is %.0f vs %.0f req/s (%.2fx)",
				g.Throughput, d.Throughput, g.Throughput/d.Throughput)
		default:
			t.Measured, t.Value = true, g.Throughput/d.Throughput
			t.Met = t.Value >= 2
			t.Note = fmt.Sprintf("%.0f vs %.0f req/s with %v upstream latency", g.Throughput, d.Throughput, latency)
		}
		out = append(out, t)
	}
	{
		t := Target{Name: "device mix throughput, Redis store / in-memory store", Limit: ">= 0.7"}
		g, ok1 := find(WorkloadMix, ModeClosed, ConfigGateway, 0)
		r, ok2 := find(WorkloadMix, ModeClosed, ConfigGatewayRedis, 0)
		if ok1 && ok2 && g.Throughput > 0 {
			t.Measured, t.Value = true, r.Throughput/g.Throughput
			t.Met = t.Value >= 0.7
			t.Note = fmt.Sprintf("%.0f vs %.0f req/s", r.Throughput, g.Throughput)
		}
		out = append(out, t)
	}
	out = append(out, Target{Name: "in-memory store bytes per registration record", Limit: "<= 512",
		Note: "measured by go test -run '^$' -bench RegistrationRecordMemory ./translate"})
	return out
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// ParseFloats parses a comma-separated list of numbers ("0.25,0.5").
func ParseFloats(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return []float64{}, nil
	}
	var out []float64
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q: want positive numbers", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseOps parses a comma-separated list of operations.
func ParseOps(s string) ([]Op, error) {
	out := []Op{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for f := range strings.SplitSeq(s, ",") {
		op := Op(strings.TrimSpace(f))
		if !singleOps[op] {
			return nil, fmt.Errorf("%q: want checkauthn, tokens/authn, authorize, mediatoken or preauthorize", f)
		}
		out = append(out, op)
	}
	return out, nil
}
