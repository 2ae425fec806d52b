package sandbox

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestPlatformAndServiceTokenSSO(t *testing.T) {
	tests := []struct {
		header, value, wantType string
	}{
		{"Adobe-Subject-Token", "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"amazon-user-1"}`)) + ".sig", "platformSSO"},
		{"X-Roku-Reserved-Roku-Connect-Token", "roku-subscriber-42", "platformSSO"},
		{"AD-Service-Token", "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"dtc-user","aud":"adobe"}`)) + ".sig", "serviceTokenSSO"},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			s := start(t)
			tok := registerClient(t, s, "sandbox-statement")
			a := newDevice(t, s, tok, "app-a")
			a.extra.Set(tc.header, tc.value)
			a.login("AcmeCable", "alice")

			b := newDevice(t, s, tok, "app-b")
			if got := b.get("/profiles").json(t)["profiles"].(map[string]any); len(got) != 0 {
				t.Fatalf("without the header: %v", got)
			}
			b.extra.Set(tc.header, tc.value)
			prof := b.get("/profiles").json(t)["profiles"].(map[string]any)["AcmeCable"].(map[string]any)
			if prof["type"] != tc.wantType || prof["issuer"] != "AcmeCable" {
				t.Errorf("SSO profile %v", prof)
			}
			if sess := b.createSession("AcmeCable"); sess["actionName"] != "authorize" || sess["reasonType"] != "authenticatedSSO" {
				t.Errorf("session on b: %v", sess)
			}
			if it := decisions(t, b.decide("authorize", "AcmeCable", "news"))[0]; it["authorized"] != true {
				t.Errorf("authorize on b: %v", it)
			}
			// Single logout from a removes both the regular and the SSO profile.
			out := a.get("/logout/AcmeCable?redirectUrl=" + url.QueryEscape(appRedirect))
			if act := out.json(t)["logouts"].(map[string]any)["AcmeCable"].(map[string]any); act["actionName"] != "logout" {
				t.Errorf("logout %v", act)
			}
			if got := b.get("/profiles").json(t)["profiles"].(map[string]any); len(got) != 0 {
				t.Errorf("SSO profile survived logout: %v", got)
			}
		})
	}
}

func pfs(status, id string, expires time.Time) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"frameworkPermissionInfo":{"accessStatus":"` + status +
		`"},"frameworkProviderInfo":{"id":"` + id + `","expirationDate":"` + strconv.FormatInt(expires.UnixMilli(), 10) + `"}}`))
}

