package v1api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/v1model"
)

func TestRouteTemplate(t *testing.T) {
	h, err := New(Config{Backend: newRecordingBackend()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, target string
		want           string // "" when no route matches
	}{
		{"POST", "/reggie/v1/REF30/regcode", "POST /reggie/v1/{requestor}/regcode"},
		{"POST", "/reggie/v1/REF30/regcode.json", "POST /reggie/v1/{requestor}/regcode"},
		{"GET", "/reggie/v1/REF30/regcode/ABC1234.xml", "GET /reggie/v1/{requestor}/regcode/{code}"},
		{"DELETE", "/reggie/v1/regcode/ABC1234", "DELETE /reggie/v1/regcode/{code}"},
		{"GET", "/api/v1/config/REF30", "GET /api/v1/config/{requestor}"},
		{"GET", "/api/v1/authorize?requestor=REF30&deviceId=d&resource=x", "GET /api/v1/authorize"},
		{"GET", "/api/v1/authenticate/ABC1234", "GET /api/v1/authenticate/{code}"},
		{"POST", "/api/v1/authenticate/freepreview", "POST /api/v1/authenticate/freepreview"},
		{"GET", "/api/v1/logout", "GET /api/v1/logout"},
		{"DELETE", "/api/v1/logout", "DELETE /api/v1/logout"},
		{"GET", "/api/v1/nothing", ""},
		{"PUT", "/api/v1/authorize", ""},
	}
	for _, tt := range tests {
		got, ok := h.RouteTemplate(httptest.NewRequest(tt.method, tt.target, nil))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s %s: %q %v, want %q", tt.method, tt.target, got, ok, tt.want)
		}
	}
}

func TestIdentify(t *testing.T) {
	device, browser := []string{"requestor"}, []string{"requestor_id", "requestor"}
	tests := []struct {
		method, target string
		want           Operation
		ok             bool
	}{
		{"POST", "/reggie/v1/REF30/regcode.xml", Operation{Template: "POST /reggie/v1/{requestor}/regcode",
			Vars: map[string]string{"requestor": "REF30"}, RequestorParams: device}, true},
		{"GET", "/reggie/v1/regcode/ABC1234", Operation{Template: "GET /reggie/v1/regcode/{code}",
			Vars: map[string]string{"code": "ABC1234"}, RequestorParams: device, ReadOnly: true}, true},
		{"POST", "/api/v1/config/REF30.json", Operation{Template: "POST /api/v1/config/{requestor}",
			Vars: map[string]string{"requestor": "REF30"}, ReadOnly: true}, true},
		{"GET", "/api/v1/authenticate?reg_code=X", Operation{Template: "GET /api/v1/authenticate",
			Vars: map[string]string{}, RequestorParams: browser}, true},
		{"GET", "/api/v1/authenticate/freepreview", Operation{Template: "GET /api/v1/authenticate/{code}",
			Vars: map[string]string{"code": "freepreview"}, RequestorParams: device}, true},
		{"GET", "/api/v1/tokens/authz", Operation{Template: "GET /api/v1/tokens/authz",
			Vars: map[string]string{}, RequestorParams: device, ReadOnly: true}, true},
		{"GET", "/api/v1/REF30/profile-requests/AcmeCable", Operation{Template: "GET /api/v1/{requestor}/profile-requests/{mvpd}",
			Vars: map[string]string{"requestor": "REF30", "mvpd": "AcmeCable"}}, true},
		{"GET", "/api/v1/checkauthn/", Operation{}, false},
		{"GET", "/reggie/v1//regcode", Operation{}, false},
		{"DELETE", "/api/v1/authorize", Operation{}, false},
	}
	for _, tt := range tests {
		got, ok := Identify(httptest.NewRequest(tt.method, tt.target, nil))
		if ok != tt.ok {
			t.Errorf("%s %s: ok %v, want %v", tt.method, tt.target, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.method, tt.target, diff)
		}
	}
}

// TestIdentifyEveryRoute checks every path and method of the route table:
// a method the route has is identified by that route's template, and a
// method no route has for the path is answered 405 by the Handler.
func TestIdentifyEveryRoute(t *testing.T) {
	h, err := New(Config{Backend: newRecordingBackend()})
	if err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{requestor}", "REF30", "{code}", "C0DE", "{mvpd}", "AcmeCable")
	for _, rt := range routeTable() {
		for _, path := range rt.paths {
			target := fill.Replace(path)
			for _, method := range []string{"GET", "POST", "DELETE", "PUT"} {
				op, ok := Identify(httptest.NewRequest(method, target, nil))
				switch {
				case slices.Contains(rt.methods, method):
					if want := method + " " + path; op.Template != want || op.ReadOnly != rt.readOnly {
						t.Errorf("%s %s: %q read-only %v, want %q %v", method, target, op.Template, op.ReadOnly, want, rt.readOnly)
					}
				case ok:
					// Another route serves this method on the path.
					m, tpl, _ := strings.Cut(op.Template, " ")
					if _, fits := matchTemplate(tpl, target); m != method || !fits {
						t.Errorf("%s %s: identified as %q", method, target, op.Template)
					}
				default:
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
					if rec.Code != http.StatusMethodNotAllowed {
						t.Errorf("%s %s: unidentified, answered %d, want 405", method, target, rec.Code)
					}
				}
			}
		}
	}
}

