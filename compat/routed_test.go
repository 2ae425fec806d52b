package compat

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestRouterTellsRouted: the Routed hook learns, for each call, the
// requestor, its mode and the side that answers, and that side is the one
// that answered.
func TestRouterTellsRouted(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "v1") })
	u := v1.url(t)
	// Devices "in" and "out" fall on either side of a 50% canary.
	in, out := "", ""
	for i := 0; in == "" || out == ""; i++ {
		id := "device-" + itoa(i)
		if InCanary("CAN", id, 50) {
			in = id
		} else {
			out = id
		}
	}
	policies := map[string]Policy{
		"PT":  {Mode: ModePassthrough, Upstream: u},
		"TR":  {Mode: ModeTranslate},
		"SH":  {Mode: ModeShadow, Upstream: u},
		"CAN": {Mode: ModeCanary, Upstream: u, CanaryPercent: 50},
	}
	type routed struct {
		requestor  string
		mode       Mode
		translated bool
	}
	var got []routed
	rt := &Router{Translate: &fakeTranslate{}, Policy: func(r string) Policy { return policies[r] },
		Routed: func(_ *http.Request, requestor string, mode Mode, translated bool) {
			got = append(got, routed{requestor, mode, translated})
		}}
	tests := []struct {
		target string
		want   routed
		body   string
	}{
		{"/api/v1/checkauthn?requestor=PT&deviceId=d", routed{"PT", ModePassthrough, false}, "v1"},
		{"/api/v1/checkauthn?requestor=TR&deviceId=d", routed{"TR", ModeTranslate, true}, "translated"},
		{"/api/v1/config/SH", routed{"SH", ModeShadow, false}, "v1"},
		{"/api/v1/checkauthn?requestor=CAN&deviceId=" + in, routed{"CAN", ModeCanary, true}, "translated"},
		{"/api/v1/checkauthn?requestor=CAN&deviceId=" + out, routed{"CAN", ModeCanary, false}, "v1"},
	}
	for _, tt := range tests {
		got = nil
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest("GET", tt.target, nil))
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: Routed told %+v, want once %+v", tt.target, got, tt.want)
		}
		if !strings.HasPrefix(w.Body.String(), tt.body) {
			t.Errorf("%s: answered %q, want %q", tt.target, w.Body, tt.body)
		}
	}
}

// TestShadowTellsTranslated: the Translated hook learns the status of each
// translated answer compared, with the call it answered.
func TestShadowTellsTranslated(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	tr := &fakeTranslate{serve: func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("deviceId") == "signed-out" {
			w.WriteHeader(http.StatusNotFound)
		}
		io.WriteString(w, "{}")
	}}
	type told struct {
		op, device string
		status     int
	}
	var mu sync.Mutex
	var got []told
	sh := &Shadow{Translated: func(_ *http.Request, c Call, status int) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, told{c.Op, c.DeviceID, status})
	}}
	rt := &Router{Translate: tr, Shadow: sh, Policy: onePolicy("REF30", Policy{Mode: ModeShadow, Upstream: v1.url(t)})}
	for _, dev := range []string{"signed-in", "signed-out"} {
		rt.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/tokens/authn?requestor=REF30&deviceId="+dev, nil))
	}
	sh.Wait()
	slices.SortFunc(got, func(a, b told) int { return strings.Compare(a.device, b.device) })
	want := []told{{"GET /api/v1/tokens/authn", "signed-in", 200}, {"GET /api/v1/tokens/authn", "signed-out", 404}}
	if !slices.Equal(got, want) {
		t.Errorf("told %v, want %v", got, want)
	}
}
