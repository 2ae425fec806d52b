package v1api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/passgw/passgw/v1model"
)

// callView is what the layers in front of the Handler read of a Call.
type callView struct {
	Route, Operation, Requestor, DeviceID, Code, Format string
	ReadOnly                                            bool
}

func viewOf(c *Call) callView {
	return callView{Route: c.Route(), Operation: c.Operation(), Requestor: c.Requestor(), DeviceID: c.DeviceID(),
		Code: c.Code(), Format: c.Format(), ReadOnly: c.ReadOnly()}
}

func TestParseCall(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		method, target, contentType, body, auth string
		want                                    callView
	}{
		{"POST", "/reggie/v1/REF30/regcode.json", form, "deviceId=d1&requestor=OTHER", "",
			callView{"POST /reggie/v1/{requestor}/regcode", "regcode.create", "REF30", "d1", "", "json", false}},
		{"GET", "/reggie/v1/regcode/ABC1234?requestor=REF30", "", "", "",
			callView{"GET /reggie/v1/regcode/{code}", "regcode.get", "REF30", "", "ABC1234", "xml", true}},
		{"POST", "/api/v1/config/REF30.xml", "", "", "",
			callView{"POST /api/v1/config/{requestor}", "config", "REF30", "", "", "xml", true}},
		{"GET", "/api/v1/authenticate?reg_code=X1&requestor_id=R1&requestor=R2", "", "", "",
			callView{"GET /api/v1/authenticate", "authenticate", "R1", "", "X1", "xml", false}},
		{"GET", "/api/v1/authenticate/freepreview?format=json", "", "", "",
			callView{"GET /api/v1/authenticate/{code}", "authenticate.code", "", "", "freepreview", "json", false}},
		{"GET", "/api/v1/tokens/authz?deviceId=d%202", "", "", "POST requestor_id=SIGNED, nonce=n",
			callView{"GET /api/v1/tokens/authz", "tokens.authz", "SIGNED", "d 2", "", "xml", true}},
		{"POST", "/api/v1/authenticate/freepreview", "multipart/form-data; boundary=B",
			"--B\r\nContent-Disposition: form-data; name=\"requestor_id\"\r\n\r\nMP\r\n" +
				"--B\r\nContent-Disposition: form-data; name=\"deviceId\"\r\n\r\nmd\r\n--B--\r\n", "",
			callView{"POST /api/v1/authenticate/freepreview", "freepreview", "MP", "md", "", "xml", false}},
		{"GET", "/api/v1/REF30/profile-requests/AcmeCable", "", "", "",
			callView{"GET /api/v1/{requestor}/profile-requests/{mvpd}", "profilerequest", "REF30", "", "", "xml", false}},
		{"GET", "/api/v1/checkauthn/?requestor=R&deviceId=d", "", "", "",
			callView{Requestor: "R", DeviceID: "d", Format: "xml"}},
		{"DELETE", "/api/v1/authorize?requestor_id=R", "", "", "",
			callView{Format: "xml"}},
	}
	for _, tt := range tests {
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		r := httptest.NewRequest(tt.method, tt.target, body)
		if tt.contentType != "" {
			r.Header.Set("Content-Type", tt.contentType)
		}
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		if got := viewOf(ParseCall(r)); got != tt.want {
			t.Errorf("%s %s:\n got %+v\nwant %+v", tt.method, tt.target, got, tt.want)
		}
		// The body is put back whole for whoever answers.
		if rest, _ := io.ReadAll(r.Body); string(rest) != tt.body {
			t.Errorf("%s %s: body left %q, want %q", tt.method, tt.target, rest, tt.body)
		}
	}
}

// TestParseCallEveryRoute checks every path and method of the route table:
// a method the route has is named by that route's template, and a method
// no route has for the path is answered 405 by the Handler.
func TestParseCallEveryRoute(t *testing.T) {
	h, err := New(Config{Backend: newRecordingBackend()})
	if err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{requestor}", "REF30", "{code}", "C0DE", "{mvpd}", "AcmeCable")
	for _, rt := range routeTable() {
		for _, path := range rt.paths {
			target := fill.Replace(path)
			for _, method := range []string{"GET", "POST", "DELETE", "PUT"} {
				c := ParseCall(httptest.NewRequest(method, target, nil))
				switch {
				case slices.Contains(rt.methods, method):
					if want := method + " " + path; c.Route() != want || c.ReadOnly() != rt.readOnly {
						t.Errorf("%s %s: %q read-only %v, want %q %v", method, target, c.Route(), c.ReadOnly(), want, rt.readOnly)
					}
				case c.Route() != "":
					// Another route serves this method on the path.
					m, tpl, _ := strings.Cut(c.Route(), " ")
					if _, fits := matchTemplate(tpl, target); m != method || !fits {
						t.Errorf("%s %s: named %q", method, target, c.Route())
					}
				default:
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
					if rec.Code != http.StatusMethodNotAllowed {
						t.Errorf("%s %s: unnamed, answered %d, want 405", method, target, rec.Code)
					}
				}
			}
		}
	}
}

