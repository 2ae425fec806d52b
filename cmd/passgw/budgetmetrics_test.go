package main

import (
	"net/http"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client/sandbox"
)

// TestBudgetMetricsThroughGateway: the gateway's upstream budget reports to
// its metrics. An upstream 429 counts a hold under the throttled call's
// method and route; a call of the same device refused within the hold
// (answered v1's 429 without reaching Adobe) counts as refused, held.
func TestBudgetMetricsThroughGateway(t *testing.T) {
	w := newObsWorld(t, func(c *Config) { c.UpstreamBudget = BudgetConfig{} })
	const checkauthn = "/api/v1/checkauthn?requestor=REF30&deviceId=budget-tv&format=json"
	profiles := map[string]string{"method": "GET", "route": "/api/v2/{serviceProvider}/profiles"}
	holds := testenv.MetricSeries("passgw_v2_budget_holds_total", profiles)
	held := testenv.MetricSeries("passgw_v2_budget_refused_total", map[string]string{
		"method": "GET", "route": "/api/v2/{serviceProvider}/profiles", "reason": "held"})

	if resp, body := w.call(http.MethodGet, checkauthn, nil, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("checkauthn of a device never signed in: %d %s", resp.StatusCode, body)
	}
	if got := w.scrape(); got[holds] != 0 || got[held] != 0 {
		t.Fatalf("before any 429: %s = %v, %s = %v", holds, got[holds], held, got[held])
	}
	if _, err := w.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Path: "/api/v2/*/profiles", Count: 1}); err != nil {
		t.Fatal(err)
	}
	if resp, body := w.call(http.MethodGet, checkauthn, nil, ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("checkauthn throttled upstream: %d %s", resp.StatusCode, body)
	}
	sent := len(w.sandbox.Requests())
	resp, _ := w.call(http.MethodGet, checkauthn, nil, "")
	// Within the second's hold (unless this machine stalled past it) the
	// call is answered 429 by the gateway without reaching Adobe.
	refused := resp.StatusCode == http.StatusTooManyRequests && len(w.sandbox.Requests()) == sent
	got := w.scrape()
	if got[holds] != 1 {
		t.Errorf("%s = %v after an upstream 429, want 1", holds, got[holds])
	}
	if want := map[bool]float64{true: 1, false: 0}[refused]; got[held] != want {
		t.Errorf("%s = %v, want %v (a call refused within the hold: %v)", held, got[held], want, refused)
	}
}
