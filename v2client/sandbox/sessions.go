package sandbox

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"
)

func msString(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// sessionParams are the create/resume form fields; absent ones are empty.
func sessionParams(r *http.Request) (mvpd, domainName, redirectURL string) {
	return r.PostForm.Get("mvpd"), r.PostForm.Get("domainName"), r.PostForm.Get("redirectUrl")
}

// checkSessionParams applies §15 #10: an unparsable redirectUrl and an
// MVPD without integration are errors; absent values are not.
func (s *Server) checkSessionParams(w http.ResponseWriter, sp *ServiceProvider, mvpd, redirectURL string) (*MVPD, bool) {
	if redirectURL != "" && !validRedirect(redirectURL) {
		s.writeError(w, CodeInvalidParameterRedirectURL)
		return nil, false
	}
	if mvpd == "" {
		return nil, true
	}
	m := s.fixture.integration(sp, mvpd)
	if m == nil {
		s.writeError(w, CodeInvalidIntegration)
		return nil, false
	}
	return m, true
}

// shortcutLocked answers authorize when no login is needed: a TempPass or
// AuthNAll-degraded MVPD, or a valid profile for the device (or one of its SSO
// identities). It returns nil when a login is needed.
func (s *Server) shortcutLocked(c *call, m *MVPD, sessionID string) *sessionResponse {
	if m == nil {
		return nil
	}
	resp := &sessionResponse{
		ActionName:      "authorize",
		ActionType:      "direct",
		URL:             "/api/v2/" + c.sp.ID + "/decisions/authorize/" + m.ID,
		SessionID:       sessionID,
		MVPD:            m.ID,
		ServiceProvider: c.sp.ID,
	}
	switch {
	case m.TempPass != nil:
		resp.ReasonType = "temporary"
		return resp
	case m.Degradation == "AuthNAll":
		resp.ReasonType = "degraded"
		return resp
	}
	p := s.findProfileLocked(c, m.ID)
	if p == nil || !p.valid(s.nowLocked()) {
		return nil
	}
	resp.ReasonType = "authenticated"
	if p.typ == "platformSSO" || p.typ == "serviceTokenSSO" {
		resp.ReasonType = "authenticatedSSO"
	}
	return resp
}

// newSessionLocked stores a session for c.
func (s *Server) newSessionLocked(c *call, r *http.Request, mvpd, domainName, redirectURL string) *session {
	now := s.nowLocked()
	code := s.ids.Code()
	for s.sessions[code] != nil {
		code = s.ids.Code()
	}
	se := &session{
		code:        code,
		id:          s.ids.UUID(),
		sp:          c.sp.ID,
		clientID:    c.clientID,
		device:      c.device,
		deviceInfo:  c.deviceInfo,
		userAgent:   r.UserAgent(),
		remoteAddr:  deviceAddress(r),
		mvpd:        mvpd,
		domainName:  domainName,
		redirectURL: redirectURL,
		sso:         c.sso,
		notBefore:   now,
		notAfter:    now.Add(time.Duration(s.fixture.TTLs.Session)),
	}
	s.sessions[code] = se
	return se
}

// sessionAnswer is the authenticate or resume/retry answer for a stored
// session.
func sessionAnswer(se *session, incomplete string) *sessionResponse {
	resp := &sessionResponse{
		ActionName:      "authenticate",
		ActionType:      "interactive",
		ReasonType:      "none",
		URL:             "/api/v2/authenticate/" + se.sp + "/" + se.code,
		Code:            se.code,
		SessionID:       se.id,
		MVPD:            se.mvpd,
		ServiceProvider: se.sp,
		NotBefore:       msString(se.notBefore),
		NotAfter:        msString(se.notAfter),
	}
	if missing := se.missing(); len(missing) > 0 {
		resp.ActionName = incomplete
		resp.ActionType = "direct"
		resp.MissingParameters = missing
		resp.URL = "/api/v2/" + se.sp + "/sessions/" + se.code
	}
	return resp
}

// handleCreateSession is POST /api/v2/{sp}/sessions (§6.2).
func (s *Server) handleCreateSession(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, needDevice|needForm)
	if !ok {
		return
	}
	mvpd, domainName, redirectURL := sessionParams(r)
	m, ok := s.checkSessionParams(w, c.sp, mvpd, redirectURL)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if resp := s.shortcutLocked(c, m, s.ids.UUID()); resp != nil {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	se := s.newSessionLocked(c, r, mvpd, domainName, redirectURL)
	writeJSON(w, http.StatusOK, sessionAnswer(se, "resume"))
}

// validCode reports whether code looks like an authentication code; the
// samples show 6 and 7 characters of [A-Z0-9].
func validCode(code string) bool {
	if len(code) < 4 || len(code) > 12 {
		return false
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// liveSessionLocked finds the live session code of service provider sp.
func (s *Server) liveSessionLocked(sp, code string) *session {
	se := s.sessions[code]
	if se == nil || se.sp != sp || !s.nowLocked().Before(se.notAfter) {
		return nil
	}
	return se
}

// sessionFor checks the {code} of a request and finds its live session,
// answering the error itself.
func (s *Server) sessionForLocked(w http.ResponseWriter, c *call, code string) *session {
	if !validCode(code) {
		s.writeError(w, CodeInvalidParameterCode)
		return nil
	}
	se := s.liveSessionLocked(c.sp.ID, code)
	if se == nil {
		s.writeError(w, CodeInvalidAuthenticationSession)
	}
	return se
}

// handleResumeSession is POST /api/v2/{sp}/sessions/{code} (§6.3).
func (s *Server) handleResumeSession(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, needForm)
	if !ok {
		return
	}
	mvpd, domainName, redirectURL := sessionParams(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sessionForLocked(w, c, mux.Vars(r)["code"])
	if se == nil {
		return
	}
	if mvpd == "" {
		mvpd = se.mvpd
	}
	if redirectURL == "" {
		redirectURL = se.redirectURL
	}
	if domainName == "" {
		domainName = se.domainName
	}
	m, ok := s.checkSessionParams(w, c.sp, mvpd, redirectURL)
	if !ok {
		return
	}
	se.mvpd, se.domainName, se.redirectURL = mvpd, domainName, redirectURL
	// The profile that matters is the one of the device that created the
	// session, not of the second-screen app resuming it.
	owner := &call{sp: c.sp, clientID: se.clientID, device: se.device, sso: se.sso}
	if resp := s.shortcutLocked(owner, m, se.id); resp != nil {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	writeJSON(w, http.StatusOK, sessionAnswer(se, "retry"))
}

// handleRetrieveSession is GET /api/v2/{sp}/sessions/{code} (§6.4).
func (s *Server) handleRetrieveSession(w http.ResponseWriter, r *http.Request) {
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
	existing := map[string]string{"serviceProvider": se.sp}
	for k, v := range map[string]string{"mvpd": se.mvpd, "domainName": se.domainName, "redirectUrl": se.redirectURL} {
		if v != "" {
			existing[k] = v
		}
	}
	writeJSON(w, http.StatusOK, sessionInfoResponse{
		MissingParameters:  se.missing(),
		ExistingParameters: existing,
		Device:             describeDevice(se),
		NotBefore:          msString(se.notBefore),
		NotAfter:           msString(se.notAfter),
	})
}

// handleAuthenticate is GET /api/v2/authenticate/{sp}/{code} (§6.5):
// the first hop of the browser's 302 chain to the MVPD login page.
func (s *Server) handleAuthenticate(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	s.mu.Lock()
	se := s.liveSessionLocked(vars["sp"], vars["code"])
	s.mu.Unlock()
	if se == nil {
		writeHTML(w, http.StatusBadRequest, "<html><body><h1>400 Bad Request</h1><p>Unknown or expired authentication code.</p></body></html>")
		return
	}
	if len(se.missing()) > 0 {
		writeHTML(w, http.StatusBadRequest, "<html><body><h1>400 Bad Request</h1><p>The authentication session is incomplete.</p></body></html>")
		return
	}
	q := url.Values{}
	q.Set("noflash", "true")
	q.Set("mso_id", se.mvpd)
	q.Set("requestor_id", se.sp)
	q.Set("no_iframe", "false")
	q.Set("domain_name", se.domainName)
	q.Set("redirect_url", se.redirectURL)
	q.Set("reg_code", se.code)
	http.Redirect(w, r, s.baseURLFor(r)+"/adobe-services/authenticate/saml?"+q.Encode(), http.StatusFound)
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// describeDevice is the device object of retrieve-session, from the
// creator's X-Device-Info, User-Agent and address.
func describeDevice(se *session) deviceDescription {
	str := func(k string) *string {
		v, _ := se.deviceInfo[k].(string)
		return strPtr(v)
	}
	d := deviceDescription{
		Type:          str("primaryHardwareType"),
		Model:         str("model"),
		ApplicationID: str("applicationId"),
		Hardware: deviceHardware{
			Name:         str("model"),
			Vendor:       str("vendor"),
			Manufacturer: str("manufacturer"),
		},
		OperatingSystem: deviceOS{
			Name:   str("osName"),
			Family: str("osFamily"),
			Vendor: str("osVendor"),
		},
		Browser: deviceBrowser{
			Name:              str("browserName"),
			Vendor:            str("browserVendor"),
			UserAgent:         strPtr(se.userAgent),
			OriginalUserAgent: strPtr(se.userAgent),
		},
		Connection: deviceConnection{
			IPAddress: strPtr(se.remoteAddr),
			Type:      str("connectionType"),
		},
	}
	if ip := str("connectionIp"); ip != nil {
		d.Connection.IPAddress = ip
	}
	switch p := se.deviceInfo["connectionPort"].(type) {
	case string:
		d.Connection.Port = strPtr(p)
	case float64:
		d.Connection.Port = strPtr(strconv.FormatFloat(p, 'f', -1, 64))
	}
	if d.Type == nil {
		d.Type = strPtr("Unknown")
	}
	return d
}
