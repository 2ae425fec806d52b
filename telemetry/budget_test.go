package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client"
)

// TestBudgetSeries drives a real v2 client through its upstream budget
// against an upstream that throttles on demand, and reads the budget's
// series: a wait for a turn (count and time), a refusal for want of a turn,
// an upstream 429's hold and a refusal within it, each under the call's
// method and route; every route is exported at zero from the start.
func TestBudgetSeries(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method+" "+r.URL.Path != "GET /api/v2/REF30/profiles" {
			t.Errorf("unexpected upstream call %s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		io.WriteString(w, `{"profiles":{}}`)
	}))
	defer upstream.Close()
	m := NewMetrics("test")
	const (
		method = "GET"
		route  = "/api/v2/{serviceProvider}/profiles"
	)
	counter := func(name string, labels map[string]string) string { return testenv.MetricSeries(name, labels) }
	refused := func(reason string) string {
		return counter("passgw_v2_budget_refused_total", map[string]string{"method": method, "route": route, "reason": reason})
	}
	holds := counter("passgw_v2_budget_holds_total", map[string]string{"method": method, "route": route})
	waits := counter("passgw_v2_budget_wait_seconds_count", map[string]string{"method": method, "route": route})
	waited := counter("passgw_v2_budget_wait_seconds_sum", map[string]string{"method": method, "route": route})
	at := func(want map[string]float64) {
		t.Helper()
		got := scrape(t, m)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
	}
	at(map[string]float64{refused(BudgetHeld): 0, refused(BudgetNoTurn): 0, holds: 0, waits: 0,
		counter("passgw_v2_budget_holds_total", map[string]string{"method": "POST", "route": "/o/client/token"}): 0})

	clock := testenv.NewClock(time.Unix(1_800_000_000, 0))
	c := &v2client.Client{BaseURL: upstream.URL, Retries: -1, Budget: &v2client.Budget{
		Burst: -1, MaxWait: 1500 * time.Millisecond, Now: clock.Now, Events: m.BudgetEvents(),
		Sleep: func(context.Context, time.Duration) error { return nil }, // the clock stays: each call waits from the same instant
	}}
	ctx := context.Background()
	for i := range 2 {
		if _, err := c.Profiles(ctx, "REF30"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := c.Profiles(ctx, "REF30"); !errors.Is(err, v2client.ErrOverBudget) {
		t.Fatalf("a call 2.1s from its turn: %v, want ErrOverBudget", err)
	}
	at(map[string]float64{waits: 1, waited: 1.05, refused(BudgetNoTurn): 1, refused(BudgetHeld): 0, holds: 0})

	clock.Advance(10 * time.Second)
	status.Store(http.StatusTooManyRequests)
	if _, err := c.Profiles(ctx, "REF30"); !errors.Is(err, v2client.ErrThrottled) {
		t.Fatalf("an upstream 429: %v, want ErrThrottled", err)
	}
	clock.Advance(500 * time.Millisecond)
	if _, err := c.Profiles(ctx, "REF30"); !errors.Is(err, v2client.ErrOverBudget) {
		t.Fatalf("a call within the hold: %v, want ErrOverBudget", err)
	}
	at(map[string]float64{waits: 1, refused(BudgetNoTurn): 1, refused(BudgetHeld): 1, holds: 1})
}
