package monitoring

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/passgw/passgw/internal/testenv"
)

// promtool runs promtool with args in the rule directory.
func promtool(t *testing.T, args ...string) string {
	t.Helper()
	bin := testenv.LookPath(t, "promtool")
	cmd := exec.Command(bin, args...)
	cmd.Dir = "prometheus"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestRulesCheck(t *testing.T) {
	out := promtool(t, "check", "rules", "passgw.rules.yml")
	f, err := ParseRules(Rules())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range f.Groups {
		n += len(g.Rules)
	}
	if want := "SUCCESS: " + strconv.Itoa(n) + " rules found"; !strings.Contains(out, want) {
		t.Fatalf("promtool check rules: want %q in\n%s", want, out)
	}
}

// TestRulesUnitTests runs the alerts' unit tests (synthetic series, each
// alert firing and silent).
func TestRulesUnitTests(t *testing.T) {
	out := promtool(t, "test", "rules", "passgw.rules.test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules:\n%s", out)
	}
}

// ruleTests is the part of a promtool unit test file read here.
type ruleTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name       string `yaml:"name"`
		AlertTests []struct {
			Alert     string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertTestedAndDocumented: each alert of the rule file is unit
// tested both firing and silent, and has a runbook annotation pointing at
// its own paragraph of OPERATIONS.md.
func TestEveryAlertTestedAndDocumented(t *testing.T) {
	f, err := ParseRules(Rules())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("prometheus", "passgw.rules.test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var tests ruleTests
	if err := yaml.Unmarshal(b, &tests); err != nil {
		t.Fatal(err)
	}
	if len(tests.RuleFiles) != 1 || tests.RuleFiles[0] != filepath.Base(RulesFile) {
		t.Fatalf("unit tests load %v, want only %s", tests.RuleFiles, filepath.Base(RulesFile))
	}
	firing, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, at := range tc.AlertTests {
			if len(at.ExpAlerts) > 0 {
				firing[at.Alert] = true
			} else {
				silent[at.Alert] = true
			}
		}
	}
	ops, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(t), "OPERATIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(ops), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	alerts := f.Alerts()
	if len(alerts) == 0 {
		t.Fatal("no alerts in the rule file")
	}
	for _, a := range alerts {
		if !firing[a.Alert] || !silent[a.Alert] {
			t.Errorf("%s: unit tests firing=%v silent=%v, want both", a.Alert, firing[a.Alert], silent[a.Alert])
		}
		want := "OPERATIONS.md#" + strings.ToLower(a.Alert)
		if a.Annotations["runbook"] != want {
			t.Errorf("%s: runbook annotation %q, want %q", a.Alert, a.Annotations["runbook"], want)
		}
		if !anchors[strings.ToLower(a.Alert)] {
			t.Errorf("%s: OPERATIONS.md has no heading %q", a.Alert, a.Alert)
		}
		if a.Labels["severity"] != "page" && a.Labels["severity"] != "ticket" {
			t.Errorf("%s: severity %q, want page or ticket", a.Alert, a.Labels["severity"])
		}
	}
}

// githubAnchor is the fragment GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	h := strings.ToLower(strings.TrimSpace(heading))
	h = regexp.MustCompile("[^a-z0-9 _-]").ReplaceAllString(h, "")
	return strings.ReplaceAll(h, " ", "-")
}

// TestShortened: the copy for fast evaluation changes every range and
// every for, and nothing else; promtool accepts it.
func TestShortened(t *testing.T) {
	f, err := ParseRules(Rules())
	if err != nil {
		t.Fatal(err)
	}
	short := f.Shortened(4*time.Second, 1500*time.Millisecond)
	orig, got := f.Alerts(), short.Alerts()
	if len(got) != len(orig) {
		t.Fatalf("%d alerts, want %d", len(got), len(orig))
	}
	ranges := regexp.MustCompile(`\[[^\]]*\]`)
	for i, a := range got {
		if a.For != "" && a.For != "1500ms" {
			t.Errorf("%s: for %q, want 1500ms", a.Alert, a.For)
		}
		for _, r := range ranges.FindAllString(a.Expr, -1) {
			if r != "[4s]" {
				t.Errorf("%s: range %s left", a.Alert, r)
			}
		}
		if ranges.ReplaceAllString(a.Expr, "") != ranges.ReplaceAllString(orig[i].Expr, "") ||
			!maps.Equal(a.Labels, orig[i].Labels) || !maps.Equal(a.Annotations, orig[i].Annotations) {
			t.Errorf("%s: changed beyond its durations:\n%s\nfrom\n%s", a.Alert, a.Expr, orig[i].Expr)
		}
	}
	b, err := short.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "short.rules.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := testenv.LookPath(t, "promtool")
	if out, err := exec.Command(bin, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on the shortened copy: %v\n%s", err, out)
	}
}
