package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
)

// Partner (Apple) single sign-on, §6.7 and §9.
//
// The sandbox plays Apple's part too. sessions/sso/Apple answers an
// authenticationRequest whose request is Base64 of a SAML AuthnRequest with a
// fresh ID. Server.PartnerSAMLResponse (or POST /_sandbox/partner/saml-response)
// turns that request and a subscriber's username into the SAMLResponse the
// app hands to profiles/sso/Apple: Base64 of
//
//	<samlp:Response ID=".." InResponseTo="<request ID>" IssueInstant="..">
//	  <saml:Issuer>Apple</saml:Issuer>
//	  <saml:Assertion>
//	    <saml:Subject><saml:NameID>username</saml:NameID></saml:Subject>
//	    <saml:AttributeStatement>
//	      <saml:Attribute Name="mvpd"><saml:AttributeValue>AcmeCable</saml:AttributeValue></saml:Attribute>
//	    </saml:AttributeStatement>
//	  </saml:Assertion>
//	  <SandboxSignature>hex HMAC-SHA256 of "requestID|mvpd|username"</SandboxSignature>
//	</samlp:Response>
//
// profiles/sso accepts it once, for the device and service provider that
// obtained the request, within the session lifetime.

const partnerApple = "Apple"

type samlRequest struct {
	id       string
	sp       string
	mvpd     string
	clientID string
	device   string
	expires  time.Time
}

// pfsMVPD evaluates AP-Partner-Framework-Status: it returns the MVPD the
// header names (when it names one) and the code refusing it ("" when valid).
func (s *Server) pfsMVPD(sp *ServiceProvider, header string, now time.Time) (*MVPD, string) {
	raw, ok := decodeBase64(header)
	var st partnerFrameworkStatus
	if header == "" || !ok || json.Unmarshal(raw, &st) != nil {
		return nil, CodePFSAccessNotPresent
	}
	var m *MVPD
	if id := st.FrameworkProviderInfo.ID; id != "" {
		for _, mid := range sp.MVPDs {
			if cand := s.fixture.mvpd(mid); cand.PlatformMappingID == id {
				m = cand
				break
			}
		}
	}
	switch st.FrameworkPermissionInfo.AccessStatus {
	case "":
		return m, CodePFSAccessNotPresent
	case "notDetermined":
		return m, CodePFSAccessNotDetermined
	case "granted":
	default:
		return m, CodePFSAccessNotGranted
	}
	if m == nil {
		return nil, CodePFSProviderNotDetermined
	}
	if exp := st.FrameworkProviderInfo.ExpirationDate; exp != "" {
		ms, err := strconv.ParseInt(exp, 10, 64)
		if err != nil || !now.Before(time.UnixMilli(ms)) {
			return m, CodePFSProviderExpired
		}
	}
	return m, ""
}

// handlePartnerSession is POST /api/v2/{sp}/sessions/sso/{partner}.
func (s *Server) handlePartnerSession(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, needDevice|needForm)
	if !ok {
		return
	}
	if mux.Vars(r)["partner"] != partnerApple {
		s.writeError(w, CodeInvalidParameterPartner)
		return
	}
	domainName, redirectURL := r.PostForm.Get("domainName"), r.PostForm.Get("redirectUrl")
	if redirectURL != "" && !validRedirect(redirectURL) {
		s.writeError(w, CodeInvalidParameterRedirectURL)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	m, refused := s.pfsMVPD(c.sp, r.Header.Get("AP-Partner-Framework-Status"), now)
	if refused == "" {
		if resp := s.shortcutLocked(c, m, s.ids.UUID()); resp != nil {
			writeJSON(w, http.StatusOK, resp)
			return
		}
		req := &samlRequest{id: "_" + s.ids.UUID(), sp: c.sp.ID, mvpd: m.ID, clientID: c.clientID, device: c.device,
			expires: now.Add(time.Duration(s.fixture.TTLs.Session))}
		s.samlReqs[req.id] = req
		authn := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s" ProviderName="%s"><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`,
			req.id, now.UTC().Format(time.RFC3339), html.EscapeString(m.ID), html.EscapeString(s.baseURLFor(r)))
		writeJSON(w, http.StatusOK, sessionResponse{
			ActionName:      "partner_profile",
			ActionType:      "direct",
			ReasonType:      "none",
			URL:             "/api/v2/" + c.sp.ID + "/profiles/sso/" + partnerApple,
			SessionID:       s.ids.UUID(),
			MVPD:            m.ID,
			ServiceProvider: c.sp.ID,
			AuthenticationRequest: &authenticationRequest{
				Type:            "saml",
				Request:         base64.StdEncoding.EncodeToString([]byte(authn)),
				AttributesNames: []string{"uid", "NameID", "uniqueId"},
			},
		})
		return
	}
	// Fall back to the basic login, with the MVPD the header named if any.
	mvpd := ""
	if m != nil {
		mvpd = m.ID
	}
	se := s.newSessionLocked(c, r, mvpd, domainName, redirectURL)
	resp := sessionAnswer(se, "resume")
	if resp.ActionName == "resume" {
		resp.ReasonType = "missing_parameters_fallback"
	} else {
		resp.ReasonType = "pfs_fallback"
	}
	writeJSON(w, http.StatusOK, resp)
}

