// Package callerauth decides who may call the gateway's v1 surface.
//
// It holds the two halves of device-facing Dynamic Client Registration:
// the Issuer, which answers POST /o/client/register and POST
// /o/client/token for the devices the way Adobe's DCR service did, and the
// Verifier, which checks the credential each v1 call carries (a bearer token
// from the Issuer, the historical access_token parameter or the pre-DCR
// signed Authorization header) against a per-requestor policy.
//
// Everything the Issuer hands out is verifiable without storage: a client
// secret is a MAC of its client id and an access token carries its own
// expiry under a MAC, both made with a KeyRing whose key ids travel inside
// the signed text, so a key can be rotated while tokens made with the old
// one stay valid until that key is retired.
package callerauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// MinKeyBytes is the shortest signing secret a KeyRing accepts.
const MinKeyBytes = 16

// Key is one signing key: an id that is embedded in everything it signs,
// and the secret itself. Its String, GoString and LogValue never show the
// secret.
type Key struct {
	// ID names the key: 1 to 16 characters of A-Z, a-z, 0-9, '_' and '-'.
	ID string
	// Secret is the HMAC-SHA256 key, at least MinKeyBytes long.
	Secret []byte
}

// String, GoString, LogValue and Format show the key id only, so a Key
// printed or logged by mistake does not leak its secret.
func (k Key) String() string             { return fmt.Sprintf("callerauth.Key{ID:%q}", k.ID) }
func (k Key) GoString() string           { return k.String() }
func (k Key) LogValue() slog.Value       { return slog.GroupValue(slog.String("id", k.ID)) }
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// GenerateKey returns a key named id with a fresh 32-byte secret read from
// random (crypto/rand when nil).
func GenerateKey(id string, random io.Reader) (Key, error) {
	if random == nil {
		random = rand.Reader
	}
	secret := make([]byte, 32)
	if _, err := io.ReadFull(random, secret); err != nil {
		return Key{}, fmt.Errorf("callerauth: generating key %q: %w", id, err)
	}
	k := Key{ID: id, Secret: secret}
	return k, k.validate()
}

// ParseKey reads a key written as "<id>:<secret>", the secret in base64
// (standard or URL alphabet, padding optional).
func ParseKey(s string) (Key, error) {
	id, enc, ok := strings.Cut(s, ":")
	if !ok {
		return Key{}, errors.New("callerauth: key is not written as <id>:<base64 secret>")
	}
	var secret []byte
	var err error
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if secret, err = e.DecodeString(enc); err == nil {
			break
		}
	}
	if err != nil {
		// The decoder's error quotes the input: keep the secret out of it.
		return Key{}, fmt.Errorf("callerauth: key %q: secret is not base64", id)
	}
	k := Key{ID: id, Secret: secret}
	return k, k.validate()
}

func (k Key) validate() error {
	if !validKeyID(k.ID) {
		return fmt.Errorf("callerauth: key id %q: want 1 to 16 of A-Z a-z 0-9 _ -", k.ID)
	}
	if len(k.Secret) < MinKeyBytes {
		return fmt.Errorf("callerauth: key %q: secret shorter than %d bytes", k.ID, MinKeyBytes)
	}
	return nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// KeyRing is the current signing key plus the previous keys still accepted
// when verifying. Rotation: make the new key current and list the old one
// as previous for as long as its tokens live (the token TTL); client
// secrets made with a key stop working when that key leaves the ring, and
// such clients get invalid_client and register again, as DCR clients do
// when their credentials are refused.
type KeyRing struct {
	current Key
	byID    map[string][]byte
}

// NewKeyRing returns a ring signing with current and also accepting
// previous. Key ids must be distinct.
func NewKeyRing(current Key, previous ...Key) (*KeyRing, error) {
	kr := &KeyRing{current: current, byID: make(map[string][]byte, 1+len(previous))}
	for _, k := range append([]Key{current}, previous...) {
		if err := k.validate(); err != nil {
			return nil, err
		}
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("callerauth: key id %q listed twice", k.ID)
		}
		kr.byID[k.ID] = append([]byte(nil), k.Secret...)
	}
	kr.current.Secret = kr.byID[current.ID]
	return kr, nil
}

// CurrentID is the id of the key new credentials are signed with.
func (kr *KeyRing) CurrentID() string { return kr.current.ID }

// String, GoString, Format and LogValue show the current key id only.
func (kr *KeyRing) String() string {
	return fmt.Sprintf("callerauth.KeyRing{current:%q}", kr.current.ID)
}
func (kr *KeyRing) GoString() string           { return kr.String() }
func (kr *KeyRing) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, kr.String()) }
func (kr *KeyRing) LogValue() slog.Value {
	return slog.GroupValue(slog.String("current", kr.current.ID))
}

// sign returns the HMAC-SHA256 of data under the current key.
func (kr *KeyRing) sign(data string) []byte {
	return mac(kr.current.Secret, data)
}

// verify reports whether sum is the MAC of data under the key kid; an
// unknown (retired) kid never verifies.
func (kr *KeyRing) verify(kid, data string, sum []byte) error {
	secret, ok := kr.byID[kid]
	if !ok {
		return ErrUnknownKey
	}
	if !hmac.Equal(mac(secret, data), sum) {
		return ErrBadMAC
	}
	return nil
}

// macOf returns the MAC of data under key kid, or false when kid is not in
// the ring.
func (kr *KeyRing) macOf(kid, data string) ([]byte, bool) {
	secret, ok := kr.byID[kid]
	if !ok {
		return nil, false
	}
	return mac(secret, data), true
}

func mac(secret []byte, data string) []byte {
	h := hmac.New(sha256.New, secret)
	_, _ = io.WriteString(h, data)
	return h.Sum(nil)
}
