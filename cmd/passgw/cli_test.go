package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
)

// TestCLIHelp proves every command prints its usage on stdout and exits 0
// when asked with -h, --help or help, before or after its name, and that
// passgw alone prints the list of commands the same way.
func TestCLIHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errOut, status := runPassgw(t, 30*time.Second, args...)
		if status != 0 || errOut != "" || !strings.HasPrefix(out, "usage: passgw <command> [flags]\n") {
			t.Errorf("passgw %v: exit status %d, stdout %q, stderr %q", args, status, out, errOut)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "\n  "+c.name+" ") {
				t.Errorf("passgw %v does not list %s:\n%s", args, c.name, out)
			}
		}
	}
	for _, c := range commands() {
		want := "usage: passgw " + c.name
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {c.name, "help"}, {"help", c.name}} {
			out, errOut, status := runPassgw(t, 30*time.Second, args...)
			if status != 0 || errOut != "" || !strings.HasPrefix(out, want) {
				t.Errorf("passgw %v: exit status %d, stdout %q, stderr %q; want the usage (%q...) on stdout and 0", args, status, out, errOut, want)
			}
		}
	}
	// A subcommand's own flags are in its usage.
	out, _, status := runPassgw(t, 30*time.Second, "golden", "record", "--help")
	if status != 0 || !strings.Contains(out, "-target URL") || !strings.Contains(out, "passgw golden record --target URL") {
		t.Errorf("passgw golden record --help: exit status %d:\n%s", status, out)
	}
	out, _, _ = runPassgw(t, 30*time.Second, "serve", "--help")
	for _, want := range []string{"REST API v1", "embedded sandbox", "CONFIG.md", "-sandbox-addr HOST:PORT", "go run` does not pass signals on"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve's usage lacks %q:\n%s", want, out)
		}
	}
}

// TestCLIUsageErrors proves a command used wrongly prints its usage on
// stderr, nothing on stdout, and exits 2: no command, an unknown one, an
// unknown flag, a stray argument, a missing or malformed value.
func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args  []string
		usage string // the usage stderr must hold
		says  string // and the message
	}{
		{nil, "usage: passgw <command>", "passgw: no command given"},
		{[]string{"serv"}, "usage: passgw <command>", `unknown command "serv"`},
		{[]string{"serve", "--adr", "127.0.0.1:0"}, "usage: passgw serve", "flag provided but not defined: -adr"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "now"}, "usage: passgw serve", `serve: unexpected argument "now"`},
		{[]string{"sandbox", "extra"}, "usage: passgw sandbox", `unexpected argument "extra"`},
		{[]string{"healthcheck", "--timeout", "soon"}, "usage: passgw healthcheck", `invalid value "soon" for flag -timeout`},
		{[]string{"version", "--short"}, "usage: passgw version", "flag provided but not defined: -short"},
		{[]string{"golden"}, "passgw golden record --target URL", "record, check or replay?"},
		{[]string{"golden", "compare"}, "passgw golden record --target URL", `unknown subcommand "compare"`},
		{[]string{"golden", "check", "cases/"}, "passgw golden record --target URL", "--target URL and one DIR are required"},
		{[]string{"golden", "replay"}, "passgw golden record --target URL", "one DIR is required"},
		{[]string{"device", "--format", "yaml"}, "usage: passgw device", `--format "yaml"`},
		{[]string{"bench", "now"}, "usage: passgw bench", `unexpected argument "now"`},
	} {
		out, errOut, status := runPassgw(t, 30*time.Second, tt.args...)
		if status != 2 || out != "" || !strings.Contains(errOut, tt.usage) || !strings.Contains(errOut, tt.says) {
			t.Errorf("passgw %v: exit status %d (want 2), stdout %q, stderr:\n%s\nwant the usage (%q) and %q on stderr",
				tt.args, status, out, errOut, tt.usage, tt.says)
		}
	}
}

// TestCLIVersion proves version and --version print the module version,
// the VCS revision the binary was built from and the Go version.
func TestCLIVersion(t *testing.T) {
	t.Parallel()
	line := regexp.MustCompile(`^passgw (\S+)( revision ([0-9a-f]{40})( \(modified\))?)? go1\.\d+(\.\d+)?\S*\n$`)
	var first string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, errOut, status := runPassgw(t, 30*time.Second, args...)
		m := line.FindStringSubmatch(out)
		if status != 0 || errOut != "" || m == nil {
			t.Fatalf("passgw %v: exit status %d, stdout %q, stderr %q", args, status, out, errOut)
		}
		if first != "" && out != first {
			t.Errorf("version %q and --version %q differ", first, out)
		}
		first = out
		// Built from a git clone, the binary names its commit. (The go
		// command records none in a linked worktree, whose .git is a
		// file.)
		root := testenv.ModuleRoot(t)
		if fi, err := os.Stat(filepath.Join(root, ".git")); err == nil && fi.IsDir() {
			head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
			if err != nil {
				t.Fatal(err)
			}
			if m[3] != strings.TrimSpace(string(head)) {
				t.Errorf("revision %q, want HEAD %s", m[3], head)
			}
		}
	}
	if got := versionLine("v1.4.2"); !strings.HasPrefix(got, "passgw v1.4.2 ") {
		t.Errorf("the linker-set release is not the version: %q", got)
	}
}