type samlResponseDoc struct {
	XMLName      xml.Name `xml:"Response"`
	InResponseTo string   `xml:"InResponseTo,attr"`
	Issuer       string   `xml:"Issuer"`
	NameID       string   `xml:"Assertion>Subject>NameID"`
	Attributes   []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:"AttributeValue"`
	} `xml:"Assertion>AttributeStatement>Attribute"`
	Signature string `xml:"SandboxSignature"`
}

func (d *samlResponseDoc) attribute(name string) string {
	for _, a := range d.Attributes {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func (s *Server) samlSignature(requestID, mvpd, username string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(requestID + "|" + mvpd + "|" + username))
	return hex.EncodeToString(mac.Sum(nil))
}

// Errors from PartnerSAMLResponse.
var (
	ErrUnknownPartnerRequest = errors.New("not a pending partner authentication request of this sandbox")
	ErrNotSubscriber         = errors.New("user is not a subscriber of the requested MVPD")
)

// PartnerSAMLResponse plays Apple's video subscriber account framework: given
// the authenticationRequest.request of a partner_profile answer and a
// subscriber's username, it returns the SAMLResponse to post to
// profiles/sso/Apple.
func (s *Server) PartnerSAMLResponse(request, username string) (string, error) {
	raw, ok := decodeBase64(request)
	var doc struct {
		ID string `xml:"ID,attr"`
	}
	if !ok || xml.Unmarshal(raw, &doc) != nil || doc.ID == "" {
		return "", fmt.Errorf("%w: unreadable request", ErrUnknownPartnerRequest)
	}
	s.mu.Lock()
	req := s.samlReqs[doc.ID]
	now := s.nowLocked()
	s.mu.Unlock()
	if req == nil || !now.Before(req.expires) {
		return "", ErrUnknownPartnerRequest
	}
	u := s.fixture.user(username)
	if u == nil || u.MVPD != req.mvpd {
		return "", fmt.Errorf("%w: %q, %s", ErrNotSubscriber, username, req.mvpd)
	}
	resp := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_%s" InResponseTo="%s" IssueInstant="%s"><saml:Issuer>Apple</saml:Issuer><saml:Assertion><saml:Subject><saml:NameID>%s</saml:NameID></saml:Subject><saml:AttributeStatement><saml:Attribute Name="mvpd"><saml:AttributeValue>%s</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion><SandboxSignature>%s</SandboxSignature></samlp:Response>`,
		s.ids.UUID(), req.id, now.UTC().Format(time.RFC3339), html.EscapeString(u.Username), html.EscapeString(req.mvpd), s.samlSignature(req.id, req.mvpd, u.Username))
	return base64.StdEncoding.EncodeToString([]byte(resp)), nil
}

// handlePartnerProfile is POST /api/v2/{sp}/profiles/sso/{partner}.
func (s *Server) handlePartnerProfile(w http.ResponseWriter, r *http.Request) {
	c, ok := s.begin(w, r, needDevice|needForm)
	if !ok {
		return
	}
	if mux.Vars(r)["partner"] != partnerApple {
		s.writeError(w, CodeInvalidParameterPartner)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	m, refused := s.pfsMVPD(c.sp, r.Header.Get("AP-Partner-Framework-Status"), now)
	if refused != "" {
		s.writeError(w, refused)
		return
	}
	raw, ok := decodeBase64(r.PostForm.Get("SAMLResponse"))
	var doc samlResponseDoc
	if !ok || xml.Unmarshal(raw, &doc) != nil {
		s.writeError(w, CodeInvalidParameterSAMLResponse)
		return
	}
	mvpd := doc.attribute("mvpd")
	req := s.samlReqs[doc.InResponseTo]
	sig, _ := hex.DecodeString(doc.Signature)
	want, _ := hex.DecodeString(s.samlSignature(doc.InResponseTo, mvpd, doc.NameID))
	u := s.fixture.user(doc.NameID)
	if req == nil || !now.Before(req.expires) || req.sp != c.sp.ID || req.clientID != c.clientID || req.device != c.device ||
		req.mvpd != mvpd || !hmac.Equal(sig, want) || u == nil {
		s.writeError(w, CodeInvalidParameterSAMLResponse)
		return
	}
	if mvpd != m.ID {
		s.writeError(w, CodePFSProviderMismatch)
		return
	}
	delete(s.samlReqs, req.id)
	if m.Degradation == "AuthNAll" {
		writeJSON(w, http.StatusOK, profilesBody(map[string]*profile{m.ID: s.degradedProfileLocked(c, m)}))
		return
	}
	p := s.newUserProfile(u, m.ID, "Apple", "appleSSO", now)
	s.profiles[profileKey{c.clientID, c.sp.ID, c.device, m.ID}] = p
	writeJSON(w, http.StatusCreated, profilesBody(map[string]*profile{m.ID: p}))
}
