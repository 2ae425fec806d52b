package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passgw/passgw/v2client/sandbox"
)

// binDir holds the passgw binary the process tests run; it is built on
// first use, once for the whole package run.
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "passgw-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// passgwBinary builds ./cmd/passgw (the package under test) once.
func passgwBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			binError = err
			return
		}
		binPath = filepath.Join(binDir, "passgw")
		// -buildvcs=auto whatever GOFLAGS says: the version command
		// reports the revision a checkout's build information records.
		out, err := exec.Command(goTool, "build", "-buildvcs=auto", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// procStartWait bounds how long a process may take to print its address.
const procStartWait = 30 * time.Second

// proc is a passgw process started by a test; it is killed when the test
// ends if still running.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	// stdout holds the lines printed on standard output.
	stdout *syncBuffer
	done   chan struct{}
	err    error // the exit status, once done is closed
	// URL is the address the process printed it listens on.
	URL string
}

// startProc runs passgw with args and waits until it prints a line
// matching ready, whose first group is the URL it serves.
func startProc(t *testing.T, name string, ready *regexp.Regexp, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(passgwBinary(t), args...)
	p := &proc{t: t, name: name, cmd: cmd, stderr: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(p.stdout, sc.Text())
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, p.stderr)
		}
	})
	select {
	case p.URL = <-urls:
		return p
	case <-p.done:
		t.Fatalf("%s exited before listening: %v\n%s", name, p.err, p.stderr)
	case <-time.After(procStartWait):
		t.Fatalf("%s did not print its address within %v\n%s", name, procStartWait, p.stderr)
	}
	return nil
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// signal sends sig to the process.
func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signalling %s: %v", p.name, err)
	}
}

// wait waits for the process to end, at most limit, and returns its exit
// status.
func (p *proc) wait(limit time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(limit):
		p.t.Fatalf("%s still running %v after being asked to stop", p.name, limit)
		return nil
	}
}

var (
	sandboxReady = regexp.MustCompile(`^sandbox listening on (http://\S+)`)
	serveReady   = regexp.MustCompile(`^passgw listening on (http://\S+)`)
)

// startSandboxProc runs `passgw sandbox` on a free port with its admin
// endpoints, throttling off.
func startSandboxProc(t *testing.T) *proc {
	t.Helper()
	return startProc(t, "sandbox", sandboxReady, "sandbox", "--addr", "127.0.0.1:0", "--no-throttle", "--admin")
}

// The world of the process tests: requestor REF30 on a sandbox process,
// with enhanced errors, throttling off and a fixed device DCR key, which
// every instance must share.
const (
	procRedirect = "https://example.com/done"
	procDCRKey   = "k1:c2VjcmV0LW9mLXRoZS1kY3Ita2V5LTAxMjM0NTY3ODk"
)

// writeServeConfig writes the configuration file the gateway processes of a
// test share: upstream is the sandbox, store "memory" or a Redis URL. Their
// logs are unbuffered: tests read the logs of running and of killed
// processes, where buffered lines would not be written yet or ever.
func writeServeConfig(t *testing.T, upstream, store string) string {
	t.Helper()
	cfg := fmt.Sprintf(`upstream: %s
store: %s
shutdown_timeout: 5s
log_level: debug
log_buffer: {off: true}
throttle: {off: true}
upstream_budget: {off: true}
dcr_keys: [%q]
requestors:
  - id: REF30
    software_statement: %s
    domain_name: example.com
    redirect_url: %s
    enhanced_errors: true
`, upstream, store, procDCRKey, sandboxStatement, procRedirect)
	path := filepath.Join(t.TempDir(), "passgw.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServe runs `passgw serve` with the configuration file on addr
// (127.0.0.1:0 for a free port).
func startServe(t *testing.T, name, config, addr string) *proc {
	t.Helper()
	return startProc(t, name, serveReady, "serve", "--config", config, "--addr", addr)
}

// addrOf is the HOST:PORT of a process URL, to start a replacement on.
func addrOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// device is a v1 device app speaking JSON to gateway instances.
type device struct {
	t      *testing.T
	id     string
	client *http.Client
}

func newDevice(t *testing.T, id string) *device {
	return &device{t: t, id: id, client: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// answer is a gateway's answer to a device call.
type answer struct {
	Status int
	Body   []byte
}

// decode decodes a JSON answer body into v.
func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.Status, a.Body, err)
	}
}

// try sends a call to the gateway at base and returns the answer or the
// transport error. Query parameters name the device and requestor.
func (d *device) try(base, method, path string, params url.Values) (answer, error) {
	q := url.Values{"requestor": {"REF30"}, "deviceId": {d.id}}
	for k, v := range params {
		q[k] = v
	}
	var body io.Reader
	target := base + path
	if method == http.MethodPost {
		body = strings.NewReader(q.Encode())
	} else {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(context.Background(), method, target, body)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{Status: resp.StatusCode, Body: b}, err
}

// call is try that fails the test on a transport error or an unexpected
// status.
func (d *device) call(step, base, method, path string, params url.Values, status int) answer {
	d.t.Helper()
	a, err := d.try(base, method, path, params)
	if err != nil {
		d.t.Fatalf("%s: %v", step, err)
	}
	if a.Status != status {
		d.t.Fatalf("%s: status %d, want %d: %s", step, a.Status, status, a.Body)
	}
	return a
}

// regcode registers the device on the gateway at base and returns the code.
func (d *device) regcode(base string) string {
	d.t.Helper()
	var reg struct{ Code string }
	d.call("regcode", base, http.MethodPost, "/reggie/v1/REF30/regcode", nil, http.StatusCreated).decode(d.t, &reg)
	if reg.Code == "" {
		d.t.Fatal("regcode without a code")
	}
	return reg.Code
}

// browserSignIn plays the second screen: the login web app opens the v1
// authenticate URL of the gateway at base for code, and user signs in on
// the MVPD page.
func browserSignIn(t *testing.T, base, code, user string) {
	t.Helper()
	q := url.Values{
		"reg_code": {code}, "requestor_id": {"REF30"}, "mso_id": {"AcmeCable"},
		"domain_name": {"example.com"}, "redirect_url": {procRedirect},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	landed, err := sandbox.SignIn(ctx, &http.Client{Timeout: 10 * time.Second}, base+"/api/v1/authenticate?"+q.Encode(), user, user+"-pass")
	if err != nil {
		t.Fatalf("sign-in as %s: %v", user, err)
	}
	if !strings.HasPrefix(landed, procRedirect) {
		t.Fatalf("browser landed on %s, want %s", landed, procRedirect)
	}
}

// mediaToken is the v1 media token answer.
type mediaToken struct {
	Resource, SerializedToken, UserID, MVPDID string
}

// verifyMediaToken asks the sandbox process whether token is one it issued
// for resource.
func verifyMediaToken(t *testing.T, sandboxURL, token, resource string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"token": token})
	resp, err := http.Post(sandboxURL+"/_sandbox/media-token/verify", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var claims struct{ Resource string }
	if err := json.NewDecoder(resp.Body).Decode(&claims); err != nil || resp.StatusCode != http.StatusOK || claims.Resource != resource {
		t.Fatalf("media token does not verify for %s: status %d, %+v, %v", resource, resp.StatusCode, claims, err)
	}
}

// v1ErrorBody is the enhanced v1 error body.
type v1ErrorBody struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Code    string `json:"code"`
	Action  string `json:"action"`
}

// refused reports whether nothing accepts connections at the URL's address.
func refused(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	c, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	c.Close()
	return false
}

// countLines counts lines of s containing sub.
func countLines(s, sub string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}
