package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/passgw/passgw/bench"
)

// roleCommand is the hidden first argument of `passgw bench` that runs one
// of the harness's server processes (re-executing this binary).
const roleCommand = "run-role"

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == roleCommand {
		return runBenchRole(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: passgw bench [flags]")
		fmt.Fprintln(stderr, "\nStarts the sandbox, a gateway and a plain reverse proxy as separate processes, drives them with the")
		fmt.Fprintln(stderr, "device mix (v1 through the gateway; v2 directly and through the proxy) and prints what each costs.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	var o bench.Options
	fs.DurationVar(&o.Duration, "duration", 2*time.Second, "measured window of each measurement")
	fs.DurationVar(&o.Warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up before each window")
	fs.IntVar(&o.Reps, "reps", 3, "repetitions of each gateway and proxy measurement (the open loop's at the judged load only), interleaved and merged")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "devices of the closed loop")
	fs.IntVar(&o.Devices, "devices", 0, "device pool of the open loop (default 4 x concurrency)")
	loads := fs.String("loads", "0.25,0.5,0.75", "open-loop rates as fractions of the proxy's closed-loop mix throughput")
	rates := fs.String("rates", "", "open-loop rates in operations/s (replace --loads)")
	ops := fs.String("ops", "checkauthn,tokens/authn,authorize,mediatoken", "operations also measured alone (closed loop); empty for none")
	mode := fs.String("mode", "both", "closed, open or both")
	fs.DurationVar(&o.Latency, "latency", 0, "latency the sandbox adds to every v2 API call")
	fs.DurationVar(&o.CacheLatency, "cache-latency", bench.DefaultCacheLatency,
		"upstream latency of the extra checkauthn measurement that judges the profile cache against direct v2 calls (with --latency 0; negative skips it)")
	stores := fs.String("store", "memory,redis", "stores the gateway is measured on: memory, and redis (needs redis-server in PATH; skipped with a notice when absent)")
	jsonOut := fs.Bool("json", false, "print the report as JSON instead of tables")
	chart := fs.String("chart", "", "write a latency-versus-load chart to `FILE.svg`")
	fs.StringVar(&o.ProfileDir, "cpuprofile", "", "write CPU profiles of the gateway, proxy and sandbox processes into `DIR`")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var err error
	if o.Loads, err = bench.ParseFloats(*loads); err != nil {
		return fmt.Errorf("bench: --loads: %w", err)
	}
	if *rates != "" {
		if o.Rates, err = bench.ParseFloats(*rates); err != nil {
			return fmt.Errorf("bench: --rates: %w", err)
		}
	}
	if o.Ops, err = bench.ParseOps(*ops); err != nil {
		return fmt.Errorf("bench: --ops: %w", err)
	}
	switch *mode {
	case "closed":
		o.Closed = true
	case "open":
		o.Open = true
	case "both":
		o.Closed, o.Open = true, true
	default:
		return fmt.Errorf("bench: --mode: want closed, open or both, got %q", *mode)
	}
	for s := range strings.SplitSeq(*stores, ",") {
		switch strings.TrimSpace(s) {
		case "memory", "":
		case "redis":
			o.Redis = true
		default:
			return fmt.Errorf("bench: --store: want memory and/or redis, got %q", s)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	o.Launch = func(_ context.Context, role bench.Role, args []string) *exec.Cmd {
		cmd := exec.Command(exe, append([]string{"bench", roleCommand, string(role)}, args...)...)
		// The role processes end with the harness, even if it is killed.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		return cmd
	}
	if !*quiet {
		o.Progress = func(format string, args ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", args...) }
	}
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if *chart != "" {
		f, err := os.Create(*chart)
		if err != nil {
			return err
		}
		if err := errors.Join(rep.WriteChart(f), f.Close()); err != nil {
			return err
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(stdout)
}

// runBenchRole serves one process of the harness: the sandbox, the plain
// proxy, or the gateway configured as `passgw serve` would be (throttling
// off: the load comes from a few addresses far faster than any device).
func runBenchRole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("bench: role missing")
	}
	role := bench.Role(args[0])
	fs := flag.NewFlagSet("bench "+roleCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "`HOST:PORT` to listen on")
	upstream := fs.String("upstream", "", "v2 service base `URL` (proxy and gateway)")
	storeURL := fs.String("store", "memory", "gateway store: memory or a redis:// URL")
	latency := fs.Duration("latency", 0, "sandbox: latency added to every v2 API call")
	cpuProfile := fs.String("cpuprofile", "", "write this process's CPU profile to `FILE`")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	var h http.Handler
	switch role {
	case bench.RoleSandbox:
		h, err = bench.NewSandbox(base, *latency)
	case bench.RoleProxy:
		var u *url.URL
		if u, err = url.Parse(*upstream); err == nil && (u.Scheme == "" || u.Host == "") {
			err = fmt.Errorf("--upstream: not an absolute URL: %q", *upstream)
		}
		if err == nil {
			h = bench.NewProxy(u)
		}
	case bench.RoleGateway:
		var stop func()
		h, stop, err = benchGateway(ctx, ln.Addr().String(), *upstream, *storeURL, stderr)
		if stop != nil {
			defer stop()
		}
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		return fmt.Errorf("bench %s: %w", role, err)
	}
	return bench.ServeRole(ctx, ln, h, *cpuProfile, stdout)
}

// benchGateway assembles the gateway as runServe does, for requestor REF30
// of the sandbox at upstream.
func benchGateway(ctx context.Context, addr, upstream, storeURL string, stderr io.Writer) (http.Handler, func(), error) {
	cfg := &Config{
		Addr:     addr,
		Upstream: upstream,
		Store:    storeURL,
		Throttle: ThrottleConfig{Off: true},
		// Load comes from one address; the sandbox's throttle is off too.
		UpstreamBudget: BudgetConfig{Off: true},
		Requestors:     []RequestorConfig{sandboxRequestor("REF30", "http://"+addr)},
	}
	if err := cfg.provision(os.Getenv); err != nil {
		return nil, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	logOut, closeLog := logOutput(cfg, stderr)
	logger := newLogger(cfg, logOut)
	tel, shutdownTracing, err := newTelemetry(ctx, os.Getenv, logger)
	if err != nil {
		closeLog()
		return nil, nil, err
	}
	st, closeStore, err := openStore(ctx, cfg, logger)
	if err != nil {
		closeLog()
		return nil, nil, err
	}
	stop := func() {
		closeStore()
		flushTraces(shutdownTracing, cfg.ShutdownTimeout, logger)
		closeLog()
	}
	h, err := newGatewayHandler(cfg, cfg.upstreamURL(""), logger, hooks{Store: st, Telemetry: tel})
	if err != nil {
		stop()
		return nil, nil, err
	}
	return h, stop, nil
}
