package translate

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

// upstreamConnection is what one v2 request said of its caller: the
// X-Forwarded-For address, the device it acts for and the device
// information's connection keys.
type upstreamConnection struct {
	path, forwardedFor, deviceID, connIP, connPort string
}

// upstreamConnections returns the connections of the sandbox requests
// after the first from.
func (e *env) upstreamConnections(from int) []upstreamConnection {
	var out []upstreamConnection
	for _, r := range e.sandbox.Requests()[from:] {
		c := upstreamConnection{path: r.Method + " " + r.Path, forwardedFor: r.Header.Get("X-Forwarded-For"), deviceID: r.Header.Get("AP-Device-Identifier")}
		if raw := r.Header.Get("X-Device-Info"); raw != "" {
			b, err := base64.StdEncoding.DecodeString(raw)
			var info map[string]any
			if err != nil || json.Unmarshal(b, &info) != nil {
				e.t.Fatalf("%s: X-Device-Info %q is not Base64 JSON", c.path, raw)
			}
			c.connIP, _ = info["connectionIp"].(string)
			c.connPort, _ = info["connectionPort"].(string)
		}
		out = append(out, c)
	}
	return out
}

// TestCodeCallsCarryCallerAddress: the calls a login web app makes with a
// registration code (the regcode record, checkauthn/{code},
// preauthorize/{code}, authenticate/{code}) act for the registering device
// but go upstream with the browser's address, in X-Forwarded-For and in the
// connection keys the gateway filled; the device's own calls keep its own.
func TestCodeCallsCarryCallerAddress(t *testing.T) {
	e := newEnv(t)
	dev := testDevice("tv-caller-1") // 203.0.113.7:51234, no device information
	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	code := reg.Code
	fingerprint := "fingerprint " + base64.StdEncoding.EncodeToString([]byte(dev.DeviceID))

	browser := v1model.Device{Requestor: testRequestor, IP: netip.MustParseAddr("198.51.100.20"), UserAgent: "Mozilla/5.0 (login app)"}
	mark := len(e.sandbox.Requests())
	if _, err := e.gw.GetRegcode(e.ctx, &v1model.GetRegcodeRequest{Device: browser, Code: code}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: browser, Code: code}); err == nil {
		t.Fatal("checkauthn/{code} before the login succeeded")
	}
	before := e.upstreamConnections(mark)
	e.secondScreen(code, "AcmeCable", "alice")
	mark = len(e.sandbox.Requests())
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: browser, Code: code}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: browser, Code: code}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gw.Preauthorize(e.ctx, &v1model.PreauthorizeRequest{Device: browser, Code: code, Resources: []string{"news"}}); err != nil {
		t.Fatal(err)
	}
	calls := append(before, e.upstreamConnections(mark)...)
	// A poll before the login, one after it (checkauthn/{code} and
	// tokens/authn/{code} at one instant share it) and the preauthorize.
	if len(calls) < 3 {
		t.Fatalf("%d upstream calls for four code calls: %+v", len(calls), calls)
	}
	for _, c := range calls {
		if c.forwardedFor != "198.51.100.20" {
			t.Errorf("%s went upstream as %q, want the browser's 198.51.100.20", c.path, c.forwardedFor)
		}
		if c.deviceID != "" && c.deviceID != fingerprint {
			t.Errorf("%s: device %q, want the registering device's %q", c.path, c.deviceID, fingerprint)
		}
		if c.deviceID != "" && (c.connIP != "198.51.100.20" || c.connPort != "") {
			t.Errorf("%s: connectionIp %q, connectionPort %q; want the browser's address and no port (the gateway saw none)", c.path, c.connIP, c.connPort)
		}
	}

	// The device's own calls go upstream with its own address and port.
	mark = len(e.sandbox.Requests())
	e.advance(time.Minute) // past the profile cache
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: dev}); err != nil {
		t.Fatal(err)
	}
	calls = e.upstreamConnections(mark)
	if len(calls) == 0 {
		t.Fatal("the device's checkauthn made no upstream call")
	}
	for _, c := range calls {
		if c.forwardedFor != "203.0.113.7" || c.connIP != "203.0.113.7" || c.connPort != "51234" {
			t.Errorf("device call %s: %+v, want the device's 203.0.113.7:51234", c.path, c)
		}
	}
}

