package sandbox

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseResource reads arbitrary resources the way the sandbox decides
// on them: parsing never panics, a plain id is its own id, any resource
// yields an id, and an MRSS document built around an arbitrary title and
// rating gives them back.
func FuzzParseResource(f *testing.F) {
	f.Add("news", "TV-14")
	f.Add(`<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>movies</title><media:rating scheme="urn:v-chip">TV-MA</media:rating></channel></rss>`, "")
	f.Add("<rss><channel><title><![CDATA[a]]></title><item><media:rating>R</media:rating></item></channel>", "PG")
	f.Add("  <", "&amp;")
	f.Fuzz(func(t *testing.T, res, rating string) {
		id, _ := parseResource(res)
		if res != "" && id == "" {
			t.Fatalf("resource %q gave an empty id", res)
		}
		if !strings.HasPrefix(strings.TrimSpace(res), "<") && id != res {
			t.Fatalf("plain resource %q read as %q", res, id)
		}
		if !xmlText(res) || !xmlText(rating) {
			return
		}
		title := strings.TrimSpace(res)
		doc := `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>` + escape(res) +
			`</title><media:rating scheme="urn:v-chip">` + escape(rating) + `</media:rating></channel></rss>`
		gotID, gotRating := parseResource(doc)
		wantID := title
		if title == "" {
			wantID = doc
		}
		if gotID != wantID || gotRating != strings.TrimSpace(rating) {
			t.Fatalf("MRSS %q: got (%q, %q), want (%q, %q)", doc, gotID, gotRating, wantID, strings.TrimSpace(rating))
		}
	})
}

func escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// xmlText reports whether s is valid UTF-8 made of characters XML 1.0 can
// carry, without the carriage returns XML parsers normalise.
func xmlText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n':
		case r < 0x20 || r == '\r':
			return false
		case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return false
		}
	}
	return true
}
