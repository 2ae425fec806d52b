package translate

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
)

// TestDeviceFlow walks a legacy device through its whole life: registration,
// second-screen login as alice, polling, authorization, media tokens and
// logout.
func TestDeviceFlow(t *testing.T) {
	e := newEnv(t)
	d := testDevice("roku-living-room")

	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d, RegistrationURL: "https://example.com/activate"})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if len(reg.Code) != 7 || reg.ID == "" || reg.Requestor != testRequestor {
		t.Fatalf("registration = %+v", reg)
	}
	if !reg.Generated.Equal(now) || !reg.Expires.Equal(now.Add(30*time.Minute)) {
		t.Errorf("generated %v expires %v, want %v and 30 min later", reg.Generated, reg.Expires, now)
	}
	if string(reg.Info.DeviceID) != d.DeviceID || reg.Info.RegistrationURL != "https://example.com/activate" {
		t.Errorf("info = %+v", reg.Info)
	}
	if got, err := e.gw.GetRegcode(e.ctx, &v1model.GetRegcodeRequest{Device: v1model.Device{Requestor: testRequestor}, Code: reg.Code}); err != nil || got.ID != reg.ID {
		t.Fatalf("GetRegcode = %+v, %v", got, err)
	}

	// Before the login the device is not authenticated.
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionMissing)
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: v1model.Device{Requestor: testRequestor}, Code: reg.Code})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionMissing)

	e.secondScreen(reg.Code, "AcmeCable", "alice")

	tok, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: v1model.Device{Requestor: testRequestor}, Code: reg.Code})
	if err != nil {
		t.Fatalf("checkauthn/{code}: %v", err)
	}
	if tok.MVPD != "AcmeCable" || tok.UserID != "acme-alice-0001" || !tok.Expires.Equal(now.Add(24*time.Hour)) {
		t.Errorf("checkauthn/{code} = %+v", tok)
	}
	tok, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	if err != nil || tok.MVPD != "AcmeCable" || tok.Requestor != testRequestor {
		t.Fatalf("tokens/authn = %+v, %v", tok, err)
	}

	az, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"})
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if az.MVPD != "AcmeCable" || az.Resource != "news" || !az.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("authorize = %+v", az)
	}
	// The v2 call carried the device's identity.
	calls := e.upstream("/decisions/authorize/AcmeCable")
	if len(calls) != 1 {
		t.Fatalf("%d v2 authorize calls, want 1", len(calls))
	}
	h := calls[0].Header
	if got, want := h.Get("AP-Device-Identifier"), "fingerprint "+base64.StdEncoding.EncodeToString([]byte(d.DeviceID)); got != want {
		t.Errorf("AP-Device-Identifier = %q, want %q", got, want)
	}
	if got := h.Get("X-Forwarded-For"); got != "203.0.113.7" {
		t.Errorf("X-Forwarded-For = %q", got)
	}
	info := decodeDeviceInfo(t, h.Get("X-Device-Info"))
	for k, want := range map[string]string{"model": "Roku", "osName": "Roku OS", "osVersion": "9.10", "connectionIp": "203.0.113.7", "connectionPort": "51234"} {
		if info[k] != want {
			t.Errorf("X-Device-Info %s = %v, want %q", k, info[k], want)
		}
	}
	// What neither the device nor its User-Agent tells is left to Adobe's
	// extraction from the User-Agent header, not invented.
	for _, k := range []string{"version", "connectionType"} {
		if v, ok := info[k]; ok {
			t.Errorf("X-Device-Info %s = %v, want it left out: the Roku told none", k, v)
		}
	}
	if got := h.Get("User-Agent"); got != d.UserAgent {
		t.Errorf("User-Agent = %q, want the device's %q", got, d.UserAgent)
	}

	// tokens/authz answers from the kept decision, without v2.
	before := len(e.sandbox.Requests())
	azt, err := e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: "news"})
	if err != nil || !azt.Expires.Equal(az.Expires) || azt.MVPD != "AcmeCable" {
		t.Fatalf("tokens/authz = %+v, %v", azt, err)
	}
	if n := len(e.sandbox.Requests()) - before; n != 0 {
		t.Errorf("tokens/authz made %d v2 calls, want 0", n)
	}

	m1, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "news"})
	if err != nil {
		t.Fatalf("tokens/media: %v", err)
	}
	if m1.SerializedToken == "" || m1.MVPDID != "AcmeCable" || m1.UserID != "acme-alice-0001" || !m1.Expires.Equal(now.Add(7*time.Minute)) {
		t.Errorf("tokens/media = %+v", m1)
	}
	if n := len(e.upstream("/decisions/authorize/")); n != 1 {
		t.Errorf("first media token needed %d authorize calls, want the kept one (1 in total)", n)
	}
	m2, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "news"})
	if err != nil {
		t.Fatalf("second tokens/media: %v", err)
	}
	if m2.SerializedToken == m1.SerializedToken {
		t.Fatal("the same media token was handed out twice")
	}
	if n := len(e.upstream("/decisions/authorize/")); n != 2 {
		t.Errorf("second media token: %d authorize calls in total, want 2 (a fresh one)", n)
	}

	if err := e.gw.Logout(e.ctx, &v1model.LogoutRequest{Device: d}); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if n := len(e.upstream("/logout/AcmeCable")); n != 1 {
		t.Errorf("%d v2 logout calls, want 1", n)
	}
	if got := e.upstream("/logout/AcmeCable")[0].RawQuery; got != "redirectUrl=https%3A%2F%2Fexample.com%2Fdone" {
		t.Errorf("logout query = %q", got)
	}
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionMissing)
	// Nothing kept survives the logout.
	_, err = e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: "news"})
	v1err(t, err, 412, v1model.CodeAuthenticationSessionMissing)
	// A second logout still answers 204.
	if err := e.gw.Logout(e.ctx, &v1model.LogoutRequest{Device: d}); err != nil {
		t.Fatalf("second logout: %v", err)
	}
}

func decodeDeviceInfo(t *testing.T, header string) map[string]any {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		t.Fatalf("X-Device-Info %q: %v", header, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("X-Device-Info %s: %v", b, err)
	}
	return m
}
