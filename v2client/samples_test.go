package v2client

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/internal/testenv"
)

// sampleTarget maps a documented sample to the type the client decodes it
// into; nil means the sample is not mapped (which fails the test, so new
// samples cannot slip through untested).
func sampleTarget(name string) any {
	errorStatusInName := regexp.MustCompile(`-[45]\d\d-`)
	switch {
	case name == "dcr-register-201.json":
		return new(ClientCredentials)
	case name == "dcr-token-201.json":
		return new(AccessToken)
	case strings.HasPrefix(name, "dcr-") && strings.Contains(name, "-400"):
		return new(DCRError)
	case strings.HasPrefix(name, "configuration-"):
		return new(Configuration)
	case strings.HasPrefix(name, "error-top-level-"):
		return new(Error)
	case strings.HasPrefix(name, "error-item-level-"), strings.HasPrefix(name, "decisions-"):
		return new(Decisions)
	case strings.HasPrefix(name, "logout-"):
		return new(Logouts)
	case strings.HasPrefix(name, "sessions-retrieve-"):
		return new(SessionInfo)
	case strings.HasPrefix(name, "sessions-"):
		return new(Session)
	case strings.HasPrefix(name, "profiles-") && errorStatusInName.MatchString(name):
		return new(Error)
	case strings.HasPrefix(name, "profiles-"):
		return new(Profiles)
	}
	return nil
}

func genericJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep numbers exact and distinct from numeric strings
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("generic decode: %v", err)
	}
	return v
}

// TestSamplesRoundTrip decodes every documented response sample into its
// type and re-encodes it: the result must be the same JSON value, so no field
// is dropped and every timestamp keeps its JSON type.
func TestSamplesRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.SamplesDir(t, "v2"), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, path := range files {
		name := filepath.Base(path)
		if strings.HasSuffix(name, ".broken.json") || strings.Contains(name, "-request") {
			continue
		}
		tested++
		t.Run(name, func(t *testing.T) {
			target := sampleTarget(name)
			if target == nil {
				t.Fatalf("no type mapped for sample %s", name)
			}
			raw := testenv.Sample(t, "v2", name)
			if err := json.Unmarshal(raw, target); err != nil {
				t.Fatalf("decode into %T: %v", target, err)
			}
			again, err := json.Marshal(target)
			if err != nil {
				t.Fatalf("encode %T: %v", target, err)
			}
			if diff := cmp.Diff(genericJSON(t, raw), genericJSON(t, again)); diff != "" {
				t.Errorf("%T round trip lost data (-sample +re-encoded):\n%s", target, diff)
			}
		})
	}
	if tested < 50 {
		t.Fatalf("only %d samples found; is the samples directory in place?", tested)
	}
}

// TestSampleFieldsDecode spot-checks that samples land in the typed fields
// callers rely on, not merely survive the round trip.
func TestSampleFieldsDecode(t *testing.T) {
	var s Session
	mustDecode(t, "sessions-create-authenticate.json", &s)
	if s.Code != "8ER640M" || s.NotAfter.Int64() != 1733737089035 || s.NotAfter.Time().Sub(s.NotBefore.Time()).Minutes() != 30 {
		t.Errorf("session = %+v", s)
	}

	var p Profiles
	mustDecode(t, "profiles-mvpd-200-temppass-promo.json", &p)
	tp := p.Profiles["flexibleTempPass"]
	var used []string
	if err := tp.Attributes["used_assets"].Decode(&used); err != nil || len(used) != 4 {
		t.Errorf("used_assets = %v, %v", used, err)
	}
	if got := tp.Attributes["remaining_resources"].String(); got != "1" {
		t.Errorf("remaining_resources = %q", got)
	}
	if got := tp.Attributes["userID"].String(); got != "temppass_0bdf451aa9c8fa60e80f6b99ab48310c73b480f1" {
		t.Errorf("userID = %q", got)
	}

	var reg Profiles
	mustDecode(t, "profiles-200-regular.json", &reg)
	if !reg.Profiles["Cablevision"].Attributes["zip"].Encrypted() || reg.Profiles["Cablevision"].Attributes["userID"].Encrypted() {
		t.Errorf("attribute states wrong: %+v", reg.Profiles["Cablevision"].Attributes)
	}

	var d Decisions
	mustDecode(t, "decisions-authorize-permit.json", &d)
	if got := d.Decisions[0]; !got.Authorized || got.Token == nil || got.Token.SerializedToken != "PHNpZ25hdHVyZUluZm8..." || got.NotAfter.Int64() != 1697098802367 {
		t.Errorf("decision = %+v", got)
	}

	var c Configuration
	mustDecode(t, "configuration-200.json", &c)
	if m, ok := c.MVPD("TempPass_TEST40"); !ok || !m.TempPass() {
		t.Errorf("TempPass_TEST40 = %+v, %v", m, ok)
	}
	if m, _ := c.MVPD("ATTOTT"); m.TempPass() || m.DisplayName != "DIRECTV STREAM" {
		t.Errorf("ATTOTT = %+v", m)
	}

	var info SessionInfo
	mustDecode(t, "sessions-retrieve-missing.json", &info)
	dev, err := info.ParsedDevice()
	if err != nil || dev.Browser == nil || *dev.Browser.Name != "Chrome" || dev.Model != nil || *dev.Connection.Port != "3061" {
		t.Errorf("device = %+v, %v", dev, err)
	}
}

