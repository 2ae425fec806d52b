package compat

import (
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
// varies from one recording to the next, and nothing a device acts on.
func TestDefaultIgnore(t *testing.T) {
	want := Response{Status: 201, Header: http.Header{"Content-Type": {ctJSON}, "Adobe-Request-Id": {"a"}},
		Body: []byte(`{"id":"1","code":"ABC","requestor":"REF30","mvpd":"AcmeCable","generated":1,"expires":2,"info":{"deviceId":"ZA==","deviceInfo":"x"}}`)}
	got := Response{Status: 201, Header: http.Header{"Content-Type": {ctJSON}, "Adobe-Request-Id": {"b"}},
		Body: []byte(`{"id":"2","code":"XYZ","requestor":"REF30","mvpd":"AcmeCable","generated":3,"expires":4,"info":{"deviceId":"ZA==","deviceInfo":"y"}}`)}
	if d := Compare(want, got, DefaultIgnore()); d != "" {
		t.Errorf("volatile values reported:\n%s", d)
	}
	got.Body = []byte(strings.Replace(string(got.Body), "AcmeCable", "BetaFiber", 1))
	if d := Compare(want, got, DefaultIgnore()); !strings.Contains(d, `+$.mvpd string "BetaFiber"`) {
		t.Errorf("a changed mvpd is hidden:\n%s", d)
	}
}
