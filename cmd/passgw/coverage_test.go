package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/passgw/passgw/compat/golden"
)

// goldenOutcome names what a golden case shows: the v1 operation, the
// status and the format ("-" without a body), with "+enhanced" for an
// enhanced error body.
func goldenOutcome(c *golden.Case) string {
	u, err := url.Parse(c.Request.Target)
	if err != nil {
		return "?"
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, ".json"), ".xml")
	var op string
	switch {
	case strings.HasPrefix(p, "/reggie/v1/") && strings.HasSuffix(p, "/regcode"):
		op = c.Request.Method + " regcode"
	case strings.HasPrefix(p, "/reggie/v1/regcode/"):
		op = c.Request.Method + " regcode/{code} (no requestor)"
	case strings.HasPrefix(p, "/reggie/v1/") && strings.Contains(p, "/regcode/"):
		op = c.Request.Method + " regcode/{code}"
	case strings.HasPrefix(p, "/api/v1/config/"):
		op = c.Request.Method + " config"
	case p == "/api/v1/authenticate/freepreview" && c.Request.Method == "POST":
		op = "POST freepreview"
	case strings.HasPrefix(p, "/api/v1/authenticate/"):
		op = "GET authenticate/{code}"
	case strings.HasPrefix(p, "/api/v1/checkauthn/"):
		op = "GET checkauthn/{code}"
	case strings.HasPrefix(p, "/api/v1/preauthorize/"):
		op = "GET preauthorize/{code}"
	case p == "/api/v1/mediatoken":
		op = c.Request.Method + " tokens/media"
	case strings.HasPrefix(p, "/api/v1/tokens/"):
		op = c.Request.Method + " " + strings.TrimPrefix(p, "/api/v1/")
	case strings.HasPrefix(p, "/api/v1/"):
		op = c.Request.Method + " " + strings.TrimPrefix(p, "/api/v1/")
	default:
		op = c.Request.Method + " " + p
	}
	format := "-"
	switch ct := c.Response.Header.Get("Content-Type"); {
	case strings.Contains(ct, "json"):
		format = "json"
	case strings.Contains(ct, "xml"):
		format = "xml"
	}
	s := fmt.Sprintf("%s %d %s", op, c.Response.Status, format)
	if c.Response.Status >= 400 && strings.Contains(string(c.Response.Body), "helpUrl") {
		s += " +enhanced"
	}
	return s
}

// TestGoldenCoverage proves the golden suite shows every endpoint of
// testdata/spec/v1.md section 3 that the gateway implements in both formats, with its
// success and each documented error the sandbox can produce.
func TestGoldenCoverage(t *testing.T) {
	have := map[string]bool{}
	for _, d := range scenarioDirs(t) {
		for _, st := range readSteps(t, d) {
			have[goldenOutcome(st.Case)] = true
		}
	}
	var want []string
	for _, p := range []string{
		"POST regcode 201", "POST regcode 400",
		"GET regcode/{code} 200", "GET regcode/{code} 404", "GET regcode/{code} (no requestor) 200",
		"DELETE regcode/{code} 404",
		"GET config 200", "POST config 200", "GET config 400",
		"GET authenticate 400",
		"GET authenticate/{code} 200", "GET authenticate/{code} 404",
		"GET checkauthn/{code} 200", "GET checkauthn/{code} 403",
		"GET checkauthn 200", "GET checkauthn 403",
		"GET tokens/authn 200", "GET tokens/authn 404", "GET tokens/authn 410",
		"GET authorize 200", "GET authorize 403", "GET authorize 400",
		"GET tokens/authz 200", "GET tokens/authz 412", "GET tokens/authz 404", "GET tokens/authz 410",
		"GET tokens/media 200", "GET tokens/media 403",
		"GET preauthorize 200", "GET preauthorize 412", "GET preauthorize 400",
		"GET preauthorize/{code} 200",
		"GET tokens/usermetadata 200", "GET tokens/usermetadata 412",
		"POST freepreview 400",
		"GET nothing-here 404",
	} {
		want = append(want, p+" xml", p+" json")
	}
	// The same with Enhanced Error Codes on.
	for _, p := range []string{
		"POST regcode 400", "GET checkauthn 403", "GET tokens/authn 404", "GET tokens/authn 410",
		"GET tokens/authz 412", "GET tokens/authz 404", "GET tokens/authz 410",
		"GET authorize 403", "GET preauthorize 412", "GET checkauthn/{code} 403",
	} {
		want = append(want, p+" xml +enhanced", p+" json +enhanced")
	}
	want = append(want,
		"DELETE regcode/{code} 204 -", "DELETE regcode/{code} (no requestor) 204 -",
		"GET authenticate 302 -", "DELETE logout 204 -", "GET logout 204 -", "POST freepreview 204 -",
		"POST checkauthn 405 json +enhanced", "GET tokens/usermetadata 412 json +enhanced",
		"POST freepreview 400 json +enhanced", "DELETE authorize 405 json", "PUT regcode 405 xml",
		"GET authenticate 400 json +enhanced", "GET checkauthn 400 json +enhanced",
	)
	var missing []string
	for _, w := range want {
		if !have[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		var all []string
		for k := range have {
			all = append(all, k)
		}
		slices.Sort(all)
		t.Errorf("no golden case shows:\n  %s\nthe cases show:\n  %s", strings.Join(missing, "\n  "), strings.Join(all, "\n  "))
	}
}
