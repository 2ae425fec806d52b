package translate

import (
	"crypto/rand"
	"fmt"
)

// newUUID returns a random version-4 UUID. Registration ids double as device
// ids for devices without one, so they must be unguessable and unique.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand contract since Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

const codeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newCode returns a registration code in v2's shape: 7 characters of
// [A-Z0-9].
func newCode() string {
	b := make([]byte, 7)
	for i := range b {
		var r [1]byte
		for {
			_, _ = rand.Read(r[:])
			// Reject the tail of the byte range so every character is
			// equally likely.
			if int(r[0]) < 256/len(codeAlphabet)*len(codeAlphabet) {
				break
			}
		}
		b[i] = codeAlphabet[int(r[0])%len(codeAlphabet)]
	}
	return string(b)
}
