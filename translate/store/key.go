package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// Key builds a store key from a readable prefix and any number of parts.
//
// The parts are hashed (SHA-256, length-prefixed so that ("ab","c") and
// ("a","bc") differ) because they carry device input of any length and
// alphabet — device ids, MRSS resources — which must neither bloat Redis keys
// nor collide through separators, and device ids should not sit in the store
// in clear.
//
// Every call of the gateway builds several keys, so the hash input is
// gathered in a buffer on the stack (it grows to the heap only for long
// parts) and the key is written in its one allocation.
func Key(prefix string, parts ...string) string {
	var buf [256]byte
	in := buf[:0]
	for _, p := range parts {
		in = binary.BigEndian.AppendUint64(in, uint64(len(p)))
		in = append(in, p...)
	}
	sum := sha256.Sum256(in)
	enc := base64.RawURLEncoding
	var out [43]byte // enc.EncodedLen(sha256.Size)
	enc.Encode(out[:], sum[:])
	var b strings.Builder
	b.Grow(len(prefix) + 1 + len(out))
	b.WriteString(prefix)
	b.WriteByte(':')
	b.Write(out[:])
	return b.String()
}
