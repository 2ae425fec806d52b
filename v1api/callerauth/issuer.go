package callerauth

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/passgw/passgw/v2client"
)

// Defaults of IssuerConfig.
const (
	// DefaultTokenTTL is the access token lifetime of Adobe's DCR sample
	// (expires_in 21600).
	DefaultTokenTTL = 6 * time.Hour
	// DefaultMaxBodyBytes bounds a register or token request body.
	DefaultMaxBodyBytes = 64 << 10
	maxRedirectURILen   = 2048
)

// DCR error codes (the "error" of the 400 bodies).
const (
	ErrCodeInvalidRequest              = "invalid_request"
	ErrCodeInvalidSoftwareStatement    = "invalid_software_statement"
	ErrCodeUnapprovedSoftwareStatement = "unapproved_software_statement"
	ErrCodeInvalidRedirectURI          = "invalid_redirect_uri"
	ErrCodeInvalidClient               = "invalid_client"
	ErrCodeUnsupportedGrantType        = "unsupported_grant_type"
	grantClientCredentials             = "client_credentials"
	scopeClientV2                      = "api:client:v2"
	contentTypeJSON                    = "application/json;charset=UTF-8"
)

// IssuerConfig configures an Issuer. Keys is required; every other field
// has a safe zero value.
type IssuerConfig struct {
	// Keys signs client secrets and access tokens. Required.
	Keys *KeyRing
	// Statements are the software statements devices may register with.
	// None means every registration is refused.
	Statements []Statement
	// TokenTTL is the access token lifetime; zero means DefaultTokenTTL.
	TokenTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies client id and token id randomness; nil means
	// crypto/rand.
	Rand io.Reader
	// Logger receives issuance events (requestor and ids only, never a
	// secret, token or statement). Nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Issuer is the gateway acting as the DCR service for devices. It serves
// POST /o/client/register and POST /o/client/token (mount it at
// /o/client/; it routes on the last path segment, so a stripped prefix
// works too) and verifies the tokens it issued.
type Issuer struct {
	cfg        IssuerConfig
	log        *slog.Logger
	statements statements
}

// NewIssuer returns an Issuer for cfg.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	if cfg.Keys == nil {
		return nil, errors.New("callerauth: IssuerConfig.Keys is required")
	}
	st, err := indexStatements(cfg.Statements)
	if err != nil {
		return nil, err
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &Issuer{cfg: cfg, log: cfg.Logger, statements: st}, nil
}

// VerifyToken checks an access token this Issuer (or one sharing its keys)
// issued: MAC under a key still in the ring, not expired, and its client's
// statement still accepted. Errors wrap ErrMalformed, ErrUnknownKey,
// ErrBadMAC, ErrExpired or ErrRevoked.
func (is *Issuer) VerifyToken(token string) (Token, error) {
	t, err := is.cfg.Keys.verifyToken(token, is.cfg.Now())
	if err != nil {
		return Token{}, err
	}
	st, err := is.accepted(t.Client)
	if err != nil {
		return Token{}, err
	}
	t.Application = st.application
	return t, nil
}

// accepted returns the statement of c, or ErrRevoked when the operator no
// longer lists it for c's requestor.
func (is *Issuer) accepted(c Client) (*statement, error) {
	st, ok := is.statements.byID[c.StatementID]
	if !ok || st.requestor != c.Requestor {
		return nil, ErrRevoked
	}
	return st, nil
}

