package sandbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// epoch is the fixed start of the sandbox clock in tests.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// start runs a sandbox on a fixed clock with deterministic ids and, unless
// the test needs it, no throttling.
func start(t *testing.T, mutate ...func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		Now:               func() time.Time { return epoch },
		IDs:               DeterministicIDs(1),
		DisableThrottling: true,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value, so tests see the real JSON
// types (string vs float64).
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return v
}

func send(t *testing.T, method, target string, header http.Header, body []byte) response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// registerClient performs DCR register + token and returns the access token.
func registerClient(t *testing.T, s *Server, statement string) string {
	t.Helper()
	reg := send(t, http.MethodPost, s.URL+"/o/client/register", http.Header{
		"Content-Type":  {"application/json;charset=utf-8"},
		"X-Device-Info": {deviceInfo()},
	}, []byte(`{"software_statement":"`+statement+`"}`))
	if reg.status != http.StatusCreated {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	creds := reg.json(t)
	form := url.Values{"client_id": {creds["client_id"].(string)}, "client_secret": {creds["client_secret"].(string)}, "grant_type": {"client_credentials"}}
	tok := send(t, http.MethodPost, s.URL+"/o/client/token", http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"X-Device-Info": {deviceInfo()},
	}, []byte(form.Encode()))
	if tok.status != http.StatusCreated {
		t.Fatalf("token: %d %s", tok.status, tok.body)
	}
	return tok.json(t)["access_token"].(string)
}

func deviceInfo() string {
	return base64.StdEncoding.EncodeToString([]byte(`{"model":"Bravia","version":"2024","osName":"Android","osVersion":"12","connectionType":"WiFi"}`))
}

// device is one streaming device of one app talking to the sandbox.
type device struct {
	t     *testing.T
	s     *Server
	sp    string
	token string
	extra http.Header
}

func newDevice(t *testing.T, s *Server, token, id string) *device {
	d := &device{t: t, s: s, sp: "REF30", token: token, extra: http.Header{}}
	d.extra.Set("AP-Device-Identifier", "fingerprint "+base64.StdEncoding.EncodeToString([]byte(id)))
	d.extra.Set("X-Device-Info", deviceInfo())
	return d
}

func (d *device) headers() http.Header {
	h := d.extra.Clone()
	if d.token != "" {
		h.Set("Authorization", "Bearer "+d.token)
	}
	return h
}

func (d *device) get(path string) response {
	d.t.Helper()
	return send(d.t, http.MethodGet, d.s.URL+"/api/v2/"+d.sp+path, d.headers(), nil)
}

func (d *device) postForm(path string, form url.Values) response {
	d.t.Helper()
	h := d.headers()
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(d.t, http.MethodPost, d.s.URL+"/api/v2/"+d.sp+path, h, []byte(form.Encode()))
}

func (d *device) decide(kind, mvpd string, resources ...string) response {
	d.t.Helper()
	h := d.headers()
	h.Set("Content-Type", "application/json;charset=utf-8")
	b, _ := json.Marshal(map[string][]string{"resources": resources})
	return send(d.t, http.MethodPost, d.s.URL+"/api/v2/"+d.sp+"/decisions/"+kind+"/"+mvpd, h, b)
}

const appRedirect = "https://app.example.com/done"

// createSession creates a complete session for mvpd and returns its answer.
func (d *device) createSession(mvpd string) map[string]any {
	d.t.Helper()
	r := d.postForm("/sessions", url.Values{"mvpd": {mvpd}, "domainName": {"example.com"}, "redirectUrl": {appRedirect}})
	if r.status != http.StatusOK {
		d.t.Fatalf("create session: %d %s", r.status, r.body)
	}
	return r.json(d.t)
}

// login creates a session for mvpd and signs in as user; it returns the code.
func (d *device) login(mvpd, user string) string {
	d.t.Helper()
	sess := d.createSession(mvpd)
	if sess["actionName"] != "authenticate" {
		d.t.Fatalf("session answer %v, want authenticate", sess)
	}
	landed, err := SignIn(context.Background(), nil, d.s.URL+sess["url"].(string), user, user+"-pass")
	if err != nil {
		d.t.Fatalf("SignIn(%s): %v", user, err)
	}
	if landed != appRedirect {
		d.t.Fatalf("SignIn landed at %q, want %q", landed, appRedirect)
	}
	return sess["code"].(string)
}

// decisions returns the decision items of a 200 decisions answer.
func decisions(t *testing.T, r response) []map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("decisions: %d %s", r.status, r.body)
	}
	var out []map[string]any
	for _, it := range r.json(t)["decisions"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// errorCode is the code of an error object (top-level body or item error).
func errorCode(v any) string {
	m, _ := v.(map[string]any)
	c, _ := m["code"].(string)
	return c
}

func wantStatusCode(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	body := r.json(t)
	if got := errorCode(body); got != code {
		t.Fatalf("code %q, want %q; body %s", got, code, r.body)
	}
	if got, _ := body["status"].(float64); int(got) != status {
		t.Fatalf("body status %v, want %d", body["status"], status)
	}
	if ct := r.header.Get("Content-Type"); ct != jsonContentType {
		t.Fatalf("Content-Type %q, want %q", ct, jsonContentType)
	}
}

// wantTypes checks the JSON type of fields: "string", "number", "bool".
func wantTypes(t *testing.T, what string, obj map[string]any, types map[string]string) {
	t.Helper()
	for field, want := range types {
		var got string
		switch obj[field].(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case bool:
			got = "bool"
		case nil:
			got = "absent"
		default:
			got = "other"
		}
		if got != want {
			t.Errorf("%s.%s is %s (%v), want %s", what, field, got, obj[field], want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
