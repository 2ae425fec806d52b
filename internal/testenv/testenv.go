// Package testenv holds what the module's tests share: the module root, a
// manually advanced clock, a log sink safe for concurrent writers, waiting
// for what settles in the background (Eventually), and the rule for tools a
// test needs (skip without them, fail under CI).
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot returns the directory holding go.mod above the test's working
// directory, where the shared testdata lives.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("module root (go.mod) not found above the test directory")
		}
		dir = parent
	}
}

// SamplesDir is the directory of the documented samples of api ("v1" or
// "v2"): testdata/spec/samples/API under the module root, each listed in
// its INDEX.md.
func SamplesDir(t testing.TB, api string) string {
	t.Helper()
	return filepath.Join(ModuleRoot(t), "testdata", "spec", "samples", api)
}

// Sample reads the documented sample name of api ("v1" or "v2").
func Sample(t testing.TB, api, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(SamplesDir(t, api), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
