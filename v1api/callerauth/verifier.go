package callerauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/passgw/passgw/v1model"
)

// Mode is a requestor's caller-authentication policy.
type Mode string

// The policies. The zero Mode is ModeNone; an unknown Mode is treated as
// ModeRequired, so a typo fails closed.
const (
	// ModeNone checks nothing and refuses nothing; a valid bearer token
	// still identifies the application (for info.authorizationType).
	ModeNone Mode = "none"
	// ModeOptional checks a credential when one is present.
	ModeOptional Mode = "optional"
	// ModeRequired refuses calls without a valid credential: a bearer token,
	// or a signed header verified with a configured key.
	ModeRequired Mode = "required"
)

// ParseMode reads a caller_auth setting; "" is ModeNone.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", ModeNone:
		return ModeNone, nil
	case ModeOptional, ModeRequired:
		return m, nil
	}
	return "", fmt.Errorf("callerauth: caller_auth %q: want none, optional or required", s)
}

// DefaultSkew is the default request_time window of signed headers.
const DefaultSkew = 5 * time.Minute

// VerifierConfig configures a Verifier. Every field has a safe zero value.
type VerifierConfig struct {
	// Issuer verifies bearer tokens. Nil means no token is valid.
	Issuer *Issuer
	// Policy returns the Mode of a requestor. Nil means ModeNone for all.
	Policy func(requestor string) Mode
	// SigningKey returns the private key that signs requestor's headers
	// carrying publicKey. Nil, or false, means no key is configured:
	// such headers are read but unverified, which ModeRequired refuses.
	SigningKey func(requestor, publicKey string) ([]byte, bool)
	// Skew is how far a signed header's request_time may be from now;
	// zero means DefaultSkew.
	Skew time.Duration
	// Nonces remembers the nonces of verified signed headers. Nil means a
	// MemoryNonces private to the Verifier (one process only).
	Nonces NonceStore
	// Now is the clock of signed headers; nil means time.Now. Tokens
	// follow the Issuer's clock.
	Now func() time.Time
	// Logger receives refusals (kind and reason, never the credential).
	// Nil means slog.Default().
	Logger *slog.Logger
}

