package compat

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
