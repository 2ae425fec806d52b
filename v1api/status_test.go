package v1api

import (
	"strings"
	"testing"

	"github.com/passgw/passgw/v1model"
)

// TestStatuses proves the answers that have no golden body (204, 302, 429,
// octet-stream, headers) and that refused input never reaches the backend.
func TestStatuses(t *testing.T) {
	long := strings.Repeat("x", DefaultMaxParamBytes)
	tests := []struct {
		name        string
		req         testRequest
		err         error
		wantStatus  int
		wantHeaders map[string]string
		wantBody    string
		wantOp      string // "" = backend not called
	}{
		{name: "regcode delete", req: testRequest{method: "DELETE", target: "/reggie/v1/R/regcode/ABC"},
			wantStatus: 204, wantOp: "DeleteRegcode"},
		{name: "regcode delete unknown", req: testRequest{method: "DELETE", target: "/reggie/v1/R/regcode/ABC"},
			err: v1model.ErrNotFound(""), wantStatus: 404, wantOp: "DeleteRegcode"},
		{name: "logout", req: testRequest{method: "DELETE", target: "/api/v1/logout?requestor=R&deviceId=d"},
			wantStatus: 204, wantOp: "Logout"},
		{name: "freepreview", req: testRequest{method: "POST", target: "/api/v1/authenticate/freepreview?requestor_id=R&deviceId=d&mso_id=T&domain_name=x"},
			wantStatus: 204, wantOp: "FreePreview"},
		{name: "token exchange", req: testRequest{method: "POST", target: "/api/v1/tokens/authn", body: "requestor=R&deviceId=d&mvpd=M&deviceType=iOS&SAMLResponse=x"},
			wantStatus: 204, wantOp: "TokenExchange"},
		{name: "authenticate redirects", req: testRequest{target: "/api/v1/authenticate?requestor_id=R&mso_id=M&reg_code=C&domain_name=d&redirect_url=u"},
			wantStatus: 302, wantHeaders: map[string]string{"Location": "https://sandbox.example/api/v2/authenticate/REF30/TJJCFK"}, wantOp: "Authenticate"},
		{name: "profile request is octet-stream", req: testRequest{target: "/api/v1/R/profile-requests/M.json?deviceType=tvOS"},
			wantStatus: 200, wantHeaders: map[string]string{"Content-Type": "application/octet-stream"}, wantBody: "opaque\x00payload", wantOp: "ProfileRequest"},
		{name: "preauthorize confidence header", req: testRequest{target: "/api/v1/preauthorize?requestor=R&deviceId=d&resource=a"},
			wantStatus: 200, wantHeaders: map[string]string{"Adobe-Response-Confidence": "full", "Adobe-Request-Id": testRequestID}, wantOp: "Preauthorize"},
		{name: "upstream throttle is the HTML page", req: testRequest{target: "/api/v1/authorize?requestor=R&deviceId=d&resource=a&format=json"},
			err: v1model.ErrTooManyRequests(), wantStatus: 429, wantHeaders: map[string]string{"Content-Type": "text/html", "Content-Length": "166"},
			wantBody: throttlePage, wantOp: "Authorize"},
		{name: "ttl 36000 accepted", req: testRequest{method: "POST", target: "/reggie/v1/R/regcode?deviceId=d&ttl=36000"},
			wantStatus: 201, wantOp: "CreateRegcode"},
		{name: "ttl over max", req: testRequest{method: "POST", target: "/reggie/v1/R/regcode?deviceId=d&ttl=36001"}, wantStatus: 400},
		{name: "ttl zero", req: testRequest{method: "POST", target: "/reggie/v1/R/regcode?deviceId=d&ttl=0"}, wantStatus: 400},
		{name: "ttl negative", req: testRequest{method: "POST", target: "/reggie/v1/R/regcode?deviceId=d&ttl=-5"}, wantStatus: 400},
		{name: "ttl not numeric", req: testRequest{method: "POST", target: "/reggie/v1/R/regcode?deviceId=d&ttl=1h"}, wantStatus: 400},
		{name: "deviceId missing", req: testRequest{target: "/api/v1/authorize?requestor=R&resource=a"}, wantStatus: 400},
		{name: "requestor missing", req: testRequest{target: "/api/v1/authorize?deviceId=d&resource=a"}, wantStatus: 400},
		{name: "device_info invalid", req: testRequest{target: "/api/v1/authorize?requestor=R&deviceId=d&resource=a&device_info=e30%ZZ"}, wantStatus: 400},
		{name: "query too large", req: testRequest{target: "/api/v1/authorize?requestor=R&deviceId=d&resource=" + long}, wantStatus: 400},
		{name: "body too large", req: testRequest{method: "POST", target: "/reggie/v1/R/regcode", body: "deviceId=d&x=" + strings.Repeat("y", DefaultMaxBodyBytes)},
			wantStatus: 400},
		{name: "body too large multipart", req: testRequest{method: "POST", target: "/reggie/v1/R/regcode?deviceId=d", contentType: "multipart/form-data; boundary=b",
			body: "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n" + strings.Repeat("y", DefaultMaxBodyBytes) + "\r\n--b--\r\n"}, wantStatus: 400},
		{name: "unknown path", req: testRequest{target: "/api/v2/sessions"}, wantStatus: 404},
		{name: "root", req: testRequest{target: "/"}, wantStatus: 404},
		{name: "wrong method", req: testRequest{method: "POST", target: "/api/v1/authorize?requestor=R&deviceId=d&resource=a"}, wantStatus: 405},
		{name: "wrong method on a code route", req: testRequest{method: "PUT", target: "/reggie/v1/regcode/ABC"}, wantStatus: 405},
		{name: "out-of-range backend status becomes 500", req: testRequest{target: "/api/v1/checkauthn?requestor=R&deviceId=d"},
			err: &v1model.Error{Status: 200, Message: "odd"}, wantStatus: 500, wantOp: "CheckAuthn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newRecordingBackend()
			b.err = tt.err
			w := serve(newTestHandler(t, b, nil), tt.req)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if w.Header().Get("Adobe-Request-Id") != testRequestID {
				t.Errorf("Adobe-Request-Id missing")
			}
			for k, v := range tt.wantHeaders {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Errorf("body %q, want %q", w.Body, tt.wantBody)
			}
			if (w.Code == 204 || w.Code == 302) && w.Body.Len() != 0 {
				t.Errorf("%d with a body: %q", w.Code, w.Body)
			}
			if w.Code != 429 && w.Code >= 400 && !strings.Contains(w.Body.String(), "<status>") {
				t.Errorf("error without a v1 body: %q", w.Body)
			}
			if op, _ := b.last(); op != tt.wantOp {
				t.Errorf("backend operation %q, want %q", op, tt.wantOp)
			}
		})
	}
}