// TestCodeCallsConnectionAgreesWithForwardedAddress: connection keys the
// device sent that contradict the address it is forwarded for (a LAN
// address) are replaced by that address, on its own calls and, with the
// caller's, on the calls a login web app makes for it with its code; only
// keys that agree with the forwarded address stay as sent.
func TestCodeCallsConnectionAgreesWithForwardedAddress(t *testing.T) {
	e := newEnv(t)
	dev := testDevice("tv-caller-2") // forwarded for 203.0.113.7, port 51234
	dev.DeviceInfo = json.RawMessage(`{"model":"X1","connectionIp":"10.0.0.5","connectionPort":"7000"}`)
	code := e.signIn(dev, "AcmeCable", "alice")

	browser := v1model.Device{Requestor: testRequestor, IP: netip.MustParseAddr("198.51.100.21"), Port: 40000}
	mark := len(e.sandbox.Requests())
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: browser, Code: code}); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.upstreamConnections(mark) {
		if c.forwardedFor != "198.51.100.21" || c.connIP != "198.51.100.21" || c.connPort != "40000" {
			t.Errorf("%s: %+v, want X-Forwarded-For and connection 198.51.100.21:40000", c.path, c)
		}
	}
	mark = len(e.sandbox.Requests())
	e.advance(time.Minute) // past the profile cache
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: dev}); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.upstreamConnections(mark) {
		if c.forwardedFor != "203.0.113.7" || c.connIP != "203.0.113.7" || c.connPort != "51234" {
			t.Errorf("device call %s: %+v, want its forwarded 203.0.113.7 and the port seen, 51234", c.path, c)
		}
	}

	// A device stating its public address and port: kept as sent.
	own := testDevice("tv-caller-3")
	own.Port = 0 // through a proxy: the gateway saw no port of the device
	own.DeviceInfo = json.RawMessage(`{"model":"X1","connectionIp":"203.0.113.7","connectionPort":"7000"}`)
	mark = len(e.sandbox.Requests())
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: own}); err == nil {
		t.Fatal("checkauthn of a device never signed in succeeded")
	}
	for _, c := range e.upstreamConnections(mark) {
		if c.connIP != "203.0.113.7" || c.connPort != "7000" {
			t.Errorf("device call %s: %+v, want its own 203.0.113.7:7000", c.path, c)
		}
	}
}

