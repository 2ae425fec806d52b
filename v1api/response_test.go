package v1api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/passgw/passgw/v1model"
)

// TestNewUUID: without a RequestID hook, each call's Adobe-Request-Id is a
// fresh version 4 UUID.
func TestNewUUID(t *testing.T) {
	h := newTestHandler(t, newRecordingBackend(), func(c *Config) { c.RequestID = nil })
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/checkauthn?"+benchDevice, nil))
		id := w.Header().Get("Adobe-Request-Id")
		if !v4.MatchString(id) || seen[id] {
			t.Fatalf("Adobe-Request-Id %q: not a fresh version 4 UUID", id)
		}
		seen[id] = true
	}
}

// TestHeaderValues: the values a call sets stay apart, however many, and
// appending to one leaves the others alone.
func TestHeaderValues(t *testing.T) {
	c := &call{}
	h := http.Header{}
	for i := range 2 * len(c.hdr) {
		h[fmt.Sprint("K", i)] = c.headerValue(fmt.Sprint("v", i))
	}
	h.Add("K0", "extra")
	for i := range 2 * len(c.hdr) {
		want := []string{fmt.Sprint("v", i)}
		if i == 0 {
			want = append(want, "extra")
		}
		if got := h[fmt.Sprint("K", i)]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("K%d = %q, want %q", i, got, want)
		}
	}
}

// TestRenderBuffersReused: answers rendered in reused buffers, large and
// small, concurrently, are each exactly the answer a fresh handler gives.
func TestRenderBuffersReused(t *testing.T) {
	big := newRecordingBackend()
	for i := range 2000 {
		big.cfg.Requestor.MVPDs = append(big.cfg.Requestor.MVPDs, v1model.MVPD{ID: fmt.Sprint("mvpd-", i), DisplayName: "Big & Co"})
	}
	targets := []string{
		"/api/v1/config/sampleRequestorId",
		"/api/v1/config/sampleRequestorId.json",
		"/api/v1/tokens/authn?requestor=sampleRequestorId&deviceId=d1",
		"/api/v1/tokens/authn.json?requestor=sampleRequestorId&deviceId=d1",
		"/api/v1/authorize?requestor=sampleRequestorId&deviceId=d1&resource=r1",
	}
	want := map[string]string{}
	for _, target := range targets {
		w := serve(newTestHandler(t, big, nil), testRequest{target: target})
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d", target, w.Code)
		}
		want[target] = w.Body.String()
	}
	h := newTestHandler(t, big, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				target := targets[(g+i)%len(targets)]
				w := serve(h, testRequest{target: target})
				if got := w.Body.String(); got != want[target] {
					t.Errorf("%s: body differs from a fresh handler's (%d bytes, want %d)", target, len(got), len(want[target]))
					return
				}
				if cl := w.Header().Get("Content-Length"); cl != fmt.Sprint(len(want[target])) {
					t.Errorf("%s: Content-Length %s, want %d", target, cl, len(want[target]))
				}
			}
		})
	}
	wg.Wait()
}

// TestParamsNotCarriedOver: a call reads only its own parameters, whatever
// the calls before it on the same handler sent.
func TestParamsNotCarriedOver(t *testing.T) {
	be := newRecordingBackend()
	h := newTestHandler(t, be, nil)
	long := "/api/v1/preauthorize?requestor=sampleRequestorId&deviceId=d1"
	for i := range 80 {
		long += fmt.Sprintf("&resource=r%d&p%d=x", i, i)
	}
	calls := []struct {
		target string
		status int
		want   []string // the resources the backend was asked about
	}{
		{"/api/v1/preauthorize?requestor=sampleRequestorId&deviceId=d1&resource=a&resource=b", http.StatusOK, []string{"a", "b"}},
		{"/api/v1/preauthorize?requestor=sampleRequestorId&deviceId=d1", http.StatusBadRequest, nil},
		{long, http.StatusOK, nil},
		{"/api/v1/preauthorize?deviceId=d1&resource=c&requestor=sampleRequestorId", http.StatusOK, []string{"c"}},
		{"/api/v1/preauthorize?requestor=sampleRequestorId&resource=d", http.StatusBadRequest, nil},
	}
	for range 3 {
		for _, c := range calls {
			w := serve(h, testRequest{target: c.target})
			if w.Code != c.status {
				t.Fatalf("%s: status %d, want %d: %s", c.target, w.Code, c.status, w.Body)
			}
			if c.want == nil {
				continue
			}
			if _, req := be.last(); fmt.Sprint(req.(*v1model.PreauthorizeRequest).Resources) != fmt.Sprint(c.want) {
				t.Errorf("%s: backend asked about %v, want %v", c.target, req.(*v1model.PreauthorizeRequest).Resources, c.want)
			}
		}
	}
}
