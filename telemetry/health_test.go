package telemetry

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadiness(t *testing.T) {
	ok := Check{Name: "store", Run: func(context.Context) error { return nil }}
	down := Check{Name: "v2 token REF30", Run: func(context.Context) error { return errors.New("registering client: 503") }}
	// Waits for the probe's deadline rather than for a fixed time.
	hangs := Check{Name: "slow", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	tests := []struct {
		name     string
		checks   []Check
		status   int
		contains []string
	}{
		{"no checks", nil, 200, []string{"ready"}},
		{"all pass", []Check{ok, ok}, 200, []string{"ready"}},
		{"one fails", []Check{ok, down}, 503, []string{"not ready", "v2 token REF30: registering client: 503"}},
		{"times out", []Check{ok, hangs}, 503, []string{"slow: context deadline exceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := &Readiness{Checks: tt.checks, Timeout: 50 * time.Millisecond}
			rec := httptest.NewRecorder()
			rd.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			for _, s := range tt.contains {
				if !strings.Contains(rec.Body.String(), s) {
					t.Errorf("body %q lacks %q", rec.Body, s)
				}
			}
			if tt.status == 200 && strings.Contains(rec.Body.String(), "store") {
				t.Errorf("ready body names checks: %q", rec.Body)
			}
		})
	}
}
