package v1api

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
)

// FuzzRenderBodies puts an arbitrary string in every string field of every
// v1 body FuzzRender does not cover (registration, config, authorization,
// media token, preauthorize, the enhanced item error): each rendering is
// well-formed, and each field's text comes back unchanged but for the
// characters the format cannot carry.
func FuzzRenderBodies(f *testing.F) {
	f.Add("plain")
	f.Add("<resource>&amp;</resource>]]><!--")
	f.Add("<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel><title>x</title></channel></rss>")
	f.Add("\x00\x1f\x7f\xff\ufffe\uffff\U0010FFFF\u2028\"\\/")
	f.Add("{\"a\":1}\r\nX-Injected: 1")
	f.Fuzz(func(t *testing.T, s string) {
		wantJSON := replaceInvalid(s, func(rune) bool { return true })
		wantXML := replaceInvalid(s, isXMLChar)
		at := time.UnixMilli(1700000000000)
		yes := true
		bodies := []struct {
			name    string
			body    body
			strings int // how many string fields hold s
		}{
			{"registration",
				registrationBody{regFor(s, at)}, 9},
			{"config",
				configBody{configFor(s, &yes)}, 8},
			{"authorization",
				authzBody{&v1model.AuthzToken{Requestor: s, MVPD: s, Resource: s, Expires: at, ProxyMVPD: s}}, 4},
			{"media token",
				mediaBody{&v1model.MediaToken{Requestor: s, Resource: s, Expires: at, MVPDID: s, SerializedToken: s, UserID: s}}, 5},
			{"preauthorize",
				&preauthorizeBody{preauthFor(s), itemErrorOptions{enhanced: true, helpURL: s, trace: s}}, 2},
		}
		for _, b := range bodies {
			x := encodeXML(b.body)
			if err := xmlWellFormed(x); err != nil {
				t.Fatalf("%s XML: %v: %q", b.name, err, x)
			}
			if n := countXMLText(t, x, wantXML); s != "" && n < b.strings {
				t.Errorf("%s XML: %d texts equal %q, want at least %d: %s", b.name, n, wantXML, b.strings, x)
			}
			j := encodeJSON(b.body)
			var v any
			if err := json.Unmarshal(j, &v); err != nil {
				t.Fatalf("%s JSON: %v: %q", b.name, err, j)
			}
			if n := countJSONStrings(v, wantJSON); s != "" && n < b.strings {
				t.Errorf("%s JSON: %d strings equal %q, want at least %d: %s", b.name, n, wantJSON, b.strings, j)
			}
		}
	})
}

func regFor(s string, at time.Time) *v1model.Registration {
	return &v1model.Registration{ID: s, Code: s, Requestor: s, MVPD: s, Generated: at, Expires: at,
		Info: v1model.RegistrationInfo{DeviceID: []byte(s), DeviceType: s, DeviceUser: s, AppID: s, AppVersion: s, RegistrationURL: s}}
}

func configFor(s string, yes *bool) *v1model.Config {
	return &v1model.Config{Requestor: v1model.RequestorConfig{ID: s, Name: s, MVPDs: []v1model.MVPD{{
		ID: s, DisplayName: s, LogoURL: s, EnablePlatformServices: yes, BoardingStatus: s, PlatformMappingID: s,
		RequiredMetadataFields: []string{s},
	}}}}
}

func preauthFor(s string) *v1model.Preauthorization {
	return &v1model.Preauthorization{Resources: []v1model.ResourceDecision{
		{ID: s, Authorized: true},
		{ID: s, Error: &v1model.Error{Status: 403, Message: s, Details: s, Code: "authorization_denied_by_mvpd"}},
	}}
}

// countXMLText counts the elements whose whole text is want.
func countXMLText(t *testing.T, body []byte, want string) int {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(body))
	n := 0
	var text []byte
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			text = text[:0]
		case xml.CharData:
			text = append(text, tok...)
		case xml.EndElement:
			if string(text) == want {
				n++
			}
			text = text[:0]
		}
	}
}

// countJSONStrings counts the string values in v equal to want.
func countJSONStrings(v any, want string) int {
	switch v := v.(type) {
	case string:
		if v == want {
			return 1
		}
	case []any:
		n := 0
		for _, e := range v {
			n += countJSONStrings(e, want)
		}
		return n
	case map[string]any:
		n := 0
		for _, e := range v {
			n += countJSONStrings(e, want)
		}
		return n
	}
	return 0
}
