package v1api

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v1model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenCase is one rendered v1 body, checked in both formats.
type goldenCase struct {
	name   string
	req    testRequest
	setup  func(b *recordingBackend)
	status int
	// samples name the documented sample (testdata/spec/samples/v1) each
	// format's body must match in shape.
	samples map[format]string
	// capturedNulls are JSON members the body writes as null where the
	// documented sample leaves them out, as captured v1 answers have them
	// (MIGRATION.md); the shape comparison skips them.
	capturedNulls []string
}

// regcodeInfoNulls are the registration info members v1 answered null
// when unset.
var regcodeInfoNulls = []string{".info.deviceType", ".info.deviceUser", ".info.appId", ".info.appVersion", ".info.registrationURL"}

func backendErr(e *v1model.Error) func(*recordingBackend) {
	return func(b *recordingBackend) { b.err = e }
}

func goldenCases() []goldenCase {
	const dev = "requestor=sampleRequestorId&deviceId=d1"
	return []goldenCase{
		{name: "regcode-201", status: 201,
			req: testRequest{method: "POST", target: "/reggie/v1/sampleRequestorId/regcode", body: "deviceId=so-devid-003&mvpd=sampleMvpdId"},
			setup: func(b *recordingBackend) {
				b.reg = &v1model.Registration{ID: "ef5a79e8-7c8a-41d6-a45a-e378c6c7c8b5", Code: "IYQD5JQ",
					Requestor: "sampleRequestorId", MVPD: "sampleMvpdId", Generated: ms(1704963921144), Expires: ms(1704965721144),
					Info: v1model.RegistrationInfo{DeviceID: []byte("so-devid-003"), DeviceInfo: []byte(`{"type":"SetTopBox","model":"AFTMM"}`),
						UserAgent: "Mozilla/5.0 (Linux; Android 7.1.2; AFTMM)", OriginalUserAgent: "Mozilla/5.0 (Linux; Android 7.1.2; AFTMM)",
						AuthorizationType: v1model.AuthorizationOAuth2,
						SourceApplication: &v1model.SourceApplication{ID: "14138364-application-id", Name: "application name", Version: "1.0.0"}}}
			},
			samples: map[format]string{formatJSON: "regcode-201.json"}, capturedNulls: regcodeInfoNulls},
		{name: "regcode-201-historical", status: 201,
			req:     testRequest{method: "POST", target: "/reggie/v1/sampleRequestorId/regcode", body: "deviceId=thisIdADummyDeviceId"},
			samples: map[format]string{formatJSON: "regcode-201-historical.json", formatXML: "regcode-201-historical.xml"}},
		{name: "regcode-201-no-mvpd", status: 201,
			req:   testRequest{method: "POST", target: "/reggie/v1/sampleRequestorId/regcode", body: "deviceId=d1"},
			setup: func(b *recordingBackend) { b.reg.MVPD = "" }},
		{name: "regcode-get-200", status: 200,
			req:     testRequest{target: "/reggie/v1/sampleRequestorId/regcode/TJJCFK"},
			samples: map[format]string{formatXML: "regcode-get-200.xml"}},
		{name: "regcode-get-404", status: 404,
			req: testRequest{target: "/reggie/v1/sampleRequestorId/regcode/NOPE"}, setup: backendErr(v1model.ErrNotFound(""))},
		{name: "regcode-400-deviceid", status: 400,
			req:     testRequest{method: "POST", target: "/reggie/v1/sampleRequestorId/regcode"},
			samples: map[format]string{formatJSON: "regcode-400.json"}},
		{name: "regcode-400-ttl", status: 400,
			req: testRequest{method: "POST", target: "/reggie/v1/sampleRequestorId/regcode", body: "deviceId=d1&ttl=36001"}},
		{name: "regcode-400-deviceid-enhanced", status: 400,
			req:     testRequest{method: "POST", target: "/reggie/v1/" + enhancedReq + "/regcode"},
			samples: map[format]string{formatJSON: "error-400-enhanced.json", formatXML: "error-400-enhanced.xml"}},
		{name: "config-200", status: 200, req: testRequest{target: "/api/v1/config/sampleRequestorId"}},
		{name: "config-400-enhanced", status: 400,
			req: testRequest{target: "/api/v1/config/" + enhancedReq},
			setup: backendErr(&v1model.Error{Status: 400, Code: v1model.CodeInvalidRequestor,
				Message: "The requestor parameter is missing or invalid."}),
			samples: map[format]string{formatJSON: "error-400-enhanced.json", formatXML: "error-400-enhanced.xml"}},
		{name: "checkauthn-200", status: 200, req: testRequest{target: "/api/v1/checkauthn?" + dev},
			samples: map[format]string{formatJSON: "tokens-authn-200.json", formatXML: "tokens-authn-200.xml"}},
		{name: "checkauthn-403", status: 403, req: testRequest{target: "/api/v1/checkauthn?" + dev},
			setup:   backendErr(v1model.ErrAuthnTokenExpired(v1model.CodeAuthenticationSessionMissing)),
			samples: map[format]string{formatXML: "checkauthn-403.xml"}},
		{name: "checkauthn-403-enhanced", status: 403, req: testRequest{target: "/api/v1/checkauthn?requestor=" + enhancedReq + "&deviceId=d1"},
			setup: backendErr(v1model.ErrAuthnTokenExpired(v1model.CodeAuthenticationSessionExpired))},
		{name: "checkauthn-code-403", status: 403, req: testRequest{target: "/api/v1/checkauthn/ABC123?requestor=sampleRequestorId"},
			setup:   backendErr(v1model.ErrForbidden("")),
			samples: map[format]string{formatJSON: "checkauthn-code-403.json"}},
		{name: "tokens-authn-200", status: 200, req: testRequest{target: "/api/v1/tokens/authn?" + dev},
			samples: map[format]string{formatJSON: "tokens-authn-200.json", formatXML: "tokens-authn-200.xml"}},
		{name: "tokens-authn-404", status: 404, req: testRequest{target: "/api/v1/tokens/authn?" + dev},
			setup:   backendErr(v1model.ErrNotFound(v1model.CodeAuthenticationSessionMissing)),
			samples: map[format]string{formatJSON: "tokens-authn-404.json", formatXML: "tokens-authn-404.xml"}},
		{name: "tokens-authn-410", status: 410, req: testRequest{target: "/api/v1/tokens/authn?" + dev},
			setup: backendErr(v1model.ErrGone(v1model.CodeAuthenticationSessionExpired))},
		{name: "authorize-200", status: 200, req: testRequest{target: "/api/v1/authorize?" + dev + "&resource=sampleResourceId"},
			setup:   func(b *recordingBackend) { b.authz.ProxyMVPD = "" },
			samples: map[format]string{formatJSON: "authorize-200.json", formatXML: "authorize-200.xml"}},
		{name: "authorize-403", status: 403, req: testRequest{target: "/api/v1/authorize?" + dev + "&resource=sampleResourceId"},
			setup: backendErr(v1model.ErrNotAuthorized(v1model.CodeAuthorizationDeniedByMVPD,
				"Your subscription package does not include the \"ASFAFD\" channel.\n  Please go to http://www.ca.ble/upgrade in order to upgrade your subscription.")),
			samples: map[format]string{formatXML: "authorize-403.xml"}},
		{name: "authorize-403-enhanced", status: 403, req: testRequest{target: "/api/v1/authorize?requestor=" + enhancedReq + "&deviceId=d1&resource=r"},
			setup: backendErr(v1model.ErrNotAuthorized(v1model.CodeAuthorizationDeniedByParentalControls, "Rated TV-MA"))},
		{name: "authorize-400-resource", status: 400, req: testRequest{target: "/api/v1/authorize?" + dev}},
		{name: "tokens-authz-200", status: 200, req: testRequest{target: "/api/v1/tokens/authz?" + dev + "&resource=sampleResourceId"},
			setup:   func(b *recordingBackend) { b.authz.ProxyMVPD = "sampleProxyMvpdId" },
			samples: map[format]string{formatJSON: "tokens-authz-200.json", formatXML: "tokens-authz-200.xml"}},
		{name: "tokens-authz-412", status: 412, req: testRequest{target: "/api/v1/tokens/authz?" + dev + "&resource=r"},
			setup:   backendErr(v1model.ErrNotAuthenticated(v1model.CodeAuthenticationSessionMissing)),
			samples: map[format]string{formatJSON: "tokens-authz-412.json", formatXML: "tokens-authz-412.xml"}},
		{name: "tokens-authz-404", status: 404, req: testRequest{target: "/api/v1/tokens/authz?" + dev + "&resource=r"},
			setup:   backendErr(v1model.ErrNotFound(v1model.CodeAuthorizationNotFound)),
			samples: map[format]string{formatJSON: "tokens-authz-404.json", formatXML: "tokens-authz-404.xml"}},
		{name: "tokens-authz-410", status: 410, req: testRequest{target: "/api/v1/tokens/authz?" + dev + "&resource=r"},
			setup:   backendErr(v1model.ErrGone(v1model.CodeAuthorizationExpired)),
			samples: map[format]string{formatJSON: "tokens-authz-410.json", formatXML: "tokens-authz-410.xml"}},
		{name: "tokens-authz-404-enhanced", status: 404, req: testRequest{target: "/api/v1/tokens/authz?requestor=" + enhancedReq + "&deviceId=d1&resource=r"},
			setup: backendErr(v1model.ErrNotFound(v1model.CodeAuthorizationNotFound))},
		{name: "tokens-media-200", status: 200, req: testRequest{target: "/api/v1/tokens/media?" + dev + "&resource=sampleResourceId"},
			samples: map[format]string{formatJSON: "tokens-media-200.json", formatXML: "tokens-media-200.xml"}},
		{name: "tokens-media-403", status: 403, req: testRequest{target: "/api/v1/mediatoken?" + dev + "&resource=r"},
			setup: backendErr(v1model.ErrNotAuthorized(v1model.CodeAuthorizationDeniedByMVPD, "Not in package"))},
		{name: "preauthorize-200", status: 200, req: testRequest{target: "/api/v1/preauthorize?" + dev + "&resource=TestStream1,TestStream2"}},
		{name: "preauthorize-200-enhanced", status: 200,
			req:     testRequest{target: "/api/v1/preauthorize?requestor=" + enhancedReq + "&deviceId=d1&resource=TestStream1,TestStream2"},
			samples: map[format]string{formatXML: "preauthorize-200.xml", formatJSON: "preauthorize-200-enhanced.json"}},
		// One chunk of the v2 preauthorize answered, the other throttled
		// (429) or failed (500): the decisions it has, the rest not
		// authorized with the failure as item error.
		{name: "preauthorize-200-partial", status: 200,
			req: testRequest{target: "/api/v1/preauthorize?requestor=" + enhancedReq + "&deviceId=d1&resource=TestStream1,TestStream2,TestStream3"},
			setup: func(b *recordingBackend) {
				b.pre = &v1model.Preauthorization{Resources: []v1model.ResourceDecision{
					{ID: "TestStream1", Authorized: true},
					{ID: "TestStream2", Error: v1model.ErrTooManyRequests()},
					{ID: "TestStream3", Error: v1model.ErrInternal(nil)},
				}}
			}},
		{name: "preauthorize-412", status: 412, req: testRequest{target: "/api/v1/preauthorize?" + dev + "&resource=a"},
			setup: backendErr(v1model.ErrNotAuthenticated(v1model.CodePreauthorizationAuthenticationSessionMissing))},
		{name: "preauthorize-400-resource", status: 400, req: testRequest{target: "/api/v1/preauthorize?requestor=" + enhancedReq + "&deviceId=d1&resource=,"}},
		{name: "usermetadata-200", status: 200, req: testRequest{target: "/api/v1/tokens/usermetadata?" + dev},
			samples: map[format]string{formatJSON: "tokens-usermetadata-200.broken.json"}},
		{name: "usermetadata-200-empty", status: 200, req: testRequest{target: "/api/v1/tokens/usermetadata?" + dev},
			setup: func(b *recordingBackend) { b.md = &v1model.UserMetadata{Updated: time.Unix(1334243471, 0)} }},
		{name: "usermetadata-404", status: 404, req: testRequest{target: "/api/v1/tokens/usermetadata?" + dev},
			setup: backendErr(v1model.ErrNotFound(""))},
		{name: "usermetadata-412", status: 412, req: testRequest{target: "/api/v1/tokens/usermetadata?" + dev},
			setup: backendErr(v1model.ErrNotAuthenticated(v1model.CodeAuthenticationSessionExpired))},
		{name: "freepreview-400", status: 400,
			req: testRequest{method: "POST", target: "/api/v1/authenticate/freepreview", body: "requestor_id=R&deviceId=d1&domain_name=example.com"}},
		{name: "authenticate-400", status: 400, req: testRequest{target: "/api/v1/authenticate?requestor_id=R&mso_id=m&domain_name=d&redirect_url=u"}},
		{name: "profilerequest-400", status: 400, req: testRequest{target: "/api/v1/R/profile-requests/AcmeCable"}},
		{name: "requestor-400", status: 400, req: testRequest{target: "/api/v1/tokens/authn?deviceId=d1"}},
		{name: "device-info-400", status: 400,
			req: testRequest{target: "/api/v1/tokens/authn?" + dev, header: map[string]string{"X-Device-Info": "bm90IGpzb24="}}},
		{name: "device-info-400-enhanced", status: 400,
			req: testRequest{target: "/api/v1/tokens/authn?requestor=" + enhancedReq + "&deviceId=d1&device_info=***"}},
		{name: "unauthorized-401", status: 401, req: testRequest{target: "/api/v1/tokens/authn?" + dev},
			setup: backendErr(v1model.ErrUnauthorized())},
		{name: "not-found-404", status: 404, req: testRequest{target: "/api/v1/nothing-here"}},
		{name: "method-405", status: 405, req: testRequest{method: "PUT", target: "/reggie/v1/sampleRequestorId/regcode"}},
		{name: "method-405-enhanced", status: 405, req: testRequest{method: "POST", target: "/api/v1/checkauthn?requestor=" + enhancedReq}},
		{name: "internal-500", status: 500, req: testRequest{target: "/api/v1/tokens/authn?" + dev},
			setup: func(b *recordingBackend) { b.err = errors.New("upstream exploded: secret-token-xyz") }},
		{name: "internal-500-enhanced", status: 500, req: testRequest{target: "/api/v1/tokens/authn?requestor=" + enhancedReq + "&deviceId=d1"},
			setup: func(b *recordingBackend) { b.err = errors.New("upstream exploded") }},
		{name: "escaping", status: 200, req: testRequest{target: "/api/v1/tokens/authn?" + dev},
			setup: func(b *recordingBackend) {
				b.authn = &v1model.AuthnToken{Requestor: `a&b<c>d"e'f`, MVPD: "ctl\x01\x1f\x7fz", UserID: "bad\xff\xfeutf8 ]]> \r\n\ttab é 日本 \U0001F600", Expires: ms(1)}
			}},
	}
}

