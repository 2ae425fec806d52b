package v2client

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

func sampleDir(t *testing.T) string {
	return filepath.Join(testenv.ModuleRoot(t), "testdata", "spec", "samples", "v2")
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
