package architecture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

const module = "github.com/passgw/passgw"

// rules maps a package (relative to the module) to the module packages it
// may import; a nil slice with any true means any.
type rules struct {
	allowed map[string][]string
	any     map[string]bool
}

// readRules reads the table under "## Which package may import which".
func readRules(r io.Reader) (rules, error) {
	rs := rules{allowed: map[string][]string{}, any: map[string]bool{}}
	sc := bufio.NewScanner(r)
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			in = line == "## Which package may import which"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 2 {
			return rules{}, fmt.Errorf("table row %q: want two cells", line)
		}
		pkg := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, dup := rs.allowed[pkg]; dup {
			return rules{}, fmt.Errorf("package %s listed twice", pkg)
		}
		imports := strings.TrimSpace(cells[1])
		rs.allowed[pkg] = []string{}
		switch {
		case imports == "any":
			rs.any[pkg] = true
		case strings.HasPrefix(imports, "none"):
		default:
			for _, imp := range strings.Split(imports, ",") {
				imp = strings.Trim(strings.TrimSpace(imp), "`")
				if imp == "" || strings.ContainsAny(imp, " ()") {
					return rules{}, fmt.Errorf("package %s: cannot read import %q", pkg, imp)
				}
				rs.allowed[pkg] = append(rs.allowed[pkg], imp)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return rules{}, err
	}
	if len(rs.allowed) == 0 {
		return rules{}, errors.New("no import table found")
	}
	return rs, nil
}

// violations lists what of graph (package -> module packages it imports,
// all relative to the module) the rules do not allow.
func (rs rules) violations(graph map[string][]string) []string {
	var out []string
	for _, pkg := range slices.Sorted(mapKeys(graph)) {
		allowed, listed := rs.allowed[pkg]
		if !listed {
			out = append(out, fmt.Sprintf("package %s is not in ARCHITECTURE.md's import table: add a row saying what it may import", pkg))
			continue
		}
		if rs.any[pkg] {
			continue
		}
		for _, imp := range graph[pkg] {
			if !slices.Contains(allowed, imp) {
				out = append(out, fmt.Sprintf("%s imports %s, which ARCHITECTURE.md does not allow (it may import: %s)", pkg, imp, list(allowed)))
			}
		}
	}
	for _, pkg := range slices.Sorted(mapKeys(rs.allowed)) {
		if _, ok := graph[pkg]; !ok {
			out = append(out, fmt.Sprintf("ARCHITECTURE.md lists package %s, which does not exist", pkg))
		}
	}
	return out
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// importGraph is the module's import graph, test files left out, as go
// list reports it.
func importGraph(t *testing.T, root string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		deps := []string{}
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				deps = append(deps, rel)
			}
		}
		graph[name] = deps
	}
	return graph
}

// TestImportGraph checks the module's real imports against ARCHITECTURE.md.
func TestImportGraph(t *testing.T) {
	root := testenv.ModuleRoot(t)
	f, err := os.Open(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := readRules(f)
	if err != nil {
		t.Fatalf("ARCHITECTURE.md: %v", err)
	}
	for _, v := range rs.violations(importGraph(t, root)) {
		t.Error(v)
	}
}

// TestViolationsFound: the check reports a forbidden import, an unlisted
// package and a listed one that is gone, and accepts what the table allows.
func TestViolationsFound(t *testing.T) {
	const doc = "# x\n\n## Which package may import which\n\n| package | may import |\n| --- | --- |\n" +
		"| `v1model` | none (standard library only) |\n" +
		"| `v1api` | `v1model`, `internal/uuid` |\n" +
		"| `gone` | none |\n" +
		"| `cmd/passgw` | any |\n\n## Later\n\n| `ignored` | `x` |\n"
	rs, err := readRules(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	graph := map[string][]string{
		"v1model":    {"v2client"},
		"v1api":      {"v1model", "internal/uuid"},
		"cmd/passgw": {"v1api", "v2client", "translate"},
		"new":        {},
	}
	want := []string{
		"package new is not in ARCHITECTURE.md's import table: add a row saying what it may import",
		"v1model imports v2client, which ARCHITECTURE.md does not allow (it may import: none)",
		"ARCHITECTURE.md lists package gone, which does not exist",
	}
	if got := rs.violations(graph); !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := readRules(strings.NewReader("| `a` | b c |\n")); err == nil {
		t.Error("a document without the table was read")
	}
}
