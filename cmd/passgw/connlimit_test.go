package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/v2client/sandbox"
)

func TestConnectionsConfigProvision(t *testing.T) {
	tests := []struct {
		name    string
		in      ConnectionsConfig
		want    ConnectionsConfig
		wantErr string
	}{
		{name: "defaults", want: ConnectionsConfig{Max: DefaultMaxConnections, MaxPerAddress: DefaultMaxConnectionsPerAddress}},
		{name: "no caps", in: ConnectionsConfig{Max: -1, MaxPerAddress: -1}, want: ConnectionsConfig{Max: -1, MaxPerAddress: -1}},
		{name: "per address only", in: ConnectionsConfig{Max: -1, MaxPerAddress: 5000}, want: ConnectionsConfig{Max: -1, MaxPerAddress: 5000}},
		{name: "per address above total", in: ConnectionsConfig{Max: 100, MaxPerAddress: 200}, wantErr: "connections.max_per_address: 200 is more than connections.max (100)"},
		{name: "default per address above a small total", in: ConnectionsConfig{Max: 100}, wantErr: "connections.max_per_address: 256 is more than connections.max (100)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{Connections: tt.in}
			err := cfg.provision(func(string) string { return "" })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("provision: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Connections != tt.want {
				t.Errorf("connections = %+v, want %+v", cfg.Connections, tt.want)
			}
		})
	}
}

func TestConnectionsConfigFromYAML(t *testing.T) {
	cfg, err := parseConfig("passgw.yaml", []byte("connections:\n  max: 500\n  max_per_address: 20\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if want := (ConnectionsConfig{Max: 500, MaxPerAddress: 20}); cfg.Connections != want {
		t.Errorf("connections = %+v, want %+v", cfg.Connections, want)
	}
}

func TestClientAddress(t *testing.T) {
	tests := []struct {
		peer string
		want string
	}{
		{"127.0.0.2:5000", "127.0.0.2"},
		{"[::ffff:192.0.2.7]:443", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa::1]:80", "2001:db8:1:2::"},
		{"[2001:db8:1:2:bbbb::9]:80", "2001:db8:1:2::"},
		{"[2001:db8:1:3::1]:80", "2001:db8:1:3::"},
	}
	for _, tt := range tests {
		a, err := net.ResolveTCPAddr("tcp", tt.peer)
		if err != nil {
			t.Fatal(err)
		}
		if got := clientAddress(a).String(); got != tt.want {
			t.Errorf("clientAddress(%s) = %s, want %s", tt.peer, got, tt.want)
		}
	}
}

// floodWorld is a gateway served as runServe serves it (capListener under
// newGatewayServer) on loopback, in front of a sandbox.
type floodWorld struct {
	t       *testing.T
	addr    string
	metrics *telemetry.Metrics
	stop    func()
}

func startFloodWorld(t *testing.T, caps ConnectionsConfig) *floodWorld {
	t.Helper()
	sb, err := sandbox.NewServer(sandbox.Config{DisableThrottling: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{
		Addr:           ln.Addr().String(),
		Connections:    caps,
		Throttle:       ThrottleConfig{Off: true},
		UpstreamBudget: BudgetConfig{Off: true},
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	tel := &telemetry.Telemetry{Metrics: telemetry.NewMetrics("test")}
	gw, err := newGateway(cfg, sb.URL, logger, hooks{Telemetry: tel})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveUntilDone(ctx, newGatewayServer(gw, logger), gw.capListener(ln), time.Second) }()
	w := &floodWorld{t: t, addr: ln.Addr().String(), metrics: tel.Metrics}
	w.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		sb.Close()
	}
	return w
}

// metric reads one sample of the gateway's metrics.
func (w *floodWorld) metric(name string, labels map[string]string) float64 {
	rec := httptest.NewRecorder()
	w.metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return testenv.MetricSamples(w.t, rec.Body)[testenv.MetricSeries(name, labels)]
}

// dialFrom opens a TCP connection to the gateway from the loopback address
// from (any of 127.0.0.0/8).
func (w *floodWorld) dialFrom(from string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", w.addr)
}

// flood opens n connections from the address from: idle ones, and ones
// that send half a request line and stop, as a slow client does. It
// returns those whose dial succeeded (one the gateway resets at once may
// already fail to dial).
func (w *floodWorld) flood(from string, n int) []net.Conn {
	w.t.Helper()
	conns := make([]net.Conn, 0, n)
	for i := range n {
		c, err := w.dialFrom(from)
		if errors.Is(err, syscall.ECONNRESET) {
			// Refused so fast that the reset reached the dial.
			continue
		}
		if err != nil {
			w.t.Fatalf("flood from %s: %v", from, err)
		}
		if i%2 == 1 {
			// A write to a connection the gateway already reset may fail:
			// that is a refusal, which held() tells.
			_, _ = io.WriteString(c, "GET /api/v1/config/REF30 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		}
		conns = append(conns, c)
	}
	w.t.Cleanup(func() { closeAll(conns) })
	return conns
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// held counts the connections the gateway still holds open: a read on
// one waits (the gateway has nothing to say to a client that sent no
// whole request) where a refused one reads a reset or the end at once.
func held(conns []net.Conn) int {
	var n atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				n.Add(1)
			}
			_ = c.SetReadDeadline(time.Time{})
		})
	}
	wg.Wait()
	return int(n.Load())
}

// device is a client on its own loopback address making one v1 call per
// connection (no keep-alive, so that each call needs a place).
type floodDevice struct {
	client *http.Client
	base   string
}

func (w *floodWorld) device(from string) *floodDevice {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	w.t.Cleanup(tr.CloseIdleConnections)
	return &floodDevice{client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, base: "http://" + w.addr}
}

// config makes a v1 config call and returns how long the answer took.
func (d *floodDevice) config() (time.Duration, error) {
	start := time.Now()
	resp, err := d.client.Get(d.base + "/api/v1/config/REF30")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<config") {
		return 0, fmt.Errorf("config: %d %.200s", resp.StatusCode, body)
	}
	return time.Since(start), nil
}

