package sandbox

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/passgw/passgw/v2client"
)

type client struct {
	id     string
	secret string
	sp     string
}

type accessToken struct {
	clientID string
	sp       string
	expires  time.Time
}

// handleRegister is POST /o/client/register (§5.1).
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if !isJSON(r.Header.Get("Content-Type")) {
		writeDCRError(w, "invalid_request", "Content-Type must be application/json")
		return
	}
	if r.Header.Get("X-Device-Info") == "" {
		writeDCRError(w, "invalid_request", "the X-Device-Info header is required")
		return
	}
	var req v2client.RegisterRequest
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		writeDCRError(w, "invalid_request", "the body is not a JSON object")
		return
	}
	if req.SoftwareStatement == "" {
		writeDCRError(w, "invalid_request", "software_statement is required")
		return
	}
	if req.RedirectURI != "" && !validRedirect(req.RedirectURI) {
		writeDCRError(w, "invalid_redirect_uri", "")
		return
	}
	st := s.fixture.statement(req.SoftwareStatement)
	switch {
	case st == nil:
		writeDCRError(w, "invalid_software_statement", "")
		return
	case st.Unapproved:
		writeDCRError(w, "unapproved_software_statement", "")
		return
	}
	c := &client{
		id:     base64.RawURLEncoding.EncodeToString(s.ids.Token(12)),
		secret: base64.RawURLEncoding.EncodeToString(s.ids.Token(24)),
		sp:     st.ServiceProvider,
	}
	s.mu.Lock()
	s.clients[c.id] = c
	now := s.nowLocked()
	s.mu.Unlock()
	resp := v2client.ClientCredentials{
		ClientID:         c.id,
		ClientSecret:     c.secret,
		RedirectURIs:     []string{},
		GrantTypes:       []string{"client_credentials"},
		Scopes:           []string{"api:client:v2"},
		ClientIDIssuedAt: now.Unix(),
	}
	if req.RedirectURI != "" {
		resp.RedirectURIs = []string{req.RedirectURI}
	}
	writeJSON(w, http.StatusCreated, resp)
}

// Registrations counts the clients registered with DCR since the start, by
// service provider. A gateway keeps one registration per service provider
// for ever; a second one signs out every device of the first.
func (s *Server) Registrations() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.clients {
		out[c.sp]++
	}
	return out
}

// handleToken is POST /o/client/token (§5.2): a form body, with the
// query tolerated (§15 #4).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeDCRError(w, "invalid_request", "the form cannot be parsed")
		return
	}
	vals := url.Values{}
	for k, v := range r.URL.Query() {
		vals[k] = v
	}
	for k, v := range r.PostForm {
		vals[k] = v
	}
	get := func(name string) (string, bool) {
		v := vals[name]
		if len(v) != 1 || v[0] == "" {
			return "", false
		}
		return v[0], true
	}
	id, okID := get("client_id")
	secret, okSecret := get("client_secret")
	grant, okGrant := get("grant_type")
	if !okID || !okSecret || !okGrant {
		writeDCRError(w, "invalid_request", "client_id, client_secret and grant_type are each required once")
		return
	}
	if _, _, basic := r.BasicAuth(); basic {
		writeDCRError(w, "invalid_request", "more than one client authentication method")
		return
	}
	if grant != "client_credentials" {
		writeDCRError(w, "unsupported_grant_type", "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[id]
	if c == nil || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		writeDCRError(w, "invalid_client", "")
		return
	}
	now := s.nowLocked()
	ttl := time.Duration(s.fixture.TTLs.AccessToken)
	tok := base64.RawURLEncoding.EncodeToString(s.ids.Token(24))
	s.tokens[tok] = &accessToken{clientID: c.id, sp: c.sp, expires: now.Add(ttl)}
	writeJSON(w, http.StatusCreated, v2client.AccessToken{
		ID:          s.ids.UUID(),
		AccessToken: tok,
		CreatedAt:   now.UnixMilli(),
		ExpiresIn:   int64(ttl / time.Second),
		TokenType:   "bearer",
	})
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// bearer extracts the token of an Authorization: Bearer header.
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
