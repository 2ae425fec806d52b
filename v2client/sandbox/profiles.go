package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/gorilla/mux"
)

func profilesBody(ps map[string]*profile) profilesResponse {
	out := profilesResponse{Profiles: map[string]profileBody{}}
	for mvpd, p := range ps {
		out.Profiles[mvpd] = p.body()
	}
	return out
}

// handleProfiles is GET /api/v2/{sp}/profiles: regular, appleSSO and SSO
// profiles only (§15 #19).
func (s *Server) handleProfiles(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, needDevice)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, profilesBody(s.validProfilesLocked(c)))
}

// handleProfileByMVPD is GET /api/v2/{sp}/profiles/{mvpd}.
func (s *Server) handleProfileByMVPD(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, needDevice)
	if !ok {
		return
	}
	m := s.fixture.integration(c.sp, mux.Vars(r)["mvpd"])
	if m == nil {
		s.writeError(w, CodeInvalidIntegration)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeProfileFor(w, r, c, m)
}

// writeProfileFor answers the profile c has for m, as profiles/{mvpd} and
// profiles/code do: TempPass trials and AuthNAll degradation included.
func (s *Server) writeProfileFor(w http.ResponseWriter, r *http.Request, c *call, m *MVPD) {
	found := map[string]*profile{}
	switch {
	case m.TempPass != nil:
		identity, ok := tempPassIdentity(m, r.Header.Get("AP-TempPass-Identity"))
		if !ok {
			s.writeError(w, CodeInvalidHeaderTempPassIdentity)
			return
		}
		u := s.tempPassLocked(m, tempPassKeys(c.sp.ID, m.ID, c.device, identity), false)
		if u != nil {
			if code := s.tempPassErrorLocked(m, u); code != "" {
				s.writeError(w, code)
				return
			}
			found[m.ID] = u.profile(m)
		}
	case m.Degradation == "AuthNAll":
		found[m.ID] = s.degradedProfileLocked(c, m)
	default:
		if p := s.findProfileLocked(c, m.ID); p != nil && p.valid(s.nowLocked()) {
			found[m.ID] = p
		}
	}
	writeJSON(w, http.StatusOK, profilesBody(found))
}

// degradedProfileLocked is the profile Adobe issues under AuthNAll: issuer
// Adobe, a userID starting with the documented degraded prefix.
func (s *Server) degradedProfileLocked(c *call, m *MVPD) *profile {
	now := s.nowLocked()
	sum := sha256.Sum256([]byte(c.sp.ID + "\x00" + m.ID + "\x00" + c.device))
	return &profile{
		mvpd:       m.ID,
		issuer:     "Adobe",
		typ:        "degraded",
		attributes: map[string]Attribute{"userID": {Value: "95cf93bcd183214a" + hex.EncodeToString(sum[:20]), State: "plain"}},
		notBefore:  now,
		notAfter:   now.Add(s.fixture.authnTTL()),
	}
}

// handleProfileByCode is GET /api/v2/{sp}/profiles/code/{code}, the polling
// endpoint: an empty map while the login is pending (§15 #18).
func (s *Server) handleProfileByCode(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, 0)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sessionForLocked(w, c, mux.Vars(r)["code"])
	if se == nil {
		return
	}
	owner := &call{sp: c.sp, clientID: se.clientID, device: se.device, sso: se.sso}
	m := s.fixture.integration(c.sp, se.mvpd)
	switch {
	case m == nil:
		writeJSON(w, http.StatusOK, profilesBody(nil))
	case m.TempPass != nil || m.Degradation == "AuthNAll":
		s.writeProfileFor(w, r, owner, m)
	case !se.complete:
		writeJSON(w, http.StatusOK, profilesBody(nil))
	default:
		p := s.profiles[profileKey{se.clientID, se.sp, se.device, se.mvpd}]
		found := map[string]*profile{}
		if p != nil && p.valid(s.nowLocked()) {
			found[se.mvpd] = p
		}
		writeJSON(w, http.StatusOK, profilesBody(found))
	}
}
