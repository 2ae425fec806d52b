package v1api

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// encodeXML renders b as the XML document a call would answer.
func encodeXML(b body) []byte {
	var rb renderBuf
	return rb.render(formatXML, b)
}

// encodeJSON renders b as the JSON value a call would answer.
func encodeJSON(b body) []byte {
	var rb renderBuf
	return rb.render(formatJSON, b)
}

// escapeSeeds are strings with every kind of character the encoders treat
// specially.
var escapeSeeds = []string{
	"", "plain", `a&b<c>d"e'f]]>`, "bad\xff\xfe\x00\x01\r\n\t\u2028\u2029 é", "\ufffd\U0001F600\ufffe\uffff",
	"\x7f\x08\x0c\x1f\\/", "\xed\xa0\x80\xc3", "\U0010FFFF\U0010FFFF", "trailing\xe2\x82",
}

// FuzzXMLEscape checks the XML escaping against etree, whose writer the
// bodies were first rendered with: text as with CanonicalText, attribute
// values as by default.
func FuzzXMLEscape(f *testing.F) {
	for _, s := range escapeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		el := etree.NewElement("e")
		el.CreateAttr("a", s)
		el.SetText(s)
		doc := etree.NewDocument()
		doc.AddChild(el)
		doc.WriteSettings.CanonicalText = true
		if _, err := doc.WriteTo(&want); err != nil {
			t.Fatal(err)
		}
		var w xmlWriter
		w.start("e")
		w.attr("a", s)
		if s != "" {
			w.closeStart()
			w.buf = appendXMLEscaped(w.buf, s, true)
		}
		w.end("e")
		if string(w.buf) != want.String() {
			t.Errorf("escaping %q:\n got %q\nwant %q", s, w.buf, want.String())
		}
	})
}

// FuzzJSONString checks the JSON string encoding against encoding/json
// without HTML escaping.
func FuzzJSONString(f *testing.F) {
	for _, s := range escapeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want strings.Builder
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendJSONString(nil, s)); got+"\n" != want.String() {
			t.Errorf("encoding %q:\n got %s\nwant %s", s, got, want.String())
		}
	})
}

// TestXMLWriter checks the element structure: empty elements as
// empty-element tags, attributes in the start tag, nesting.
func TestXMLWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *xmlWriter)
		want  string
	}{
		{"empty text", func(w *xmlWriter) { w.text("mvpd", "") }, "<mvpd/>"},
		{"text", func(w *xmlWriter) { w.text("id", "a<b") }, "<id>a&lt;b</id>"},
		{"optional text left out", func(w *xmlWriter) { w.optText("x", "") }, ""},
		{"empty parent", func(w *xmlWriter) { w.start("resources"); w.end("resources") }, "<resources/>"},
		{"attribute on empty element", func(w *xmlWriter) { w.start("r"); w.attr("k", `"v"`); w.end("r") }, `<r k="&quot;v&quot;"/>`},
		{"nesting", func(w *xmlWriter) {
			w.start("a")
			w.attr("xmlns:ns2", "m")
			w.start("b")
			w.int("n", -12)
			w.bool("t", true)
			w.start("c")
			w.end("c")
			w.end("b")
			w.base64("d", []byte("hi"))
			w.base64("e", nil)
			w.end("a")
		}, `<a xmlns:ns2="m"><b><n>-12</n><t>true</t><c/></b><d>aGk=</d><e/></a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w xmlWriter
			tt.write(&w)
			if string(w.buf) != tt.want {
				t.Errorf("got %s, want %s", w.buf, tt.want)
			}
		})
	}
}

// TestJSONWriter checks separators across nesting and the value kinds.
func TestJSONWriter(t *testing.T) {
	var w jsonWriter
	w.beginObject()
	w.str("a", "x")
	w.optStr("skip", "")
	w.name("list")
	w.beginArray()
	w.value(map[string]any{"b": 1.5, "a": nil})
	w.value([]any{"s", true, int64(3), 4})
	w.value([]string{})
	w.endArray()
	w.millis("expires", ms(1601114932000))
	w.base64("id", []byte("hi"))
	w.null("details")
	w.endObject()
	const want = `{"a":"x","list":[{"a":null,"b":1.5},["s",true,3,4],[]],"expires":"1601114932000","id":"aGk=","details":null}`
	if string(w.buf) != want {
		t.Errorf("got  %s\nwant %s", w.buf, want)
	}
	if !json.Valid(w.buf) {
		t.Error("invalid JSON")
	}
}
