package sandbox

import (
	"net/http"
	"net/url"
	"testing"
)

func TestLogout(t *testing.T) {
	tests := []struct {
		name     string
		mvpd     string
		setup    func(d *device)
		wantName string
		wantType string
		wantURL  bool
	}{
		{"mvpd with logout page", "AcmeCable", func(d *device) { d.login("AcmeCable", "alice") }, "logout", "interactive", true},
		{"mvpd without logout page", "BetaFiber", func(d *device) { d.login("BetaFiber", "carol") }, "complete", "none", false},
		{"TempPass", "TempPass_REF30", func(d *device) { decisions(d.t, d.decide("authorize", "TempPass_REF30", "news")) }, "complete", "none", false},
		{"no profile", "AcmeCable", func(*device) {}, "invalid", "none", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t)
			d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
			tc.setup(d)
			r := d.get("/logout/" + tc.mvpd + "?redirectUrl=" + url.QueryEscape(appRedirect))
			if r.status != http.StatusOK {
				t.Fatalf("logout: %d %s", r.status, r.body)
			}
			act := r.json(t)["logouts"].(map[string]any)[tc.mvpd].(map[string]any)
			if act["actionName"] != tc.wantName || act["actionType"] != tc.wantType || act["mvpd"] != tc.mvpd {
				t.Errorf("logout action %v, want %s/%s", act, tc.wantName, tc.wantType)
			}
			u, hasURL := act["url"].(string)
			if hasURL != tc.wantURL {
				t.Fatalf("url %q present=%v, want %v", u, hasURL, tc.wantURL)
			}
			if hasURL {
				hop := send(t, http.MethodGet, u, nil, nil)
				if hop.status != http.StatusFound || hop.header.Get("Location") != appRedirect {
					t.Errorf("mock MVPD logout: %d -> %q", hop.status, hop.header.Get("Location"))
				}
			}
			if got := d.get("/profiles").json(t)["profiles"].(map[string]any); len(got) != 0 {
				t.Errorf("profiles after logout: %v", got)
			}
			if tc.mvpd != "TempPass_REF30" {
				if it := decisions(t, d.decide("authorize", tc.mvpd, "news"))[0]; errorCode(it["error"]) != CodeProfileMissing {
					t.Errorf("authorize after logout: %v", it)
				}
			}
		})
	}
}

func TestLogoutErrors(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	wantStatusCode(t, d.get("/logout/AcmeCable"), http.StatusBadRequest, CodeInvalidParameterRedirectURL)
	wantStatusCode(t, d.get("/logout/Nope?redirectUrl="+url.QueryEscape(appRedirect)), http.StatusBadRequest, CodeInvalidIntegration)
}
