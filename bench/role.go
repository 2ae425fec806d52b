package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/passgw/passgw/v2client/sandbox"
)

// Role is one of the server processes the harness starts.
type Role string

// The roles a benchmark run starts, each in its own process so that the
// operating system accounts CPU time and memory to each separately.
const (
	RoleSandbox Role = "sandbox" // the v2 service (package sandbox), throttling off
	RoleGateway Role = "gateway" // passgw answering v1 through the sandbox
	RoleProxy   Role = "proxy"   // the plain httputil.ReverseProxy baseline
)

// StatsPath is served by every role process for the harness: the
// process's cumulative heap allocation count, as JSON ProcessStats.
const StatsPath = "/_bench/stats"

// ResetPath, on the sandbox role, forgets every session, profile and
// recorded request between measurements (the sandbox records each request it
// serves, which would otherwise grow for the whole run).
const ResetPath = "/_bench/reset"

// ProcessStats is what a role process reports about itself at StatsPath.
type ProcessStats struct {
	// Mallocs is the cumulative count of heap objects allocated, tiny ones
	// included (the runtime.MemStats.Mallocs figure, read without stopping
	// the world).
	Mallocs uint64 `json:"mallocs"`
	// GCCycles is the number of completed GC cycles.
	GCCycles uint64 `json:"gc_cycles"`
}

// ReadProcessStats reads the calling process's own ProcessStats.
func ReadProcessStats() ProcessStats {
	samples := []metrics.Sample{
		{Name: "/gc/heap/allocs:objects"},
		{Name: "/gc/heap/tiny/allocs:objects"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	metrics.Read(samples)
	value := func(s metrics.Sample) uint64 {
		if s.Value.Kind() == metrics.KindUint64 {
			return s.Value.Uint64()
		}
		return 0
	}
	return ProcessStats{
		Mallocs:  value(samples[0]) + value(samples[1]),
		GCCycles: value(samples[2]),
	}
}

// Instrument serves StatsPath in front of h. The check is a single string
// comparison so that the baseline proxy stays as cheap as it can be.
func Instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == StatsPath {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(ReadProcessStats())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// NewProxy is the baseline: the cheapest possible proxy in front of the
// v2 service, httputil.ReverseProxy with a connection pool tuned as the
// gateway's v2 client is (512 idle connections, 256 per host). With the
// default transport's 2 idle connections per host the proxy would dial for
// most calls under load, and the comparison would measure dialing rather
// than the work of a hop.
func NewProxy(upstream *url.URL) http.Handler {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			r.Out.Host = r.In.Host
		},
		Transport: t,
	}
}

// NewSandbox is the v2 service of a run: the default fixture with
// throttling off, and ResetPath. A positive latency delays every v2 API
// call by that much, as a distant service would; DCR and the MVPD pages
// are not delayed. A reset may name another latency for the measurement it
// precedes (?latency=20ms); a reset without one returns to latency.
func NewSandbox(baseURL string, latency time.Duration) (http.Handler, error) {
	_, h, err := newSandbox(baseURL, latency)
	return h, err
}

func newSandbox(baseURL string, latency time.Duration) (*sandbox.Server, http.Handler, error) {
	sb, err := sandbox.New(sandbox.Config{BaseURL: baseURL, DisableThrottling: true})
	if err != nil {
		return nil, nil, err
	}
	// A reset drops injected faults too, so the latency is injected again
	// after each.
	addLatency := func(d time.Duration) error {
		if d <= 0 {
			return nil
		}
		_, err := sb.AddFault(sandbox.Fault{Kind: sandbox.FaultLatency, Path: "/api/v2/**", Latency: sandbox.Duration(d)})
		return err
	}
	if err := addLatency(latency); err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex // resets one at a time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ResetPath {
			sb.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		d := latency
		if q := r.URL.Query().Get("latency"); q != "" {
			var err error
			if d, err = time.ParseDuration(q); err != nil || d < 0 {
				http.Error(w, "latency: want a duration such as 20ms", http.StatusBadRequest)
				return
			}
		}
		mu.Lock()
		defer mu.Unlock()
		sb.Reset()
		if err := addLatency(d); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return sb, h, nil
}

// ServeRole serves h (with StatsPath) on ln until ctx ends. It first
// prints "listening on http://ADDR" to stdout, the line the harness waits
// for. With cpuProfile set, the process's CPU profile for its whole life
// is written there when it stops.
func ServeRole(ctx context.Context, ln net.Listener, h http.Handler, cpuProfile string, stdout io.Writer) error {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	srv := &http.Server{Handler: Instrument(h), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr()); err != nil {
		srv.Close()
		return err
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return srv.Close()
	}
	return nil
}
