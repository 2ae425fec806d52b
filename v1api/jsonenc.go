package v1api

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/passgw/passgw/v1model"
)

// jsonWriter appends a JSON value to buf as it is described, member by
// member, in the order the calls make: legacy parsers may rely on the
// documented field order. Rendering a body allocates nothing but buf.
type jsonWriter struct {
	buf []byte
	// comma reports that a value was just completed at the current level,
	// so the next member or element needs a separator.
	comma bool
}

func (w *jsonWriter) sep() {
	if w.comma {
		w.buf = append(w.buf, ',')
	}
}

func (w *jsonWriter) beginObject() {
	w.sep()
	w.buf = append(w.buf, '{')
	w.comma = false
}

func (w *jsonWriter) endObject() {
	w.buf = append(w.buf, '}')
	w.comma = true
}

func (w *jsonWriter) beginArray() {
	w.sep()
	w.buf = append(w.buf, '[')
	w.comma = false
}

func (w *jsonWriter) endArray() {
	w.buf = append(w.buf, ']')
	w.comma = true
}

// name starts an object member; its value follows.
func (w *jsonWriter) name(n string) {
	w.sep()
	w.buf = appendJSONString(w.buf, n)
	w.buf = append(w.buf, ':')
	w.comma = false
}

// stringValue writes s as an array element or member value.
func (w *jsonWriter) stringValue(s string) {
	w.sep()
	w.buf = appendJSONString(w.buf, s)
	w.comma = true
}

// str writes the member name: s.
func (w *jsonWriter) str(name, s string) {
	w.name(name)
	w.stringValue(s)
}

// optStr writes the member name: s, or nothing when s is empty.
func (w *jsonWriter) optStr(name, s string) {
	if s != "" {
		w.str(name, s)
	}
}

// strOrNull writes the member name: s, or name: null when s is empty.
func (w *jsonWriter) strOrNull(name, s string) {
	if s == "" {
		w.null(name)
		return
	}
	w.str(name, s)
}

// int writes the member name: n.
func (w *jsonWriter) int(name string, n int64) {
	w.name(name)
	w.buf = appendInt(w.buf, n)
	w.comma = true
}

// bool writes the member name: v.
func (w *jsonWriter) bool(name string, v bool) {
	w.name(name)
	w.buf = strconv.AppendBool(w.buf, v)
	w.comma = true
}

// null writes the member name: null.
func (w *jsonWriter) null(name string) {
	w.name(name)
	w.buf = append(w.buf, "null"...)
	w.comma = true
}

// value writes v as an array element or member value. v is one of: nil
// (null), string, bool, int, int64, float64, json.Number, []any, []string,
// map[string]any (members in key order), []v1model.MetadataField
// (members in order); anything else is written as encoding/json would.
func (w *jsonWriter) value(v any) {
	switch v := v.(type) {
	case nil:
		w.sep()
		w.buf = append(w.buf, "null"...)
	case string:
		w.stringValue(v)
	case bool:
		w.sep()
		w.buf = strconv.AppendBool(w.buf, v)
	case int:
		w.sep()
		w.buf = strconv.AppendInt(w.buf, int64(v), 10)
	case int64:
		w.sep()
		w.buf = strconv.AppendInt(w.buf, v, 10)
	case float64:
		w.sep()
		if math.IsNaN(v) || math.IsInf(v, 0) {
			w.buf = append(w.buf, "null"...)
			break
		}
		b, _ := json.Marshal(v)
		w.buf = append(w.buf, b...)
	case json.Number:
		if !isJSONNumber(string(v)) {
			w.stringValue(string(v))
			break
		}
		w.sep()
		w.buf = append(w.buf, v...)
	case []any:
		w.beginArray()
		for _, e := range v {
			w.value(e)
		}
		w.endArray()
	case []string:
		w.beginArray()
		for _, e := range v {
			w.stringValue(e)
		}
		w.endArray()
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.beginObject()
		for _, k := range keys {
			w.name(k)
			w.value(v[k])
		}
		w.endObject()
	case []v1model.MetadataField:
		w.beginObject()
		for _, f := range v {
			w.name(f.Name)
			w.value(f.Value)
		}
		w.endObject()
	default:
		w.sep()
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte("null")
		}
		w.buf = append(w.buf, b...)
	}
	w.comma = true
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it without HTML escaping (URLs stay readable): quote, backslash and
// control characters escaped, U+2028 and U+2029 escaped, invalid UTF-8 as
// \ufffd, one per byte.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}
