package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/compat/golden"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client/sandbox"
)

var updateGolden = flag.Bool("update", false, "rewrite the expected responses in testdata/golden from the live answers (review the diff)")

// deviceIP is the address of every device of the golden scenarios (TEST-NET-3).
const deviceIP = "203.0.113.7"

// goldenDir is testdata/golden: one directory per scenario, one
// NN-name.txtar step per file, run in name order against a fresh world.
func goldenDir(t *testing.T) string {
	return filepath.Join(testenv.ModuleRoot(t), "testdata", "golden")
}

// TestGolden replays every scenario against a fresh gateway and sandbox and
// compares each answer with the recorded one (-update rewrites them).
func TestGolden(t *testing.T) {
	for _, dir := range scenarioDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			runScenario(t, dir)
		})
	}
}

// scenarioDirs lists the scenario directories in name order.
func scenarioDirs(t *testing.T) []string {
	t.Helper()
	root := goldenDir(t)
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no scenarios under %s", root)
	}
	return dirs
}

// readSteps loads the steps of one scenario directory, in name order.
func readSteps(t *testing.T, dir string) []golden.Step {
	t.Helper()
	scenarios, err := golden.LoadScenarios(dir)
	if err != nil || len(scenarios) != 1 {
		t.Fatalf("%s: %d scenarios, %v", dir, len(scenarios), err)
	}
	for _, st := range scenarios[0].Steps {
		for _, x := range st.Case.Extra {
			if x.Name != golden.SectionClock && x.Name != golden.SectionBrowser {
				t.Fatalf("%s: unknown section %q", st.Path, x.Name)
			}
		}
	}
	return scenarios[0].Steps
}

func runScenario(t *testing.T, dir string) {
	for _, m := range playScenario(t, dir, *updateGolden) {
		t.Error(m)
	}
}

// playScenario runs the steps of dir against a fresh world with a
// golden.Runner, nothing ignored, and returns one report (file name and
// unified diff) per answer that differs from the recorded one. With update
// it rewrites those responses instead.
func playScenario(t *testing.T, dir string, update bool) []string {
	w := newTestWorld(t)
	steps := readSteps(t, dir)
	rn := &golden.Runner{
		Target: w.URL,
		Client: w.client,
		Vars:   map[string]string{"sandbox": w.sandbox.URL},
		// The device reaches the gateway through a local load balancer (a
		// trusted loopback peer) that names it; a direct connection would
		// put its ephemeral source port into the device information.
		Header: http.Header{"X-Forwarded-For": {deviceIP}},
		Clock:  worldClock(w).Clock,
		Browser: func(ctx context.Context, location, user, password string) error {
			landed, err := sandbox.SignIn(ctx, &http.Client{Timeout: 10 * time.Second}, location, user, password)
			if err != nil {
				return err
			}
			if want := w.URL + signedInPath; !strings.HasPrefix(landed, want) {
				return fmt.Errorf("browser landed on %s, want %s", landed, want)
			}
			return nil
		},
		Headers: goldenHeaders(),
		// The world's throttles are off: a 429 is a fault, reported at once.
		Attempts: 1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var reports []string
	for _, res := range rn.Run(ctx, golden.Scenario{Dir: dir, Steps: steps}) {
		name := filepath.Base(res.Step.Path)
		switch {
		case res.Err != nil || res.Skipped != "":
			t.Fatalf("%s: %v%s", name, res.Err, res.Skipped)
		case res.Diff == "" && unrecordedHeaders(res.Step.Case.Response, res.Got) == "":
		case update:
			c := *res.Step.Case
			c.Response = res.Got
			if err := os.WriteFile(res.Step.Path, c.Format(), 0o644); err != nil {
				t.Fatal(err)
			}
		default:
			d := res.Diff
			if d == "" {
				d = unrecordedHeaders(res.Step.Case.Response, res.Got)
			}
			reports = append(reports, fmt.Sprintf("%s: the gateway's answer differs from the recorded one:\n%s", name, d))
		}
	}
	return reports
}

// goldenHeaders are the answer headers the scenarios record: those a v1
// device acts on, plus those a login web app's browser acts on (CORS) and
// the Allow of a 405.
func goldenHeaders() []string {
	return append(golden.RecordedHeaders(), "Allow", "Vary",
		"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Headers", "Access-Control-Expose-Headers")
}

// unrecordedHeaders reports the golden headers got carries and want does
// not: golden.Compare looks only at the headers the recording holds and at
// its own default set, and a CORS grant the recording lacks is a
// difference.
func unrecordedHeaders(want, got golden.Response) string {
	var extra []string
	for _, k := range goldenHeaders() {
		if len(want.Header.Values(k)) == 0 && len(got.Header.Values(k)) > 0 {
			extra = append(extra, k+": "+strings.Join(got.Header.Values(k), ", "))
		}
	}
	if len(extra) == 0 {
		return ""
	}
	return "headers not in the recording:\n" + strings.Join(extra, "\n")
}

// TestGoldenDetectsChanges proves the suite fails, with a readable diff,
// when an expected response is changed: a copy of a scenario gets one XML
// answer with two elements swapped and a value changed, and one JSON answer
// with a string turned into a number; replaying it must report exactly
// those two steps, each with a unified diff naming the change.
func TestGoldenDetectsChanges(t *testing.T) {
	dst := copyScenario(t, filepath.Join(goldenDir(t), "03-signin-alice"), map[string][2]string{
		"31-tokens-authn-xml.txtar":  {"<userId>acme-alice-0001</userId><mvpd>AcmeCable</mvpd>", "<mvpd>AcmeCable</mvpd><userId>acme-alicia-0001</userId>"},
		"32-tokens-authn-json.txtar": {`"expires":"1772532000000"`, `"expires":1772532000000`},
	})
	reports := playScenario(t, dst, false)
	if len(reports) != 2 {
		t.Fatalf("%d reports, want 2:\n%s", len(reports), strings.Join(reports, "\n"))
	}
	want := []string{
		"31-tokens-authn-xml.txtar: the gateway's answer differs from the recorded one:\n" +
			"--- want\n+++ got\n@@ -3,6 +3,6 @@\n" +
			` <?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			" /authentication\n" +
			` /authentication/expires = "1772532000000"` + "\n" +
			`+/authentication/userId = "acme-alice-0001"` + "\n" +
			` /authentication/mvpd = "AcmeCable"` + "\n" +
			`-/authentication/userId = "acme-alicia-0001"` + "\n" +
			` /authentication/requestor = "REF30"` + "\n",
		"32-tokens-authn-json.txtar: the gateway's answer differs from the recorded one:\n" +
			"--- want\n+++ got\n@@ -4,4 +4,4 @@\n" +
			` $.requestor string "REF30"` + "\n" +
			` $.mvpd string "AcmeCable"` + "\n" +
			` $.userId string "acme-alice-0001"` + "\n" +
			"-$.expires number 1772532000000\n" +
			`+$.expires string "1772532000000"` + "\n",
	}
	for i := range want {
		if reports[i] != want[i] {
			t.Errorf("report %d:\n%s\nwant:\n%s", i, reports[i], want[i])
		}
	}
}

// regexpFind returns the first submatch of pattern in s, or "".
func regexpFind(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
