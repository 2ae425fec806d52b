package sandbox

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"
)

// handleLogout is GET /api/v2/{sp}/logout/{mvpd}?redirectUrl= (§6.9):
// it deletes the device's profile for the MVPD and the SSO profiles of the
// identities the request carries, and says what the app must do next.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, needDevice)
	if !ok {
		return
	}
	redirectURL := r.URL.Query().Get("redirectUrl")
	if !validRedirect(redirectURL) {
		s.writeError(w, CodeInvalidParameterRedirectURL)
		return
	}
	m := s.fixture.integration(c.sp, mux.Vars(r)["mvpd"])
	if m == nil {
		s.writeError(w, CodeInvalidIntegration)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	act := logoutAction{ActionName: "invalid", ActionType: "none", MVPD: m.ID}
	switch {
	case m.TempPass != nil:
		// The trial itself survives logout: ending it early would let a
		// device restart its free preview.
		identity, _ := tempPassIdentity(m, r.Header.Get("AP-TempPass-Identity"))
		if u := s.tempPassLocked(m, tempPassKeys(c.sp.ID, m.ID, c.device, identity), false); u != nil && now.Before(u.end) {
			act.ActionName, act.ActionType = "complete", "none"
		}
	case m.Degradation == "AuthNAll":
		act.ActionName, act.ActionType = "complete", "none"
	default:
		var valid *profile
		key := profileKey{c.clientID, c.sp.ID, c.device, m.ID}
		if p := s.profiles[key]; p != nil {
			if p.valid(now) {
				valid = p
			}
			delete(s.profiles, key)
		}
		for _, sub := range c.sso {
			k := ssoKey{c.sp.ID, sub.kind, sub.subject, m.ID}
			if p := s.ssoProfiles[k]; p != nil {
				if valid == nil && p.valid(now) {
					valid = p
				}
				delete(s.ssoProfiles, k)
			}
		}
		switch {
		case valid == nil:
		case valid.typ == "appleSSO":
			act.ActionName, act.ActionType = "partner_logout", "partner_interactive"
		case m.LogoutPage:
			q := url.Values{}
			q.Set("noflash", "true")
			q.Set("mso_id", m.ID)
			q.Set("requestor_id", c.sp.ID)
			q.Set("redirect_url", redirectURL)
			act.ActionName, act.ActionType = "logout", "interactive"
			act.URL = s.baseURLFor(r) + "/adobe-services/logout?" + q.Encode()
		default:
			act.ActionName, act.ActionType = "complete", "none"
		}
	}
	writeJSON(w, http.StatusOK, logoutResponse{Logouts: map[string]logoutAction{m.ID: act}})
}