// ServeHTTP implements http.Handler.
func (is *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	var serve func(http.ResponseWriter, *http.Request)
	switch path[strings.LastIndexByte(path, '/')+1:] {
	case "register":
		serve = is.register
	case "token":
		serve = is.token
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	serve(w, r)
}

func (is *Issuer) register(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, is.cfg.MaxBodyBytes)
	if err != nil {
		writeError(w, ErrCodeInvalidRequest)
		return
	}
	var req v2client.RegisterRequest
	if isForm(r) {
		// Not what the DCR page documents, but old HTTP stacks send forms.
		form, err := url.ParseQuery(string(body))
		if err != nil {
			writeError(w, ErrCodeInvalidRequest)
			return
		}
		req.SoftwareStatement, req.RedirectURI = form.Get("software_statement"), form.Get("redirect_uri")
	} else if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, ErrCodeInvalidRequest)
		return
	}
	if req.SoftwareStatement == "" {
		writeError(w, ErrCodeInvalidRequest)
		return
	}
	st, ok := is.statements.byText[req.SoftwareStatement]
	if !ok {
		// A well-formed JWT is a statement, just not one listed here; any
		// other text is not a statement at all.
		code := ErrCodeInvalidSoftwareStatement
		if jwtClaims(req.SoftwareStatement) != nil {
			code = ErrCodeUnapprovedSoftwareStatement
		}
		is.log.LogAttrs(r.Context(), slog.LevelInfo, "dcr registration refused", slog.String("error", code))
		writeError(w, code)
		return
	}
	redirects := []string{}
	if req.RedirectURI != "" {
		if !validRedirectURI(req.RedirectURI) {
			writeError(w, ErrCodeInvalidRedirectURI)
			return
		}
		redirects = append(redirects, req.RedirectURI)
	}
	random := make([]byte, 16)
	if _, err := io.ReadFull(is.cfg.Rand, random); err != nil {
		is.fail(w, r, fmt.Errorf("client id randomness: %w", err))
		return
	}
	now := is.cfg.Now()
	kid := is.cfg.Keys.CurrentID()
	id := newClientID(kid, st.requestor, st.id, now, random)
	secret, _ := is.cfg.Keys.clientSecret(kid, id)
	is.log.LogAttrs(r.Context(), slog.LevelInfo, "dcr client registered",
		slog.String("requestor", st.requestor), slog.String("key_id", kid))
	writeJSON(w, http.StatusCreated, v2client.ClientCredentials{
		ClientID: id, ClientSecret: secret, RedirectURIs: redirects,
		GrantTypes: []string{grantClientCredentials}, Scopes: []string{scopeClientV2},
		ClientIDIssuedAt: now.Unix(),
	})
}

// validRedirectURI accepts an absolute URI of any scheme (apps use custom
// schemes such as adobepass://), fragment included as in the sample.
func validRedirectURI(s string) bool {
	if len(s) > maxRedirectURILen || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "" || u.Path != "")
}

func (is *Issuer) token(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, is.cfg.MaxBodyBytes)
	if err != nil {
		writeError(w, ErrCodeInvalidRequest)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, ErrCodeInvalidRequest)
		return
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if id == "" && secret == "" {
		// RFC 6749 allows the client credentials in HTTP Basic instead.
		id, secret, _ = r.BasicAuth()
	}
	grant := form.Get("grant_type")
	switch {
	case grant == "" || id == "" || secret == "":
		writeError(w, ErrCodeInvalidRequest)
		return
	case grant != grantClientCredentials:
		writeError(w, ErrCodeUnsupportedGrantType)
		return
	}
	c, err := is.cfg.Keys.verifyClient(id, secret)
	if err == nil {
		_, err = is.accepted(c)
	}
	if err != nil {
		is.log.LogAttrs(r.Context(), slog.LevelInfo, "dcr token refused", slog.String("reason", reason(err)))
		writeError(w, ErrCodeInvalidClient)
		return
	}
	tokenID, err := newUUID(is.cfg.Rand)
	if err != nil {
		is.fail(w, r, fmt.Errorf("token id randomness: %w", err))
		return
	}
	now := is.cfg.Now()
	expires := now.Add(is.cfg.TokenTTL)
	tok := is.cfg.Keys.newToken(c.ID, tokenID, expires)
	is.log.LogAttrs(r.Context(), slog.LevelInfo, "dcr access token issued",
		slog.String("requestor", c.Requestor), slog.String("token_id", tokenID),
		slog.String("key_id", is.cfg.Keys.CurrentID()))
	writeJSON(w, http.StatusCreated, v2client.AccessToken{
		ID: tokenID, AccessToken: tok, CreatedAt: now.UnixMilli(),
		ExpiresIn: int64(expires.Sub(now) / time.Second), TokenType: "bearer",
	})
}

func (is *Issuer) fail(w http.ResponseWriter, r *http.Request, err error) {
	is.log.LogAttrs(r.Context(), slog.LevelError, "dcr issuer failure", slog.String("error", err.Error()))
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// reason is a short log word for a refusal.
func reason(err error) string {
	switch {
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrUnknownKey):
		return "unknown_key"
	case errors.Is(err, ErrBadMAC):
		return "bad_mac"
	case errors.Is(err, ErrRevoked):
		return "revoked"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	}
	return "other"
}

func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

var errBodyTooLarge = errors.New("request body too large")

func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(b)) > max {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// writeError writes the DCR 400 body; credentials answers must not be
// cached (the historical page's headers).
func writeError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, struct {
		Error string `json:"error"`
	}{code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newUUID(random io.Reader) (string, error) {
	u, err := uuid.NewRandomFromReader(random)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
