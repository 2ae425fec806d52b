package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/passgw/passgw/v2client/sandbox"
)

// secondScreen plays the login web app and the user's browser: it opens the
// v1 authenticate URL for code and signs in on the MVPD page, and checks the
// browser ends on the gateway's signed-in page.
func secondScreen(t *testing.T, w *testWorld, code, requestor, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	landed, err := sandbox.SignIn(ctx, &http.Client{Timeout: 10 * time.Second}, w.authenticateURL(code, requestor), user, user+"-pass")
	if err != nil {
		t.Fatalf("sign-in as %s: %v", user, err)
	}
	if landed != w.URL+signedInPath {
		t.Fatalf("browser landed on %s, want %s", landed, w.URL+signedInPath)
	}
}

// expectJSON checks a JSON answer's status and Content-Type and decodes it.
func expectJSON(t *testing.T, step string, resp *http.Response, body []byte, status int, v any) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %s", step, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != contentTypeJSON {
		t.Fatalf("%s: Content-Type %q, want %q", step, ct, contentTypeJSON)
	}
	if v == nil {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v: %s", step, err, body)
	}
}

// expectXML checks an XML answer's status and Content-Type and decodes it.
func expectXML(t *testing.T, step string, resp *http.Response, body []byte, status int, v any) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %s", step, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != contentTypeXML {
		t.Fatalf("%s: Content-Type %q, want %q", step, ct, contentTypeXML)
	}
	if err := xml.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v: %s", step, err, body)
	}
}

// TestJSONDeviceFlow is a device that only speaks JSON, by the Accept
// header: regcode, second-screen login, authenticate/{code}, authorize,
// mediatoken, logout.
func TestJSONDeviceFlow(t *testing.T) {
	w := newTestWorld(t)
	accept := map[string]string{"Accept": "application/json"}
	const dev = "requestor=REF30&deviceId=json-device"

	resp, body := w.do("POST", "/reggie/v1/REF30/regcode", accept, "deviceId=json-device&deviceType=Roku")
	var reg struct {
		ID, Code, Requestor string
		Generated, Expires  int64 // numbers on the regcode
		Info                struct {
			DeviceID, DeviceType, DeviceInfo, UserAgent, OriginalUserAgent string
			// null when unset, as v1 answered
			DeviceUser, AppID, AppVersion, RegistrationURL *string
		}
	}
	expectJSON(t, "regcode", resp, body, http.StatusCreated, &reg)
	if reg.Code == "" || reg.Requestor != "REF30" || reg.Expires-reg.Generated != 1800_000 || reg.Info.DeviceID != "anNvbi1kZXZpY2U=" || reg.Info.DeviceType != "Roku" ||
		reg.Info.DeviceUser != nil || reg.Info.AppID != nil || reg.Info.AppVersion != nil || reg.Info.RegistrationURL != nil {
		t.Fatalf("regcode: %+v", reg)
	}

	secondScreen(t, w, reg.Code, "REF30", "alice")

	type authnToken struct{ Requestor, MVPD, UserID, Expires string }
	var authn authnToken
	resp, body = w.do("GET", "/api/v1/authenticate/"+reg.Code+"?"+dev, accept, "")
	expectJSON(t, "authenticate/{code}", resp, body, http.StatusOK, &authn)
	if authn.UserID != "acme-alice-0001" || authn.MVPD != "AcmeCable" || authn.Requestor != "REF30" {
		t.Fatalf("authenticate/{code}: %+v", authn)
	}
	if exp, err := strconv.ParseInt(authn.Expires, 10, 64); err != nil || exp <= reg.Generated {
		t.Fatalf("authn expires %q is not a later epoch-ms string", authn.Expires)
	}

	var authz struct{ MVPD, Resource, Requestor, Expires string }
	resp, body = w.do("GET", "/api/v1/authorize?"+dev+"&resource=sports", accept, "")
	expectJSON(t, "authorize", resp, body, http.StatusOK, &authz)
	if authz.Resource != "sports" || authz.MVPD != "AcmeCable" || authz.Expires == "" {
		t.Fatalf("authorize: %+v", authz)
	}

	var media struct{ Resource, Requestor, Expires, SerializedToken, UserID, MVPDID string }
	resp, body = w.do("GET", "/api/v1/mediatoken?"+dev+"&resource=sports", accept, "")
	expectJSON(t, "mediatoken", resp, body, http.StatusOK, &media)
	if media.MVPDID != "AcmeCable" || media.UserID != "acme-alice-0001" || media.Resource != "sports" {
		t.Fatalf("mediatoken: %+v", media)
	}
	claims, err := w.sandbox.VerifyMediaToken(media.SerializedToken)
	if err != nil || claims.Resource != "sports" || claims.UserID != "acme-alice-0001" {
		t.Fatalf("media token does not verify: %v %+v", err, claims)
	}

	resp, body = w.do("DELETE", "/api/v1/logout?"+dev, accept, "")
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("logout: %d %q", resp.StatusCode, body)
	}
	var gone struct {
		Status  int
		Message string
	}
	resp, body = w.do("GET", "/api/v1/checkauthn?"+dev, accept, "")
	expectJSON(t, "checkauthn after logout", resp, body, http.StatusForbidden, &gone)
	if gone.Status != 403 || gone.Message != "Authentication token expired" {
		t.Fatalf("checkauthn after logout: %+v", gone)
	}
}

