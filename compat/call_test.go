package compat

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/compat/golden"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v1api"
	"github.com/passgw/passgw/v1model"
)

func TestIdentifyCall(t *testing.T) {
	tests := []struct {
		name, method, target, contentType, body, auth string
		want                                          Call
	}{
		{"regcode create, deviceId in the form", "POST", "/reggie/v1/REF30/regcode", "application/x-www-form-urlencoded", "deviceId=dev-1&ttl=60", "",
			Call{Op: "POST /reggie/v1/{requestor}/regcode", Requestor: "REF30", DeviceID: "dev-1"}},
		{"query wins over the form", "POST", "/reggie/v1/REF30/regcode?deviceId=q", "application/x-www-form-urlencoded", "deviceId=f", "",
			Call{Op: "POST /reggie/v1/{requestor}/regcode", Requestor: "REF30", DeviceID: "q"}},
		{"multipart form", "POST", "/api/v1/authenticate/freepreview", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"requestor_id\"\r\n\r\nREF30\r\n--XX\r\nContent-Disposition: form-data; name=\"deviceId\"\r\n\r\ndev-2\r\n--XX--\r\n", "",
			Call{Op: "POST /api/v1/authenticate/freepreview", Requestor: "REF30", DeviceID: "dev-2"}},
		{"regcode get by code, extension", "GET", "/reggie/v1/REF30/regcode/ABC1234.json", "", "", "",
			Call{Op: "GET /reggie/v1/{requestor}/regcode/{code}", Requestor: "REF30", Code: "ABC1234", ReadOnly: true}},
		{"regcode get without requestor", "GET", "/reggie/v1/regcode/ABC1234", "", "", "",
			Call{Op: "GET /reggie/v1/regcode/{code}", Code: "ABC1234", ReadOnly: true}},
		{"regcode delete", "DELETE", "/reggie/v1/REF30/regcode/ABC1234", "", "", "",
			Call{Op: "DELETE /reggie/v1/{requestor}/regcode/{code}", Requestor: "REF30", Code: "ABC1234"}},
		{"browser authenticate: requestor_id first, reg_code", "GET", "/api/v1/authenticate?requestor=X&requestor_id=REF30&reg_code=C0DE", "", "", "",
			Call{Op: "GET /api/v1/authenticate", Requestor: "REF30", Code: "C0DE"}},
		{"GET on freepreview is a code", "GET", "/api/v1/authenticate/freepreview?requestor=REF30", "", "", "",
			Call{Op: "GET /api/v1/authenticate/{code}", Requestor: "REF30", Code: "freepreview"}},
		{"checkauthn", "GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d%20x", "", "", "",
			Call{Op: "GET /api/v1/checkauthn", Requestor: "REF30", DeviceID: "d x", ReadOnly: true}},
		{"broken escape kept raw", "GET", "/api/v1/tokens/authz?requestor=REF30&deviceId=a%zz&resource=r", "", "", "",
			Call{Op: "GET /api/v1/tokens/authz", Requestor: "REF30", DeviceID: "a%zz", ReadOnly: true}},
		{"requestor from a signed header", "GET", "/api/v1/authorize?deviceId=d&resource=r", "", "",
			"GET requestor_id=REF30, nonce=n, signature_method=HMAC-SHA1, request_time=1, public_key=k, signature=s",
			Call{Op: "GET /api/v1/authorize", Requestor: "REF30", DeviceID: "d"}},
		{"a bearer names no requestor", "GET", "/api/v1/authorize?deviceId=d&resource=r", "", "", "Bearer requestor_id=REF30",
			Call{Op: "GET /api/v1/authorize", DeviceID: "d"}},
		{"config by path, POST is read-only", "POST", "/api/v1/config/REF30", "application/x-www-form-urlencoded", "format=json", "",
			Call{Op: "POST /api/v1/config/{requestor}", Requestor: "REF30", ReadOnly: true}},
		{"media token", "GET", "/api/v1/mediatoken?requestor=REF30&deviceId=d&resource=r", "", "", "",
			Call{Op: "GET /api/v1/mediatoken", Requestor: "REF30", DeviceID: "d"}},
		{"logout", "DELETE", "/api/v1/logout?requestor=REF30&deviceId=d", "", "", "",
			Call{Op: "DELETE /api/v1/logout", Requestor: "REF30", DeviceID: "d"}},
		{"unknown path keeps the requestor parameter", "GET", "/api/v1/nothing?requestor=REF30&deviceId=d", "", "", "",
			Call{Requestor: "REF30", DeviceID: "d"}},
		{"a GET body is not read", "GET", "/api/v1/checkauthn?requestor=REF30", "application/x-www-form-urlencoded", "deviceId=d", "",
			Call{Op: "GET /api/v1/checkauthn", Requestor: "REF30", ReadOnly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if diff := cmp.Diff(tt.want, IdentifyCall(r)); diff != "" {
				t.Errorf("IdentifyCall (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIdentifyCallAgreesWithV1API sends every request of the project's
// golden suite both through IdentifyCall and through the v1 surface: the
// requestor and deviceId must be those the handler hands its backend, so
// that a policy is always chosen for the requestor that is then served.
func TestIdentifyCallAgreesWithV1API(t *testing.T) {
	backend := &deviceBackend{}
	h, err := v1api.New(v1api.Config{Backend: backend, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(testenv.ModuleRoot(t), "testdata", "golden", "*", "*.txtar"))
	if err != nil || len(files) < 100 {
		t.Fatalf("golden cases: %d, %v", len(files), err)
	}
	served := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := golden.ParseCase(filepath.Base(f), data)
		if err != nil {
			t.Fatal(err)
		}
		target := strings.NewReplacer("{{code}}", "ABC1234", "{{gateway}}", "http%3A%2F%2Fgw", "{{sandbox}}", "http%3A%2F%2Fsb").Replace(c.Request.Target)
		req := golden.Request{Method: c.Request.Method, Target: target, Header: c.Request.Header, Body: c.Request.Body}
		r, err := req.NewHTTPRequest(context.Background(), "http://gw")
		if err != nil {
			t.Fatal(err)
		}
		got := IdentifyCall(r)

		r, err = req.NewHTTPRequest(context.Background(), "http://gw")
		if err != nil {
			t.Fatal(err)
		}
		backend.seen = nil
		h.ServeHTTP(httptest.NewRecorder(), r)
		if backend.seen == nil {
			continue
		}
		served++
		if got.Requestor != backend.seen.Requestor || got.DeviceID != backend.seen.DeviceID {
			t.Errorf("%s: %s %s: IdentifyCall reads requestor %q deviceId %q, the v1 backend got %q %q",
				f, r.Method, target, got.Requestor, got.DeviceID, backend.seen.Requestor, backend.seen.DeviceID)
		}
	}
	if served < len(files)/2 {
		t.Errorf("only %d of %d golden requests reached the backend", served, len(files))
	}
}

// deviceBackend remembers the device of the last call and refuses it.
type deviceBackend struct{ seen *v1model.Device }

func (b *deviceBackend) refuse(d v1model.Device) error {
	b.seen = &d
	return v1model.ErrNotFound("")
}

func (b *deviceBackend) CreateRegcode(_ context.Context, r *v1model.CreateRegcodeRequest) (*v1model.Registration, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) GetRegcode(_ context.Context, r *v1model.GetRegcodeRequest) (*v1model.Registration, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) DeleteRegcode(_ context.Context, r *v1model.DeleteRegcodeRequest) error {
	return b.refuse(r.Device)
}

func (b *deviceBackend) Config(_ context.Context, r *v1model.ConfigRequest) (*v1model.Config, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) Authenticate(_ context.Context, r *v1model.AuthenticateRequest) (*v1model.AuthenticateRedirect, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) CheckAuthn(_ context.Context, r *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) AuthnToken(_ context.Context, r *v1model.AuthnTokenRequest) (*v1model.AuthnToken, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) Authorize(_ context.Context, r *v1model.AuthorizeRequest) (*v1model.AuthzToken, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) AuthzToken(_ context.Context, r *v1model.AuthzTokenRequest) (*v1model.AuthzToken, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) MediaToken(_ context.Context, r *v1model.MediaTokenRequest) (*v1model.MediaToken, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) Preauthorize(_ context.Context, r *v1model.PreauthorizeRequest) (*v1model.Preauthorization, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) UserMetadata(_ context.Context, r *v1model.UserMetadataRequest) (*v1model.UserMetadata, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) Logout(_ context.Context, r *v1model.LogoutRequest) error {
	return b.refuse(r.Device)
}

func (b *deviceBackend) FreePreview(_ context.Context, r *v1model.FreePreviewRequest) error {
	return b.refuse(r.Device)
}

func (b *deviceBackend) ProfileRequest(_ context.Context, r *v1model.ProfileRequest) (*v1model.ProfileRequestPayload, error) {
	return nil, b.refuse(r.Device)
}

func (b *deviceBackend) TokenExchange(_ context.Context, r *v1model.TokenExchangeRequest) error {
	return b.refuse(r.Device)
}