// Verifier checks the credential of v1 calls. Its Authenticate method is
// the v1api.Config.Authenticate hook.
type Verifier struct {
	cfg VerifierConfig
	log *slog.Logger
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) *Verifier {
	if cfg.Policy == nil {
		cfg.Policy = func(string) Mode { return ModeNone }
	}
	if cfg.SigningKey == nil {
		cfg.SigningKey = func(string, string) ([]byte, bool) { return nil, false }
	}
	if cfg.Skew <= 0 {
		cfg.Skew = DefaultSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Nonces == nil {
		cfg.Nonces = &MemoryNonces{Now: cfg.Now}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Verifier{cfg: cfg, log: cfg.Logger}
}

// Refusals, rendered by v1api: a DCR token is answered the OAuth way, the
// legacy header and a missing credential the v1 way.
func accessDenied() error {
	return &v1model.CredentialError{Status: http.StatusUnauthorized, Code: "access_denied"}
}
func invalidClient() error {
	return &v1model.CredentialError{Status: http.StatusForbidden, Code: "invalid_client"}
}
func unauthorized() error { return v1model.ErrUnauthorized() }

// Authenticate checks the credential of r for requestor (the one the call
// names, possibly empty; the credential's own requestor is used then).
// Credentials are looked for in this order: Authorization: Bearer, the
// access_token query parameter, the signed Authorization header. An
// Authorization header of any other scheme is not a credential of ours and
// is ignored.
func (v *Verifier) Authenticate(r *http.Request, requestor string) (v1model.Caller, error) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if tok, ok := bearer(auth); ok {
		return v.bearer(r.Context(), requestor, tok)
	}
	if tok := queryValue(r.URL, "access_token"); tok != "" {
		return v.bearer(r.Context(), requestor, tok)
	}
	if auth != "" {
		h, err := ParseSignedHeader(auth)
		if !errors.Is(err, ErrNotSignedHeader) {
			return v.signed(r.Context(), requestor, auth, h, err)
		}
	}
	if v.mode(requestor) == ModeRequired {
		v.refuse(r.Context(), requestor, "none", "missing")
		return v1model.Caller{}, unauthorized()
	}
	return v1model.Caller{}, nil
}

// queryValue returns u.Query().Get(name) without decoding the parameters
// it does not need: every call is checked, and most carry no access_token.
func queryValue(u *url.URL, name string) string {
	raw := u.RawQuery
	if strings.Count(raw, "&") >= 1000 {
		// url.ParseQuery refuses queries with too many parameters; let it
		// decide what such a query holds.
		return u.Query().Get(name)
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		// url.ParseQuery skips empty pairs, pairs holding a semicolon and
		// pairs whose key or value does not unescape.
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(k); err != nil || k != name {
			continue
		}
		if v, err := url.QueryUnescape(v); err == nil {
			return v
		}
	}
	return ""
}

func bearer(auth string) (string, bool) {
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func (v *Verifier) mode(requestor string) Mode {
	switch m := v.cfg.Policy(requestor); m {
	case "", ModeNone:
		return ModeNone
	case ModeOptional:
		return ModeOptional
	}
	return ModeRequired
}

func (v *Verifier) bearer(ctx context.Context, requestor, raw string) (v1model.Caller, error) {
	var t Token
	err := errNoIssuer
	if v.cfg.Issuer != nil {
		t, err = v.cfg.Issuer.VerifyToken(raw)
	}
	effective := requestor
	if effective == "" && err == nil {
		effective = t.Client.Requestor
	}
	if err == nil && t.Client.Requestor != effective {
		err = errOtherRequestor
	}
	if err != nil {
		if v.mode(effective) == ModeNone {
			return v1model.Caller{}, nil
		}
		v.refuse(ctx, effective, "bearer", reasonOf(err))
		if errors.Is(err, ErrRevoked) {
			return v1model.Caller{}, invalidClient()
		}
		return v1model.Caller{}, accessDenied()
	}
	return v1model.Caller{
		AuthorizationType: v1model.AuthorizationOAuth2,
		Requestor:         t.Client.Requestor,
		Application:       t.application(),
	}, nil
}

var (
	errNoIssuer       = errors.New("callerauth: no issuer configured")
	errOtherRequestor = errors.New("callerauth: credential of another requestor")
)

func reasonOf(err error) string {
	switch {
	case errors.Is(err, errNoIssuer):
		return "no_issuer"
	case errors.Is(err, errOtherRequestor):
		return "other_requestor"
	}
	return reason(err)
}

func (v *Verifier) signed(ctx context.Context, requestor, raw string, h SignedHeader, parseErr error) (v1model.Caller, error) {
	headerRequestor := h.RequestorID
	if parseErr != nil {
		headerRequestor = requestorField(raw)
	}
	effective := requestor
	if effective == "" {
		effective = headerRequestor
	}
	mode := v.mode(effective)
	if mode == ModeNone {
		// As v1 without verification: the header still names the requestor.
		return v1model.Caller{Requestor: headerRequestor}, nil
	}
	fail := func(why string) (v1model.Caller, error) {
		v.refuse(ctx, effective, "signed_header", why)
		return v1model.Caller{}, unauthorized()
	}
	switch {
	case parseErr != nil:
		return fail("malformed")
	case h.RequestorID != effective:
		return fail("other_requestor")
	}
	key, ok := v.cfg.SigningKey(h.RequestorID, h.PublicKey)
	if !ok {
		if mode == ModeRequired {
			return fail("no_key")
		}
		return v1model.Caller{Requestor: h.RequestorID}, nil
	}
	if !h.VerifySignature(key) {
		return fail("bad_signature")
	}
	now := v.cfg.Now()
	sent := time.UnixMilli(h.RequestTime)
	if d := now.Sub(sent); d > v.cfg.Skew || d < -v.cfg.Skew {
		return fail("request_time_skew")
	}
	// A nonce is remembered as long as its request_time can still pass.
	fresh, err := v.cfg.Nonces.SetIfAbsent(ctx, "callerauth:nonce:"+h.RequestorID+":"+h.Nonce, 2*v.cfg.Skew)
	if err != nil {
		return v1model.Caller{}, fmt.Errorf("callerauth: nonce store: %w", err)
	}
	if !fresh {
		return fail("replayed_nonce")
	}
	return v1model.Caller{Requestor: h.RequestorID}, nil
}

// requestorField digs requestor_id out of a header too broken to parse.
func requestorField(raw string) string {
	for _, f := range strings.Split(raw, ", ") {
		if i := strings.Index(f, "requestor_id="); i >= 0 && (i == 0 || f[i-1] == ' ') {
			return f[i+len("requestor_id="):]
		}
	}
	return ""
}

func (v *Verifier) refuse(ctx context.Context, requestor, kind, why string) {
	v.log.LogAttrs(ctx, slog.LevelInfo, "caller refused",
		slog.String("requestor", requestor), slog.String("credential", kind), slog.String("reason", why))
}
