package sandbox

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestAccessTokens(t *testing.T) {
	f := DefaultFixture()
	f.ServiceProviders = append(f.ServiceProviders, ServiceProvider{ID: "OTHER", Name: "Other", MVPDs: []string{"AcmeCable"}})
	f.SoftwareStatements = append(f.SoftwareStatements, SoftwareStatement{Statement: "other-statement", ServiceProvider: "OTHER"})
	s := start(t, func(c *Config) { c.Fixture = f })
	good := registerClient(t, s, "sandbox-statement")
	other := registerClient(t, s, "other-statement")

	tests := []struct {
		name   string
		token  string
		sp     string
		status int
		code   string
	}{
		{"no token", "", "REF30", 401, CodeInvalidTokenClientApplication},
		{"unknown token", "not-a-token", "REF30", 401, CodeInvalidTokenClientApplication},
		{"token of another service provider", other, "REF30", 401, CodeInvalidTokenServiceProvider},
		{"unknown service provider", good, "NOPE", 400, CodeInvalidParameterServiceProvider},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDevice(t, s, tc.token, "tv")
			d.sp = tc.sp
			for _, path := range []string{"/configuration", "/profiles", "/profiles/code/ABCDEFG"} {
				r := d.get(path)
				wantStatusCode(t, r, tc.status, tc.code)
				if tc.status == 401 && r.json(t)["action"] != "application-registration" {
					t.Errorf("%s: action %v", path, r.json(t)["action"])
				}
			}
		})
	}

	d := newDevice(t, s, good, "tv")
	if r := d.get("/configuration"); r.status != http.StatusOK {
		t.Fatalf("configuration: %d %s", r.status, r.body)
	}
	s.Advance(6*time.Hour - time.Millisecond)
	if r := d.get("/configuration"); r.status != http.StatusOK {
		t.Fatalf("token just before expires_in: %d", r.status)
	}
	s.Advance(time.Millisecond)
	wantStatusCode(t, d.get("/configuration"), http.StatusUnauthorized, CodeInvalidTokenClientApplication)
}

func TestConfiguration(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	d.extra = http.Header{} // device headers are optional here
	r := d.get("/configuration")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	req := r.json(t)["requestor"].(map[string]any)
	if req["id"] != "REF30" {
		t.Errorf("requestor %v", req)
	}
	var ids []string
	for _, m := range req["mvpds"].([]any) {
		mv := m.(map[string]any)
		ids = append(ids, mv["id"].(string))
		if mv["id"] == "TempPass_REF30" && mv["isTempPass"] != true {
			t.Errorf("TempPass entry %v", mv)
		}
	}
	if len(ids) != 3 || ids[0] != "AcmeCable" || ids[1] != "BetaFiber" || ids[2] != "TempPass_REF30" {
		t.Errorf("mvpds %v", ids)
	}
	if doms := req["domains"].([]any); len(doms) != 2 || doms[0].(map[string]any)["name"] != "example.com" {
		t.Errorf("domains %v", doms)
	}
	// Adobe's sample request has a trailing slash.
	if r := d.get("/configuration/"); r.status != http.StatusOK {
		t.Errorf("trailing slash: %d", r.status)
	}
}

func TestMethodsAndUnknownPaths(t *testing.T) {
	s := start(t)
	tok := registerClient(t, s, "sandbox-statement")
	h := http.Header{"Authorization": {"Bearer " + tok}}
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/api/v2/REF30/sessions", 405},
		{http.MethodPut, "/api/v2/REF30/sessions/ABCDEFG", 405},
		{http.MethodDelete, "/api/v2/REF30/logout/AcmeCable", 405},
		{http.MethodGet, "/api/v2/REF30/decisions/authorize/AcmeCable", 405},
		{http.MethodGet, "/o/client/token", 405},
		{http.MethodGet, "/api/v2/REF30/logout", 404},
		{http.MethodGet, "/api/v1/checkauthn", 404},
	}
	for _, tc := range tests {
		r := send(t, tc.method, s.URL+tc.path, h, nil)
		if r.status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, r.status, tc.status)
		}
		if tc.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
	}
	un := s.UnhandledRequests()
	if len(un) != len(tests) {
		t.Fatalf("unhandled %d requests, want %d: %+v", len(un), len(tests), un)
	}
	for i, tc := range tests {
		if un[i].Method != tc.method || un[i].Path != tc.path || un[i].Status != tc.status {
			t.Errorf("unhandled[%d] = %s %s %d", i, un[i].Method, un[i].Path, un[i].Status)
		}
	}
	if got := len(s.Requests()); got != len(tests)+2 { // + register, token
		t.Errorf("recorded %d requests", got)
	}
}

