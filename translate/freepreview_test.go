package translate

import (
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client/sandbox"
)

// TestFreePreviewAuthenticates: a free preview authenticates the device at
// once with the trial's own user id and end, as v1 did: the gateway starts
// the trial (v2 starts its clock at the first authorization), so
// checkauthn and tokens/authn answer the same before and after the
// device's first authorization; once used up the authentication expired.
func TestFreePreviewAuthenticates(t *testing.T) {
	e := newEnv(t)
	d := testDevice("preview-authn")
	start := e.clock.Now()
	if err := e.gw.FreePreview(e.ctx, &v1model.FreePreviewRequest{Device: d, DomainName: testDomain}); err != nil {
		t.Fatalf("FreePreview: %v", err)
	}

	trialEnd := start.Add(10 * time.Minute) // the fixture's TempPass lasts 10 minutes
	check, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	if err != nil || check.MVPD != "TempPass_REF30" || !strings.HasPrefix(check.UserID, "temppass_") || !check.Expires.Equal(trialEnd) {
		t.Fatalf("checkauthn right after the free preview = %+v, %v; want the trial's user id until %v", check, err, trialEnd)
	}
	first := *check
	tok, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	if err != nil || *tok != first {
		t.Fatalf("tokens/authn right after the free preview = %+v, %v; want %+v", tok, err, first)
	}
	// Authenticated, not yet authorized: the trial's start decision is not
	// the device's.
	_, err = e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: testRequestor})
	v1err(t, err, 404, v1model.CodeAuthorizationNotFound)
	// Another device took no free preview.
	_, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: testDevice("no-preview")})
	v1err(t, err, 404, v1model.CodeAuthenticationSessionMissing)

	e.advance(time.Minute)
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatalf("authorize on the free preview: %v", err)
	}
	e.advance(20 * time.Second) // past the profile cache
	for name, get := range map[string]func() (*v1model.AuthnToken, error){
		"checkauthn": func() (*v1model.AuthnToken, error) {
			return e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
		},
		"tokens/authn": func() (*v1model.AuthnToken, error) {
			return e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
		},
	} {
		if tok, err := get(); err != nil || *tok != first {
			t.Fatalf("%s after the first authorization = %+v, %v; want the same as before it, %+v", name, tok, err, first)
		}
	}

	e.advance(9 * time.Minute)
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionExpired)
	_, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	v1err(t, err, 410, v1model.CodeAuthenticationSessionExpired)
}

// TestFreePreviewNotStarted: when the trial cannot be started at once (v2
// refused the start authorization), the free preview still authenticates:
// the TempPass MVPD acts without a user id until the device's first
// authorization starts the trial.
func TestFreePreviewNotStarted(t *testing.T) {
	e := newEnv(t)
	d := testDevice("preview-not-started")
	id, err := e.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultStatus, Status: 503, Path: "/api/v2/*/decisions/authorize/*", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.sandbox.RemoveFault(id)
	start := e.clock.Now()
	if err := e.gw.FreePreview(e.ctx, &v1model.FreePreviewRequest{Device: d, DomainName: testDomain}); err != nil {
		t.Fatalf("FreePreview: %v", err)
	}
	pending := v1model.AuthnToken{Requestor: testRequestor, MVPD: "TempPass_REF30", Expires: start.Add(tempPassMemory)}
	check, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	if err != nil || *check != pending {
		t.Fatalf("checkauthn after the free preview = %+v, %v; want %+v", check, err, pending)
	}
	e.advance(time.Minute)
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatalf("authorize on the free preview: %v", err)
	}
	trialEnd := e.clock.Now().Add(10 * time.Minute)
	tok, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	if err != nil || !strings.HasPrefix(tok.UserID, "temppass_") || !tok.Expires.Equal(trialEnd) {
		t.Fatalf("tokens/authn during the trial = %+v, %v; want the trial's profile until %v", tok, err, trialEnd)
	}
}

// TestFreePreviewForgotten: a free preview whose trial could not be started
// is honoured until
// the gateway forgets it, then reads as an expired authentication.
func TestFreePreviewForgotten(t *testing.T) {
	e := newEnv(t)
	d := testDevice("preview-forgotten")
	id, err := e.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultStatus, Status: 503, Path: "/api/v2/*/decisions/authorize/*", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.sandbox.RemoveFault(id)
	if err := e.gw.FreePreview(e.ctx, &v1model.FreePreviewRequest{Device: d, DomainName: testDomain}); err != nil {
		t.Fatalf("FreePreview: %v", err)
	}
	e.advance(tempPassMemory - time.Second)
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
		t.Fatalf("checkauthn just before the free preview is forgotten: %v", err)
	}
	e.advance(time.Second)
	_, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	v1err(t, err, 410, v1model.CodeAuthenticationSessionExpired)
}