// TestResumeCarriesRegisteringDevice: the resume call made when the login
// web app signs in with a code (POST sessions/{code}) carries the identity
// of the device that registered the code — its AP-Device-Identifier, its
// X-Device-Info as kept at regcode time and its User-Agent — with the web
// app's address, as the REST API v2 checklist asks of every call; a code the gateway never issued (a v2 device app's) has
// no device to name.
func TestResumeCarriesRegisteringDevice(t *testing.T) {
	e := newEnv(t)
	dev := testDevice("tv-resume-1")
	dev.DeviceInfo = json.RawMessage(`{"model":"UN55","osName":"Tizen","osVersion":"7.0","connectionIp":"203.0.113.7"}`)
	mark := len(e.sandbox.Requests())
	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	var create *sandbox.Request
	for _, r := range e.sandbox.Requests()[mark:] {
		if r.Method == http.MethodPost && r.Path == "/api/v2/REF30/sessions" {
			create = &r
		}
	}
	if create == nil {
		t.Fatal("regcode sent no POST sessions")
	}

	browser := v1model.Device{Requestor: testRequestor, IP: netip.MustParseAddr("198.51.100.30"), Port: 40100,
		UserAgent: "Mozilla/5.0 (login app)"}
	mark = len(e.sandbox.Requests())
	if _, err := e.gw.Authenticate(e.ctx, &v1model.AuthenticateRequest{Device: browser, MVPD: "AcmeCable",
		Code: reg.Code, DomainName: testDomain, RedirectURL: testRedirect}); err != nil {
		t.Fatal(err)
	}
	resume := resumeRequest(t, e.sandbox.Requests()[mark:], reg.Code)
	want := map[string]string{
		"AP-Device-Identifier": "fingerprint " + base64.StdEncoding.EncodeToString([]byte(dev.DeviceID)),
		"User-Agent":           dev.UserAgent,
		"X-Forwarded-For":      "198.51.100.30",
	}
	for name, v := range want {
		if got := resume.Header.Get(name); got != v {
			t.Errorf("resume %s = %q, want %q", name, got, v)
		}
	}
	// The device information is the registering device's, its
	// connection keys agreeing with the address the call is forwarded
	// for: the web app's.
	info := decodedInfo(t, resume.Header.Get("X-Device-Info"))
	registered := decodedInfo(t, create.Header.Get("X-Device-Info"))
	for k, v := range registered {
		switch k {
		case "connectionIp", "connectionPort":
			if want := map[string]string{"connectionIp": "198.51.100.30", "connectionPort": "40100"}[k]; info[k] != want {
				t.Errorf("resume %s %v, want the web app's %s", k, info[k], want)
			}
		default:
			if info[k] != v {
				t.Errorf("resume X-Device-Info %s = %v, want the registering device's %v", k, info[k], v)
			}
		}
	}
	if len(info) != len(registered) {
		t.Errorf("resume X-Device-Info %v, want the keys of the registering device's %v", info, registered)
	}
	if info["model"] != "UN55" || info["osName"] != "Tizen" {
		t.Errorf("resume X-Device-Info %v does not describe the registering device", info)
	}

	// A code from a v2 device app, which registered it with v2 itself:
	// the gateway knows no device to name.
	app := &v2client.Client{BaseURL: e.sandbox.URL, Retries: -1, Tokens: &v2client.TokenSource{
		Client: &v2client.Client{BaseURL: e.sandbox.URL, Retries: -1},
		Statement: v2client.StaticStatements(map[string]v2client.RegisterRequest{
			testRequestor: {SoftwareStatement: "sandbox-statement"},
		}),
		Store: Credentials{Store: e.store, Now: e.clock.Now},
		Now:   e.clock.Now,
	}}
	s, err := app.CreateSession(e.ctx, testRequestor, v2client.SessionParams{DomainName: testDomain, RedirectURL: testRedirect},
		v2client.WithDeviceID("fingerprint "+base64.StdEncoding.EncodeToString([]byte("v2-app-device"))),
		v2client.WithDeviceInfo(base64.StdEncoding.EncodeToString([]byte(`{"model":"X1","osName":"Android"}`))))
	if err != nil {
		t.Fatal(err)
	}
	mark = len(e.sandbox.Requests())
	if _, err := e.gw.Authenticate(e.ctx, &v1model.AuthenticateRequest{Device: browser, MVPD: "AcmeCable",
		Code: s.Code, DomainName: testDomain, RedirectURL: testRedirect}); err != nil {
		t.Fatal(err)
	}
	resume = resumeRequest(t, e.sandbox.Requests()[mark:], s.Code)
	if id, info := resume.Header.Get("AP-Device-Identifier"), resume.Header.Get("X-Device-Info"); id != "" || info != "" {
		t.Errorf("resume of a v2 app's code named a device: AP-Device-Identifier %q, X-Device-Info %q", id, info)
	}
	if got := resume.Header.Get("User-Agent"); got != browser.UserAgent {
		t.Errorf("resume of a v2 app's code: User-Agent %q, want the browser's %q", got, browser.UserAgent)
	}
}

// resumeRequest finds the resume (POST sessions/{code}) of code among reqs.
func resumeRequest(t *testing.T, reqs []sandbox.Request, code string) sandbox.Request {
	t.Helper()
	for _, r := range reqs {
		if r.Method == http.MethodPost && r.Path == "/api/v2/REF30/sessions/"+code {
			return r
		}
	}
	t.Fatalf("no resume of %s among %d requests", code, len(reqs))
	return sandbox.Request{}
}

// decodedInfo decodes an X-Device-Info header value.
func decodedInfo(t *testing.T, raw string) map[string]any {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(raw)
	var info map[string]any
	if err != nil || json.Unmarshal(b, &info) != nil {
		t.Fatalf("X-Device-Info %q is not Base64 JSON", raw)
	}
	return info
}
