package translate

import (
	"crypto/rand"
)

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
