package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Missing ends a test that needs a tool the machine lacks: it is skipped,
// except under CI (CI=true), where it fails: CI installs the tool, and a
// silently skipped test would hide that it stopped doing so.
func Missing(t testing.TB, tool string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI: %v", tool, err)
	}
	t.Skipf("%s not installed: %v", tool, err)
}

// LookPath returns the path of the first of names found on PATH; when none
// is, the test ends as Missing says.
func LookPath(t testing.TB, names ...string) string {
	t.Helper()
	var err error
	for _, name := range names {
		var path string
		if path, err = exec.LookPath(name); err == nil {
			return path
		}
	}
	Missing(t, strings.Join(names, " or "), err)
	return ""
}