func TestExportedDeviceAddr(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		trusted []netip.Prefix
		want    string
	}{
		{"nil trusts loopback", "127.0.0.1:1", nil, "198.51.100.1"},
		{"nil trusts nothing else", "203.0.113.7:1", nil, "203.0.113.7"},
		{"empty trusts no one", "127.0.0.1:1", []netip.Prefix{}, "127.0.0.1"},
		{"the listed proxies", "10.0.0.1:1", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "198.51.100.1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		if got := DeviceAddr(r, tt.trusted); got.String() != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// idBackend remembers the request id its Config call saw.
type idBackend struct {
	*recordingBackend
	seen string
}

func (b *idBackend) Config(ctx context.Context, r *v1model.ConfigRequest) (*v1model.Config, error) {
	b.seen, _ = RequestIDFromContext(ctx)
	return b.recordingBackend.Config(ctx, r)
}

func TestRequestIDInContext(t *testing.T) {
	tests := []struct {
		name   string
		chosen string // by a middleware; "" for none
		want   string
	}{
		{"handler makes one", "", "made-1"},
		{"middleware chose one", "chosen-7", "chosen-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &idBackend{recordingBackend: newRecordingBackend()}
			h, err := New(Config{Backend: b, RequestID: func() string { return "made-1" }})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/api/v1/config/REF30", nil)
			if tt.chosen != "" {
				req = req.WithContext(ContextWithRequestID(req.Context(), tt.chosen))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Adobe-Request-Id"); got != tt.want {
				t.Errorf("Adobe-Request-Id %q, want %q", got, tt.want)
			}
			if b.seen != tt.want {
				t.Errorf("backend context carried %q, want %q", b.seen, tt.want)
			}
		})
	}
}

// matchTemplate reports whether path fits tpl, and its variables.
func matchTemplate(tpl, path string) (map[string]string, bool) {
	var buf [maxSegments]string
	segs, ok := splitSegments(path, &buf)
	if !ok {
		return nil, false
	}
	t := newPathTemplate(tpl)
	var v pathVars
	if !t.match(segs, &v) {
		return nil, false
	}
	vars := make(map[string]string, v.n)
	for i := range v.n {
		vars[v.names[i]] = v.values[i]
	}
	return vars, true
}

// TestMatchersAgree: the Handler's compiled templates and Identify's
// string matching accept the same paths with the same variables, and
// RouteTemplate names calls as Identify does.
func TestMatchersAgree(t *testing.T) {
	h := newTestHandler(t, newRecordingBackend(), nil)
	fills := []string{"R1", "", "a.json", "%2F", "x/y"}
	var paths []string
	for _, rt := range routeTable() {
		for _, tpl := range rt.paths {
			for _, fill := range fills {
				p := strings.NewReplacer("{requestor}", fill, "{code}", fill, "{mvpd}", fill).Replace(tpl)
				paths = append(paths, p, p+"/", p+"/extra", strings.TrimSuffix(p, "/"+fill))
			}
		}
	}
	paths = append(paths, "/", "", "/a/b/c/d/e/f/g/h/i/j", "api/v1/checkauthn")
	for _, path := range paths {
		var buf [maxSegments]string
		segs, fits := splitSegments(path, &buf)
		for _, rt := range h.routes {
			for i, tpl := range rt.paths {
				var a, b pathVars
				okA := matchTemplateVars(tpl, path, &a)
				okB := fits && rt.templates[i].match(segs, &b)
				if okA != okB || a != b {
					t.Errorf("%q on %q: string match %v %+v, compiled %v %+v", path, tpl, okA, a, okB, b)
				}
			}
		}
		for _, method := range []string{"GET", "POST", "DELETE", "PUT"} {
			r := httptest.NewRequest(method, "/", nil)
			r.URL.Path = path
			op, okOp := Identify(r)
			name, okName := h.RouteTemplate(r)
			if okOp != okName || op.Template != name {
				t.Errorf("%s %q: Identify %q %v, RouteTemplate %q %v", method, path, op.Template, okOp, name, okName)
			}
		}
	}
}
