package v1api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	testRequestID = "8bcb17f9-b172-47d2-86d9-3eb146eba85e"
	enhancedReq   = "enhancedRequestorId"
)

// newTestHandler returns a Handler over b with deterministic request IDs,
// enhanced codes for enhancedReq only, and quiet logs.
func newTestHandler(t testing.TB, b Backend, mod func(*Config)) *Handler {
	t.Helper()
	cfg := Config{
		Backend:   b,
		Logger:    slog.New(slog.DiscardHandler),
		Enhanced:  func(r string) bool { return r == enhancedReq },
		RequestID: func() string { return testRequestID },
		Now:       func() time.Time { return time.Unix(0, 0) },
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// testRequest describes one call to the handler.
type testRequest struct {
	method string
	target string
	header map[string]string
	// body is sent with contentType (form-encoded when empty).
	body        string
	contentType string
	remote      string
}

func (tr testRequest) build() *http.Request {
	method := tr.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if tr.body != "" {
		body = strings.NewReader(tr.body)
	}
	r := httptest.NewRequest(method, tr.target, body)
	if tr.body != "" {
		ct := tr.contentType
		if ct == "" {
			ct = "application/x-www-form-urlencoded"
		}
		r.Header.Set("Content-Type", ct)
	}
	for k, v := range tr.header {
		r.Header.Set(k, v)
	}
	if tr.remote != "" {
		r.RemoteAddr = tr.remote
	}
	return r
}

func serve(h http.Handler, tr testRequest) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, tr.build())
	return w
}

func TestNewRequiresBackend(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without Backend succeeded")
	}
}
