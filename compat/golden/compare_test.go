package golden

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const (
	ctXML  = "application/xml; charset=utf-8"
	ctJSON = "application/json; charset=utf-8"
	prolog = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`
)

func xmlResp(status int, body string) Response {
	return Response{Status: status, Header: http.Header{"Content-Type": {ctXML}}, Body: []byte(body)}
}

func jsonResp(status int, body string) Response {
	return Response{Status: status, Header: http.Header{"Content-Type": {ctJSON}}, Body: []byte(body)}
}

const authnXML = prolog + `<authentication><expires>1348649569000</expires><userId>alice</userId><mvpd>AcmeCable</mvpd><requestor>REF30</requestor></authentication>`
const authnJSON = `{"requestor":"REF30","mvpd":"AcmeCable","userId":"alice","expires":"1348649569000"}`

func TestCompare(t *testing.T) {
	tests := []struct {
		name      string
		want, got Response
		ignore    Ignore
		// diffHas are lines the diff must contain; nil means no difference.
		diffHas []string
	}{
		{name: "same XML", want: xmlResp(200, authnXML), got: xmlResp(200, authnXML)},
		{name: "XML whitespace between elements is insignificant",
			want: xmlResp(200, authnXML),
			got:  xmlResp(200, strings.ReplaceAll(authnXML, "><", ">\n  <"))},
		{name: "XML changed value", want: xmlResp(200, authnXML),
			got:     xmlResp(200, strings.Replace(authnXML, "alice", "bob", 1)),
			diffHas: []string{`-/authentication/userId = "alice"`, `+/authentication/userId = "bob"`}},
		{name: "XML reordered element", want: xmlResp(200, authnXML),
			got:     xmlResp(200, prolog+`<authentication><userId>alice</userId><expires>1348649569000</expires><mvpd>AcmeCable</mvpd><requestor>REF30</requestor></authentication>`),
			diffHas: []string{`-/authentication/expires = "1348649569000"`, `+/authentication/expires = "1348649569000"`}},
		{name: "XML prolog missing", want: xmlResp(200, authnXML),
			got:     xmlResp(200, strings.TrimPrefix(authnXML, prolog)),
			diffHas: []string{`-<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`}},
		{name: "XML namespace declaration changed",
			want:    xmlResp(201, prolog+`<ns2:regcode xmlns:ns2="model.mvc.reggie.pass.adobe.com"><id>x</id></ns2:regcode>`),
			got:     xmlResp(201, prolog+`<ns2:regcode xmlns:ns2="rest.pass.adobe.com"><id>x</id></ns2:regcode>`),
			diffHas: []string{`-/ns2:regcode @xmlns:ns2="model.mvc.reggie.pass.adobe.com"`, `+/ns2:regcode @xmlns:ns2="rest.pass.adobe.com"`}},
		{name: "XML prefix changed",
			want:    xmlResp(201, prolog+`<ns2:regcode xmlns:ns2="model.mvc.reggie.pass.adobe.com"><id>x</id></ns2:regcode>`),
			got:     xmlResp(201, prolog+`<regcode xmlns="model.mvc.reggie.pass.adobe.com"><id>x</id></regcode>`),
			diffHas: []string{`+/regcode @xmlns="model.mvc.reggie.pass.adobe.com"`}},
		{name: "XML text whitespace inside a value matters", want: xmlResp(200, authnXML),
			got:     xmlResp(200, strings.Replace(authnXML, "alice", " alice", 1)),
			diffHas: []string{`+/authentication/userId = " alice"`}},
		{name: "XML empty element vs absent",
			want:    xmlResp(201, prolog+`<r><id>x</id><mvpd/></r>`),
			got:     xmlResp(201, prolog+`<r><id>x</id></r>`),
			diffHas: []string{`-/r/mvpd = ""`}},
		{name: "same JSON", want: jsonResp(200, authnJSON), got: jsonResp(200, "{\n \"requestor\": \"REF30\", \"mvpd\":\"AcmeCable\",\"userId\":\"alice\",\"expires\":\"1348649569000\"}\n")},
		{name: "JSON changed value", want: jsonResp(200, authnJSON),
			got:     jsonResp(200, strings.Replace(authnJSON, "AcmeCable", "BetaFiber", 1)),
			diffHas: []string{`-$.mvpd string "AcmeCable"`, `+$.mvpd string "BetaFiber"`}},
		{name: "JSON string vs number", want: jsonResp(200, authnJSON),
			got:     jsonResp(200, strings.Replace(authnJSON, `"1348649569000"`, `1348649569000`, 1)),
			diffHas: []string{`-$.expires string "1348649569000"`, `+$.expires number 1348649569000`}},
		{name: "JSON key order", want: jsonResp(200, authnJSON),
			got:     jsonResp(200, `{"mvpd":"AcmeCable","requestor":"REF30","userId":"alice","expires":"1348649569000"}`),
			diffHas: []string{`-$.requestor string "REF30"`, `+$.requestor string "REF30"`}},
		{name: "JSON null vs absent", want: jsonResp(404, `{"status":404,"message":"Not Found","details":null}`),
			got:     jsonResp(404, `{"status":404,"message":"Not Found"}`),
			diffHas: []string{`-$.details null`}},
		{name: "JSON array order", want: jsonResp(200, `{"resources":[{"id":"a"},{"id":"b"}]}`),
			got:     jsonResp(200, `{"resources":[{"id":"b"},{"id":"a"}]}`),
			diffHas: []string{`-$.resources[0].id string "a"`, `+$.resources[0].id string "b"`}},
		{name: "status", want: jsonResp(404, `{}`), got: jsonResp(410, `{}`),
			diffHas: []string{"-status 404 Not Found", "+status 410 Gone"}},
		{name: "content type", want: jsonResp(200, `{}`),
			got:     Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`)},
			diffHas: []string{"-header Content-Type: application/json; charset=utf-8", "+header Content-Type: application/json"}},
		{name: "unexpected Location", want: Response{Status: 204, Header: http.Header{}},
			got:     Response{Status: 204, Header: http.Header{"Location": {"http://x/"}}},
			diffHas: []string{"-header Location (absent)", "+header Location: http://x/"}},
		{name: "unrecorded headers of got are not compared", want: Response{Status: 204, Header: http.Header{}},
			got: Response{Status: 204, Header: http.Header{"Adobe-Request-Id": {"x"}}}},
		{name: "body where none expected", want: Response{Status: 204, Header: http.Header{}},
			got:     Response{Status: 204, Header: http.Header{}, Body: []byte("x")},
			diffHas: []string{"-body (empty)", `+| "x"`}},
		{name: "XML expected, garbage got", want: xmlResp(200, authnXML),
			got:     xmlResp(200, "<authentication>"),
			diffHas: []string{"+body text (not XML"}},
		{name: "text bodies by line", want: Response{Status: 429, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("a\r\nb\r\n")},
			got:     Response{Status: 429, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("a\nb\n")},
			diffHas: []string{`-| "a\r\n"`, `+| "a\n"`}},
		{name: "ignored JSON key and header", ignore: Ignore{"expires", "header:Adobe-Request-Id"},
			want: Response{Status: 200, Header: http.Header{"Content-Type": {ctJSON}, "Adobe-Request-Id": {"1"}}, Body: []byte(authnJSON)},
			got: Response{Status: 200, Header: http.Header{"Content-Type": {ctJSON}, "Adobe-Request-Id": {"2"}},
				Body: []byte(strings.Replace(authnJSON, `"1348649569000"`, `99`, 1))}},
		{name: "ignored XML element", ignore: Ignore{"xml:expires"},
			want: xmlResp(200, authnXML), got: xmlResp(200, strings.Replace(authnXML, "1348649569000", "2", 1))},
		{name: "ignored JSON object", ignore: Ignore{"json:info"},
			want: jsonResp(201, `{"code":"A","info":{"deviceId":"x"}}`), got: jsonResp(201, `{"code":"A","info":{"deviceId":"y","more":1}}`)},
		{name: "ignored value must still be present", ignore: Ignore{"expires"},
			want: jsonResp(200, authnJSON), got: jsonResp(200, `{"requestor":"REF30","mvpd":"AcmeCable","userId":"alice"}`),
			diffHas: []string{"-$.expires = <ignored>"}},
		{name: "selector of one kind leaves the other", ignore: Ignore{"json:expires"},
			want: xmlResp(200, authnXML), got: xmlResp(200, strings.Replace(authnXML, "1348649569000", "2", 1)),
			diffHas: []string{`+/authentication/expires = "2"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Compare(tt.want, tt.got, tt.ignore)
			if tt.diffHas == nil {
				if d != "" {
					t.Errorf("unexpected difference:\n%s", d)
				}
				return
			}
			if d == "" {
				t.Fatal("no difference reported")
			}
			lines := strings.Split(d, "\n")
			for _, want := range tt.diffHas {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("diff lacks a line starting %q:\n%s", want, d)
				}
			}
		})
	}
}

// TestCompareDiffIsUnified pins the exact report for a string-vs-number
// change, so the output stays a readable unified diff.
func TestCompareDiffIsUnified(t *testing.T) {
	want := jsonResp(200, `{"a":"1","b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":"1"}`)
	got := jsonResp(200, `{"a":"1","b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":1}`)
	const expect = `--- want
+++ got
@@ -8,4 +8,4 @@
 $.e number 5
 $.f number 6
 $.g number 7
-$.h string "1"
+$.h number 1
`
	if d := Compare(want, got, nil); d != expect {
		t.Errorf("diff:\n%s\nwant:\n%s", d, expect)
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := strings.Split("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", " ")
	b := append([]string{"0"}, a...)
	b[6] = "X"                    // replaces 6
	b = append(b[:19], b[20:]...) // drops 19
	const expect = `--- a
+++ b
@@ -1,9 +1,10 @@
+0
 1
 2
 3
 4
 5
-6
+X
 7
 8
 9
@@ -16,5 +17,4 @@
 16
 17
 18
-19
 20
`
	if d := UnifiedDiff("a", "b", a, b); d != expect {
		t.Errorf("diff:\n%s\nwant:\n%s", d, expect)
	}
	if d := UnifiedDiff("a", "b", a, a); d != "" {
		t.Errorf("equal inputs: %q", d)
	}
	if d := UnifiedDiff("a", "b", nil, []string{"x"}); d != "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n" {
		t.Errorf("from empty: %q", d)
	}
}

// TestDefaultIgnore proves the selectors for unfixable targets hide what
// a live v1 varies from one run to the next (the registration record's id,
// times and connection-bound device information, expiries, the media
// token, the update time of user metadata, an error's trace) and nothing
// else: not a device-facing value, not the enhanced error code, not an MVPD
// id of the configuration.
func TestDefaultIgnore(t *testing.T) {
	const regJSON = `{"id":"%s","code":"{{code1}}","requestor":"REF30","mvpd":"%s","generated":%d,"expires":%d,"info":{"deviceId":"ZA==","deviceInfo":"%s","userAgent":"Roku"}}`
	const regXML = prolog + `<ns2:regcode xmlns:ns2="model.mvc.reggie.pass.adobe.com"><id>%s</id><code>{{code1}}</code><requestor>REF30</requestor><mvpd>%s</mvpd><generated>%d</generated><expires>%d</expires><info><deviceId>ZA==</deviceId><deviceInfo>%s</deviceInfo></info></ns2:regcode>`
	const mediaJSON = `{"resource":"news","requestor":"REF30","expires":"%d","serializedToken":"%s","userId":"u1","mvpdId":"AcmeCable"}`
	const metaXML = prolog + `<userMetadata><updated>%d</updated><encrypted/><data><zip>%s</zip></data></userMetadata>`
	const errJSON = `{"action":"retry","status":500,"code":"%s","message":"m","helpUrl":"https://x","trace":"%s"}`
	const configXML = prolog + `<config><requestor><id>REF30</id><name>R</name><mvpds><mvpd><id>%s</id><displayName>Acme</displayName></mvpd></mvpds></requestor></config>`
	const configJSON = `{"requestor":{"id":"REF30","name":"R","mvpds":[{"id":"%s","displayName":"Acme"}]}}`
	tests := []struct {
		name      string
		want, got Response
		// diff is a line the diff must hold; "" means none.
		diff string
	}{
		{"regcode JSON, another run", jsonResp(201, fmt.Sprintf(regJSON, "a-1", "AcmeCable", 1, 2, "eA==")),
			jsonResp(201, fmt.Sprintf(regJSON, "b-2", "AcmeCable", 3, 4, "eQ==")), ""},
		{"regcode XML, another run", xmlResp(201, fmt.Sprintf(regXML, "a-1", "AcmeCable", 1, 2, "eA==")),
			xmlResp(201, fmt.Sprintf(regXML, "b-2", "AcmeCable", 3, 4, "eQ==")), ""},
		{"regcode mvpd", jsonResp(201, fmt.Sprintf(regJSON, "a-1", "AcmeCable", 1, 2, "eA==")),
			jsonResp(201, fmt.Sprintf(regJSON, "a-1", "BetaFiber", 1, 2, "eA==")), `+$.mvpd string "BetaFiber"`},
		{"regcode code", jsonResp(201, fmt.Sprintf(regJSON, "a-1", "AcmeCable", 1, 2, "eA==")),
			jsonResp(201, strings.Replace(fmt.Sprintf(regJSON, "a-1", "AcmeCable", 1, 2, "eA=="), "{{code1}}", "ABC1234", 1)), `+$.code string "ABC1234"`},
		{"media token, another run", jsonResp(200, fmt.Sprintf(mediaJSON, 1, "dG9r")), jsonResp(200, fmt.Sprintf(mediaJSON, 2, "b3Ro")), ""},
		{"user metadata, another run", xmlResp(200, fmt.Sprintf(metaXML, 1, "12345")), xmlResp(200, fmt.Sprintf(metaXML, 2, "12345")), ""},
		{"user metadata value", xmlResp(200, fmt.Sprintf(metaXML, 1, "12345")), xmlResp(200, fmt.Sprintf(metaXML, 1, "99999")),
			`+/userMetadata/data/zip = "99999"`},
		{"enhanced error trace", jsonResp(500, fmt.Sprintf(errJSON, "internal_error", "t1")), jsonResp(500, fmt.Sprintf(errJSON, "internal_error", "t2")), ""},
		{"enhanced error code", jsonResp(500, fmt.Sprintf(errJSON, "internal_error", "t1")), jsonResp(500, fmt.Sprintf(errJSON, "network_connection_failure", "t1")),
			`+$.code string "network_connection_failure"`},
		{"configuration MVPD id, XML", xmlResp(200, fmt.Sprintf(configXML, "AcmeCable")), xmlResp(200, fmt.Sprintf(configXML, "Acme")),
			`+/config/requestor/mvpds/mvpd/id = "Acme"`},
		{"configuration MVPD id, JSON", jsonResp(200, fmt.Sprintf(configJSON, "AcmeCable")), jsonResp(200, fmt.Sprintf(configJSON, "Acme")),
			`+$.requestor.mvpds[0].id string "Acme"`},
		{"Location", Response{Status: 302, Header: http.Header{"Location": {"{{sandbox}}/api/v2/authenticate/REF30/{{code1}}"}}},
			Response{Status: 302, Header: http.Header{"Location": {"{{sandbox}}/api/v2/authenticate/REF30/ABC1234"}}},
			"+header Location: {{sandbox}}/api/v2/authenticate/REF30/ABC1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Compare(tt.want, tt.got, DefaultIgnore())
			switch {
			case tt.diff == "" && d != "":
				t.Errorf("a value that varies is reported:\n%s", d)
			case tt.diff != "" && !strings.Contains(d, tt.diff+"\n"):
				t.Errorf("diff lacks %q:\n%s", tt.diff, d)
			}
		})
	}
}

// TestIgnorePaths proves a path selector hides the one value at its path
// and no other of the same name.
func TestIgnorePaths(t *testing.T) {
	want := jsonResp(200, `{"id":"1","a":{"id":"x"},"list":[{"id":"p"}]}`)
	got := jsonResp(200, `{"id":"2","a":{"id":"y"},"list":[{"id":"q"}]}`)
	d := Compare(want, got, Ignore{"$.id", "json:$.list[0].id"})
	if strings.Contains(d, "$.id string") || strings.Contains(d, "$.list[0].id string") || !strings.Contains(d, `+$.a.id string "y"`) {
		t.Errorf("diff:\n%s", d)
	}
	wx := xmlResp(200, `<r><id>1</id><a><id>x</id></a></r>`)
	gx := xmlResp(200, `<r><id>2</id><a><id>y</id></a></r>`)
	d = Compare(wx, gx, Ignore{"/r/id"})
	if strings.Contains(d, `/r/id = "2"`) || !strings.Contains(d, `+/r/a/id = "y"`) {
		t.Errorf("XML diff:\n%s", d)
	}
}
