package main

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/passgw/passgw/compat/golden"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v1api"
)

// sampleRule says which documented samples (testdata/spec/samples/v1) a
// golden body is held against.
type sampleRule struct {
	// samples are the documented bodies; the golden body's shape must be
	// consistent with each: every line of the golden shape occurs in one of
	// them or in extra, and the lines a sample shares with the golden shape
	// come in the sample's order.
	samples []string
	// complete requires every line of the first sample in the golden shape,
	// except those in mayOmit.
	complete bool
	mayOmit  []string
	// extra are lines the gateway may add (documented optional fields).
	extra []string
	// topLevel compares only the first level of members (the sample's
	// values are examples of free-form data).
	topLevel bool
}

// undocumented marks a golden body with no documented sample; the reason
// cites testdata/spec/v1.md.
type undocumented string

// sampleRuleFor finds the rule for a golden case by its request and answer.
func sampleRuleFor(c *golden.Case) (sampleRule, undocumented) {
	u, err := url.Parse(c.Request.Target)
	if err != nil {
		return sampleRule{}, "unparsable target"
	}
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, ".json"), ".xml")
	ext := ".xml"
	if strings.Contains(c.Response.Header.Get("Content-Type"), "json") {
		ext = ".json"
	}
	status := c.Response.Status
	enhanced := bytes.Contains(c.Response.Body, []byte(`"action"`)) || bytes.Contains(c.Response.Body, []byte("<action>"))
	switch {
	case strings.HasPrefix(path, "/reggie/v1/") && strings.Contains(path, "/regcode") && (status == 201 || status == 200):
		if ext == ".json" {
			// Unset info members are null, as captured v1 answers have
			// them (MIGRATION.md).
			return sampleRule{samples: []string{"regcode-201-historical.json", "regcode-201.json"},
				extra: []string{".info.deviceType null", ".info.deviceUser null", ".info.appId null", ".info.appVersion null", ".info.registrationURL null"}}, ""
		}
		return sampleRule{samples: []string{"regcode-201-historical.xml"}, complete: true,
			mayOmit: []string{"/ns2:regcode/info/deviceType", "/ns2:regcode/info/deviceUser", "/ns2:regcode/info/appId",
				"/ns2:regcode/info/appVersion", "/ns2:regcode/info/registrationURL"}}, ""
	case status >= 400 && enhanced:
		return sampleRule{samples: []string{"error-400-enhanced" + ext}, complete: true,
			extra: []string{".details string", ".details null", "/error/details"}}, ""
	case (path == "/api/v1/tokens/authn" || strings.HasPrefix(path, "/api/v1/checkauthn") || strings.HasPrefix(path, "/api/v1/authenticate/")) && status == 200:
		return sampleRule{samples: []string{"tokens-authn-200" + ext}, complete: true}, ""
	case path == "/api/v1/tokens/authn" && status == 404:
		return sampleRule{samples: []string{"tokens-authn-404" + ext}, complete: true}, ""
	case path == "/api/v1/checkauthn" && status == 403 && ext == ".xml":
		return sampleRule{samples: []string{"checkauthn-403.xml"}, complete: true}, ""
	case strings.HasPrefix(path, "/api/v1/checkauthn/") && status == 403 && ext == ".json":
		return sampleRule{samples: []string{"checkauthn-code-403.json"}, complete: true}, ""
	case path == "/api/v1/authorize" && status == 200:
		return sampleRule{samples: []string{"authorize-200" + ext}, complete: true}, ""
	case path == "/api/v1/tokens/authz" && status == 200:
		return sampleRule{samples: []string{"authorize-200" + ext, "tokens-authz-200" + ext}, complete: true}, ""
	case path == "/api/v1/tokens/authz" && (status == 404 || status == 410 || status == 412):
		return sampleRule{samples: []string{"tokens-authz-" + strconv.Itoa(status) + ext}, complete: true}, ""
	case (path == "/api/v1/tokens/media" || path == "/api/v1/mediatoken") && status == 200:
		return sampleRule{samples: []string{"tokens-media-200" + ext}, complete: true}, ""
	case strings.HasPrefix(path, "/api/v1/preauthorize") && status == 200:
		sample := "preauthorize-200.xml"
		if ext == ".json" {
			sample = "preauthorize-200-enhanced.json"
		}
		return sampleRule{samples: []string{sample}, complete: enhanced}, ""
	case path == "/api/v1/tokens/usermetadata" && status == 200 && ext == ".json":
		return sampleRule{samples: []string{"tokens-usermetadata-200.broken.json"}, complete: true, topLevel: true}, ""
	case path == "/api/v1/tokens/usermetadata" && status == 200:
		return sampleRule{}, "usermetadata XML is the gateway's chosen shape (testdata/spec/v1.md §3.15)"
	case strings.HasPrefix(path, "/api/v1/config/") && status == 200:
		return sampleRule{}, "the config body is the gateway's chosen shape (testdata/spec/v1.md §3.4)"
	case status >= 400 && ext == ".xml":
		// The legacy error of the XSD: status, message, optional details.
		return sampleRule{samples: []string{"authorize-403.xml"}, complete: true, mayOmit: []string{"/error/details"}}, ""
	case status >= 400:
		return sampleRule{samples: []string{"regcode-400.json"}, complete: true, extra: []string{".details string"}}, ""
	}
	return sampleRule{}, undocumented("no documented body for " + c.Request.Method + " " + path + " " + strconv.Itoa(status))
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// shapeLines is the shape of an XML or JSON body with array indexes and
// repeated elements collapsed, so a list of twelve resources has the shape
// of a list of two.
func shapeLines(body []byte, json bool, topLevel bool) ([]string, error) {
	var s string
	var err error
	if json {
		s, err = v1api.JSONShape(body)
	} else {
		s, err = v1api.XMLShape(body)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		l = indexRE.ReplaceAllString(l, "[]")
		if p := strings.Fields(l)[0]; topLevel && (strings.Count(p, ".") > 1 || strings.Contains(p, "[")) {
			continue
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// repairSample makes a .broken sample parsable where the breakage is only
// presentation: the user-metadata sample is a JavaScript literal with
// unquoted keys.
func repairSample(name string, raw []byte) []byte {
	if name != "tokens-usermetadata-200.broken.json" {
		return raw
	}
	return regexp.MustCompile(`(?m)^(\s*)([A-Za-z]+):`).ReplaceAll(raw, []byte(`$1"$2":`))
}

// TestGoldenMatchesSamples holds every golden response body against the
// documented sample of its endpoint, status and format: the same element
// names and order, or the same JSON keys, order and types.
func TestGoldenMatchesSamples(t *testing.T) {
	sampleDir := testenv.SamplesDir(t, "v1")
	dirs := scenarioDirs(t)
	checked := map[string]bool{}
	for _, dir := range dirs {
		for _, st := range readSteps(t, dir) {
			c := st.Case
			ct := c.Response.Header.Get("Content-Type")
			if len(c.Response.Body) == 0 || !strings.Contains(ct, "json") && !strings.Contains(ct, "xml") {
				continue
			}
			name := filepath.Join(filepath.Base(dir), filepath.Base(st.Path))
			t.Run(name, func(t *testing.T) {
				rule, why := sampleRuleFor(c)
				if why != "" {
					t.Skip(string(why))
				}
				isJSON := strings.Contains(ct, "json")
				got, err := shapeLines(c.Response.Body, isJSON, rule.topLevel)
				if err != nil {
					t.Fatalf("golden body: %v", err)
				}
				var union []string
				for i, s := range rule.samples {
					raw, err := os.ReadFile(filepath.Join(sampleDir, s))
					if err != nil {
						t.Fatal(err)
					}
					want, err := shapeLines(repairSample(s, raw), isJSON, rule.topLevel)
					if err != nil {
						t.Fatalf("sample %s: %v", s, err)
					}
					checked[s] = true
					union = append(union, want...)
					var shared []string
					for _, l := range got {
						if slices.Contains(want, l) {
							shared = append(shared, l)
						}
					}
					var wantOrder []string
					for _, l := range want {
						if slices.Contains(shared, l) {
							wantOrder = append(wantOrder, l)
						}
					}
					if !slices.Equal(shared, wantOrder) {
						t.Errorf("order differs from %s:\n%s", s, golden.UnifiedDiff(s, "golden", wantOrder, shared))
					}
					if i == 0 && rule.complete {
						for _, l := range want {
							if !slices.Contains(got, l) && !slices.Contains(rule.mayOmit, l) {
								t.Errorf("%q of %s is missing", l, s)
							}
						}
					}
				}
				for _, l := range got {
					if !slices.Contains(union, l) && !slices.Contains(rule.extra, l) {
						t.Errorf("%q is in no documented sample (%s)", l, strings.Join(rule.samples, ", "))
					}
				}
			})
		}
	}
	// Every documented response body of the v1 endpoints is used by some
	// golden.
	for _, s := range []string{
		"regcode-201.json", "regcode-201-historical.json", "regcode-201-historical.xml", "regcode-400.json",
		"checkauthn-403.xml", "checkauthn-code-403.json", "tokens-authn-200.xml", "tokens-authn-200.json",
		"tokens-authn-404.xml", "tokens-authn-404.json", "authorize-200.xml", "authorize-200.json", "authorize-403.xml",
		"tokens-authz-200.xml", "tokens-authz-200.json", "tokens-authz-412.xml", "tokens-authz-412.json",
		"tokens-authz-404.xml", "tokens-authz-404.json", "tokens-authz-410.xml", "tokens-authz-410.json",
		"tokens-media-200.xml", "tokens-media-200.json", "preauthorize-200.xml", "preauthorize-200-enhanced.json",
		"tokens-usermetadata-200.broken.json", "error-400-enhanced.json", "error-400-enhanced.xml",
	} {
		if !checked[s] && !t.Failed() {
			t.Errorf("no golden case is held against sample %s", s)
		}
	}
}
