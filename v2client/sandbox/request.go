package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// need lists what an endpoint requires beyond a valid bearer token for its
// service provider: the R cells of §4.1.
type need uint8

const (
	needDevice need = 1 << iota // AP-Device-Identifier and X-Device-Info
	needForm                    // Content-Type: application/x-www-form-urlencoded
	needJSON                    // Content-Type: application/json
)

// call is an authenticated v2 API request.
type call struct {
	sp       *ServiceProvider
	clientID string
	// device is the AP-Device-Identifier fingerprint value; empty when the
	// header is absent or malformed on an endpoint that does not need it.
	device     string
	deviceInfo map[string]any
	sso        []ssoSubject
}

// begin checks what every v2 endpoint checks, in this order: bearer token
// (401), service provider (400), token bound to that provider (401),
// Content-Type, then the device headers. It answers the error itself.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, n need) (*call, bool) {
	tok := bearer(r)
	s.mu.Lock()
	at := s.tokens[tok]
	now := s.nowLocked()
	s.mu.Unlock()
	if tok == "" || at == nil || !now.Before(at.expires) {
		s.writeError(w, CodeInvalidTokenClientApplication)
		return nil, false
	}
	sp := s.fixture.serviceProvider(mux.Vars(r)["sp"])
	if sp == nil {
		s.writeError(w, CodeInvalidParameterServiceProvider)
		return nil, false
	}
	if at.sp != sp.ID {
		s.writeError(w, CodeInvalidTokenServiceProvider)
		return nil, false
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case n&needForm != 0 && !isForm(ct):
		writeProtocolError(w, http.StatusBadRequest, "Content-Type must be application/x-www-form-urlencoded.")
		return nil, false
	case n&needJSON != 0 && !isJSON(ct):
		writeProtocolError(w, http.StatusBadRequest, "Content-Type must be application/json.")
		return nil, false
	}
	c := &call{sp: sp, clientID: at.clientID, sso: ssoSubjects(r)}
	device, devOK := parseDeviceIdentifier(r.Header.Get("AP-Device-Identifier"))
	info, infoOK := parseDeviceInfo(r.Header.Get("X-Device-Info"), s.strict)
	if n&needDevice != 0 {
		if !devOK {
			s.writeError(w, CodeInvalidHeaderDeviceIdentifier)
			return nil, false
		}
		if !infoOK {
			s.writeError(w, CodeInvalidHeaderDeviceInfo)
			return nil, false
		}
	}
	if devOK {
		c.device = device
	}
	if infoOK {
		c.deviceInfo = info
	}
	if n&needForm != 0 {
		// The body was checked to be a form; a parse error means a broken
		// encoding, which the handlers see as missing parameters.
		_ = r.ParseForm()
	}
	return c, true
}

// parseDeviceIdentifier reads "fingerprint <base64>", the only type v2
// defines.
func parseDeviceIdentifier(h string) (string, bool) {
	typ, val, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || typ != "fingerprint" {
		return "", false
	}
	val = strings.TrimSpace(val)
	if _, ok := decodeBase64(val); !ok || val == "" {
		return "", false
	}
	return val, true
}

// parseDeviceInfo decodes X-Device-Info. Only Base64 is checked unless
// strict, when the JSON must carry the five required keys (§15 #15).
func parseDeviceInfo(h string, strict bool) (map[string]any, bool) {
	if h == "" {
		return nil, false
	}
	raw, ok := decodeBase64(h)
	if !ok {
		return nil, false
	}
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, !strict
	}
	if strict {
		for _, k := range []string{"model", "version", "osName", "osVersion", "connectionType"} {
			if v, ok := info[k].(string); !ok || v == "" {
				return nil, false
			}
		}
	}
	return info, true
}

// decodeBase64 accepts standard or URL-safe Base64, padded or not.
func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// ssoSubject is a single sign-on identity carried by a request header.
type ssoSubject struct {
	kind    string // platformSSO or serviceTokenSSO
	subject string
}

// ssoSubjects reads the platform-identity and service-token headers. A JWT's
// sub claim is the subject when it has one (so a re-issued token for the same
// user matches); otherwise the whole header value is.
func ssoSubjects(r *http.Request) []ssoSubject {
	var out []ssoSubject
	add := func(kind, header string) {
		if v := strings.TrimSpace(r.Header.Get(header)); v != "" {
			out = append(out, ssoSubject{kind: kind, subject: header + ":" + jwtSubject(v)})
		}
	}
	add("platformSSO", "Adobe-Subject-Token")
	add("platformSSO", "X-Roku-Reserved-Roku-Connect-Token")
	add("serviceTokenSSO", "AD-Service-Token")
	return out
}

func jwtSubject(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) < 3 {
		return v
	}
	payload, ok := decodeBase64(parts[1])
	if !ok {
		return v
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Sub == "" {
		return v
	}
	return "sub=" + claims.Sub
}
