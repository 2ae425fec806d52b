package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/passgw/passgw/v2client"
)

// Version is the newest format version, the one records are written in
// unless a gateway is configured to write version 0 (see AppendVersion).
const Version = 1

// CheckWritable returns an error for a format version records cannot be
// written in: only 0, the form gateways before format versions read, and
// Version are.
func CheckWritable(version int) error {
	if version != 0 && version != Version {
		return fmt.Errorf("record: cannot write format version %d: want 0 or %d", version, Version)
	}
	return nil
}

// Kinds of record, the first byte of the binary form; none may be '{'.
const (
	kindRegistration byte = 0x01
	kindProfileSet   byte = 0x02
	kindDecision     byte = 0x03
)

// versioned marks a kind byte followed by the format version.
const versioned byte = 0x80

var (
	// ErrMalformed is returned for a stored value that is cut, has
	// trailing bytes or is not a record of the kind read.
	ErrMalformed = errors.New("record: malformed stored value")
	// ErrNewerVersion is returned for a record written in a format
	// version this gateway does not know.
	ErrNewerVersion = errors.New("record: stored by a newer format version")
)

// appendHeader starts the binary form of a record of kind in a format
// version CheckWritable accepts: version 0 is the kind byte alone.
func appendHeader(b []byte, kind byte, version int) []byte {
	if version == 0 {
		return append(b, kind)
	}
	return append(b, kind|versioned, byte(version))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendTime writes t as nanoseconds since the epoch; 0 is the zero time.
// Instants outside the years 1678-2262 lose their nanoseconds' range and are
// not stored by the gateway.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// appendMillis keeps whether the instant is absent and its JSON form.
func appendMillis(b []byte, m v2client.Millis) []byte {
	switch {
	case m.IsZero():
		return append(b, 0)
	case m.IsQuoted():
		b = append(b, 2)
	default:
		b = append(b, 1)
	}
	return binary.AppendVarint(b, m.Int64())
}

// appendUUID writes a canonical lower-case UUID as its 16 bytes, anything
// else as a string; a leading byte tells which.
func appendUUID(b []byte, s string) []byte {
	if raw, ok := canonicalUUID(s); ok {
		b = append(b, 1)
		return append(b, raw[:]...)
	}
	return appendString(append(b, 0), s)
}

// canonicalUUID parses s when it is a UUID in the canonical lower-case
// form String writes, the only form stored as 16 bytes: any other (upper
// case, braces, no dashes, a URN) would not come back the same.
func canonicalUUID(s string) (uuid.UUID, bool) {
	if len(s) != 36 || strings.ContainsAny(s, "ABCDEF") {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil
}

// decoder reads what the append functions wrote. The first error sticks;
// later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrMalformed
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.raw()) }

// stringOf reads a string and returns the one of known it equals, which
// costs no allocation, or else a copy. Cached profiles are read on every
// call and repeat a few values (types, states, an MVPD id) throughout.
func (d *decoder) stringOf(known ...string) string {
	raw := d.raw()
	for _, k := range known {
		if string(raw) == k {
			return k
		}
	}
	return string(raw)
}

// attributeName reads a profile attribute name, without an allocation for
// the names Adobe documents.
func (d *decoder) attributeName() string {
	raw := d.raw()
	switch string(raw) {
	case "userID":
		return "userID"
	case "upstreamUserID":
		return "upstreamUserID"
	case "householdID":
		return "householdID"
	case "zip":
		return "zip"
	case "encryptedZip":
		return "encryptedZip"
	case "maxRating":
		return "maxRating"
	case "primaryOID":
		return "primaryOID"
	case "channelID":
		return "channelID"
	case "is_hoh":
		return "is_hoh"
	case "typeID":
		return "typeID"
	case "mvpd":
		return "mvpd"
	}
	return string(raw)
}

// bytes returns a copy, nil for empty.
func (d *decoder) bytes() []byte {
	v := d.raw()
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

func (d *decoder) time() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (d *decoder) millis() v2client.Millis {
	kind := d.byte()
	if kind == 0 {
		return v2client.Millis{}
	}
	m := v2client.MillisFromInt(d.varint())
	if kind == 2 {
		m = m.Quoted()
	}
	return m
}

func (d *decoder) uuid() string {
	if d.byte() == 0 {
		return d.string()
	}
	if len(d.b) < 16 {
		d.fail()
		return ""
	}
	s := uuid.UUID(d.b[:16]).String()
	d.b = d.b[16:]
	return s
}

// header reads the kind byte and the format version of a record of kind.
func (d *decoder) header(kind byte) error {
	switch d.byte() {
	case kind:
		return nil // version 0
	case kind | versioned:
		switch v := d.byte(); {
		case d.err != nil:
			return d.err
		case v > Version:
			return fmt.Errorf("%w: version %d, this gateway reads up to %d", ErrNewerVersion, v, Version)
		case v == 0:
			return ErrMalformed // version 0 is written without a version byte
		}
		return nil
	}
	return ErrMalformed
}

// done reports the first error, or trailing bytes as an error.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		return ErrMalformed
	}
	return d.err
}

// isJSON reports whether a stored value is in the JSON form.
func isJSON(b []byte) bool { return len(b) > 0 && b[0] == '{' }
