package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParseCase reads arbitrary archives as golden cases: parsing never
// panics, and a case that parses is written back by Format into an archive
// that parses to the same case, so record/check cycles are stable.
func FuzzParseCase(f *testing.F) {
	f.Add([]byte("comment\n-- request --\nGET /api/v1/config/REF30 HTTP/1.1\nHost: x\n\n-- response --\nHTTP/1.1 200 OK\nContent-Type: application/xml\n\n<config/>\n"))
	f.Add([]byte("-- request --\nPOST /reggie/v1/REF30/regcode HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\ndeviceId=a%20b\n"))
	f.Add([]byte("-- clock --\n+25h\n-- request --\nGET / HTTP/1.1\n-- request --\nGET / HTTP/1.1\n"))
	f.Add([]byte("-- response --\nHTTP/1.1 302 Found\nLocation: http://x/\n"))
	// The recorded scenarios are realistic seeds.
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "*", "*.txtar"))
	for i, name := range files {
		if i%4 != 0 {
			continue // a sample is enough
		}
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c1, err := ParseCase("fuzz", data)
		if err != nil {
			return
		}
		out := c1.Format()
		c2, err := ParseCase("fuzz", out)
		if err != nil {
			t.Fatalf("Format wrote an archive ParseCase refuses: %v\n%s", err, out)
		}
		// The first reading may normalise (line endings, header case); from
		// then on a case must survive Format and ParseCase unchanged.
		c3, err := ParseCase("fuzz", c2.Format())
		if err != nil {
			t.Fatalf("second round: %v", err)
		}
		if d := cmp.Diff(c2, c3, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("case changed through Format and ParseCase (-first +second):\n%s", d)
		}
		if !bytes.Equal(c2.Format(), c3.Format()) {
			t.Fatal("Format is not stable")
		}
	})
}
