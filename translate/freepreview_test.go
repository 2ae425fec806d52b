package translate

import (
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
)

// TestFreePreviewAuthenticates: a free preview authenticates the device at
// once, before v2 has a TempPass profile for it (the trial clock starts at
// the first authorization), without starting the trial; once started, the
// trial's own profile answers, and once used up the authentication expired.
func TestFreePreviewAuthenticates(t *testing.T) {
	e := newEnv(t)
	d := testDevice("preview-authn")
	start := e.clock.Now()
	if err := e.gw.FreePreview(e.ctx, &v1model.FreePreviewRequest{Device: d, DomainName: testDomain}); err != nil {
		t.Fatalf("FreePreview: %v", err)
	}

	pending := v1model.AuthnToken{Requestor: testRequestor, MVPD: "TempPass_REF30", Expires: start.Add(tempPassMemory)}
	check, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	if err != nil || *check != pending {
		t.Fatalf("checkauthn after the free preview = %+v, %v; want %+v", check, err, pending)
	}
	tok, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	if err != nil || *tok != pending {
		t.Fatalf("tokens/authn after the free preview = %+v, %v; want %+v", tok, err, pending)
	}
	// Authenticated, not yet authorized.
	_, err = e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: "news"})
	v1err(t, err, 404, v1model.CodeAuthorizationNotFound)
	if n := len(e.upstream("/decisions/")); n != 0 {
		t.Fatalf("asking for the authentication started the trial (%d decision calls)", n)
	}
	// Another device took no free preview.
	_, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: testDevice("no-preview")})
	v1err(t, err, 404, v1model.CodeAuthenticationSessionMissing)

	e.advance(time.Minute)
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatalf("authorize on the free preview: %v", err)
	}
	trialEnd := e.clock.Now().Add(10 * time.Minute) // the fixture's TempPass lasts 10 minutes
	tok, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	if err != nil || tok.MVPD != "TempPass_REF30" || !strings.HasPrefix(tok.UserID, "temppass_") || !tok.Expires.Equal(trialEnd) {
		t.Fatalf("tokens/authn during the trial = %+v, %v; want the trial's profile until %v", tok, err, trialEnd)
	}

	e.advance(10 * time.Minute)
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionExpired)
	_, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	v1err(t, err, 410, v1model.CodeAuthenticationSessionExpired)
}

// TestFreePreviewForgotten: a free preview never started is honoured until
// the gateway forgets it, then reads as an expired authentication.
func TestFreePreviewForgotten(t *testing.T) {
	e := newEnv(t)
	d := testDevice("preview-forgotten")
	if err := e.gw.FreePreview(e.ctx, &v1model.FreePreviewRequest{Device: d, DomainName: testDomain}); err != nil {
		t.Fatalf("FreePreview: %v", err)
	}
	e.advance(tempPassMemory - time.Second)
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
		t.Fatalf("checkauthn just before the free preview is forgotten: %v", err)
	}
	e.advance(time.Second)
	_, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	v1err(t, err, 410, v1model.CodeAuthenticationSessionExpired)
}