func TestRequiredHeaders(t *testing.T) {
	s := start(t)
	tok := registerClient(t, s, "sandbox-statement")
	form := url.Values{"mvpd": {"AcmeCable"}, "domainName": {"example.com"}, "redirectUrl": {appRedirect}}.Encode()
	type req struct {
		method, path, ct, body string
	}
	endpoints := map[string]req{
		"sessions":     {http.MethodPost, "/api/v2/REF30/sessions", "application/x-www-form-urlencoded", form},
		"profiles":     {http.MethodGet, "/api/v2/REF30/profiles", "", ""},
		"profile mvpd": {http.MethodGet, "/api/v2/REF30/profiles/AcmeCable", "", ""},
		"authorize":    {http.MethodPost, "/api/v2/REF30/decisions/authorize/AcmeCable", "application/json", `{"resources":["news"]}`},
		"preauthorize": {http.MethodPost, "/api/v2/REF30/decisions/preauthorize/AcmeCable", "application/json", `{"resources":["news"]}`},
		"logout":       {http.MethodGet, "/api/v2/REF30/logout/AcmeCable?redirectUrl=" + url.QueryEscape(appRedirect), "", ""},
		"sessions sso": {http.MethodPost, "/api/v2/REF30/sessions/sso/Apple", "application/x-www-form-urlencoded", form},
	}
	full := func(ct string) http.Header {
		h := newDevice(t, s, tok, "tv").headers()
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		return h
	}
	for name, e := range endpoints {
		t.Run(name, func(t *testing.T) {
			if r := send(t, e.method, s.URL+e.path, full(e.ct), []byte(e.body)); r.status != http.StatusOK {
				t.Fatalf("with every header: %d %s", r.status, r.body)
			}
			for _, tc := range []struct {
				header, value, code string
			}{
				{"AP-Device-Identifier", "", CodeInvalidHeaderDeviceIdentifier},
				{"AP-Device-Identifier", "serial abc", CodeInvalidHeaderDeviceIdentifier},
				{"AP-Device-Identifier", "fingerprint !!!", CodeInvalidHeaderDeviceIdentifier},
				{"X-Device-Info", "", CodeInvalidHeaderDeviceInfo},
				{"X-Device-Info", "%%%", CodeInvalidHeaderDeviceInfo},
			} {
				h := full(e.ct)
				if tc.value == "" {
					h.Del(tc.header)
				} else {
					h.Set(tc.header, tc.value)
				}
				wantStatusCode(t, send(t, e.method, s.URL+e.path, h, []byte(e.body)), http.StatusBadRequest, tc.code)
			}
			if e.ct != "" {
				h := full("")
				h.Set("Content-Type", "text/plain")
				if r := send(t, e.method, s.URL+e.path, h, []byte(e.body)); r.status != http.StatusBadRequest {
					t.Errorf("wrong Content-Type: %d %s", r.status, r.body)
				}
			}
		})
	}
}

func TestStrictDeviceInfo(t *testing.T) {
	s := start(t, func(c *Config) { c.StrictDeviceInfo = true })
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	if r := d.get("/profiles"); r.status != http.StatusOK {
		t.Fatalf("complete device info: %d %s", r.status, r.body)
	}
	// Adobe's own sample value: invalid JSON lacking version and connectionType.
	d.extra.Set("X-Device-Info", "eyJwcmltYXJ5SGFyZHdhcmVUeXBlIjoiU2V0VG9wQm94IiwibW9kZWwiOiJUViJ9")
	wantStatusCode(t, d.get("/profiles"), http.StatusBadRequest, CodeInvalidHeaderDeviceInfo)

	lenient := start(t)
	ld := newDevice(t, lenient, registerClient(t, lenient, "sandbox-statement"), "tv")
	ld.extra.Set("X-Device-Info", "eyJwcmltYXJ5SGFyZHdhcmVUeXBlIjoiU2V0VG9wQm94IiwibW9kZWwiOiJUViJ9")
	if r := ld.get("/profiles"); r.status != http.StatusOK {
		t.Errorf("lenient mode refused Base64 device info: %d", r.status)
	}
}

