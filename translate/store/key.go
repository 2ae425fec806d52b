package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// Key builds a store key from a readable prefix and any number of parts.
//
// The parts are hashed (SHA-256, length-prefixed so that ("ab","c") and
// ("a","bc") differ) because they carry device input of any length and
// alphabet — device ids, MRSS resources — which must neither bloat Redis keys
// nor collide through separators, and device ids should not sit in the store
// in clear.
func Key(prefix string, parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return prefix + ":" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
