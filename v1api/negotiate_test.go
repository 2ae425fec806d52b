package v1api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNegotiation(t *testing.T) {
	tests := []struct {
		name   string
		target string
		method string
		body   string
		accept string
		want   string // content type
	}{
		{"default is XML", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "", contentTypeXML},
		{"wildcard Accept is XML", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "*/*", contentTypeXML},
		{"Accept JSON", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "application/json", contentTypeJSON},
		{"Accept text/xml", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "text/xml", contentTypeXML},
		{"Accept q-order prefers JSON", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "application/xml;q=0.5, application/json;q=0.9", contentTypeJSON},
		{"Accept q-order prefers XML", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "application/json;q=0.1, text/html, application/xml;q=0.8", contentTypeXML},
		{"Accept q=0 refuses JSON", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "application/json;q=0", contentTypeXML},
		{"browser Accept is XML", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", contentTypeXML},
		{"format beats Accept", "/api/v1/tokens/authn?requestor=R&deviceId=d&format=json", "", "", "application/xml", contentTypeJSON},
		{"format is case-insensitive", "/api/v1/tokens/authn?requestor=R&deviceId=d&format=JSON", "", "", "", contentTypeJSON},
		{"unknown format ignored", "/api/v1/tokens/authn?requestor=R&deviceId=d&format=yaml", "", "", "application/json", contentTypeJSON},
		{"extension beats format", "/api/v1/tokens/authn.xml?requestor=R&deviceId=d&format=json", "", "", "application/json", contentTypeXML},
		{"json extension", "/api/v1/tokens/authn.json?requestor=R&deviceId=d", "", "", "", contentTypeJSON},
		{"format in POST body", "/reggie/v1/R/regcode", "POST", "deviceId=d&format=json", "", contentTypeJSON},
		{"errors follow the choice", "/api/v1/tokens/authn.json?requestor=R", "", "", "", contentTypeJSON},
		{"404 follows the choice", "/api/v1/unknown.json", "", "", "", contentTypeJSON},
		{"405 follows the choice", "/api/v1/checkauthn?format=json", "PUT", "", "", contentTypeJSON},
		{"Accept is case-insensitive", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "Application/JSON", contentTypeJSON},
		{"Accept ties go to the first", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "application/json;q=0.5, application/xml;q=0.5", contentTypeJSON},
		{"Accept over several headers", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "text/xml;q=0.2\napplication/json;q=0.3", contentTypeJSON},
		{"Accept folds ASCII only", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "application/j\u017fon", contentTypeXML},
		{"Accept broken q skipped", "/api/v1/tokens/authn?requestor=R&deviceId=d", "", "", "application/json;q=x, text/xml;q=0.1", contentTypeXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := testRequest{method: tt.method, target: tt.target, body: tt.body, header: map[string]string{}}
			h := newTestHandler(t, newRecordingBackend(), nil)
			r := req.build()
			for _, v := range strings.Split(tt.accept, "\n") {
				if v != "" {
					r.Header.Add("Accept", v)
				}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Header().Get("Content-Type"); got != tt.want {
				t.Errorf("Content-Type %q, want %q (status %d)", got, tt.want, w.Code)
			}
			isJSON := strings.HasPrefix(w.Body.String(), "{")
			if isJSON != (tt.want == contentTypeJSON) {
				t.Errorf("body does not match the content type: %s", w.Body)
			}
		})
	}
}

func TestStripExtension(t *testing.T) {
	tests := []struct {
		path, wantPath string
		want           format
	}{
		{"/reggie/v1/R/regcode.json", "/reggie/v1/R/regcode", formatJSON},
		{"/reggie/v1/R/regcode/ABC.xml", "/reggie/v1/R/regcode/ABC", formatXML},
		{"/api/v1/config/R", "/api/v1/config/R", formatUnset},
		{"/api/v1/.json", "/api/v1/.json", formatUnset},
		{"/api/v1.json/checkauthn", "/api/v1.json/checkauthn", formatUnset},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest("GET", tt.path, nil)
		r2, f := stripExtension(r)
		if r2.URL.Path != tt.wantPath || f != tt.want {
			t.Errorf("%s: got %s %v, want %s %v", tt.path, r2.URL.Path, f, tt.wantPath, tt.want)
		}
		if r.URL.Path != tt.path {
			t.Errorf("%s: original request modified", tt.path)
		}
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		target, accept string
		want           bool
	}{
		{"/api/v1/checkauthn", "", false},
		{"/api/v1/checkauthn.json", "application/xml", true},
		{"/api/v1/checkauthn.xml?format=json", "application/json", false},
		{"/api/v1/checkauthn?format=JSON", "application/xml", true},
		{"/api/v1/checkauthn?format=yaml", "application/json", true},
		{"/api/v1/checkauthn", "application/xml;q=0.5, application/json", true},
		{"/api/v1/checkauthn", "application/json;q=0, */*", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.target, nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		if got := WantsJSON(r); got != tt.want {
			t.Errorf("%s Accept %q: %v, want %v", tt.target, tt.accept, got, tt.want)
		}
	}
}
