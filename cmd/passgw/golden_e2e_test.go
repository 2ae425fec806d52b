package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/compat/golden"
)

// runPassgw runs the built passgw with args to its end and returns its
// output and exit status.
func runPassgw(t *testing.T, limit time.Duration, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(passgwBinary(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("passgw %s still running after %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), limit, &out, &errOut)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		status = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), status
}

// startDefaultServe runs `passgw serve` as a newcomer does, with no
// configuration (throttle on, the embedded sandbox with its own throttle),
// on free ports.
func startDefaultServe(t *testing.T, name string) *proc {
	t.Helper()
	return startProc(t, name, serveReady, "serve", "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0")
}

// ciSuite is what a programmer's CI records: a device's calls before and
// after a second-screen sign-in, in both formats, and the configuration,
// taken from the project's golden cases with their answers removed. The
// preauthorize of twelve resources needs more v2 calls than the device's
// upstream budget allows at once: the gateway marks its first answer
// partial, and the commands ask again.
var ciSuite = map[string][]string{
	"03-signin-alice": {
		"01-checkauthn-xml", "02-checkauthn-json", "05-tokens-authz-xml", "06-tokens-authz-json",
		"14-regcode", "15-checkauthn-code-xml", "16-checkauthn-code-json",
		"19-authenticate-bad-redirect-xml", "20-authenticate-bad-redirect-json", "21-authenticate-bad-domain-xml",
		"22-authenticate-unknown-code-xml", "23-authenticate-unknown-code-json", "24-authenticate",
		"25-checkauthn-code-xml", "26-checkauthn-code-json", "27-authenticate-code-xml", "29-checkauthn-xml", "30-checkauthn-json",
		"31-tokens-authn-xml", "32-tokens-authn-json", "35-authorize-xml", "36-authorize-json",
		"37-tokens-authz-xml", "38-tokens-authz-json", "39-tokens-media-xml", "40-mediatoken-json",
		"42-preauthorize-12-xml", "46-usermetadata-xml", "47-usermetadata-json", "48-logout",
	},
	"02-config": {"01-config-xml", "02-config-json", "04-config-unknown-xml", "05-config-unknown-json"},
}

// writeCISuite writes ciSuite, without answers, under a fresh directory
// and returns it with the number of steps.
func writeCISuite(t *testing.T) (string, int) {
	t.Helper()
	dir := t.TempDir()
	n := 0
	for scenario, steps := range ciSuite {
		if err := os.Mkdir(filepath.Join(dir, scenario), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, step := range steps {
			data, err := os.ReadFile(filepath.Join(goldenDir(t), scenario, step+".txtar"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := golden.ParseCase(step, data)
			if err != nil {
				t.Fatal(err)
			}
			c.Response = golden.Response{}
			if err := os.WriteFile(filepath.Join(dir, scenario, step+".txtar"), c.Format(), 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return dir, n
}

var (
	recordSummary = regexp.MustCompile(`(?m)^golden record: (\d+) written, (\d+) unchanged, (\d+) errors, (\d+) skipped, (\d+) retried after 429$`)
	checkSummary  = regexp.MustCompile(`(?m)^golden check: (\d+) passed, (\d+) failed, (\d+) errors, (\d+) skipped, (\d+) retried after 429$`)
)

// TestGoldenRecordCheckDefaultServe is a programmer's CI on the built
// binary: `passgw golden record` of a suite of more than 30 steps against a
// default `passgw serve` (throttle on, every call from one address), then
// `passgw golden check` of that recording against a second, fresh `passgw
// serve`. The throttles answer 429 once the burst is spent: the commands
// wait those out, none is recorded, the recording is portable (codes and
// URLs are placeholders) and the check passes; a changed expected value
// fails the check with exit status 1 and is named in the output.
func TestGoldenRecordCheckDefaultServe(t *testing.T) {
	t.Parallel()
	dir, steps := writeCISuite(t)
	if steps <= 30 {
		t.Fatalf("the suite has %d steps, want more than 30", steps)
	}
	first := startDefaultServe(t, "serve-1")
	second := startDefaultServe(t, "serve-2")
	out, errOut, status := runPassgw(t, time.Minute, "golden", "record", "--target", first.URL, "--browser", dir)
	m := recordSummary.FindStringSubmatch(out)
	if status != 0 || m == nil || m[1] != strconv.Itoa(steps) || m[3] != "0" || m[4] != "0" {
		t.Fatalf("golden record: exit status %d, want 0 and %d written\nstdout:\n%s\nstderr:\n%s", status, steps, out, errOut)
	}
	if m[5] == "0" {
		t.Errorf("golden record waited out no 429: the throttles did not act, so the test proves nothing of the retries\n%s", out)
	}
	t.Log(m[0])
	scenarios, err := golden.LoadScenarios(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		for _, st := range sc.Steps {
			r := st.Case.Response
			if r.Status == 0 || r.Status == 429 || bytes.Contains(r.Body, []byte("429 Too Many Requests")) {
				t.Errorf("%s recorded as %d:\n%s", st.Path, r.Status, r.Body)
			}
			// Nothing of where the servers ran is left in the recording.
			text := string(st.Case.Response.Format())
			if strings.Contains(text, "127.0.0.1") {
				t.Errorf("%s holds an address of the first gateway:\n%s", st.Path, text)
			}
		}
	}
	// Every resource decided, none left undecided by the throttle.
	pre := string(mustRead(t, filepath.Join(dir, "03-signin-alice", "42-preauthorize-12-xml.txtar")))
	if !strings.Contains(pre, "Adobe-Response-Confidence: full\n") || strings.Contains(pre, "<authorized>false</authorized>") {
		t.Errorf("the preauthorize of twelve resources is recorded partial:\n%s", pre)
	}
	location := string(mustRead(t, filepath.Join(dir, "03-signin-alice", "24-authenticate.txtar")))
	if !strings.Contains(location, "Location: {{sandbox}}/api/v2/authenticate/REF30/{{code1}}\n") {
		t.Errorf("the authenticate redirect is not recorded with placeholders:\n%s", location)
	}

	out, errOut, status = runPassgw(t, time.Minute, "golden", "check", "--target", second.URL, "--browser", "--no-skips", dir)
	m = checkSummary.FindStringSubmatch(out)
	if status != 0 || m == nil || m[1] != strconv.Itoa(steps) || m[2] != "0" || m[3] != "0" || m[4] != "0" {
		t.Fatalf("golden check on a second gateway: exit status %d, want 0 and %d passed\nstdout:\n%s\nstderr:\n%s", status, steps, out, errOut)
	}
	t.Log(m[0])

	// One changed expected value: the second MVPD's display name.
	changed := t.TempDir()
	step := mustRead(t, filepath.Join(dir, "02-config", "01-config-xml.txtar"))
	if !bytes.Contains(step, []byte("<displayName>Beta Fiber</displayName>")) {
		t.Fatalf("the recorded configuration lacks Beta Fiber:\n%s", step)
	}
	step = bytes.Replace(step, []byte("<displayName>Beta Fiber</displayName>"), []byte("<displayName>Beta Fibre</displayName>"), 1)
	if err := os.WriteFile(filepath.Join(changed, "01-config-xml.txtar"), step, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, status = runPassgw(t, time.Minute, "golden", "check", "--target", second.URL, changed)
	for _, want := range []string{
		"FAIL  01-config-xml.txtar: the answer differs from the recorded one:\n",
		"-/config/requestor/mvpds/mvpd[2]/displayName = \"Beta Fibre\"\n",
		"+/config/requestor/mvpds/mvpd[2]/displayName = \"Beta Fiber\"\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("golden check of a changed value: output lacks %q", want)
		}
	}
	if m := checkSummary.FindStringSubmatch(out); status != 1 || m == nil || m[1] != "0" || m[2] != "1" {
		t.Errorf("golden check of a changed value: exit status %d, want 1 with 1 failed\nstdout:\n%s\nstderr:\n%s", status, out, errOut)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
