package v1api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/passgw/passgw/v1model"
)

// peer is the default httptest client address: an untrusted TCP peer.
var peerIP = netip.MustParseAddr("192.0.2.1")

func dev(requestor, deviceID string) v1model.Device {
	return v1model.Device{Requestor: requestor, DeviceID: deviceID, IP: peerIP, Port: 1234}
}

// TestParsing proves which typed request each v1 call produces.
func TestParsing(t *testing.T) {
	const devInfoJSON = `{"model":"AFTMM","osName":"Android"}`
	devInfoB64 := "eyJtb2RlbCI6IkFGVE1NIiwib3NOYW1lIjoiQW5kcm9pZCJ9"

	withInfo := func(d v1model.Device) v1model.Device {
		d.DeviceInfo = json.RawMessage(devInfoJSON)
		d.DeviceInfoBase64 = devInfoB64
		return d
	}
	tests := []struct {
		name   string
		req    testRequest
		wantOp string
		want   any
	}{
		{
			name: "regcode form body merged with query, query wins",
			req: testRequest{method: "POST", target: "/reggie/v1/sampleRequestorId/regcode?deviceId=fromQuery",
				body:   "deviceId=fromBody&mvpd=AcmeCable&ttl=600&deviceType=xbox&deviceUser=JD&appId=2345&appVersion=2.0&registrationURL=http%3A%2F%2Flogin.example%2F&format=json&mvpd=Second",
				header: map[string]string{"User-Agent": "TV/1.0"}},
			wantOp: "CreateRegcode",
			want: &v1model.CreateRegcodeRequest{
				Device: func() v1model.Device {
					d := dev("sampleRequestorId", "fromQuery")
					d.DeviceType, d.DeviceUser, d.AppID, d.AppVersion, d.UserAgent = "xbox", "JD", "2345", "2.0", "TV/1.0"
					return d
				}(),
				MVPD: "AcmeCable", TTL: 600 * time.Second, RegistrationURL: "http://login.example/",
			},
		},
		{
			name: "regcode multipart body with device_info",
			req: testRequest{method: "POST", target: "/reggie/v1/sampleRequestorId/regcode",
				contentType: "multipart/form-data; boundary=XyZ",
				body: "--XyZ\r\nContent-Disposition: form-data; name=\"deviceId\"\r\n\r\nso-devid-003\r\n" +
					"--XyZ\r\nContent-Disposition: form-data; name=\"device_info\"\r\n\r\n" + devInfoB64 + "\r\n" +
					"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n\r\nignored\r\n--XyZ--\r\n"},
			wantOp: "CreateRegcode",
			want:   &v1model.CreateRegcodeRequest{Device: withInfo(dev("sampleRequestorId", "so-devid-003"))},
		},
		{
			name:   "regcode device id is opaque, decoded once",
			req:    testRequest{method: "POST", target: "/reggie/v1/R/regcode.xml?deviceId=a%2Bb%2520c+d"},
			wantOp: "CreateRegcode",
			want:   &v1model.CreateRegcodeRequest{Device: dev("R", "a+b%20c d")},
		},
		{
			name:   "stray percent signs are kept, not dropped",
			req:    testRequest{method: "POST", target: "/reggie/v1/R/regcode?deviceId=100%&mvpd=%zzM"},
			wantOp: "CreateRegcode",
			want:   &v1model.CreateRegcodeRequest{Device: dev("R", "100%"), MVPD: "%zzM"},
		},
		{
			name:   "regcode record with extension",
			req:    testRequest{target: "/reggie/v1/sampleRequestorId/regcode/TJJCFK.json"},
			wantOp: "GetRegcode",
			want:   &v1model.GetRegcodeRequest{Device: dev("sampleRequestorId", ""), Code: "TJJCFK"},
		},
		{
			name:   "regcode record without requestor segment",
			req:    testRequest{target: "/reggie/v1/regcode/ER45RTY?requestor=R"},
			wantOp: "GetRegcode",
			want:   &v1model.GetRegcodeRequest{Device: dev("R", ""), Code: "ER45RTY"},
		},
		{
			name:   "regcode record without any requestor",
			req:    testRequest{method: "DELETE", target: "/reggie/v1/regcode/ER45RTY"},
			wantOp: "DeleteRegcode",
			want:   &v1model.DeleteRegcodeRequest{Device: dev("", ""), Code: "ER45RTY"},
		},
		{
			name:   "regcode delete",
			req:    testRequest{method: "DELETE", target: "/reggie/v1/R/regcode/ER45RTY.xml"},
			wantOp: "DeleteRegcode",
			want:   &v1model.DeleteRegcodeRequest{Device: dev("R", ""), Code: "ER45RTY"},
		},
		{
			name:   "config GET",
			req:    testRequest{target: "/api/v1/config/sampleRequestorId.json"},
			wantOp: "Config",
			want:   &v1model.ConfigRequest{Device: dev("sampleRequestorId", "")},
		},
		{
			name: "config POST multipart with subject token",
			req: testRequest{method: "POST", target: "/api/v1/config/R", contentType: "multipart/form-data; boundary=b",
				body: "--b\r\nContent-Disposition: form-data; name=\"ast\"\r\n\r\nAST-TOKEN\r\n--b--\r\n"},
			wantOp: "Config",
			want: &v1model.ConfigRequest{Device: func() v1model.Device {
				d := dev("R", "")
				d.SubjectToken = "AST-TOKEN"
				return d
			}()},
		},
		{
			name: "authenticate",
			req: testRequest{target: "/api/v1/authenticate?requestor_id=R&mso_id=AcmeCable&reg_code=ABC123&domain_name=example.com" +
				"&noflash=true&no_iframe=false&redirect_url=https%3A%2F%2Fexample.com%2Fdone%3Fa%3D1&generic_data=%28%22email%22%3A%22e%40x.com%22%29"},
			wantOp: "Authenticate",
			want: &v1model.AuthenticateRequest{
				Device: func() v1model.Device {
					d := dev("R", "")
					d.GenericData = `("email":"e@x.com")`
					return d
				}(),
				MVPD: "AcmeCable", Code: "ABC123", DomainName: "example.com", RedirectURL: "https://example.com/done?a=1",
			},
		},
		{
			name: "authenticate with the IE reg_code rewrite",
			req: testRequest{target: "/api/v1/authenticate?requestor_id=R&mso_id=AcmeCable%C2%AE_code=ABC123" +
				"&domain_name=example.com&redirect_url=https%3A%2F%2Fexample.com"},
			wantOp: "Authenticate",
			want: &v1model.AuthenticateRequest{Device: dev("R", ""), MVPD: "AcmeCable", Code: "ABC123",
				DomainName: "example.com", RedirectURL: "https://example.com"},
		},
		{
			name: "authenticate with the IE rewrite first",
			req: testRequest{target: "/api/v1/authenticate?%C2%AE_code=ABC123&requestor_id=R&mso_id=AcmeCable" +
				"&domain_name=example.com&redirect_url=https%3A%2F%2Fexample.com"},
			wantOp: "Authenticate",
			want: &v1model.AuthenticateRequest{Device: dev("R", ""), MVPD: "AcmeCable", Code: "ABC123",
				DomainName: "example.com", RedirectURL: "https://example.com"},
		},
		{
			name: "freepreview form",
			req: testRequest{method: "POST", target: "/api/v1/authenticate/freepreview",
				body: "requestor_id=R&deviceId=d1&mso_id=TempPass_REF30&domain_name=example.com&generic_data=abc"},
			wantOp: "FreePreview",
			want: &v1model.FreePreviewRequest{Device: func() v1model.Device {
				d := dev("R", "d1")
				d.GenericData = "abc"
				return d
			}(), MVPD: "TempPass_REF30", DomainName: "example.com"},
		},
		{
			name:   "authenticate by code",
			req:    testRequest{target: "/api/v1/authenticate/PL2MVJL.json?requestor=R&deviceId=d1&deviceType=roku"},
			wantOp: "AuthnToken",
			want: &v1model.AuthnTokenRequest{Device: func() v1model.Device {
				d := dev("R", "d1")
				d.DeviceType = "roku"
				return d
			}(), Code: "PL2MVJL"},
		},
		{
			name:   "GET on freepreview is a code",
			req:    testRequest{target: "/api/v1/authenticate/freepreview?requestor=R"},
			wantOp: "AuthnToken",
			want:   &v1model.AuthnTokenRequest{Device: dev("R", ""), Code: "freepreview"},
		},
		{
			name:   "checkauthn",
			req:    testRequest{target: "/api/v1/checkauthn?requestor=R&deviceId=d1&device_info=" + devInfoB64},
			wantOp: "CheckAuthn",
			want:   &v1model.CheckAuthnRequest{Device: withInfo(dev("R", "d1"))},
		},
		{
			name:   "checkauthn by code",
			req:    testRequest{target: "/api/v1/checkauthn/ABC123.xml?requestor=R"},
			wantOp: "CheckAuthn",
			want:   &v1model.CheckAuthnRequest{Device: dev("R", ""), Code: "ABC123"},
		},
		{
			name: "checkauthn requestor from the signed header",
			req: testRequest{target: "/api/v1/checkauthn?deviceId=d1", header: map[string]string{
				"Authorization": "GET requestor_id=sigReq, nonce=abc, signature_method=HMAC-SHA1, request_time=1, request_uri=/checkauthn, public_key=k, signature=s"}},
			wantOp: "CheckAuthn",
			want: &v1model.CheckAuthnRequest{Device: func() v1model.Device {
				d := dev("sigReq", "d1")
				d.Caller.Requestor = "sigReq"
				return d
			}()},
		},
		{
			name:   "tokens/authn ignores unknown parameters",
			req:    testRequest{target: "/api/v1/tokens/authn?requestor=R&deviceId=d1&resource=x", header: map[string]string{"X-Device-Info": devInfoB64}},
			wantOp: "AuthnToken",
			want:   &v1model.AuthnTokenRequest{Device: withInfo(dev("R", "d1"))},
		},
		{
			name: "Apple token exchange",
			req: testRequest{method: "POST", target: "/api/v1/tokens/authn",
				body: "requestor=R&deviceId=d1&mvpd=AcmeCable&deviceType=tvOS&SAMLResponse=PHNhbWw%2BPC9zYW1sPg%3D%3D"},
			wantOp: "TokenExchange",
			want: &v1model.TokenExchangeRequest{Device: func() v1model.Device {
				d := dev("R", "d1")
				d.DeviceType = "tvOS"
				return d
			}(), MVPD: "AcmeCable", SAMLResponse: "PHNhbWw+PC9zYW1sPg=="},
		},
		{
			name: "authorize with MRSS resource and SSO tokens",
			req: testRequest{target: "/api/v1/authorize?requestor=R&deviceId=d1&ast=fromParam&generic_data=g&resource=" +
				"%3Crss%20version%3D%222.0%22%3E%3Cchannel%3E%3Ctitle%3Ecbs%3C%2Ftitle%3E%3C%2Fchannel%3E%3C%2Frss%3E",
				header: map[string]string{"Adobe-Subject-Token": "fromHeader", "X-Roku-Reserved-Roku-Connect-Token": "roku"}},
			wantOp: "Authorize",
			want: &v1model.AuthorizeRequest{Device: func() v1model.Device {
				d := dev("R", "d1")
				d.SubjectToken, d.RokuToken, d.GenericData = "fromHeader", "roku", "g"
				return d
			}(), Resource: `<rss version="2.0"><channel><title>cbs</title></channel></rss>`},
		},
		{
			name:   "tokens/authz",
			req:    testRequest{target: "/api/v1/tokens/authz.json?requestor=R&deviceId=d1&resource=news"},
			wantOp: "AuthzToken",
			want:   &v1model.AuthzTokenRequest{Device: dev("R", "d1"), Resource: "news"},
		},
		{
			name:   "tokens/media",
			req:    testRequest{target: "/api/v1/tokens/media?requestor=R&deviceId=d1&resource=news"},
			wantOp: "MediaToken",
			want:   &v1model.MediaTokenRequest{Device: dev("R", "d1"), Resource: "news"},
		},
		{
			name:   "mediatoken alias",
			req:    testRequest{target: "/api/v1/mediatoken?requestor=R&deviceId=d1&resource=news"},
			wantOp: "MediaToken",
			want:   &v1model.MediaTokenRequest{Device: dev("R", "d1"), Resource: "news"},
		},
		{
			name:   "preauthorize list split, ordered, deduplicated",
			req:    testRequest{target: "/api/v1/preauthorize?requestor=R&deviceId=d1&resource=a,%20b,a,,c&resource=d,b"},
			wantOp: "Preauthorize",
			want:   &v1model.PreauthorizeRequest{Device: dev("R", "d1"), Resources: []string{"a", "b", "c", "d"}},
		},
		{
			name:   "preauthorize by code",
			req:    testRequest{target: "/api/v1/preauthorize/ABC123?requestor=R&resource=a,b"},
			wantOp: "Preauthorize",
			want:   &v1model.PreauthorizeRequest{Device: dev("R", ""), Code: "ABC123", Resources: []string{"a", "b"}},
		},
		{
			name:   "usermetadata",
			req:    testRequest{target: "/api/v1/tokens/usermetadata?requestor=R&deviceId=d1"},
			wantOp: "UserMetadata",
			want:   &v1model.UserMetadataRequest{Device: dev("R", "d1")},
		},
		{
			name:   "logout DELETE",
			req:    testRequest{method: "DELETE", target: "/api/v1/logout?requestor=R&deviceId=d1&format=json"},
			wantOp: "Logout",
			want:   &v1model.LogoutRequest{Device: dev("R", "d1")},
		},
		{
			name:   "logout GET",
			req:    testRequest{target: "/api/v1/logout.json?requestor=R&deviceId=d1"},
			wantOp: "Logout",
			want:   &v1model.LogoutRequest{Device: dev("R", "d1")},
		},
		{
			name:   "Apple profile request",
			req:    testRequest{target: "/api/v1/R/profile-requests/AcmeCable?deviceType=iOS"},
			wantOp: "ProfileRequest",
			want: &v1model.ProfileRequest{Device: func() v1model.Device {
				d := dev("R", "")
				d.DeviceType = "iOS"
				return d
			}(), MVPD: "AcmeCable"},
		},
		{
			name:   "device info URL-encoded, URL-safe, unpadded",
			req:    testRequest{target: "/api/v1/checkauthn?requestor=R&deviceId=d1", header: map[string]string{"X-Device-Info": "eyJhIjoiPz8_In0%3D"}},
			wantOp: "CheckAuthn",
			want: &v1model.CheckAuthnRequest{Device: func() v1model.Device {
				d := dev("R", "d1")
				d.DeviceInfo, d.DeviceInfoBase64 = json.RawMessage(`{"a":"???"}`), "eyJhIjoiPz8_In0="
				return d
			}()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newRecordingBackend()
			w := serve(newTestHandler(t, b, nil), tt.req)
			if w.Code >= 400 {
				t.Fatalf("status %d, body %s", w.Code, w.Body)
			}
			op, got := b.last()
			if op != tt.wantOp {
				t.Fatalf("operation %q, want %q", op, tt.wantOp)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCallerHook proves the credential hook's result reaches the device
// and its refusals are answered without calling the backend.
func TestCallerHook(t *testing.T) {
	app := &v1model.SourceApplication{ID: "app-1", Name: "App", Version: "1.0"}
	hook := func(r *http.Request, requestor string) (v1model.Caller, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			return v1model.Caller{AuthorizationType: v1model.AuthorizationOAuth2, Requestor: "dcrReq", Application: app}, nil
		case "Bearer expired":
			return v1model.Caller{}, &v1model.CredentialError{Status: 401, Code: "access_denied"}
		case "":
			if requestor == "strict" {
				return v1model.Caller{}, v1model.ErrUnauthorized()
			}
			return v1model.Caller{}, nil
		}
		return v1model.Caller{}, errors.New("verifier down")
	}
	tests := []struct {
		name       string
		req        testRequest
		wantStatus int
		wantBody   string
		wantCaller *v1model.Caller
		wantReq    string
	}{
		{name: "valid bearer, requestor from the client",
			req:        testRequest{target: "/api/v1/checkauthn?deviceId=d1", header: map[string]string{"Authorization": "Bearer good"}},
			wantStatus: 200, wantCaller: &v1model.Caller{AuthorizationType: "OAUTH2", Requestor: "dcrReq", Application: app}, wantReq: "dcrReq"},
		{name: "expired bearer",
			req:        testRequest{target: "/api/v1/checkauthn?requestor=R&deviceId=d1&format=xml", header: map[string]string{"Authorization": "Bearer expired"}},
			wantStatus: 401, wantBody: `{"error":"access_denied"}`},
		{name: "required credential missing",
			req:        testRequest{target: "/api/v1/checkauthn?requestor=strict&deviceId=d1&format=json"},
			wantStatus: 401, wantBody: `{"status":401,"message":"Unauthorized"}`},
		{name: "verifier failure",
			req:        testRequest{target: "/api/v1/checkauthn?requestor=R&deviceId=d1&format=json", header: map[string]string{"Authorization": "Bearer other"}},
			wantStatus: 500, wantBody: `{"status":500,"message":"Internal Server Error"}`},
		{name: "browser call is never checked",
			req: testRequest{target: "/api/v1/authenticate?requestor_id=strict&mso_id=m&reg_code=c&domain_name=d&redirect_url=u",
				header: map[string]string{"Authorization": "Bearer expired"}},
			wantStatus: 302},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newRecordingBackend()
			h := newTestHandler(t, b, func(c *Config) { c.Authenticate = hook })
			w := serve(h, tt.req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Errorf("body %s, want %s", w.Body, tt.wantBody)
			}
			op, req := b.last()
			if tt.wantStatus >= 400 {
				if op != "" {
					t.Errorf("backend called (%s) for a refused credential", op)
				}
				return
			}
			if tt.wantCaller != nil {
				d := req.(*v1model.CheckAuthnRequest).Device
				if diff := cmp.Diff(*tt.wantCaller, d.Caller); diff != "" {
					t.Errorf("caller (-want +got):\n%s", diff)
				}
				if d.Requestor != tt.wantReq {
					t.Errorf("requestor %q, want %q", d.Requestor, tt.wantReq)
				}
			}
		})
	}
}

func TestSplitResources(t *testing.T) {
	// 20 distinct IDs, each sent twice: past the linear comparisons.
	var many, manyIDs []string
	for i := range 20 {
		id := fmt.Sprintf("r%d", i)
		many = append(many, id+","+id)
		manyIDs = append(manyIDs, id)
	}
	tests := []struct {
		name   string
		values [][]string
		want   []string
	}{
		{"blanks and repeats", [][]string{{" x ,y", "", "x,z,,"}}, []string{"x", "y", "z"}},
		{"query then form", [][]string{{"b,a"}, {"a,c", "b"}}, []string{"b", "a", "c"}},
		{"none", [][]string{nil, {" , "}}, []string{}},
		{"many", [][]string{many, {"r0", "r19,new"}}, append(slices.Clone(manyIDs), "new")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitResources(tt.values...); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