// TestFrontParsesOnce: the layers behind Front see the parsed call, may
// consume the body (as a proxy would) and still find it whole, and the
// Handler answers from the parsed call without reading the body again.
func TestFrontParsesOnce(t *testing.T) {
	b := newRecordingBackend()
	h := newTestHandler(t, b, nil)
	var seen callView
	var bodySeen string
	f := &Front{Handler: h, V1: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := CallFrom(r.Context())
		if !ok {
			t.Fatal("no Call in the context")
		}
		seen = viewOf(c)
		raw, _ := io.ReadAll(r.Body)
		bodySeen = string(raw)
		r.Body = http.NoBody // what the Handler gets: nothing left to read
		h.ServeHTTP(w, r)
	})}
	const body = "deviceId=d1&deviceType=Roku"
	r := httptest.NewRequest("POST", "/reggie/v1/REF30/regcode?format=json", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, r)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := callView{"POST /reggie/v1/{requestor}/regcode", "regcode.create", "REF30", "d1", "", "json", false}
	if seen != want {
		t.Errorf("call in context %+v, want %+v", seen, want)
	}
	if bodySeen != body {
		t.Errorf("body behind Front %q, want %q", bodySeen, body)
	}
	req, ok := b.req.(*v1model.CreateRegcodeRequest)
	if !ok || req.Device.DeviceID != "d1" || req.Device.DeviceType != "Roku" {
		t.Errorf("backend got %#v, want the parsed form (deviceId d1, deviceType Roku)", b.req)
	}
	if got := rec.Header().Get("Adobe-Request-Id"); got != testRequestID {
		t.Errorf("Adobe-Request-Id %q, want %q", got, testRequestID)
	}
}

// TestFrontCallTakenOnce: a second Handler run with the context of a call
// Front already served (a shadow comparison in the background) parses its
// own request rather than reusing parameters Front has released.
func TestFrontCallTakenOnce(t *testing.T) {
	b := newRecordingBackend()
	h := newTestHandler(t, b, nil)
	var kept context.Context
	f := &Front{Handler: h, V1: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = r.Context()
		h.ServeHTTP(w, r)
	})}
	f.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/authorize?requestor=REF30&deviceId=d1&resource=first", nil))
	// Reused by another call, the released parameters would be overwritten.
	f.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/authorize?requestor=REF30&deviceId=d9&resource=other", nil))

	later := httptest.NewRequest("GET", "/api/v1/authorize?requestor=REF30&deviceId=d2&resource=second", nil).WithContext(kept)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, later)
	req, ok := b.req.(*v1model.AuthorizeRequest)
	if rec.Code != http.StatusOK || !ok || req.Resource != "second" || req.Device.DeviceID != "d2" {
		t.Errorf("later run: status %d, backend got %#v; want its own request (resource second, device d2)", rec.Code, b.req)
	}
}

func TestFrontRoutes(t *testing.T) {
	h := newTestHandler(t, newRecordingBackend(), nil)
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := CallFrom(r.Context()); ok {
			t.Errorf("%s %s: a Call reached Other", r.Method, r.URL.Path)
		}
		w.WriteHeader(http.StatusTeapot)
	})
	f := &Front{Handler: h, Other: other}
	tests := []struct {
		method, target string
		status         int
	}{
		{"GET", "/api/v1/config/REF30", http.StatusOK},
		{"GET", "/api/v1/nothing", http.StatusNotFound},
		{"PUT", "/api/v1/authorize", http.StatusMethodNotAllowed},
		{"GET", "/o/client/register", http.StatusTeapot},
		{"GET", "/api/v1//checkauthn", http.StatusTeapot},
		{"GET", "/api/v1/x/../checkauthn", http.StatusTeapot},
		{"GET", "/api/v1/./checkauthn", http.StatusTeapot},
		{"GET", "/api/v2/REF30/profiles", http.StatusTeapot},
		{"GET", "/", http.StatusTeapot},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
		if rec.Code != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.target, rec.Code, tt.status)
		}
	}
	rec := httptest.NewRecorder()
	(&Front{Handler: h}).ServeHTTP(rec, httptest.NewRequest("GET", "/elsewhere", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("no Other: %d, want 404", rec.Code)
	}
}

func TestAnswerOf(t *testing.T) {
	tests := []struct{ contentType, want string }{
		{"", "none"},
		{"application/xml; charset=utf-8", "xml"},
		{"application/json; charset=utf-8", "json"},
		{"text/html", "html"},
		{"application/problem+json", "json"},
		{"text/xml", "xml"},
		{"text/html; charset=utf-8", "html"},
		{"Application/JSON", "json"},
		{"application/octet-stream", "other"},
		{";;", "none"},
	}
	for _, tt := range tests {
		h := http.Header{"Adobe-Request-Id": {"id-1"}}
		if tt.contentType != "" {
			h.Set("Content-Type", tt.contentType)
		}
		if format, id := AnswerOf(h); format != tt.want || id != "id-1" {
			t.Errorf("%q: %q %q, want %q id-1", tt.contentType, format, id, tt.want)
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