// TestCLIConfigErrors proves an empty or wrong-shaped configuration file
// is refused (exit status 1) in the configuration's own words: the field,
// what it wants and what the file holds; never a Go type or a bare EOF.
func TestCLIConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, yaml string
		says       []string
	}{
		{"empty", "", []string{"the file holds no configuration", "CONFIG.md"}},
		{"comments only", "# nothing yet\n", []string{"the file holds no configuration"}},
		{"a list", "- upstream: sandbox\n", []string{"the file (line 1): want a mapping of configuration fields", "got a list"}},
		{"a word", "sandbox\n", []string{"the file (line 1): want a mapping of configuration fields", "got `sandbox`"}},
		{"duration", "shutdown_timeout: soon\n", []string{"shutdown_timeout (line 1): want a duration such as 10s", "got `soon`"}},
		{"number", "throttle:\n  burst: lots\n", []string{"throttle.burst (line 2): want a whole number, got `lots`"}},
		{"flag", "log_buffer: {off: maybe}\n", []string{"log_buffer.off (line 1): want true or false, got `maybe`"}},
		{"list for text", "addr: [127.0.0.1:0]\n", []string{"addr (line 1): want a text value, got a list"}},
		{"requestors", "requestors: REF30\n", []string{"requestors (line 1): want a list, got `REF30`"}},
		{"requestor", "requestors: [REF30]\n", []string{"requestors[0] (line 1): want a requestor: a mapping of fields such as id:"}},
		{"unknown field", "adress: 127.0.0.1:0\n", []string{"adress (line 1): unknown field (CONFIG.md lists every field)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "passgw.yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, status := runPassgw(t, 30*time.Second, "serve", "--config", file, "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0")
			if status != 1 || strings.Contains(out, "listening") {
				t.Errorf("exit status %d, want 1 before listening\nstdout:\n%s\nstderr:\n%s", status, out, errOut)
			}
			for _, want := range tt.says {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			for _, never := range []string{"main.", "time.Duration", "EOF", "!!", "unmarshal", "[]"} {
				if strings.Contains(errOut, never) {
					t.Errorf("stderr speaks Go or YAML internals (%q):\n%s", never, errOut)
				}
			}
		})
	}
}

// TestServeShutdownLogged proves serve says "listening" once, and logs its
// stop: the signal, the drain, the end; and exits 0 on SIGINT and SIGTERM.
func TestServeShutdownLogged(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		p := startDefaultServe(t, "serve")
		p.signal(sig)
		if err := p.wait(20 * time.Second); err != nil {
			t.Fatalf("serve stopped by %v: %v\n%s", sig, err, p.stderr)
		}
		logs := p.stderr.String()
		cause := map[syscall.Signal]string{syscall.SIGINT: "interrupt", syscall.SIGTERM: "terminated"}[sig]
		for _, want := range []string{
			`msg="shutting down: draining the calls in flight; new connections are refused" cause="` + cause + ` signal received" shutdown_timeout_ms=10000`,
			`msg="shut down" duration_ms=`,
		} {
			if countLines(logs, want) != 1 {
				t.Errorf("%v: the log does not hold %s once:\n%s", sig, want, logs)
			}
		}
		if strings.Contains(logs, "listening") {
			t.Errorf("%v: the log says listening too (stdout says it):\n%s", sig, logs)
		}
	}
}

// TestCLIGatewayFlag proves status, healthcheck and device name a running
// gateway by one flag, --gateway, and that --url, the name status and
// healthcheck gave it before, still works, with a deprecation notice on
// stderr: healthcheck probes /readyz of a base URL and a URL with a path
// as it is; status reads /status.
func TestCLIGatewayFlag(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var paths []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/readyz", "/healthz":
			io.WriteString(w, "ok "+r.URL.Path)
		case statusPath:
			io.WriteString(w, `{"version":"v0","progress":{"at":"2026-12-07T00:00:00Z","requestors":{}}}`)
		default:
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer gw.Close()
	for _, tt := range []struct {
		args       []string
		status     int
		path       string // the path the gateway was asked for
		out        string // on stdout
		deprecated bool
	}{
		{[]string{"healthcheck", "--gateway", gw.URL}, 0, "/readyz", "ok /readyz", false},
		{[]string{"healthcheck", "--gateway", gw.URL + "/healthz"}, 0, "/healthz", "ok /healthz", false},
		{[]string{"healthcheck", "--url", gw.URL + "/readyz"}, 0, "/readyz", "ok /readyz", true},
		{[]string{"healthcheck", "--gateway", gw.URL + "/starting"}, 1, "/starting", "", false},
		{[]string{"status", "--gateway", gw.URL, "--json"}, 0, statusPath, `"version":"v0"`, false},
		{[]string{"status", "--url", gw.URL + "/", "--json"}, 0, statusPath, `"version":"v0"`, true},
	} {
		mu.Lock()
		paths = nil
		mu.Unlock()
		out, errOut, status := runPassgw(t, 30*time.Second, tt.args...)
		mu.Lock()
		asked := slices.Clone(paths)
		mu.Unlock()
		if status != tt.status || !strings.Contains(out, tt.out) || !slices.Equal(asked, []string{tt.path}) {
			t.Errorf("passgw %v: exit status %d, stdout %q, asked for %v; want %d, %q, [%s]\nstderr: %s",
				tt.args, status, out, asked, tt.status, tt.out, tt.path, errOut)
		}
		if got := strings.Contains(errOut, "--url is deprecated; use --gateway"); got != tt.deprecated {
			t.Errorf("passgw %v: deprecation notice %v, want %v; stderr: %q", tt.args, got, tt.deprecated, errOut)
		}
	}
	for _, cmd := range []string{"status", "healthcheck", "device"} {
		out, _, _ := runPassgw(t, 30*time.Second, cmd, "--help")
		if !strings.Contains(out, "-gateway URL") {
			t.Errorf("passgw %s --help names no --gateway:\n%s", cmd, out)
		}
	}
}