func goldenPath(name string, f format) string {
	ext := ".xml"
	if f == formatJSON {
		ext = ".json"
	}
	return filepath.Join("testdata", "golden", name+ext)
}

// TestGolden renders every case in both formats and compares with the
// golden files (rewritten with -update), status and content type included.
func TestGolden(t *testing.T) {
	for _, gc := range goldenCases() {
		for _, f := range []format{formatXML, formatJSON} {
			t.Run(filepath.Base(goldenPath(gc.name, f)), func(t *testing.T) {
				got := renderGolden(t, gc, f)
				path := goldenPath(gc.name, f)
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./v1api -update)", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
				}
				checkWellFormed(t, f, got)
			})
		}
	}
}

func renderGolden(t *testing.T, gc goldenCase, f format) []byte {
	t.Helper()
	b := newRecordingBackend()
	if gc.setup != nil {
		gc.setup(b)
	}
	req := gc.req
	req.header = map[string]string{}
	for k, v := range gc.req.header {
		req.header[k] = v
	}
	wantCT := contentTypeXML
	req.header["Accept"] = "application/xml"
	if f == formatJSON {
		req.header["Accept"] = "application/json"
		wantCT = contentTypeJSON
	}
	w := serve(newTestHandler(t, b, nil), req)
	if w.Code != gc.status {
		t.Fatalf("status %d, want %d: %s", w.Code, gc.status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != wantCT {
		t.Errorf("Content-Type %q, want %q", ct, wantCT)
	}
	if id := w.Header().Get("Adobe-Request-Id"); id != testRequestID {
		t.Errorf("Adobe-Request-Id %q", id)
	}
	if strings.Contains(w.Body.String(), "secret") {
		t.Errorf("body leaks the cause: %s", w.Body)
	}
	return w.Body.Bytes()
}

func checkWellFormed(t *testing.T, f format, body []byte) {
	t.Helper()
	if f == formatJSON {
		if !json.Valid(body) {
			t.Errorf("invalid JSON: %s", body)
		}
		return
	}
	if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`)) {
		t.Errorf("XML prolog missing: %s", body)
	}
	if err := xmlWellFormed(body); err != nil {
		t.Errorf("XML not well-formed: %v\n%s", err, body)
	}
}

// TestGoldenMatchesSamples holds each golden body against the documented
// sample it corresponds to: same element names and order, or same JSON keys,
// order and types.
func TestGoldenMatchesSamples(t *testing.T) {
	dir := testenv.SamplesDir(t, "v1")
	for _, gc := range goldenCases() {
		for f, sample := range gc.samples {
			t.Run(gc.name+"~"+sample, func(t *testing.T) {
				raw, err := os.ReadFile(filepath.Join(dir, sample))
				if err != nil {
					t.Fatal(err)
				}
				got := renderGolden(t, gc, f)
				var want, have string
				if f == formatJSON {
					want, err = JSONShape(repairSample(sample, raw))
					if err != nil {
						t.Fatalf("sample: %v", err)
					}
					have, err = JSONShape(got)
					for _, k := range gc.capturedNulls {
						have = strings.Replace(have, k+" null\n", "", 1)
					}
				} else {
					want, err = XMLShape(raw)
					if err != nil {
						t.Fatalf("sample: %v", err)
					}
					have, err = XMLShape(got)
				}
				if err != nil {
					t.Fatalf("golden: %v", err)
				}
				if diff := cmp.Diff(want, have); diff != "" {
					t.Errorf("shape differs from %s (-sample +golden):\n%s", sample, diff)
				}
			})
		}
	}
}

// repairSample makes the parsable shape of a .broken sample readable: the
// user-metadata sample is a JavaScript literal with unquoted keys.
func repairSample(name string, raw []byte) []byte {
	if !strings.Contains(name, ".broken.") {
		return raw
	}
	return regexp.MustCompile(`(?m)^(\s*)([A-Za-z]+):`).ReplaceAll(raw, []byte(`$1"$2":`))
}
