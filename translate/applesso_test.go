package translate

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/passgw/passgw/v1model"
)

// TestAppleSSO plays the v1 Apple flow: profile request, Apple's answer, token
// exchange, then an authorization with the resulting profile.
func TestAppleSSO(t *testing.T) {
	e := newEnv(t)
	d := testDevice("apple-tv")
	d.DeviceType = "tvOS"
	d.UserAgent = "AppleTV11,1/17.1"

	p, err := e.gw.ProfileRequest(e.ctx, &v1model.ProfileRequest{Device: d, MVPD: "AcmeCable"})
	if err != nil {
		t.Fatalf("ProfileRequest: %v", err)
	}
	if len(p.Body) == 0 {
		t.Fatal("empty profile request payload")
	}
	calls := e.upstream("/sessions/sso/Apple")
	if len(calls) != 1 {
		t.Fatalf("%d partner session calls, want 1", len(calls))
	}
	raw, err := base64.StdEncoding.DecodeString(calls[0].Header.Get("AP-Partner-Framework-Status"))
	if err != nil {
		t.Fatal(err)
	}
	var pfs struct {
		Permission struct{ AccessStatus string } `json:"frameworkPermissionInfo"`
		Provider   struct{ ID string }           `json:"frameworkProviderInfo"`
	}
	if err := json.Unmarshal(raw, &pfs); err != nil || pfs.Permission.AccessStatus != "granted" || pfs.Provider.ID != "AcmeCable" {
		t.Fatalf("partner framework status %s: %v", raw, err)
	}

	saml, err := e.sandbox.PartnerSAMLResponse(string(p.Body), "alice")
	if err != nil {
		t.Fatalf("PartnerSAMLResponse: %v", err)
	}
	if err := e.gw.TokenExchange(e.ctx, &v1model.TokenExchangeRequest{Device: d, MVPD: "AcmeCable", SAMLResponse: saml}); err != nil {
		t.Fatalf("TokenExchange: %v", err)
	}
	az, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"})
	if err != nil || az.MVPD != "AcmeCable" {
		t.Fatalf("authorize after Apple SSO = %+v, %v", az, err)
	}

	_, err = e.gw.ProfileRequest(e.ctx, &v1model.ProfileRequest{Device: d, MVPD: "BetaFiber"})
	v1err(t, err, 400, v1model.CodeUnknownIntegration)
}