// TestPreauthorizeConfidence proves a preauthorize answer says
// Adobe-Response-Confidence: partial when resources were left undecided
// (an item error that is a failure: throttled, or the upstream failing),
// in the legacy format too, where no item error is rendered; a denial is a
// decision, and the answer stays full.
func TestPreauthorizeConfidence(t *testing.T) {
	denied := v1model.NewError(403, "User not authorized", "authorization_denied_by_mvpd")
	for _, tt := range []struct {
		name string
		item *v1model.Error
		want string
	}{
		{"all decided", nil, "full"},
		{"denied", denied, "full"},
		{"throttled", v1model.ErrTooManyRequests(), "partial"},
		{"upstream failed", &v1model.Error{Status: 500, Message: "Internal Server Error", Code: "internal_error"}, "partial"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newRecordingBackend()
			b.pre = &v1model.Preauthorization{Resources: []v1model.ResourceDecision{
				{ID: "a", Authorized: true}, {ID: "b", Error: tt.item},
			}}
			w := serve(newTestHandler(t, b, nil), testRequest{target: "/api/v1/preauthorize?requestor=R&deviceId=d&resource=a,b"})
			if got := w.Header().Get("Adobe-Response-Confidence"); w.Code != 200 || got != tt.want {
				t.Errorf("status %d, Adobe-Response-Confidence %q, want %q", w.Code, got, tt.want)
			}
			if strings.Contains(w.Body.String(), "<error>") {
				t.Errorf("a legacy answer carries an item error: %s", w.Body)
			}
		})
	}
}
