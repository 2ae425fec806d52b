package v2client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// script answers the n-th request (from 0) with statuses[n], repeating the
// last one; a status of 0 drops the connection without an answer.
type script struct {
	statuses []int
	hits     atomic.Int32
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.hits.Add(1)) - 1
	status := s.statuses[min(n, len(s.statuses)-1)]
	if status == 0 {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, `{"profiles":{},"decisions":[],"logouts":{},"requestor":{"id":"REF30"}}`)
}

func TestRetries(t *testing.T) {
	profiles := func(ctx context.Context, c *Client) error { _, err := c.Profiles(ctx, "REF30"); return err }
	config := func(ctx context.Context, c *Client) error { _, err := c.Configuration(ctx, "REF30"); return err }
	retrieve := func(ctx context.Context, c *Client) error { _, err := c.RetrieveSession(ctx, "REF30", "C"); return err }
	authorize := func(ctx context.Context, c *Client) error {
		_, err := c.Authorize(ctx, "REF30", "AcmeCable", []string{"news"})
		return err
	}
	session := func(ctx context.Context, c *Client) error {
		_, err := c.CreateSession(ctx, "REF30", SessionParams{})
		return err
	}
	logout := func(ctx context.Context, c *Client) error {
		_, err := c.Logout(ctx, "REF30", "AcmeCable", "https://x")
		return err
	}

	tests := []struct {
		name     string
		call     func(context.Context, *Client) error
		retries  int
		statuses []int
		wantHits int32
		wantErr  bool
	}{
		{"GET retried after 502", profiles, 0, []int{502, 200}, 2, false},
		{"GET retried after 503", config, 0, []int{503, 200}, 2, false},
		{"GET retried after 504", retrieve, 0, []int{504, 200}, 2, false},
		{"GET retried after a dropped connection", profiles, 0, []int{0, 200}, 2, false},
		{"GET retries are bounded", profiles, 0, []int{503}, 2, true},
		{"configured retries", profiles, 3, []int{502, 502, 502, 200}, 4, false},
		{"retries disabled", profiles, -1, []int{502, 200}, 1, true},
		{"GET 500 not retried", profiles, 0, []int{500, 200}, 1, true},
		{"GET 429 not retried", profiles, 0, []int{429, 200}, 1, true},
		{"POST decisions not retried", authorize, 0, []int{502, 200}, 1, true},
		{"POST sessions not retried after a dropped connection", session, 0, []int{0, 200}, 1, true},
		{"logout not retried", logout, 0, []int{503, 200}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{statuses: tt.statuses}
			srv := httptest.NewServer(s)
			defer srv.Close()
			c := &Client{BaseURL: srv.URL, Retries: tt.retries, RetryBackoff: 1}
			err := tt.call(t.Context(), c)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := s.hits.Load(); got != tt.wantHits {
				t.Errorf("%d requests, want %d", got, tt.wantHits)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-r.Context().Done() // never answers; the client must give up
	}))
	defer srv.Close()
	// Long enough to reach the handler, so a wrongful retry would be counted.
	c := &Client{BaseURL: srv.URL, Timeout: 100 * time.Millisecond, RetryBackoff: 1}
	_, err := c.Profiles(t.Context(), "REF30")
	if !IsTimeout(err) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if StatusCode(err) != 0 {
		t.Errorf("a timeout reported status %d", StatusCode(err))
	}
	if n := hits.Load(); n > 1 {
		t.Errorf("a timeout was retried: %d requests", n)
	}
}

func TestCallerCancellation(t *testing.T) {
	s := &script{statuses: []int{200}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := (&Client{BaseURL: srv.URL}).Profiles(ctx, "REF30")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled and not a timeout", err)
	}
	if s.hits.Load() != 0 {
		t.Error("a cancelled call reached the upstream")
	}
}