func mustDecode(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(testenv.Sample(t, "v2", name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestConfigurationTopLevelMVPDs covers the field-table shape (§15 #3).
func TestConfigurationTopLevelMVPDs(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"nested", `{"requestor":{"id":"REF30","mvpds":[{"id":"A"}]}}`, []string{"A"}},
		{"top level", `{"requestor":{"id":"REF30"},"mvpds":[{"id":"B"},{"id":"C"}],"time":{"x":1}}`, []string{"B", "C"}},
		{"nested wins", `{"requestor":{"id":"REF30","mvpds":[{"id":"A"}]},"mvpds":[{"id":"B"}]}`, []string{"A"}},
		{"unknown fields ignored", `{"requestor":{"id":"REF30","mvpds":[{"id":"A","newFlag":true}]},"platform":"x"}`, []string{"A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Configuration
			if err := json.Unmarshal([]byte(tt.body), &c); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range c.AllMVPDs() {
				got = append(got, m.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// TestDomainAlias covers "domain" as an alias of "domainName" (§15 #8).
func TestDomainAlias(t *testing.T) {
	tests := []struct {
		existing map[string]string
		missing  []string
	}{
		{map[string]string{"domain": "adobe.com"}, []string{"domain"}},
		{map[string]string{"domainName": "adobe.com"}, []string{"domainName"}},
	}
	for _, tt := range tests {
		info := SessionInfo{ExistingParameters: tt.existing, MissingParameters: tt.missing}
		for _, name := range []string{"domain", "domainName"} {
			if got := info.Param(name); got != "adobe.com" {
				t.Errorf("%v: Param(%q) = %q", tt.existing, name, got)
			}
			if !info.Missing(name) {
				t.Errorf("%v: Missing(%q) = false", tt.missing, name)
			}
			s := Session{MissingParameters: tt.missing}
			if !s.Missing(name) {
				t.Errorf("session %v: Missing(%q) = false", tt.missing, name)
			}
		}
		if info.Missing("mvpd") || info.Param("mvpd") != "" {
			t.Errorf("mvpd reported for %v", tt)
		}
	}
}

// TestRequestSamples sends the resources of each documented decisions
// request through the client: the body on the wire must be the same JSON
// value as Adobe's sample. (The DCR register request sample is not valid
// JSON; the token request is a form and has no file.)
func TestRequestSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.SamplesDir(t, "v2"), "decisions-*-request*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("found %d decisions request samples, want 4", len(files))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			raw := testenv.Sample(t, "v2", name)
			var req struct {
				Resources []string `json:"resources"`
			}
			if err := json.Unmarshal(raw, &req); err != nil {
				t.Fatal(err)
			}
			var sent []byte
			c := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sent, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json;charset=UTF-8")
				io.WriteString(w, `{"decisions":[]}`)
			}))
			call := c.Authorize
			if strings.Contains(name, "preauthorize") {
				call = c.Preauthorize
			}
			if _, err := call(t.Context(), "REF30", "Cablevision", req.Resources); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(genericJSON(t, raw), genericJSON(t, sent)); diff != "" {
				t.Errorf("request body differs from the sample (-sample +sent):\n%s", diff)
			}
		})
	}
}
