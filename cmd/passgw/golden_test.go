package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client/v2test"
)

var updateGolden = flag.Bool("update", false, "rewrite the expected responses in testdata/golden from the live answers (review the diff)")

// Sections of a scenario step besides compat's request and response.
const (
	// sectionClock advances the shared fake clock before the request, e.g.
	// "+25h".
	sectionClock = "clock"
	// sectionBrowser drives a browser before the request: "signin USER
	// PASSWORD" follows the Location of the previous step's answer (the v1
	// authenticate 302) through the sandbox's MVPD form and must land on
	// the gateway's signed-in page.
	sectionBrowser = "browser"
)

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

// scenario is the state carried from one step to the next.
type scenario struct {
	w *testWorld
	// vars are substituted for {{name}} in requests: gateway, sandbox,
	// code (the latest registration code) and code1, code2, ... (each
	// registration code in order).
	vars map[string]string
	// lastLocation is the raw Location of the previous answer.
	lastLocation string
	codes        int
}

// step is one parsed step file.
type step struct {
	path string
	c    *compat.Case
	// actions are the step's clock and browser sections, in file order.
	actions []txtar.File
}

func readSteps(t *testing.T, dir string) []step {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	var steps []step
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := compat.ParseCase(filepath.Base(f), data)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range c.Extra {
			if x.Name != sectionClock && x.Name != sectionBrowser {
				t.Fatalf("%s: unknown section %q", f, x.Name)
			}
		}
		steps = append(steps, step{path: f, c: c, actions: c.Extra})
	}
	if len(steps) == 0 {
		t.Fatalf("no steps in %s", dir)
	}
	return steps
}

func runScenario(t *testing.T, dir string) {
	for _, m := range playScenario(t, dir, *updateGolden) {
		t.Error(m)
	}
}

// playScenario runs the steps of dir against a fresh world and returns one
// report (file name and unified diff) per answer that differs from the
// recorded one. With update it rewrites those responses instead.
func playScenario(t *testing.T, dir string, update bool) []string {
	w := newTestWorld(t)
	s := &scenario{w: w, vars: map[string]string{"gateway": w.URL, "sandbox": w.sandbox.URL}}
	var reports []string
	for _, st := range readSteps(t, dir) {
		name := filepath.Base(st.path)
		for _, a := range st.actions {
			if err := s.act(a); err != nil {
				t.Fatalf("%s: %s: %v", name, a.Name, err)
			}
		}
		got, err := s.send(st.c.Request)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d := compat.Compare(st.c.Response, got, nil)
		if d == "" {
			d = unrecordedHeaders(st.c.Response, got)
		}
		switch {
		case d == "" && st.c.Response.Status != 0:
		case update:
			st.c.Response = got
			if err := os.WriteFile(st.path, st.c.Format(), 0o644); err != nil {
				t.Fatal(err)
			}
		default:
			reports = append(reports, fmt.Sprintf("%s: the gateway's answer differs from the recorded one:\n%s", name, d))
		}
	}
	return reports
}

// act runs a clock or browser section.
func (s *scenario) act(a txtar.File) error {
	text := strings.TrimSpace(string(a.Data))
	switch a.Name {
	case sectionClock:
		d, err := time.ParseDuration(strings.TrimPrefix(text, "+"))
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as +25h, got %q", text)
		}
		s.w.clock.Advance(d)
		return nil
	case sectionBrowser:
		f := strings.Fields(text)
		if len(f) != 3 || f[0] != "signin" {
			return fmt.Errorf("want \"signin USER PASSWORD\", got %q", text)
		}
		if s.lastLocation == "" {
			return fmt.Errorf("no Location to follow: the previous step did not redirect")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		landed, err := v2test.SignIn(ctx, &http.Client{Timeout: 10 * time.Second}, s.lastLocation, f[1], f[2])
		if err != nil {
			return err
		}
		if want := s.w.URL + signedInPath; !strings.HasPrefix(landed, want) {
			return fmt.Errorf("browser landed on %s, want %s", landed, want)
		}
		return nil
	}
	return fmt.Errorf("unknown section %q", a.Name)
}

// send makes the step's request (variables substituted) and returns the
// answer with the world's URLs replaced by their {{names}}, so recordings
// do not depend on the ports the servers got.
func (s *scenario) send(r compat.Request) (compat.Response, error) {
	r.Target = s.expand(r.Target)
	r.Body = []byte(s.expand(string(r.Body)))
	h := http.Header{}
	for k, vs := range r.Header {
		for _, v := range vs {
			h.Add(k, s.expand(v))
		}
	}
	if h.Get("X-Forwarded-For") == "" {
		// The device reaches the gateway through a local load balancer (a
		// trusted loopback peer) that names it; a direct connection would
		// put its ephemeral source port into the device information.
		h.Set("X-Forwarded-For", deviceIP)
	}
	r.Header = h
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := r.NewHTTPRequest(ctx, s.w.URL)
	if err != nil {
		return compat.Response{}, err
	}
	resp, err := s.w.client.Do(req)
	if err != nil {
		return compat.Response{}, err
	}
	got, err := compat.ReadResponse(resp, goldenHeaders())
	if err != nil {
		return compat.Response{}, err
	}
	s.lastLocation = got.Header.Get("Location")
	if got.Status == http.StatusCreated && strings.Contains(r.Target, "/regcode") {
		if code := compat.RegistrationCode(got); code != "" {
			s.codes++
			s.vars["code"] = code
			s.vars["code"+strconv.Itoa(s.codes)] = code
		}
	}
	for k, vs := range got.Header {
		for i, v := range vs {
			got.Header[k][i] = s.anonymise(v)
		}
	}
	got.Body = []byte(s.anonymise(string(got.Body)))
	return got, nil
}

// goldenHeaders are the answer headers the scenarios record: those a v1
// device acts on, plus those a login web app's browser acts on (CORS) and
// the Allow of a 405.
func goldenHeaders() []string {
	return append(compat.RecordedHeaders(), "Allow", "Vary",
		"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Headers", "Access-Control-Expose-Headers")
}

// unrecordedHeaders reports the golden headers got carries and want does
// not: compat.Compare looks only at the headers the recording holds and at
// its own default set, and a CORS grant the recording lacks is a
// difference.
func unrecordedHeaders(want, got compat.Response) string {
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

func (s *scenario) expand(v string) string {
	for k, val := range s.vars {
		v = strings.ReplaceAll(v, "{{"+k+"}}", val)
	}
	return v
}

// anonymise replaces the world's base URLs (raw or query-escaped) by their
// variable names.
func (s *scenario) anonymise(v string) string {
	for _, k := range []string{"gateway", "sandbox"} {
		u := s.vars[k]
		v = strings.ReplaceAll(v, u, "{{"+k+"}}")
		v = strings.ReplaceAll(v, url.QueryEscape(u), "{{"+k+"}}")
	}
	return v
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