// calls makes n config calls and returns the longest.
func (d *floodDevice) calls(t *testing.T, who string, n int) time.Duration {
	t.Helper()
	var longest time.Duration
	for range n {
		took, err := d.config()
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		longest = max(longest, took)
	}
	return longest
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestConnectionFlood floods the device listener from single addresses
// over real TCP on loopback (127.0.0.2, ...: Linux answers the whole of
// 127.0.0.0/8): one address opening idle and half-sent connections beyond
// its cap holds only its cap, other addresses are served as before; the
// total cap refuses everyone once reached and serves again once the flood
// ends; every refusal is counted; nothing is left behind.
func TestConnectionFlood(t *testing.T) {
	before := goleak.IgnoreCurrent()
	fds := openFDs(t)
	const perAddress, total = 10, 30
	w := startFloodWorld(t, ConnectionsConfig{Max: total, MaxPerAddress: perAddress})
	refused := func(reason string) float64 {
		return w.metric("passgw_connections_refused_total", map[string]string{"cap": reason})
	}

	other := w.device("127.0.0.3")
	baseline := other.calls(t, "before the flood", 5)

	// One address opens three times its cap.
	attacker := w.flood("127.0.0.2", 3*perAddress)
	testenv.Eventually(t, "the refusals beyond the per-address cap counted", 5*time.Second, func() error {
		if got := refused(refusedPerAddress); got != 2*perAddress {
			return fmt.Errorf("refused per address: %v, want %d", got, 2*perAddress)
		}
		return nil
	})
	if got := held(attacker); got != perAddress {
		t.Errorf("the flooding address holds %d connections, want its cap %d", got, perAddress)
	}
	if got := w.metric("passgw_connections_open", nil); got != perAddress {
		t.Errorf("passgw_connections_open = %v, want %d", got, perAddress)
	}
	during := other.calls(t, "another address during the flood", 20)
	for _, from := range []string{"127.0.0.4", "127.0.0.5"} {
		during = max(during, w.device(from).calls(t, from+" during the flood", 5))
	}
	t.Logf("another address's longest call: %v before the flood, %v during it", baseline, during)
	// The flood's connections wait on the 10 s header timeout: a caller
	// queued behind them would wait that long.
	if during > 2*time.Second {
		t.Errorf("another address waited %v for an answer during the flood", during)
	}

	// The other addresses' calls are over once the server has closed
	// their connections.
	testenv.Eventually(t, "the other addresses' connections closed", 5*time.Second, func() error {
		if got := w.metric("passgw_connections_open", nil); got != perAddress {
			return fmt.Errorf("open: %v, want %d", got, perAddress)
		}
		return nil
	})
	// Two more addresses at their cap fill the total.
	second := w.flood("127.0.0.6", perAddress)
	third := w.flood("127.0.0.7", perAddress)
	testenv.Eventually(t, "the total reached", 5*time.Second, func() error {
		if got := w.metric("passgw_connections_open", nil); got != total {
			return fmt.Errorf("open: %v, want %d", got, total)
		}
		return nil
	})
	if _, err := w.device("127.0.0.8").config(); err == nil {
		t.Error("a call was served with the total cap reached")
	}
	if got := refused(refusedTotal); got < 1 {
		t.Errorf("refused at the total cap: %v, want at least 1", got)
	}
	if got := held(slices.Concat(attacker, second, third)); got != total {
		t.Errorf("held %d connections at the total cap, want %d", got, total)
	}
	closeAll(third)
	testenv.Eventually(t, "served again once the flood eases", 5*time.Second, func() error {
		_, err := w.device("127.0.0.8").config()
		return err
	})

	closeAll(attacker)
	closeAll(second)
	testenv.Eventually(t, "every place given back", 5*time.Second, func() error {
		if got := w.metric("passgw_connections_open", nil); got != 0 {
			return fmt.Errorf("open: %v", got)
		}
		return nil
	})
	w.stop()
	testenv.Eventually(t, "no goroutine left behind", 10*time.Second, func() error { return goleak.Find(before) })
	testenv.Eventually(t, "every file descriptor returned", 10*time.Second, func() error {
		if n := openFDs(t); n > fds {
			return fmt.Errorf("%d open, %d before the test", n, fds)
		}
		return nil
	})
}

func TestCapAboveFileLimit(t *testing.T) {
	tests := []struct {
		caps  ConnectionsConfig
		limit uint64
		warns bool
	}{
		{ConnectionsConfig{Max: DefaultMaxConnections}, 1 << 20, false},
		{ConnectionsConfig{Max: DefaultMaxConnections}, 1024, true},
		{ConnectionsConfig{Max: 3000}, 4096, false},
		{ConnectionsConfig{Max: 3500}, 4096, true},
		{ConnectionsConfig{Max: -1}, 1 << 20, true},
		{ConnectionsConfig{Max: DefaultMaxConnections}, 0, false}, // limit unknown
	}
	for _, tt := range tests {
		if got := capAboveFileLimit(tt.caps, tt.limit); (got != "") != tt.warns {
			t.Errorf("max %d, limit %d: %q, want a warning %v", tt.caps.Max, tt.limit, got, tt.warns)
		}
	}
	if runtime.GOOS == "linux" && openFileLimit() == 0 {
		t.Error("the open-file limit could not be read")
	}
}

// TestCapsReadForEachConnection: the listener reads the caps of the
// configuration in effect for each new connection, so a reload that
// changes them acts on the next connection.
func TestCapsReadForEachConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var caps atomic.Pointer[ConnectionsConfig]
	caps.Store(&ConnectionsConfig{Max: 10, MaxPerAddress: 1})
	capped := &capListener{Listener: ln, limits: func() ConnectionsConfig { return *caps.Load() }, byAddr: map[netip.Addr]int{}}
	defer capped.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := capped.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	w := &floodWorld{t: t, addr: ln.Addr().String()}
	first := w.flood("127.0.0.2", 2)
	if got := held(first); got != 1 {
		t.Errorf("held %d with max_per_address 1, want 1", got)
	}
	caps.Store(&ConnectionsConfig{Max: 10, MaxPerAddress: 3})
	second := w.flood("127.0.0.2", 3)
	if got := held(second); got != 2 {
		t.Errorf("held %d more after max_per_address went to 3, want 2", got)
	}
	for range 3 {
		c := <-accepted
		c.Close()
	}
}
