package sandbox

import (
	"maps"
	"slices"
	"time"
)

// session is an authentication session, keyed by its code.
type session struct {
	code        string
	id          string
	sp          string
	clientID    string
	device      string
	deviceInfo  map[string]any
	userAgent   string
	remoteAddr  string
	mvpd        string
	domainName  string
	redirectURL string
	sso         []ssoSubject
	notBefore   time.Time
	notAfter    time.Time
	// complete is set when the MVPD login succeeded.
	complete bool
}

func (se *session) missing() []string {
	var m []string
	if se.mvpd == "" {
		m = append(m, "mvpd")
	}
	if se.domainName == "" {
		m = append(m, "domainName")
	}
	if se.redirectURL == "" {
		m = append(m, "redirectUrl")
	}
	return m
}

// profileKey keys device-bound profiles (regular, appleSSO): §10.
type profileKey struct {
	clientID, sp, device, mvpd string
}

// ssoKey keys SSO profiles by the SSO identity that obtained them.
type ssoKey struct {
	sp, kind, subject, mvpd string
}

type profile struct {
	mvpd       string
	issuer     string
	typ        string
	username   string
	attributes map[string]Attribute
	notBefore  time.Time
	notAfter   time.Time
}

func (p *profile) valid(now time.Time) bool { return now.Before(p.notAfter) }

func (p *profile) body() profileBody {
	return profileBody{
		NotBefore:  p.notBefore.UnixMilli(),
		NotAfter:   p.notAfter.UnixMilli(),
		Issuer:     p.issuer,
		Type:       p.typ,
		Attributes: maps.Clone(p.attributes),
	}
}

// newUserProfile is the profile an MVPD login (or partner SSO) yields.
func (s *Server) newUserProfile(u *User, mvpd, issuer, typ string, now time.Time) *profile {
	attrs := map[string]Attribute{"userID": {Value: u.UserID, State: "plain"}}
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	if typ == "platformSSO" || typ == "serviceTokenSSO" {
		attrs["upstreamUserID"] = Attribute{Value: u.UserID, State: "plain"}
		attrs["mvpd"] = Attribute{Value: mvpd, State: "plain"}
	}
	return &profile{
		mvpd:       mvpd,
		issuer:     issuer,
		typ:        typ,
		username:   u.Username,
		attributes: attrs,
		notBefore:  now,
		notAfter:   now.Add(time.Duration(s.fixture.TTLs.Authentication)),
	}
}

// storeLoginLocked records a successful MVPD login: the regular profile for
// the session's device and an SSO profile for each SSO identity the session
// carried.
func (s *Server) storeLoginLocked(se *session, u *User, now time.Time) {
	s.profiles[profileKey{se.clientID, se.sp, se.device, se.mvpd}] = s.newUserProfile(u, se.mvpd, se.mvpd, "regular", now)
	for _, sub := range se.sso {
		s.ssoProfiles[ssoKey{se.sp, sub.kind, sub.subject, se.mvpd}] = s.newUserProfile(u, se.mvpd, se.mvpd, sub.kind, now)
	}
	se.complete = true
}

// findProfileLocked returns the profile for mvpd that c may use: the
// device's own (regular or appleSSO) first, then one of its SSO identities.
// It may return an expired profile; callers check.
func (s *Server) findProfileLocked(c *call, mvpd string) *profile {
	if p := s.profiles[profileKey{c.clientID, c.sp.ID, c.device, mvpd}]; p != nil && c.device != "" {
		return p
	}
	var expired *profile
	for _, sub := range c.sso {
		if p := s.ssoProfiles[ssoKey{c.sp.ID, sub.kind, sub.subject, mvpd}]; p != nil {
			if p.valid(s.nowLocked()) {
				return p
			}
			expired = p
		}
	}
	return expired
}

// validProfilesLocked is every valid regular, appleSSO and SSO profile of
// c, keyed by MVPD; the device's own profile wins over an SSO one.
func (s *Server) validProfilesLocked(c *call) map[string]*profile {
	now := s.nowLocked()
	out := map[string]*profile{}
	for _, sub := range c.sso {
		for k, p := range s.ssoProfiles {
			if k.sp == c.sp.ID && k.kind == sub.kind && k.subject == sub.subject && p.valid(now) {
				out[k.mvpd] = p
			}
		}
	}
	if c.device != "" {
		for k, p := range s.profiles {
			if k.clientID == c.clientID && k.sp == c.sp.ID && k.device == c.device && p.valid(now) {
				out[k.mvpd] = p
			}
		}
	}
	return out
}

// Profile is a stored profile, as Server.Profiles reports it.
type Profile struct {
	ServiceProvider string
	MVPD            string
	// ClientID and Device (the AP-Device-Identifier fingerprint value) are
	// set for device-bound profiles (regular, appleSSO).
	ClientID string
	Device   string
	// SSOSubject is set for platformSSO and serviceTokenSSO profiles: the
	// header name and the token's subject.
	SSOSubject string
	Type       string
	Issuer     string
	Username   string
	NotBefore  time.Time
	NotAfter   time.Time
}

// Profiles returns every stored profile, expired ones included, ordered by
// service provider, MVPD and type.
func (s *Server) Profiles() []Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Profile
	for k, p := range s.profiles {
		out = append(out, Profile{ServiceProvider: k.sp, MVPD: k.mvpd, ClientID: k.clientID, Device: k.device,
			Type: p.typ, Issuer: p.issuer, Username: p.username, NotBefore: p.notBefore, NotAfter: p.notAfter})
	}
	for k, p := range s.ssoProfiles {
		out = append(out, Profile{ServiceProvider: k.sp, MVPD: k.mvpd, SSOSubject: k.subject,
			Type: p.typ, Issuer: p.issuer, Username: p.username, NotBefore: p.notBefore, NotAfter: p.notAfter})
	}
	slices.SortFunc(out, func(a, b Profile) int {
		for _, c := range [][2]string{{a.ServiceProvider, b.ServiceProvider}, {a.MVPD, b.MVPD}, {a.Type, b.Type}, {a.Device, b.Device}, {a.SSOSubject, b.SSOSubject}} {
			if c[0] != c[1] {
				if c[0] < c[1] {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	return out
}
