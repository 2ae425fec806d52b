package v1api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/passgw/passgw/translate"
)

func TestRouteTemplate(t *testing.T) {
	h, err := New(Config{Backend: newRecordingBackend()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, target string
		want           string // "" when no route matches
	}{
		{"POST", "/reggie/v1/REF30/regcode", "POST /reggie/v1/{requestor}/regcode"},
		{"POST", "/reggie/v1/REF30/regcode.json", "POST /reggie/v1/{requestor}/regcode"},
		{"GET", "/reggie/v1/REF30/regcode/ABC1234.xml", "GET /reggie/v1/{requestor}/regcode/{code}"},
		{"DELETE", "/reggie/v1/regcode/ABC1234", "DELETE /reggie/v1/regcode/{code}"},
		{"GET", "/api/v1/config/REF30", "GET /api/v1/config/{requestor}"},
		{"GET", "/api/v1/authorize?requestor=REF30&deviceId=d&resource=x", "GET /api/v1/authorize"},
		{"GET", "/api/v1/authenticate/ABC1234", "GET /api/v1/authenticate/{code}"},
		{"POST", "/api/v1/authenticate/freepreview", "POST /api/v1/authenticate/freepreview"},
		{"GET", "/api/v1/logout", "GET /api/v1/logout"},
		{"DELETE", "/api/v1/logout", "DELETE /api/v1/logout"},
		{"GET", "/api/v1/nothing", ""},
		{"PUT", "/api/v1/authorize", ""},
	}
	for _, tt := range tests {
		got, ok := h.RouteTemplate(httptest.NewRequest(tt.method, tt.target, nil))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s %s: %q %v, want %q", tt.method, tt.target, got, ok, tt.want)
		}
	}
}

// idBackend remembers the request id its Config call saw.
type idBackend struct {
	*recordingBackend
	seen string
}

func (b *idBackend) Config(ctx context.Context, r *translate.ConfigRequest) (*translate.Config, error) {
	b.seen, _ = RequestIDFromContext(ctx)
	return b.recordingBackend.Config(ctx, r)
}

func TestRequestIDInContext(t *testing.T) {
	tests := []struct {
		name   string
		chosen string // by a middleware; "" for none
		want   string
	}{
		{"handler makes one", "", "made-1"},
		{"middleware chose one", "chosen-7", "chosen-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &idBackend{recordingBackend: newRecordingBackend()}
			h, err := New(Config{Backend: b, RequestID: func() string { return "made-1" }})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/api/v1/config/REF30", nil)
			if tt.chosen != "" {
				req = req.WithContext(ContextWithRequestID(req.Context(), tt.chosen))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Adobe-Request-Id"); got != tt.want {
				t.Errorf("Adobe-Request-Id %q, want %q", got, tt.want)
			}
			if b.seen != tt.want {
				t.Errorf("backend context carried %q, want %q", b.seen, tt.want)
			}
		})
	}
}
