package v2client

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

// FuzzDecisionsDecoder checks the decisions decoder against encoding/json:
// whenever it accepts an answer, encoding/json accepts it too and decodes
// the same Decisions. (Giving up is always allowed; encoding/json then
// decodes the answer.)
func FuzzDecisionsDecoder(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join(testenv.SamplesDir(f, "v2"), "decisions-*.json"))
	for _, name := range samples {
		if b, err := os.ReadFile(name); err == nil && !strings.Contains(name, "request") {
			f.Add(string(b), "REF30", "Cablevision", "REF30")
		}
	}
	for _, body := range []string{
		`{"decisions":[]}`,
		` {"decisions" : [ {"resource":"news","authorized":false} ] } `,
		`{"decisions":[{"resource":"a","authorized":true,"notBefore":"1","notAfter":"","token":{"serializedToken":"x","issuedAt":null}}]}`,
		`{"decisions":[{"resource":"a","resource":"b"}]}`,
		`{"decisions":[{"Resource":"a"}]}`,
		`{"decisions":[{"notAfter":1.5}]}`,
		`{"decisions":[{"notAfter":01}]}`,
		`{"decisions":[{"notAfter":-0}]}`,
		`{"decisions":[{"notAfter":"007"}]}`,
		`{"decisions":[{"authorized":truex}]}`,
		`{"decisions":[{},]}`,
		`{"decisions":[{"token":null}]}`,
		`{"decisions":[{"token":{}}]}`,
		`{"decisions":[{"resource":"caf\u00e9"}]}`,
		`{"decisions":[{"resource":"<m>\"x\"</m>"}]}`,
		`{"decisions":null}`,
		`{"decisions":[]} x`,
		`{"decisions":[{"notBefore":99999999999999999999}]}`,
		`{"decisions":[{"notBefore":999999999999999999}]}`,
	} {
		f.Add(body, "REF30", "AcmeCable", "a")
	}
	f.Fuzz(func(t *testing.T, body, sp, mvpd, resource string) {
		var fast Decisions
		if !decodeDecisions([]byte(body), &fast, sp, mvpd, []string{resource, "news"}) {
			if !reflect.DeepEqual(fast, Decisions{}) {
				t.Fatalf("gave up on %q but changed the result: %+v", body, fast)
			}
			return
		}
		var ref Decisions
		if err := json.Unmarshal([]byte(body), &ref); err != nil {
			t.Fatalf("decoded %q, which encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("decoding %q:\n got %+v\nwant %+v", body, fast, ref)
		}
	})
}

// TestDecisionsDecoderUsualForm checks that the answers v2 gives in the
// usual case take the decoder's path, so that it does its job.
func TestDecisionsDecoderUsualForm(t *testing.T) {
	for _, name := range []string{"decisions-authorize-permit.json", "decisions-authorize-temppass-basic-permit.json"} {
		var d Decisions
		if !decodeDecisions(testenv.Sample(t, "v2", name), &d, "REF30", "Cablevision", []string{"REF30"}) {
			t.Errorf("%s: not decoded", name)
			continue
		}
		if len(d.Decisions) != 1 || !d.Decisions[0].Authorized || d.Decisions[0].Token == nil || d.Decisions[0].Token.SerializedToken == "" {
			t.Errorf("%s: decoded %+v", name, d)
		}
	}
}

// FuzzDecisionsBody checks the decisions request body against
// encoding/json's encoding of the same resources, byte for byte.
func FuzzDecisionsBody(f *testing.F) {
	for _, r := range []string{"news", `<rss version="2.0"><channel><title>x &amp; y</title></channel></rss>`, "caf\u00e9", "a\u2028b", "\xff", "tab\there", `back\slash`, ""} {
		f.Add(r, "sports")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, rs := range [][]string{{}, {a}, {a, b}} {
			want, err := json.Marshal(struct {
				Resources []string `json:"resources"`
			}{rs})
			if err != nil {
				t.Fatal(err)
			}
			if got := decisionsBody(rs); string(got) != string(want) {
				t.Fatalf("decisionsBody(%q) = %s, want %s", rs, got, want)
			}
		}
	})
}