// TestXMLDeviceFlow is a device that selects XML by the .xml suffix on
// every call.
func TestXMLDeviceFlow(t *testing.T) {
	w := newTestWorld(t)
	const dev = "requestor=REF30&deviceId=xml-device"

	resp, body := w.do("POST", "/reggie/v1/REF30/regcode.xml", nil, "deviceId=xml-device")
	var reg struct {
		XMLName   xml.Name `xml:"model.mvc.reggie.pass.adobe.com regcode"`
		ID        string   `xml:"id"`
		Code      string   `xml:"code"`
		Requestor string   `xml:"requestor"`
		MVPD      *string  `xml:"mvpd"`
		Generated int64    `xml:"generated"`
		Expires   int64    `xml:"expires"`
		DeviceID  string   `xml:"info>deviceId"`
	}
	expectXML(t, "regcode", resp, body, http.StatusCreated, &reg)
	if reg.Code == "" || reg.MVPD == nil || *reg.MVPD != "" || reg.DeviceID != "eG1sLWRldmljZQ==" || reg.Expires-reg.Generated != 1800_000 {
		t.Fatalf("regcode: %+v (%s)", reg, body)
	}

	resp, body = w.do("GET", "/reggie/v1/REF30/regcode/"+reg.Code+".xml", nil, "")
	var again struct {
		XMLName xml.Name `xml:"model.mvc.reggie.pass.adobe.com regcode"`
		Code    string   `xml:"code"`
	}
	expectXML(t, "regcode get", resp, body, http.StatusOK, &again)
	if again.Code != reg.Code {
		t.Fatalf("regcode get: %+v", again)
	}

	secondScreen(t, w, reg.Code, "REF30", "alice")

	var check struct {
		XMLName xml.Name `xml:"authentication"`
		UserID  string   `xml:"userId"`
	}
	resp, body = w.do("GET", "/api/v1/checkauthn/"+reg.Code+".xml?requestor=REF30", nil, "")
	expectXML(t, "checkauthn/{code}", resp, body, http.StatusOK, &check)

	var authn struct {
		XMLName   xml.Name `xml:"authentication"`
		Expires   int64    `xml:"expires"`
		UserID    string   `xml:"userId"`
		MVPD      string   `xml:"mvpd"`
		Requestor string   `xml:"requestor"`
	}
	resp, body = w.do("GET", "/api/v1/authenticate/"+reg.Code+".xml?"+dev, nil, "")
	expectXML(t, "authenticate/{code}", resp, body, http.StatusOK, &authn)
	if authn.UserID != "acme-alice-0001" || authn.MVPD != "AcmeCable" || authn.Expires <= reg.Generated {
		t.Fatalf("authenticate/{code}: %+v", authn)
	}

	var authz struct {
		XMLName  xml.Name `xml:"authorization"`
		Expires  int64    `xml:"expires"`
		MVPD     string   `xml:"mvpd"`
		Resource string   `xml:"resource"`
	}
	resp, body = w.do("GET", "/api/v1/authorize.xml?"+dev+"&resource=news", nil, "")
	expectXML(t, "authorize", resp, body, http.StatusOK, &authz)
	if authz.Resource != "news" || authz.MVPD != "AcmeCable" {
		t.Fatalf("authorize: %+v", authz)
	}

	var play struct {
		XMLName         xml.Name `xml:"play"`
		MVPDID          string   `xml:"mvpdId"`
		Resource        string   `xml:"resource"`
		SerializedToken string   `xml:"serializedToken"`
		UserID          string   `xml:"userId"`
	}
	resp, body = w.do("GET", "/api/v1/tokens/media.xml?"+dev+"&resource=news", nil, "")
	expectXML(t, "tokens/media", resp, body, http.StatusOK, &play)
	if claims, err := w.sandbox.VerifyMediaToken(play.SerializedToken); err != nil || claims.Resource != "news" || play.MVPDID != "AcmeCable" {
		t.Fatalf("media token: %v %+v %+v", err, claims, play)
	}

	resp, body = w.do("DELETE", "/api/v1/logout.xml?"+dev, nil, "")
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("logout: %d %q", resp.StatusCode, body)
	}
	var gone struct {
		XMLName xml.Name `xml:"error"`
		Status  int      `xml:"status"`
		Message string   `xml:"message"`
	}
	resp, body = w.do("GET", "/api/v1/tokens/authn.xml?"+dev, nil, "")
	expectXML(t, "tokens/authn after logout", resp, body, http.StatusNotFound, &gone)
	if gone.Status != 404 || gone.Message != "Not found" {
		t.Fatalf("tokens/authn after logout: %+v", gone)
	}
}

// TestFreePreviewAuthenticates: v1's free preview "creates a TempPass AuthN
// token" (testdata/spec/v1.md §3.17), so the device is authenticated from the 204 on,
// before its first authorization.
func TestFreePreviewAuthenticates(t *testing.T) {
	w := newTestWorld(t)
	accept := map[string]string{"Accept": "application/json"}
	form := url.Values{"requestor_id": {"REF30"}, "deviceId": {"tp-device"}, "mso_id": {"TempPass_REF30"}, "domain_name": {"localhost"}}
	resp, body := w.do("POST", "/api/v1/authenticate/freepreview", accept, form.Encode())
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("freepreview: %d %s", resp.StatusCode, body)
	}
	var authn struct{ Requestor, MVPD, UserID, Expires string }
	resp, body = w.do("GET", "/api/v1/checkauthn?requestor=REF30&deviceId=tp-device", accept, "")
	expectJSON(t, "checkauthn after freepreview", resp, body, http.StatusOK, &authn)
	if authn.MVPD != "TempPass_REF30" {
		t.Fatalf("checkauthn after freepreview: %+v", authn)
	}
}
