package translate

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
)

// MinSealKeyBytes is the shortest secret a SealKey may have.
const MinSealKeyBytes = 16

// SealKey is one key of a Sealer: an id written in front of every value it
// seals, so that values sealed before a rotation stay readable, and the
// secret the AES-256 key is derived from. Its String and LogValue never
// show the secret.
type SealKey struct {
	ID     string
	Secret []byte
}

func (k SealKey) String() string       { return fmt.Sprintf("translate.SealKey{ID:%q}", k.ID) }
func (k SealKey) GoString() string     { return k.String() }
func (k SealKey) LogValue() slog.Value { return slog.GroupValue(slog.String("id", k.ID)) }

// sealInfo separates the AES keys derived here from any other use of the
// same secret (HKDF's info, RFC 5869 §3.2).
const sealInfo = "passgw store seal v1"

// sealedPrefix starts every sealed value; the key id, a colon, the GCM
// nonce and the ciphertext follow. Values kept in clear are JSON objects,
// so the two never mix up.
var sealedPrefix = []byte("sealed:v1:")

// ErrUnsealable reports a sealed value that cannot be opened: sealed with a
// key that is not configured, or altered.
var ErrUnsealable = errors.New("translate: sealed value cannot be opened")

// Sealer seals the gateway's own v2 secrets (client secret, access token)
// before they reach the store, with AES-256-GCM: whoever reads the store
// (a Redis replica, a backup, an operator's redis-cli) sees neither. The
// store key name is the additional data, so a sealed value cannot be moved
// under another key. The first key seals; every key opens.
type Sealer struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewSealer returns a Sealer sealing with current and opening with current
// and previous. Ids must be distinct and non-empty, without ':'.
func NewSealer(current SealKey, previous ...SealKey) (*Sealer, error) {
	s := &Sealer{current: current.ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range append([]SealKey{current}, previous...) {
		if k.ID == "" || bytes.IndexByte([]byte(k.ID), ':') >= 0 {
			return nil, fmt.Errorf("translate: seal key id %q: want a non-empty id without ':'", k.ID)
		}
		if len(k.Secret) < MinSealKeyBytes {
			return nil, fmt.Errorf("translate: seal key %q: secret shorter than %d bytes", k.ID, MinSealKeyBytes)
		}
		if _, dup := s.aeads[k.ID]; dup {
			return nil, fmt.Errorf("translate: seal key id %q listed twice", k.ID)
		}
		key, err := hkdf.Key(sha256.New, k.Secret, nil, sealInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("translate: seal key %q: %w", k.ID, err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("translate: seal key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("translate: seal key %q: %w", k.ID, err)
		}
		s.aeads[k.ID] = aead
	}
	return s, nil
}

// String shows the sealing key id only.
func (s *Sealer) String() string { return fmt.Sprintf("translate.Sealer{Current:%q}", s.current) }

// seal returns plain sealed under the current key for the store key name.
// A nil Sealer keeps plain as it is.
func (s *Sealer) seal(name string, plain []byte) []byte {
	if s == nil {
		return plain
	}
	aead := s.aeads[s.current]
	out := make([]byte, 0, len(sealedPrefix)+len(s.current)+1+aead.NonceSize()+len(plain)+aead.Overhead())
	out = append(out, sealedPrefix...)
	out = append(out, s.current...)
	out = append(out, ':')
	nonce := out[len(out) : len(out)+aead.NonceSize()]
	_, _ = rand.Read(nonce) // never fails (crypto/rand contract since Go 1.24)
	out = out[:len(out)+len(nonce)]
	return aead.Seal(out, nonce, plain, []byte(name))
}

// open returns the plain value of b stored under name, and whether b is
// already sealed under the current key (when not, the caller seals it
// again). A value in clear is returned as it is.
func (s *Sealer) open(name string, b []byte) (plain []byte, current bool, err error) {
	rest, sealed := bytes.CutPrefix(b, sealedPrefix)
	if !sealed {
		return b, s == nil, nil
	}
	id, box, ok := bytes.Cut(rest, []byte{':'})
	if !ok {
		return nil, false, fmt.Errorf("%w: malformed", ErrUnsealable)
	}
	if s == nil {
		return nil, false, fmt.Errorf("%w: sealed with key %q, and no store key is configured", ErrUnsealable, id)
	}
	aead, ok := s.aeads[string(id)]
	if !ok {
		return nil, false, fmt.Errorf("%w: sealed with key %q, which is not configured", ErrUnsealable, id)
	}
	if len(box) < aead.NonceSize() {
		return nil, false, fmt.Errorf("%w: malformed", ErrUnsealable)
	}
	plain, err = aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], []byte(name))
	if err != nil {
		return nil, false, fmt.Errorf("%w: key %q does not open it", ErrUnsealable, id)
	}
	return plain, string(id) == s.current, nil
}
