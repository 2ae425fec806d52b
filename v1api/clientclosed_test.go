package v1api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/passgw/passgw/v1model"
)

// abandoningBackend answers checkauthn once its caller has gone, with the
// error an upstream call cut short by that gives.
type abandoningBackend struct {
	*recordingBackend
	started chan struct{}
}

func (b abandoningBackend) CheckAuthn(ctx context.Context, _ *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error) {
	close(b.started)
	<-ctx.Done()
	return nil, v1model.ErrInternal(ctx.Err())
}

// TestClientClosed: a call the device abandoned while the gateway worked on
// it is recorded as "client closed" (499, no body) and logged as such at
// info level, never as a server error.
func TestClientClosed(t *testing.T) {
	var logs bytes.Buffer
	b := abandoningBackend{newRecordingBackend(), make(chan struct{})}
	h := newTestHandler(t, b, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=d1", nil).WithContext(ctx)
	go func() { <-b.started; cancel() }()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != StatusClientClosed || w.Body.Len() != 0 {
		t.Errorf("abandoned call: %d %q, want %d and no body", w.Code, w.Body, StatusClientClosed)
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "client closed") {
		t.Errorf("logs:\n%s\nwant one info line saying client closed, no error", logs.String())
	}

	// The same error while the client is still there is a server error.
	logs.Reset()
	b2 := newRecordingBackend()
	b2.err = v1model.ErrInternal(context.Canceled)
	h = newTestHandler(t, b2, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	if w := serve(h, testRequest{target: "/api/v1/checkauthn?requestor=REF30&deviceId=d1"}); w.Code != http.StatusInternalServerError {
		t.Errorf("cancelled upstream with the client still there: %d, want 500", w.Code)
	}
}
