package bench

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Latency is a latency distribution, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Process is what one process cost during a measurement.
type Process struct {
	// Name is gateway, proxy, sandbox, redis or loadgen (this process).
	Name string `json:"name"`
	// CPUSeconds is user+system CPU time in the window, from /proc.
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUPer1000 is CPUSeconds per 1,000 device operations.
	CPUPer1000 float64 `json:"cpu_seconds_per_1000"`
	// AllocsPerOp is heap objects allocated per device operation (Go
	// processes only; -1 when unknown).
	AllocsPerOp float64 `json:"allocs_per_op"`
	// PeakRSS is the peak resident set size in the window, in bytes.
	PeakRSS int64 `json:"peak_rss_bytes"`
}

// Result is one measurement: a workload driven against one configuration.
type Result struct {
	// Workload is "mix" (the device mix) or one operation repeated.
	Workload string `json:"workload"`
	// Mode is closed (fixed concurrency) or open (fixed arrival rate).
	Mode string `json:"mode"`
	// Config is gateway, gateway-redis, proxy or direct.
	Config string `json:"config"`
	// Rep numbers a measurement's repetition from 1; in a summary it is 0
	// and Reps says how many repetitions were merged.
	Rep  int `json:"rep,omitempty"`
	Reps int `json:"reps,omitempty"`
	// Concurrency is the number of devices.
	Concurrency int `json:"concurrency"`
	// OfferedRate is the open-loop arrival rate (operations per second).
	OfferedRate float64 `json:"offered_rate,omitempty"`
	// Load is OfferedRate as a fraction of the proxy's saturation rate.
	Load       float64            `json:"load,omitempty"`
	Seconds    float64            `json:"seconds"`
	Requests   int                `json:"requests"`
	Errors     int                `json:"errors"`
	FirstError string             `json:"first_error,omitempty"`
	Throughput float64            `json:"requests_per_second"`
	Latency    Latency            `json:"latency"`
	Ops        map[string]OpStats `json:"ops"`
	Processes  []Process          `json:"processes"`

	// samples are the latencies of successful operations, by operation,
	// kept so that repetitions can be merged into one distribution.
	samples map[Op][]time.Duration
}

// OpStats is one operation's share of a Result.
type OpStats struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Latency  Latency `json:"latency"`
}

// Process returns the named process's figures, if measured.
func (r *Result) Process(name string) (Process, bool) {
	for _, p := range r.Processes {
		if p.Name == name {
			return p, true
		}
	}
	return Process{}, false
}

// front is the process a configuration puts in front of the v2 service:
// the gateway or the proxy; direct has none.
func (r *Result) front() (Process, bool) {
	switch r.Config {
	case ConfigGateway, ConfigGatewayRedis:
		return r.Process("gateway")
	case ConfigProxy:
		return r.Process("proxy")
	}
	return Process{}, false
}

// serviceCPU is the CPU per 1,000 operations of every server-side
// process (front, sandbox, redis): what the work costs, load generator
// excluded.
func (r *Result) serviceCPU() float64 {
	var s float64
	for _, p := range r.Processes {
		if p.Name != "loadgen" {
			s += p.CPUPer1000
		}
	}
	return s
}

// Ratio compares the gateway with a baseline for one workload.
type Ratio struct {
	Workload string  `json:"workload"`
	Mode     string  `json:"mode"`
	Load     float64 `json:"load,omitempty"`
	Baseline string  `json:"baseline"` // proxy or direct
	// Each figure is gateway / baseline (NaN is written as null).
	Throughput  *float64 `json:"requests_per_second"`
	P50         *float64 `json:"p50"`
	P90         *float64 `json:"p90"`
	P99         *float64 `json:"p99"`
	Max         *float64 `json:"max"`
	FrontCPU    *float64 `json:"front_cpu_per_1000"`
	ServiceCPU  *float64 `json:"service_cpu_per_1000"`
	AllocsPerOp *float64 `json:"front_allocs_per_op"`
	PeakRSS     *float64 `json:"front_peak_rss"`
	// P99DeltaMs is gateway p99 minus baseline p99.
	P99DeltaMs float64 `json:"p99_delta_ms"`
}

