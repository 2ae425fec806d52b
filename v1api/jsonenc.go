package v1api

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"

	"github.com/passgw/passgw/translate"
)

// JSON bodies are built as ordered values, because legacy parsers may rely
// on the documented field order, which maps would lose.
type (
	// jvalue is one of: nil or jnull (null), string, bool, int, int64,
	// float64, json.Number, jobject, []jvalue, []string, map[string]any,
	// []translate.MetadataField.
	jvalue = any
	jfield struct {
		name  string
		value jvalue
	}
	jobject []jfield
	jnull   struct{}
)

func encodeJSON(v jvalue) []byte {
	var buf bytes.Buffer
	writeJSON(&buf, v)
	return buf.Bytes()
}

func writeJSON(buf *bytes.Buffer, v jvalue) {
	switch v := v.(type) {
	case nil, jnull:
		buf.WriteString("null")
	case string:
		writeJSONString(buf, v)
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case int:
		buf.WriteString(strconv.Itoa(v))
	case int64:
		buf.WriteString(strconv.FormatInt(v, 10))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			buf.WriteString("null")
			return
		}
		b, _ := json.Marshal(v)
		buf.Write(b)
	case json.Number:
		if isJSONNumber(string(v)) {
			buf.WriteString(string(v))
		} else {
			writeJSONString(buf, string(v))
		}
	case jobject:
		buf.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, f.name)
			buf.WriteByte(':')
			writeJSON(buf, f.value)
		}
		buf.WriteByte('}')
	case []jvalue:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSON(buf, e)
		}
		buf.WriteByte(']')
	case []string:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, e)
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		obj := make(jobject, 0, len(keys))
		for _, k := range keys {
			obj = append(obj, jfield{k, v[k]})
		}
		writeJSON(buf, obj)
	case []translate.MetadataField:
		obj := make(jobject, 0, len(v))
		for _, f := range v {
			obj = append(obj, jfield{f.Name, f.Value})
		}
		writeJSON(buf, obj)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			buf.WriteString("null")
			return
		}
		buf.Write(b)
	}
}

// writeJSONString writes s as a JSON string without HTML escaping (URLs
// stay readable); invalid UTF-8 becomes U+FFFD.
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

func isJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}
