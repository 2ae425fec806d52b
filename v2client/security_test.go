package v2client

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A device-supplied value with a line break (an ast parameter, say) cannot
// add a header to the v2 request, and the refused call does not count
// against the upstream's circuit: one device must not be able to open it
// for every other.
func TestHeaderInjectionThroughOptions(t *testing.T) {
	var hits, injected atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("X-Injected") != "" {
			injected.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"actionName":"authenticate","actionType":"interactive","code":"C"}`))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Retries: -1, Breaker: &Breaker{Threshold: 2}}
	for _, v := range []string{"tok\r\nX-Injected: 1", "tok\nX-Injected: 1", "tok\rX-Injected: 1", "tok\x00"} {
		for range 3 {
			_, err := c.CreateSession(t.Context(), "REF30", SessionParams{}, WithSubjectToken(v), WithUserAgent(v))
			if err == nil {
				t.Fatalf("%q: a header value with a control character was sent", v)
			}
			if errors.Is(err, ErrCircuitOpen) {
				t.Fatalf("%q: refused requests opened the circuit", v)
			}
		}
	}
	if n := injected.Load(); n != 0 {
		t.Fatalf("%d requests reached the upstream with an injected header", n)
	}
	if _, err := c.CreateSession(t.Context(), "REF30", SessionParams{}, WithSubjectToken("tok")); err != nil {
		t.Fatalf("a clean call after the refused ones: %v", err)
	}
	if hits.Load() != 1 {
		t.Errorf("upstream got %d requests, want only the clean one", hits.Load())
	}
}

// A code, service provider or MVPD that would climb out of its path
// segment is refused before anything is sent: "." and ".." survive path
// escaping, and a normalising server would resolve them.
func TestUnsafePathSegmentsRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Retries: -1}
	for _, code := range []string{"..", ".", "%2e%2e", "a/../../configuration"} {
		_, err1 := c.ProfileByCode(t.Context(), "REF30", code)
		_, err2 := c.RetrieveSession(t.Context(), code, "C")
		_, err3 := c.Authorize(t.Context(), "REF30", code, []string{"news"})
		for i, err := range []error{err1, err2, err3} {
			if code == "%2e%2e" || code == "a/../../configuration" {
				// Escaped into one segment (%252e%252e, a%2F..%2F...).
				if errors.Is(err, ErrUnsafePath) {
					t.Errorf("%q (call %d): refused, but it escapes to a plain segment", code, i)
				}
				continue
			}
			if !errors.Is(err, ErrUnsafePath) {
				t.Errorf("%q (call %d): err = %v, want ErrUnsafePath", code, i, err)
			}
		}
	}
	if n := hits.Load(); n != 6 {
		t.Errorf("upstream got %d requests, want only the 6 harmless ones", n)
	}
}
