package v1api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/passgw/passgw/v1model"
)

// FuzzRequest drives parameter parsing, routing and negotiation with
// arbitrary paths, queries, bodies and Accept headers: every answer must be
// a v1 status with a well-formed body in the content type it declares.
func FuzzRequest(f *testing.F) {
	f.Add("GET", "/api/v1/authorize", "requestor=R&deviceId=d&resource=a", "", "", "application/json")
	f.Add("POST", "/reggie/v1/R/regcode.json", "", "deviceId=%zz&ttl=9&device_info=e30", "application/x-www-form-urlencoded", "")
	f.Add("POST", "/reggie/v1/R/regcode", "format=xml", "--b\r\nContent-Disposition: form-data; name=\"deviceId\"\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b", "*/*")
	f.Add("GET", "/api/v1/authenticate", "requestor_id=R&mso_id=M%C2%AE_code=C&domain_name=d&redirect_url=u", "", "", "text/html")
	f.Add("DELETE", "/api/v1/preauthorize/ABC.xml", "resource=,,,&requestor=&format=JSON", "", "", "application/json;q=0")
	f.Fuzz(func(t *testing.T, method, path, query, body, contentType, accept string) {
		if !strings.HasPrefix(path, "/") || !utf8.ValidString(method) || method == "" || strings.ContainsAny(method, " \t\r\n") {
			t.Skip()
		}
		r := httptest.NewRequest("GET", "/", strings.NewReader(body))
		r.Method = method
		r.URL.Path, r.URL.RawPath, r.URL.RawQuery = path, "", query
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		newTestHandler(t, newRecordingBackend(), nil).ServeHTTP(w, r)
		switch w.Code {
		case 200, 201, 204, 302, 400, 404, 405:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		checkDeclaredBody(t, w.Header().Get("Content-Type"), w.Body.Bytes())
	})
}

func checkDeclaredBody(t *testing.T, ct string, body []byte) {
	t.Helper()
	switch ct {
	case contentTypeJSON:
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %q", body)
		}
	case contentTypeXML:
		if err := xmlWellFormed(body); err != nil {
			t.Fatalf("malformed XML: %v: %q", err, body)
		}
	}
}

// FuzzDeviceInfo checks that any accepted value decodes to one JSON object
// and that every JSON object survives the Base64 variants devices send.
func FuzzDeviceInfo(f *testing.F) {
	f.Add(`{"model":"AFTMM","osName":"Android"}`)
	f.Add(`{"a":"??>>~~"}`)
	f.Add("[]")
	f.Add("%7B")
	f.Fuzz(func(t *testing.T, s string) {
		if _, obj, err := decodeDeviceInfo(s); err == nil {
			if !json.Valid(obj) || obj[0] != '{' {
				t.Fatalf("accepted %q as %q", s, obj)
			}
		}
		data := bytes.TrimSpace([]byte(s))
		if len(data) == 0 || data[0] != '{' || !json.Valid(data) {
			return
		}
		for _, enc := range []string{
			base64.StdEncoding.EncodeToString(data),
			base64.RawStdEncoding.EncodeToString(data),
			base64.URLEncoding.EncodeToString(data),
			base64.RawURLEncoding.EncodeToString(data),
			strings.ReplaceAll(strings.ReplaceAll(base64.StdEncoding.EncodeToString(data), "+", "%2B"), "=", "%3D"),
		} {
			_, obj, err := decodeDeviceInfo(enc)
			if err != nil || !bytes.Equal(obj, data) {
				t.Fatalf("%q: got %q, %v", enc, obj, err)
			}
		}
	})
}

// FuzzRender renders arbitrary strings in every position of a body and a
// metadata key: the output is well-formed and decodes back to the input,
// with only characters the format cannot carry replaced by U+FFFD.
func FuzzRender(f *testing.F) {
	f.Add("plain", "zip")
	f.Add("a&b<c>d\"e'f]]>", "maxRating")
	f.Add("bad\xff\xfe\x00\x01\r\n\t\u2028 é", "1bad key")
	f.Add("\ufffd\U0001F600", "ns:key")
	f.Fuzz(func(t *testing.T, s, key string) {
		tok := &v1model.AuthnToken{Requestor: s, MVPD: s, UserID: s}
		wantJSON := replaceInvalid(s, func(rune) bool { return true })
		wantXML := replaceInvalid(s, isXMLChar)

		var got v1model.AuthnToken
		var j struct{ Requestor, Mvpd, UserID string }
		if err := json.Unmarshal(encodeJSON(authnBody{tok}), &j); err != nil {
			t.Fatal(err)
		}
		got.Requestor, got.MVPD, got.UserID = j.Requestor, j.Mvpd, j.UserID
		for _, v := range []string{got.Requestor, got.MVPD, got.UserID} {
			if v != wantJSON {
				t.Fatalf("JSON round trip: got %q, want %q", v, wantJSON)
			}
		}

		body := encodeXML(authnBody{tok})
		var x struct {
			Requestor string `xml:"requestor"`
			MVPD      string `xml:"mvpd"`
			UserID    string `xml:"userId"`
		}
		if err := xmlWellFormed(body); err != nil {
			t.Fatalf("%v: %q", err, body)
		}
		if err := xml.Unmarshal(body, &x); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{x.Requestor, x.MVPD, x.UserID} {
			if v != wantXML {
				t.Fatalf("XML round trip: got %q, want %q", v, wantXML)
			}
		}

		md := &v1model.UserMetadata{Encrypted: []string{s}, Data: []v1model.MetadataField{{Name: key, Value: []any{s, map[string]any{key: s}}}}}
		if err := xmlWellFormed(encodeXML(userMetadataBody{md})); err != nil {
			t.Fatalf("metadata XML: %v", err)
		}
		if !json.Valid(encodeJSON(userMetadataBody{md})) {
			t.Fatal("metadata JSON invalid")
		}
		e := &v1model.Error{Status: 403, Message: s, Details: s, Code: s, Action: s, HelpURL: s, Trace: s}
		if err := xmlWellFormed(encodeXML(errorBody{e})); err != nil {
			t.Fatalf("error XML: %v", err)
		}
		if !json.Valid(encodeJSON(errorBody{e})) {
			t.Fatal("error JSON invalid")
		}
	})
}

// replaceInvalid replaces invalid UTF-8 bytes and runes keep rejects with
// U+FFFD, one per byte or rune.
func replaceInvalid(s string, keep func(rune) bool) string {
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && w == 1) || !keep(r) {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
		i += w
	}
	return sb.String()
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
