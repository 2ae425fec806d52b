package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/passgw/passgw/v2client/sandbox"
)

// ssoRig is a rig without caller authentication, the way most platform SSO
// apps ran.
func ssoRig(t *testing.T) *rig {
	return newRig(t, func(c *Config) {
		for i := range c.Requestors {
			c.Requestors[i].CallerAuth = "none"
		}
	})
}

// TestAppleSSOThroughGateway plays the v1 Apple cookbook against the whole
// gateway: the config names the MVPD's platformMappingId, the device asks
// for a profile request, the sandbox plays Apple, the device exchanges
// Apple's SAML response and is then signed in without any MVPD page.
func TestAppleSSOThroughGateway(t *testing.T) {
	r := ssoRig(t)
	const device = "requestor=REF30&deviceId=atv-1&deviceType=tvOS&format=json"

	resp, body := r.do(http.MethodGet, "/api/v1/config/REF30?format=json", nil, "")
	r.want(resp, body, http.StatusOK)
	var cfg struct {
		Requestor struct {
			MVPDs []struct {
				ID                string `json:"id"`
				PlatformMappingID string `json:"platformMappingId"`
			} `json:"mvpds"`
		} `json:"requestor"`
	}
	if err := json.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatalf("config %s: %v", body, err)
	}
	mapped := ""
	for _, m := range cfg.Requestor.MVPDs {
		if m.PlatformMappingID == "AcmeCable" {
			mapped = m.ID
		}
	}
	if mapped != "AcmeCable" {
		t.Fatalf("config names no MVPD with Apple's provider id AcmeCable: %s", body)
	}

	resp, body = r.do(http.MethodGet, "/api/v1/checkauthn?"+device, nil, "")
	r.want(resp, body, http.StatusForbidden)

	n := r.upstreamCount()
	resp, request := r.do(http.MethodGet, "/api/v1/REF30/profile-requests/"+mapped+"?deviceId=atv-1&deviceType=tvOS", nil, "")
	r.want(resp, request, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("profile request Content-Type %q, want application/octet-stream", ct)
	}
	saml, err := r.sandbox.PartnerSAMLResponse(request, "alice")
	if err != nil {
		t.Fatalf("the sandbox, playing Apple, refused the profile request: %v", err)
	}
	form := url.Values{"requestor": {"REF30"}, "deviceId": {"atv-1"}, "deviceType": {"tvOS"}, "mvpd": {mapped}, "SAMLResponse": {saml}}
	resp, body = r.do(http.MethodPost, "/api/v1/tokens/authn", nil, form.Encode())
	r.want(resp, body, http.StatusNoContent)

	for _, path := range []string{"/api/v2/REF30/sessions/sso/Apple", "/api/v2/REF30/profiles/sso/Apple"} {
		q := findRequest(t, r.upstreamSince(n), http.MethodPost, path)
		raw, err := base64.StdEncoding.DecodeString(q.Header.Get("AP-Partner-Framework-Status"))
		var pfs struct {
			Permission struct{ AccessStatus string } `json:"frameworkPermissionInfo"`
			Provider   struct{ ID string }           `json:"frameworkProviderInfo"`
		}
		if err != nil || json.Unmarshal(raw, &pfs) != nil || pfs.Permission.AccessStatus != "granted" || pfs.Provider.ID != "AcmeCable" {
			t.Errorf("%s: partner framework status %q", path, raw)
		}
		if q.Header.Get("AP-Device-Identifier") == "" {
			t.Errorf("%s: no AP-Device-Identifier", path)
		}
	}
	apple := 0
	for _, p := range r.sandbox.Profiles() {
		if p.Type == "appleSSO" && p.Username == "alice" && p.MVPD == "AcmeCable" {
			apple++
		}
	}
	if apple != 1 {
		t.Fatalf("%d appleSSO profiles for alice in the sandbox, want 1: %+v", apple, r.sandbox.Profiles())
	}

	resp, body = r.do(http.MethodGet, "/api/v1/checkauthn?"+device, nil, "")
	r.want(resp, body, http.StatusOK)
	resp, body = r.do(http.MethodGet, "/api/v1/authorize?"+device+"&resource=news", nil, "")
	r.want(resp, body, http.StatusOK)
	if !strings.Contains(body, `"mvpd":"AcmeCable"`) {
		t.Errorf("authorize after Apple SSO: %s", body)
	}

	// Apple's answer is good once: the same exchange again is refused.
	resp, body = r.do(http.MethodPost, "/api/v1/tokens/authn", nil, form.Encode())
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed SAMLResponse: status %d, body %s; want 400", resp.StatusCode, body)
	}
}