func TestDCR(t *testing.T) {
	f := DefaultFixture()
	f.SoftwareStatements = append(f.SoftwareStatements, SoftwareStatement{Statement: "revoked-statement", ServiceProvider: "REF30", Unapproved: true})
	s := start(t, func(c *Config) { c.Fixture = f })
	jsonHeaders := http.Header{"Content-Type": {"application/json"}, "X-Device-Info": {deviceInfo()}}
	register := []struct {
		name   string
		header http.Header
		body   string
		want   string
	}{
		{"no statement", jsonHeaders, `{}`, "invalid_request"},
		{"not JSON", jsonHeaders, `software_statement=x`, "invalid_request"},
		{"form content type", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Device-Info": {deviceInfo()}}, `{"software_statement":"sandbox-statement"}`, "invalid_request"},
		{"no device info", http.Header{"Content-Type": {"application/json"}}, `{"software_statement":"sandbox-statement"}`, "invalid_request"},
		{"unknown statement", jsonHeaders, `{"software_statement":"eyJ.forged.jwt"}`, "invalid_software_statement"},
		{"unapproved statement", jsonHeaders, `{"software_statement":"revoked-statement"}`, "unapproved_software_statement"},
		{"bad redirect", jsonHeaders, `{"software_statement":"sandbox-statement","redirect_uri":"::"}`, "invalid_redirect_uri"},
	}
	for _, tc := range register {
		r := send(t, http.MethodPost, s.URL+"/o/client/register", tc.header, []byte(tc.body))
		if r.status != http.StatusBadRequest || r.json(t)["error"] != tc.want {
			t.Errorf("register %s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.want)
		}
	}

	reg := send(t, http.MethodPost, s.URL+"/o/client/register", jsonHeaders, []byte(`{"software_statement":"sandbox-statement","redirect_uri":"app://tv.example#cb"}`))
	if reg.status != http.StatusCreated {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	creds := reg.json(t)
	wantTypes(t, "register", creds, map[string]string{"client_id": "string", "client_secret": "string", "client_id_issued_at": "number"})
	if creds["client_id_issued_at"] != float64(epoch.Unix()) {
		t.Errorf("client_id_issued_at %v, want seconds", creds["client_id_issued_at"])
	}
	if u := creds["redirect_uris"].([]any); len(u) != 1 || u[0] != "app://tv.example#cb" {
		t.Errorf("redirect_uris %v", u)
	}
	id, secret := creds["client_id"].(string), creds["client_secret"].(string)
	formHeaders := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Device-Info": {deviceInfo()}}
	token := []struct {
		name  string
		form  url.Values
		query url.Values
		want  string
	}{
		{"missing grant", url.Values{"client_id": {id}, "client_secret": {secret}}, nil, "invalid_request"},
		{"repeated id", url.Values{"client_id": {id, id}, "client_secret": {secret}, "grant_type": {"client_credentials"}}, nil, "invalid_request"},
		{"wrong secret", url.Values{"client_id": {id}, "client_secret": {"nope"}, "grant_type": {"client_credentials"}}, nil, "invalid_client"},
		{"unknown client", url.Values{"client_id": {"nope"}, "client_secret": {secret}, "grant_type": {"client_credentials"}}, nil, "invalid_client"},
		{"refresh grant", url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"refresh_token"}}, nil, "unsupported_grant_type"},
		{"form", url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}}, nil, ""},
		{"query tolerated", nil, url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}}, ""},
	}
	for _, tc := range token {
		r := send(t, http.MethodPost, s.URL+"/o/client/token?"+tc.query.Encode(), formHeaders, []byte(tc.form.Encode()))
		if tc.want == "" {
			if r.status != http.StatusCreated {
				t.Errorf("token %s: %d %s", tc.name, r.status, r.body)
				continue
			}
			body := r.json(t)
			wantTypes(t, "token", body, map[string]string{"access_token": "string", "created_at": "number", "expires_in": "number", "token_type": "string", "id": "string"})
			if body["expires_in"] != float64(21600) || body["created_at"] != float64(epoch.UnixMilli()) || body["token_type"] != "bearer" {
				t.Errorf("token %s: %s", tc.name, r.body)
			}
			continue
		}
		if r.status != http.StatusBadRequest || r.json(t)["error"] != tc.want {
			t.Errorf("token %s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.want)
		}
	}
}
