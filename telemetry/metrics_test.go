package telemetry

import (
	"strconv"
	"testing"
	"time"
)

func TestStatusLabel(t *testing.T) {
	for status := 100; status < 600; status++ {
		if got, want := statusLabel(status), strconv.Itoa(status); got != want {
			t.Errorf("statusLabel(%d) = %q, want %q", status, got, want)
		}
	}
}

func TestRouteLabels(t *testing.T) {
	tests := []struct {
		template, method      string
		wantMethod, wantRoute string
	}{
		{"GET /api/v1/authorize", "GET", "GET", "/api/v1/authorize"},
		{"POST /reggie/v1/{requestor}/regcode", "", "POST", "/reggie/v1/{requestor}/regcode"},
		// The template names the method: a HEAD served by a GET route is
		// the GET route's.
		{"GET /api/v1/config/{requestor}", "HEAD", "GET", "/api/v1/config/{requestor}"},
		{"", "DELETE", "DELETE", RouteUnmatched},
		{RouteUnmatched, "PROPFIND", MethodOther, RouteUnmatched},
		{"", "get", MethodOther, RouteUnmatched},
		{"", "", MethodOther, RouteUnmatched},
	}
	for _, tt := range tests {
		method, route := RouteLabels(tt.template, tt.method)
		if method != tt.wantMethod || route != tt.wantRoute {
			t.Errorf("RouteLabels(%q, %q) = %q, %q, want %q, %q", tt.template, tt.method, method, route, tt.wantMethod, tt.wantRoute)
		}
	}
}

// BenchmarkV1Request records answered v1 calls, as every call does.
func BenchmarkV1Request(b *testing.B) {
	m := NewMetrics("bench")
	b.ReportAllocs()
	for b.Loop() {
		m.V1Request("GET", "/api/v1/authorize", "json", 200, time.Millisecond)
	}
}

// TestShadowSeries: each outcome of a shadow-mode call shows in its own
// series, by method and route, after it happened.
func TestShadowSeries(t *testing.T) {
	m := NewMetrics("test")
	const route = "GET /api/v1/checkauthn"
	m.ShadowCompared(route, true)
	m.ShadowCompared(route, false)
	m.ShadowCompared(route, false)
	m.ShadowSkipped(route)
	m.ShadowFailed(route)
	m.ShadowFailed(route)
	m.ShadowFailed("POST /reggie/v1/{requestor}/regcode")
	got := scrape(t, m)
	for series, want := range map[string]float64{
		`passgw_shadow_comparisons_total{method="GET",result="match",route="/api/v1/checkauthn"}`:               1,
		`passgw_shadow_comparisons_total{method="GET",result="difference",route="/api/v1/checkauthn"}`:          2,
		`passgw_shadow_comparisons_total{method="GET",result="skipped",route="/api/v1/checkauthn"}`:             1,
		`passgw_shadow_comparisons_total{method="GET",result="failed",route="/api/v1/checkauthn"}`:              2,
		`passgw_shadow_comparisons_total{method="POST",result="failed",route="/reggie/v1/{requestor}/regcode"}`: 1,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
}
