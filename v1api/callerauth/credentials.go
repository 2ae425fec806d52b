package callerauth

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/passgw/passgw/v1model"
)

// Reasons a client credential or access token is refused. They are
// wrapped, so test with errors.Is; none of them quotes the credential.
var (
	ErrMalformed  = errors.New("callerauth: malformed credential")
	ErrUnknownKey = errors.New("callerauth: credential signed with an unknown or retired key")
	ErrBadMAC     = errors.New("callerauth: credential MAC mismatch")
	ErrExpired    = errors.New("callerauth: access token expired")
	// ErrRevoked reports a client whose software statement the operator no
	// longer accepts.
	ErrRevoked = errors.New("callerauth: client's software statement is no longer accepted")
)

// Wire formats. Every field is free of '.', so splitting on '.' is exact:
//
//	client_id     pc1.<kid>.<base64url(requestor)>.<statement id>.<issued unix s>.<random>
//	client_secret base64url(HMAC-SHA256(key[kid], client_id))
//	access_token  pt1.<kid>.<expiry unix s>.<token id>.<base64url(client_id)>.<base64url(MAC)>
//
// The access token's MAC covers everything before its last '.', so the
// client id, and with it the requestor and the statement, cannot be
// changed. The "pc1"/"pt1" tags keep the two MAC domains apart.
const (
	clientTag = "pc1"
	tokenTag  = "pt1"
	// maxCredentialLen bounds what is parsed; real ones are far shorter.
	maxCredentialLen = 1024
)

// Client is a registered DCR client, as recovered from its client id.
type Client struct {
	// ID is the client_id.
	ID        string
	Requestor string
	// StatementID identifies the software statement it registered with.
	StatementID string
	IssuedAt    time.Time
	keyID       string
}

// Token is a verified access token.
type Token struct {
	// ID is the token's id (the "id" of the token response).
	ID      string
	Client  Client
	Expires time.Time
	// Application is the registered application of the client's statement,
	// when known.
	Application *v1model.SourceApplication
}

func newClientID(kid, requestor, statementID string, issued time.Time, random []byte) string {
	return strings.Join([]string{clientTag, kid, base64.RawURLEncoding.EncodeToString([]byte(requestor)), statementID,
		strconv.FormatInt(issued.Unix(), 10), base64.RawURLEncoding.EncodeToString(random)}, ".")
}

// parseClientID reads the fields of a client id; it proves nothing about
// who made it.
func parseClientID(id string) (Client, error) {
	if len(id) > maxCredentialLen {
		return Client{}, fmt.Errorf("client id: %w", ErrMalformed)
	}
	f := strings.Split(id, ".")
	if len(f) != 6 || f[0] != clientTag || f[1] == "" || f[3] == "" || f[5] == "" {
		return Client{}, fmt.Errorf("client id: %w", ErrMalformed)
	}
	requestor, err := base64.RawURLEncoding.DecodeString(f[2])
	if err != nil || len(requestor) == 0 {
		return Client{}, fmt.Errorf("client id requestor: %w", ErrMalformed)
	}
	issued, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil {
		return Client{}, fmt.Errorf("client id issue time: %w", ErrMalformed)
	}
	return Client{ID: id, keyID: f[1], Requestor: string(requestor), StatementID: f[3], IssuedAt: time.Unix(issued, 0)}, nil
}

// clientSecret is the secret of client id under the ring's key kid.
func (kr *KeyRing) clientSecret(kid, clientID string) (string, bool) {
	sum, ok := kr.macOf(kid, clientID)
	if !ok {
		return "", false
	}
	return base64.RawURLEncoding.EncodeToString(sum), true
}

// verifyClient checks a client id and secret pair.
func (kr *KeyRing) verifyClient(clientID, secret string) (Client, error) {
	c, err := parseClientID(clientID)
	if err != nil {
		return Client{}, err
	}
	want, ok := kr.clientSecret(c.keyID, clientID)
	if !ok {
		return Client{}, fmt.Errorf("client secret: %w", ErrUnknownKey)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		return Client{}, fmt.Errorf("client secret: %w", ErrBadMAC)
	}
	return c, nil
}

// newToken returns an access token for client, signed with the current key.
func (kr *KeyRing) newToken(clientID, tokenID string, expires time.Time) string {
	payload := strings.Join([]string{tokenTag, kr.current.ID, strconv.FormatInt(expires.Unix(), 10), tokenID,
		base64.RawURLEncoding.EncodeToString([]byte(clientID))}, ".")
	return payload + "." + base64.RawURLEncoding.EncodeToString(kr.sign(payload))
}

// verifyToken checks the MAC and expiry of an access token at now.
func (kr *KeyRing) verifyToken(tok string, now time.Time) (Token, error) {
	if len(tok) > maxCredentialLen {
		return Token{}, fmt.Errorf("access token: %w", ErrMalformed)
	}
	cut := strings.LastIndexByte(tok, '.')
	if cut < 0 {
		return Token{}, fmt.Errorf("access token: %w", ErrMalformed)
	}
	payload, sig := tok[:cut], tok[cut+1:]
	f := strings.Split(payload, ".")
	if len(f) != 5 || f[0] != tokenTag {
		return Token{}, fmt.Errorf("access token: %w", ErrMalformed)
	}
	sum, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return Token{}, fmt.Errorf("access token MAC: %w", ErrMalformed)
	}
	if err := kr.verify(f[1], payload, sum); err != nil {
		return Token{}, fmt.Errorf("access token: %w", err)
	}
	// Only signed fields from here on.
	exp, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return Token{}, fmt.Errorf("access token expiry: %w", ErrMalformed)
	}
	expires := time.Unix(exp, 0)
	if !now.Before(expires) {
		return Token{}, fmt.Errorf("access token: %w", ErrExpired)
	}
	rawClient, err := base64.RawURLEncoding.DecodeString(f[4])
	if err != nil {
		return Token{}, fmt.Errorf("access token client: %w", ErrMalformed)
	}
	c, err := parseClientID(string(rawClient))
	if err != nil {
		return Token{}, fmt.Errorf("access token: %w", err)
	}
	return Token{ID: f[3], Client: c, Expires: expires}, nil
}

// application returns the registered application of a verified token.
func (t Token) application() *v1model.SourceApplication {
	if t.Application == nil {
		return nil
	}
	app := *t.Application
	return &app
}
