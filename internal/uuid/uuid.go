// Package uuid generates, formats and parses the random (version 4) UUIDs
// the gateway and its sandbox issue: registration ids, request ids, state
// generations, token ids. Only the canonical lower-case form is produced,
// and only that form is parsed, so a parsed UUID formats back to the same
// string.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random version-4 UUID from crypto/rand: unguessable, since
// some of them (registration ids) double as device ids.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand contract since Go 1.24)
	return V4(b)
}

// V4 sets the version and variant bits of random bytes b and formats them.
func V4(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return Format(b)
}

// Format writes raw as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, lower case.
func Format(raw [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], raw[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], raw[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], raw[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], raw[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], raw[10:16])
	return string(s[:])
}

// Parse reads a UUID in the form Format writes. Any other string (upper
// case, braces, no dashes) is refused, because it would not format back
// to itself.
func Parse(s string) ([16]byte, bool) {
	var raw [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return raw, false
	}
	j := 0
	for i := 0; i < len(s); i += 2 {
		if s[i] == '-' {
			i--
			continue
		}
		hi, ok1 := nibble(s[i])
		lo, ok2 := nibble(s[i+1])
		if !ok1 || !ok2 {
			return raw, false
		}
		raw[j] = hi<<4 | lo
		j++
	}
	return raw, true
}

func nibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
