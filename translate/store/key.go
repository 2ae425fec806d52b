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
	sum := hashParts(parts...)
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

// DeviceKey builds the store key of one item of state kept for a device of
// a requestor: the prefix, then the hash of requestor and device in braces,
// then, when parts name an item, their hash. The braces are a Redis Cluster
// hash tag: every key of one device maps to one hash slot, so the reads of
// a call (the device's generation and its state, in one GetMany) go to one
// node in one round trip, and an operation on several of them could be
// atomic there. Hashes are as in Key.
func DeviceKey(prefix, requestor, device string, parts ...string) string {
	enc := base64.RawURLEncoding
	var tag, item [43]byte // enc.EncodedLen(sha256.Size)
	sum := hashParts(requestor, device)
	enc.Encode(tag[:], sum[:])
	var b strings.Builder
	n := len(prefix) + 3 + len(tag)
	if len(parts) > 0 {
		n += len(item)
	}
	b.Grow(n)
	b.WriteString(prefix)
	b.WriteString(":{")
	b.Write(tag[:])
	b.WriteByte('}')
	if len(parts) > 0 {
		sum := hashParts(parts...)
		enc.Encode(item[:], sum[:])
		b.Write(item[:])
	}
	return b.String()
}

// hashParts is the SHA-256 of parts, each length-prefixed.
func hashParts(parts ...string) [sha256.Size]byte {
	var buf [256]byte
	in := buf[:0]
	for _, p := range parts {
		in = binary.BigEndian.AppendUint64(in, uint64(len(p)))
		in = append(in, p...)
	}
	return sha256.Sum256(in)
}
