package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passgw/passgw/compat/golden"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client/sandbox"
)

// gatedUpstream is the sandbox behind a proxy that holds every
// configuration call until released, so a test can keep a gateway request in
// flight for as long as it likes.
type gatedUpstream struct {
	URL     string
	arrived chan struct{} // receives once per held call
	release chan struct{} // closed to let held calls through
	once    sync.Once
}

func newGatedUpstream(t *testing.T) *gatedUpstream {
	t.Helper()
	sb, err := sandbox.NewServer(sandbox.Config{DisableThrottling: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(sb.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	// Calls cut off by the gateway's shutdown are expected here.
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	g := &gatedUpstream{arrived: make(chan struct{}, 16), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/configuration") {
			g.arrived <- struct{}{}
			<-g.release
		}
		proxy.ServeHTTP(w, r)
	}))
	g.URL = srv.URL
	// Release before closing: Close waits for the held handlers.
	t.Cleanup(func() { g.open(); srv.Close(); sb.Close() })
	return g
}

func (g *gatedUpstream) open() { g.once.Do(func() { close(g.release) }) }

// shutdownConfig is the process tests' configuration on upstream with the
// given shutdown bound.
func shutdownConfig(t *testing.T, upstream, grace string) string {
	t.Helper()
	path := writeServeConfig(t, upstream, "memory")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "shutdown_timeout: 5s", "shutdown_timeout: "+grace, 1))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// inFlight starts a config call on the gateway and waits until the gateway
// is calling upstream for it; the call's answer (or error) arrives on the
// returned channel.
func inFlight(t *testing.T, up *gatedUpstream, base string) <-chan error {
	t.Helper()
	d := newDevice(t, "watching-device")
	res := make(chan error, 1)
	go func() {
		a, err := d.try(base, http.MethodGet, "/api/v1/config/REF30", nil)
		if err == nil && a.Status != http.StatusOK {
			err = errors.New(string(a.Body))
		}
		res <- err
	}()
	select {
	case <-up.arrived:
	case err := <-res:
		t.Fatalf("config call ended before reaching upstream: %v", err)
	}
	return res
}

// stopButHeld sends the gateway SIGTERM, waits until it refuses new
// connections and checks it has not exited, held by what (still running).
func stopButHeld(t *testing.T, gw *proc, what string) {
	t.Helper()
	gw.signal(syscall.SIGTERM)
	testenv.Eventually(t, "new connections refused after SIGTERM", 10*time.Second, func() error {
		if !refused(gw.URL) {
			return errors.New("the gateway still accepts connections")
		}
		return nil
	})
	select {
	case <-gw.done:
		t.Fatalf("the gateway exited with %s: %v", what, gw.err)
	default:
	}
}

// TestGracefulShutdown: on SIGTERM the gateway stops accepting connections
// at once, lets the request in flight finish and exits 0.
func TestGracefulShutdown(t *testing.T) {
	up := newGatedUpstream(t)
	gw := startServe(t, "gateway", shutdownConfig(t, up.URL, "30s"), "127.0.0.1:0")
	res := inFlight(t, up, gw.URL)

	stopButHeld(t, gw, "a request in flight")
	up.open()
	if err := <-res; err != nil {
		t.Fatalf("the request in flight at SIGTERM failed: %v", err)
	}
	if err := gw.wait(20 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
}

// TestShutdownBounded: a request that outlives shutdown_timeout is cut off
// and the gateway still exits 0.
func TestShutdownBounded(t *testing.T) {
	up := newGatedUpstream(t)
	gw := startServe(t, "gateway", shutdownConfig(t, up.URL, "500ms"), "127.0.0.1:0")
	res := inFlight(t, up, gw.URL)

	gw.signal(syscall.SIGTERM)
	if err := gw.wait(20 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
	if err := <-res; err == nil {
		t.Fatal("the request held past shutdown_timeout was answered, want it cut off")
	}
	if !strings.Contains(gw.stderr.String(), "cut off") {
		t.Errorf("the cut-off requests were not logged:\n%s", gw.stderr)
	}
}

// TestShutdownDrainsShadow: a shadow comparison still running when the
// gateway is told to stop (its translated call held upstream) is finished
// before the process exits, so its difference is recorded.
func TestShutdownDrainsShadow(t *testing.T) {
	const name = "02-config/01-config-xml.txtar"
	dir := caseTree(t, []string{name}, map[string][2]string{
		name: {"<displayName>Acme Cable</displayName>", "<displayName>Acme Cable Co.</displayName>"},
	})
	_, v1 := replayServer(t, dir)
	up := newGatedUpstream(t)
	diffs := t.TempDir()
	path := shutdownConfig(t, up.URL, "30s")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, fmt.Sprintf("mode: shadow\nv1_upstream: %s\nshadow: {log_dir: %s}\n", v1.URL, diffs)...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startServe(t, "gateway", path, "127.0.0.1:0")
	scenarios, err := golden.LoadScenarios(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := scenarios[0].Steps[0].Case
	if got := sendRaw(t, gw.URL, c.Request); got.Status != c.Response.Status || !bytes.Equal(got.Body, c.Response.Body) {
		t.Fatalf("the device did not get v1's answer: %d %s", got.Status, got.Body)
	}
	select {
	case <-up.arrived: // the comparison's translated call is held upstream
	case <-time.After(10 * time.Second):
		t.Fatal("the shadow comparison never called v2")
	}

	stopButHeld(t, gw, "a shadow comparison running")
	up.open()
	if err := gw.wait(20 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
	if logged, _ := filepath.Glob(filepath.Join(diffs, "*.txtar")); len(logged) != 1 {
		t.Errorf("%d difference files after exit, want the running comparison's 1\n%s", len(logged), gw.stderr)
	}
}
