package v2client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Millis is an instant carried on the wire as epoch milliseconds.
//
// Adobe Pass sends the same kind of timestamp as a JSON string in session
// responses and as a JSON number everywhere else, so Millis accepts both and
// remembers which one it saw: re-encoding a decoded value reproduces the
// original JSON type, which keeps shadow comparisons and golden files exact.
// The zero Millis means "absent"; struct fields use `omitzero` so an absent
// timestamp stays absent.
type Millis struct {
	ms     int64
	set    bool
	quoted bool
}

// MillisOf returns t as a Millis that encodes as a JSON number.
func MillisOf(t time.Time) Millis {
	return Millis{ms: t.UnixMilli(), set: true}
}

// MillisFromInt returns ms as a Millis that encodes as a JSON number.
func MillisFromInt(ms int64) Millis {
	return Millis{ms: ms, set: true}
}

// Quoted returns a copy of m that encodes as a JSON string, the form used by
// session responses.
func (m Millis) Quoted() Millis {
	m.quoted = true
	return m
}

// IsZero reports whether the timestamp was absent (or JSON null).
func (m Millis) IsZero() bool { return !m.set }

// IsQuoted reports whether m encodes as a JSON string (see Quoted).
func (m Millis) IsQuoted() bool { return m.quoted }

// Int64 returns the epoch milliseconds, 0 when absent.
func (m Millis) Int64() int64 { return m.ms }

// Time returns the instant in UTC, or the zero time.Time when absent.
func (m Millis) Time() time.Time {
	if !m.set {
		return time.Time{}
	}
	return time.UnixMilli(m.ms).UTC()
}

// Equal reports whether m and o are the same instant (or both absent),
// whatever their JSON form.
func (m Millis) Equal(o Millis) bool {
	return m.set == o.set && m.ms == o.ms
}

// String formats the instant as RFC 3339 with milliseconds, for logs.
func (m Millis) String() string {
	if !m.set {
		return "<none>"
	}
	return m.Time().Format("2006-01-02T15:04:05.000Z07:00")
}

// MarshalJSON encodes the epoch milliseconds as a number, or as a string when
// the value was decoded from one (or built with Quoted).
func (m Millis) MarshalJSON() ([]byte, error) {
	if !m.set {
		return []byte("null"), nil
	}
	s := strconv.FormatInt(m.ms, 10)
	if m.quoted {
		return []byte(`"` + s + `"`), nil
	}
	return []byte(s), nil
}

// UnmarshalJSON accepts a number or a numeric string of epoch milliseconds.
// null and "" decode to the zero Millis. A number with a fraction or exponent
// is truncated to whole milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*m = Millis{}
		return nil
	}
	quoted := len(b) > 0 && b[0] == '"'
	// Answers carry plain digits: read them without a copy.
	digits := b
	if quoted && len(b) >= 2 && b[len(b)-1] == '"' {
		digits = b[1 : len(b)-1]
	}
	if quoted && len(digits) == 0 && len(b) == 2 {
		*m = Millis{}
		return nil
	}
	if ms, ok := smallInt(digits); ok {
		*m = Millis{ms: ms, set: true, quoted: quoted}
		return nil
	}
	text := string(b)
	if quoted {
		if err := json.Unmarshal(b, &text); err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
		if text == "" {
			*m = Millis{}
			return nil
		}
	}
	ms, err := parseMillis(text)
	if err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	*m = Millis{ms: ms, set: true, quoted: quoted}
	return nil
}

// smallInt parses an optional minus sign and 1 to 18 decimal digits, which
// cannot overflow an int64; anything else is left to parseMillis.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func parseMillis(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("not epoch milliseconds")
	}
	return int64(f), nil
}
