package architecture

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

// testMachinery are the packages that exist for tests: the production
// binary links none of them (ARCHITECTURE.md, "What the binary links").
var testMachinery = []string{
	"testing",
	"net/http/httptest",
	"go.uber.org/goleak",
	module + "/internal/testenv",
	module + "/internal/redistest",
}

// TestBinaryLinksNoTestMachinery: nothing `passgw` is built from, serve's
// path or any other, pulls in the testing package, httptest, goleak or the
// project's test support packages.
func TestBinaryLinksNoTestMachinery(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./cmd/passgw")
	cmd.Dir = testenv.ModuleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.Bytes())
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !slices.Contains(deps, module+"/cmd/passgw") {
		t.Fatalf("go list -deps listed %d packages, not the binary's: %q", len(deps), out)
	}
	for _, bad := range linkedTestMachinery(deps) {
		t.Errorf("./cmd/passgw links %s, a package for tests; see go list -deps ./cmd/passgw for which package brings it in", bad)
	}
}

// linkedTestMachinery returns the packages of deps that are test machinery
// or inside it (testing/fstest, goleak's internals).
func linkedTestMachinery(deps []string) []string {
	var out []string
	for _, d := range deps {
		for _, m := range testMachinery {
			if d == m || strings.HasPrefix(d, m+"/") {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// TestLinkedTestMachineryFound: the check names each kind of test package
// and passes the production ones that only share a prefix.
func TestLinkedTestMachineryFound(t *testing.T) {
	deps := []string{"net/http", "testing", "testing/fstest", "net/http/httptest", "go.uber.org/goleak/internal/stack",
		module + "/internal/testenv", module + "/internal/redistest", module + "/internal/redisproc", "github.com/x/testingtools"}
	want := []string{"testing", "testing/fstest", "net/http/httptest", "go.uber.org/goleak/internal/stack",
		module + "/internal/testenv", module + "/internal/redistest"}
	got := linkedTestMachinery(deps)
	if !slices.Equal(got, want) {
		t.Errorf("found %q, want %q", got, want)
	}
}