// subjectToken is a platform identity token as Amazon issues them: a JWT
// whose sub names the user.
func subjectToken(sub string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(`{"sub":"`+sub+`","iss":"amazon"}`)) + ".c2ln"
}

// TestPlatformSSOThroughGateway signs in device A carrying a platform
// identity, then shows device B, carrying the same identity, signed in
// without ever seeing an MVPD page, for Amazon (header, then the ast
// parameter) and Roku (header). The identity reaches v2 on every call.
func TestPlatformSSOThroughGateway(t *testing.T) {
	for _, c := range []struct {
		name   string
		header string
		// onB carries the identity on device B's calls: a header, or the
		// ast parameter when header is empty.
		onB func(tok string) (http.Header, string)
	}{
		{"Amazon ast parameter", "Adobe-Subject-Token", func(tok string) (http.Header, string) {
			return nil, "&ast=" + url.QueryEscape(tok)
		}},
		{"Amazon header", "Adobe-Subject-Token", func(tok string) (http.Header, string) {
			return http.Header{"Adobe-Subject-Token": {tok}}, ""
		}},
		{"Roku header", "X-Roku-Reserved-Roku-Connect-Token", func(tok string) (http.Header, string) {
			return http.Header{"X-Roku-Reserved-Roku-Connect-Token": {tok}}, ""
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ssoRig(t)
			tok := subjectToken("platform-user-1")

			r.signIn("dev-a", http.Header{c.header: {tok}}, "alice", "alice-pass")
			sessions := 0
			for _, q := range r.sandbox.Requests() {
				if q.Method == http.MethodPost && q.Path == "/api/v2/REF30/sessions" {
					sessions++
					if got := q.Header.Get(c.header); got != tok {
						t.Errorf("device A's session: %s %q, want the token", c.header, got)
					}
				}
			}
			if sessions == 0 {
				t.Fatal("device A's sign-in created no v2 session")
			}

			resp, body := r.do(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev-c&format=json", nil, "")
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("device C without the identity: status %d, body %s; want 403", resp.StatusCode, body)
			}

			header, param := c.onB(tok)
			n := r.upstreamCount()
			resp, body = r.do(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev-b&format=json"+param, header, "")
			r.want(resp, body, http.StatusOK)
			resp, body = r.do(http.MethodGet, "/api/v1/authorize?requestor=REF30&deviceId=dev-b&resource=news&format=json"+param, header, "")
			r.want(resp, body, http.StatusOK)
			if !strings.Contains(body, `"mvpd":"AcmeCable"`) {
				t.Errorf("device B authorize: %s", body)
			}
			v2 := v2Calls(r.upstreamSince(n))
			if len(v2) == 0 {
				t.Fatal("device B's calls made no v2 call")
			}
			for _, q := range v2 {
				if got := q.Header.Get(c.header); got != tok {
					t.Errorf("device B: %s %s carried %s %q, want the token", q.Method, q.Path, c.header, got)
				}
			}
			findRequest(t, v2, http.MethodPost, "/api/v2/REF30/decisions/authorize/AcmeCable")
		})
	}
}

// findRequest returns the first request with method and path.
func findRequest(t *testing.T, reqs []sandbox.Request, method, path string) sandbox.Request {
	t.Helper()
	for _, q := range reqs {
		if q.Method == method && q.Path == path {
			return q
		}
	}
	t.Fatalf("no %s %s among %v", method, path, paths(reqs))
	return sandbox.Request{}
}

// TestAppleSSOProfileRequestWithoutDeviceID: the profile request with only
// the inputs Adobe's page lists (no deviceId) is answered with a payload
// Apple (the sandbox) accepts, sent upstream with a device identifier of
// its own and the caller's address.
func TestAppleSSOProfileRequestWithoutDeviceID(t *testing.T) {
	r := ssoRig(t)
	n := r.upstreamCount()
	header := http.Header{"X-Forwarded-For": {"198.51.100.44"}}
	resp, request := r.do(http.MethodGet, "/api/v1/REF30/profile-requests/AcmeCable?deviceType=tvOS", header, "")
	r.want(resp, request, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("profile request Content-Type %q, want application/octet-stream", ct)
	}
	if _, err := r.sandbox.PartnerSAMLResponse(request, "alice"); err != nil {
		t.Fatalf("the sandbox, playing Apple, refused the profile request: %v", err)
	}
	q := findRequest(t, r.upstreamSince(n), http.MethodPost, "/api/v2/REF30/sessions/sso/Apple")
	if q.Header.Get("AP-Device-Identifier") == "" || q.Header.Get("X-Forwarded-For") != "198.51.100.44" {
		t.Errorf("partner session sent with AP-Device-Identifier %q, X-Forwarded-For %q", q.Header.Get("AP-Device-Identifier"), q.Header.Get("X-Forwarded-For"))
	}
}