// Target is one of the speed targets and whether this run met it.
type Target struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Limit    string  `json:"limit"`
	Met      bool    `json:"met"`
	Measured bool    `json:"measured"`
	Note     string  `json:"note,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs       int       `json:"cpus"`
	Model      string    `json:"model"`
	GoVersion  string    `json:"go_version"`
	LoadBefore [3]string `json:"load_average_before"`
	LoadAfter  [3]string `json:"load_average_after"`
}

// Report is the outcome of a run.
type Report struct {
	Machine  Machine  `json:"machine"`
	Options  string   `json:"options"`
	Seconds  float64  `json:"seconds"`
	Notices  []string `json:"notices,omitempty"`
	Results  []Result `json:"results"`
	Summary  []Result `json:"summary"`
	Ratios   []Ratio  `json:"ratios"`
	Targets  []Target `json:"targets"`
	Profiles []string `json:"cpu_profiles,omitempty"`
}

// summarize merges repetitions into one Result per workload, mode, load
// and config:
//   - throughput is the median of the repetitions' throughputs;
//   - latency percentiles come from all repetitions' operations pooled, so
//     a p99 rests on every repetition's tail rather than on one window's
//     few slowest calls;
//   - each process's CPU and allocations per operation are the medians of
//     the repetitions', its peak RSS the highest;
//   - requests and errors are summed.
//
// Results without latency samples (read back from JSON) keep the figures
// of the repetition with the median throughput.
func summarize(results []Result) []Result {
	type key struct {
		workload, mode, config string
		load                   float64
	}
	groups := map[key][]Result{}
	var order []key
	for _, r := range results {
		k := key{r.Workload, r.Mode, r.Config, r.Load}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := make([]Result, 0, len(order))
	for _, k := range order {
		out = append(out, merge(groups[k]))
	}
	return out
}

// merge summarizes the repetitions of one measurement (see summarize).
func merge(reps []Result) Result {
	if len(reps) == 1 {
		r := reps[0]
		r.Rep, r.Reps = 0, 1
		return r
	}
	byRate := slices.Clone(reps)
	slices.SortFunc(byRate, func(a, b Result) int { return cmp.Compare(a.Throughput, b.Throughput) })
	m := byRate[(len(byRate)-1)/2]
	m.Rep, m.Reps = 0, len(reps)
	m.Requests, m.Errors, m.Seconds, m.FirstError = 0, 0, 0, ""
	pooled := map[Op][]time.Duration{}
	errs := map[string]int{}
	haveSamples := true
	for _, r := range reps {
		m.Requests += r.Requests
		m.Errors += r.Errors
		m.Seconds += r.Seconds
		m.FirstError = cmp.Or(m.FirstError, r.FirstError)
		if r.samples == nil {
			haveSamples = false
		}
		for op, d := range r.samples {
			pooled[op] = append(pooled[op], d...)
		}
		for op, st := range r.Ops {
			errs[op] += st.Errors
		}
	}
	if haveSamples {
		var all []time.Duration
		m.Ops = map[string]OpStats{}
		for op, d := range pooled {
			all = append(all, d...)
			m.Ops[string(op)] = OpStats{Requests: len(d) + errs[string(op)], Errors: errs[string(op)], Latency: latencyStats(d)}
		}
		for op, e := range errs {
			if _, ok := m.Ops[op]; !ok {
				m.Ops[op] = OpStats{Requests: e, Errors: e}
			}
		}
		m.Latency = latencyStats(all)
		m.samples = pooled
	}
	m.Processes = slices.Clone(m.Processes)
	for i, p := range m.Processes {
		var cpu, cpu1000, allocs []float64
		for _, r := range reps {
			if q, ok := r.Process(p.Name); ok {
				cpu = append(cpu, q.CPUSeconds)
				cpu1000 = append(cpu1000, q.CPUPer1000)
				allocs = append(allocs, q.AllocsPerOp)
				m.Processes[i].PeakRSS = max(m.Processes[i].PeakRSS, q.PeakRSS)
			}
		}
		m.Processes[i].CPUSeconds = median(cpu)
		m.Processes[i].CPUPer1000 = median(cpu1000)
		m.Processes[i].AllocsPerOp = median(allocs)
	}
	return m
}

// median is the middle value (the lower of the two middle ones for an
// even count, as summarize's choice of repetition), 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func ratio(a, b float64) *float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return nil
	}
	r := a / b
	return &r
}

// ratios compares the gateway with the proxy and with direct calls for
// every summarised workload.
func ratios(summary []Result) []Ratio {
	find := func(w, mode string, load float64, config string) (Result, bool) {
		for _, r := range summary {
			if r.Workload == w && r.Mode == mode && r.Load == load && r.Config == config {
				return r, true
			}
		}
		return Result{}, false
	}
	var out []Ratio
	for _, g := range summary {
		if g.Config != ConfigGateway {
			continue
		}
		for _, base := range []string{ConfigProxy, ConfigDirect} {
			b, ok := find(g.Workload, g.Mode, g.Load, base)
			if !ok {
				continue
			}
			r := Ratio{Workload: g.Workload, Mode: g.Mode, Load: g.Load, Baseline: base,
				Throughput: ratio(g.Throughput, b.Throughput),
				P50:        ratio(g.Latency.P50, b.Latency.P50), P90: ratio(g.Latency.P90, b.Latency.P90),
				P99: ratio(g.Latency.P99, b.Latency.P99), Max: ratio(g.Latency.Max, b.Latency.Max),
				ServiceCPU: ratio(g.serviceCPU(), b.serviceCPU()),
				P99DeltaMs: g.Latency.P99 - b.Latency.P99,
			}
			gf, _ := g.front()
			if bf, ok := b.front(); ok {
				r.FrontCPU = ratio(gf.CPUPer1000, bf.CPUPer1000)
				r.AllocsPerOp = ratio(gf.AllocsPerOp, bf.AllocsPerOp)
				r.PeakRSS = ratio(float64(gf.PeakRSS), float64(bf.PeakRSS))
			}
			out = append(out, r)
		}
	}
	return out
}

// WriteText prints the report as tables.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "passgw bench: %d CPUs (%s), %s, load average %s before, %s after, %.0f s\n",
		m.CPUs, m.Model, m.GoVersion, strings.Join(m.LoadBefore[:], " "), strings.Join(m.LoadAfter[:], " "), rep.Seconds)
	fmt.Fprintf(&b, "options: %s\n", rep.Options)
	for _, n := range rep.Notices {
		fmt.Fprintf(&b, "notice: %s\n", n)
	}
	b.WriteString("\nper configuration (repetitions merged: median throughput, latency over all their operations, median CPU s per 1000 operations and allocs per operation, highest peak RSS MiB):\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tmode\tload\tconfig\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\tfront cpu\tsandbox cpu\tloadgen cpu\tfront allocs\tfront rss\t")
	for _, r := range rep.Summary {
		f, hasFront := r.front()
		sb, _ := r.Process("sandbox")
		lg, _ := r.Process("loadgen")
		frontCPU, frontAllocs, frontRSS := "-", "-", "-"
		if hasFront {
			frontCPU = fmt.Sprintf("%.3f", f.CPUPer1000)
			frontAllocs = fmt.Sprintf("%.0f", f.AllocsPerOp)
			frontRSS = fmt.Sprintf("%.1f", float64(f.PeakRSS)/(1<<20))
		}
		if rd, ok := r.Process("redis"); ok {
			frontCPU += fmt.Sprintf(" (+redis %.3f)", rd.CPUPer1000)
		}
		load := "-"
		if r.Mode == ModeOpen {
			load = fmt.Sprintf("%.0f%% %.0f/s", r.Load*100, r.OfferedRate)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t%s\t%.3f\t%.3f\t%s\t%s\t\n",
			r.Workload, r.Mode, load, r.Config, r.Throughput, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max,
			r.Errors, frontCPU, sb.CPUPer1000, lg.CPUPer1000, frontAllocs, frontRSS)
	}
	tw.Flush()

	b.WriteString("\nratios gateway/baseline (>1 means the gateway is higher):\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tmode\tload\tbaseline\treq/s\tp50\tp90\tp99\tmax\tp99 delta ms\tfront cpu\tservice cpu\tfront allocs\tfront rss\t")
	for _, r := range rep.Ratios {
		load := "-"
		if r.Mode == ModeOpen {
			load = fmt.Sprintf("%.0f%%", r.Load*100)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%+.2f\t%s\t%s\t%s\t%s\t\n",
			r.Workload, r.Mode, load, r.Baseline, fmtRatio(r.Throughput), fmtRatio(r.P50), fmtRatio(r.P90), fmtRatio(r.P99), fmtRatio(r.Max),
			r.P99DeltaMs, fmtRatio(r.FrontCPU), fmtRatio(r.ServiceCPU), fmtRatio(r.AllocsPerOp), fmtRatio(r.PeakRSS))
	}
	tw.Flush()

	b.WriteString("\ntargets:\n")
	for _, t := range rep.Targets {
		state := "MET"
		switch {
		case !t.Measured:
			state = "NOT MEASURED"
		case !t.Met:
			state = "MISSED"
		}
		fmt.Fprintf(&b, "  %-13s %s: %.3g (limit %s)", state, t.Name, t.Value, t.Limit)
		if t.Note != "" {
			fmt.Fprintf(&b, " — %s", t.Note)
		}
		b.WriteString("\n")
	}
	for _, p := range rep.Profiles {
		fmt.Fprintf(&b, "cpu profile: %s\n", p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtRatio(r *float64) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.2fx", *r)
}