func TestAppleSSO(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "apple-tv")
	form := url.Values{"domainName": {"example.com"}, "redirectUrl": {appRedirect}}

	// Without a usable header the flow falls back to the basic login; with
	// no provider named, the MVPD is missing.
	fb := d.postForm("/sessions/sso/Apple", form).json(t)
	if fb["actionName"] != "resume" || fb["reasonType"] != "missing_parameters_fallback" || fb["missingParameters"].([]any)[0] != "mvpd" {
		t.Errorf("no header: %v", fb)
	}
	d.extra.Set("AP-Partner-Framework-Status", pfs("denied", "AcmeCable", epoch.Add(time.Hour)))
	fb = d.postForm("/sessions/sso/Apple", form).json(t)
	if fb["actionName"] != "authenticate" || fb["reasonType"] != "pfs_fallback" || fb["mvpd"] != "AcmeCable" || fb["code"] == nil {
		t.Errorf("denied: %v", fb)
	}
	fb = d.postForm("/sessions/sso/Apple", url.Values{"domainName": {"example.com"}}).json(t)
	if fb["actionName"] != "resume" || fb["reasonType"] != "missing_parameters_fallback" {
		t.Errorf("denied, redirectUrl missing: %v", fb)
	}

	d.extra.Set("AP-Partner-Framework-Status", pfs("granted", "AcmeCable", epoch.Add(time.Hour)))
	pp := d.postForm("/sessions/sso/Apple", form).json(t)
	if pp["actionName"] != "partner_profile" || pp["url"] != "/api/v2/REF30/profiles/sso/Apple" || pp["mvpd"] != "AcmeCable" {
		t.Fatalf("granted: %v", pp)
	}
	request := pp["authenticationRequest"].(map[string]any)["request"].(string)
	if _, err := s.PartnerSAMLResponse(request, "carol"); err == nil {
		t.Error("a BetaFiber subscriber got an AcmeCable SAML response")
	}
	saml, err := s.PartnerSAMLResponse(request, "alice")
	if err != nil {
		t.Fatal(err)
	}

	errCases := []struct {
		name, header, saml, code string
	}{
		{"no header", "", saml, CodePFSAccessNotPresent},
		{"not determined", pfs("notDetermined", "AcmeCable", epoch.Add(time.Hour)), saml, CodePFSAccessNotDetermined},
		{"denied", pfs("denied", "AcmeCable", epoch.Add(time.Hour)), saml, CodePFSAccessNotGranted},
		{"unknown provider", pfs("granted", "Nope", epoch.Add(time.Hour)), saml, CodePFSProviderNotDetermined},
		{"expired provider info", pfs("granted", "AcmeCable", epoch), saml, CodePFSProviderExpired},
		{"no SAML", pfs("granted", "AcmeCable", epoch.Add(time.Hour)), "", CodeInvalidParameterSAMLResponse},
		{"forged SAML", pfs("granted", "AcmeCable", epoch.Add(time.Hour)), base64.StdEncoding.EncodeToString([]byte(`<Response InResponseTo="x"><SandboxSignature>00</SandboxSignature></Response>`)), CodeInvalidParameterSAMLResponse},
	}
	for _, tc := range errCases {
		e := newDevice(t, s, d.token, "apple-tv")
		if tc.header != "" {
			e.extra.Set("AP-Partner-Framework-Status", tc.header)
		}
		wantStatusCode(t, e.postForm("/profiles/sso/Apple", url.Values{"SAMLResponse": {tc.saml}}), http.StatusBadRequest, tc.code)
	}
	// Another device cannot use this device's response.
	thief := newDevice(t, s, d.token, "thief")
	thief.extra.Set("AP-Partner-Framework-Status", pfs("granted", "AcmeCable", epoch.Add(time.Hour)))
	wantStatusCode(t, thief.postForm("/profiles/sso/Apple", url.Values{"SAMLResponse": {saml}}), http.StatusBadRequest, CodeInvalidParameterSAMLResponse)
	wantStatusCode(t, d.postForm("/profiles/sso/Google", url.Values{"SAMLResponse": {saml}}), http.StatusBadRequest, CodeInvalidParameterPartner)

	r := d.postForm("/profiles/sso/Apple", url.Values{"SAMLResponse": {saml}})
	if r.status != http.StatusCreated {
		t.Fatalf("profiles/sso: %d %s", r.status, r.body)
	}
	prof := r.json(t)["profiles"].(map[string]any)["AcmeCable"].(map[string]any)
	wantTypes(t, "appleSSO profile", prof, map[string]string{"notBefore": "number", "notAfter": "number"})
	if prof["issuer"] != "Apple" || prof["type"] != "appleSSO" {
		t.Errorf("profile %v", prof)
	}
	// The response is good once.
	wantStatusCode(t, d.postForm("/profiles/sso/Apple", url.Values{"SAMLResponse": {saml}}), http.StatusBadRequest, CodeInvalidParameterSAMLResponse)

	if it := decisions(t, d.decide("authorize", "AcmeCable", "news"))[0]; it["authorized"] != true {
		t.Errorf("authorize with appleSSO: %v", it)
	}
	if again := d.postForm("/sessions/sso/Apple", form).json(t); again["actionName"] != "authorize" {
		t.Errorf("partner session when signed in: %v", again)
	}
	out := d.get("/logout/AcmeCable?redirectUrl=" + url.QueryEscape(appRedirect)).json(t)
	if act := out["logouts"].(map[string]any)["AcmeCable"].(map[string]any); act["actionName"] != "partner_logout" || act["actionType"] != "partner_interactive" || act["url"] != nil {
		t.Errorf("logout %v", act)
	}
}
