package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passgw/passgw/v2client"
)

// budgetSeries are the series of the per-device upstream budget
// (v2client.Budget, upstream_budget in CONFIG.md): the v2 calls it made wait
// for their device's turn in Adobe's throttle, those it refused (answered
// with v1's 429 by the gateway, never sent), and the holds upstream 429s
// started. Labelled by the call's method and route template, never by
// device.
type budgetSeries struct {
	waits   *prometheus.HistogramVec
	refused *prometheus.CounterVec
	holds   *prometheus.CounterVec
}

// Reasons of passgw_v2_budget_refused_total.
const (
	// BudgetHeld: the device's address was held after an upstream 429.
	BudgetHeld = "held"
	// BudgetNoTurn: the device's next turn was further away than
	// upstream_budget.max_wait.
	BudgetNoTurn = "no_turn"
)

func newBudgetSeries(reg *prometheus.Registry) *budgetSeries {
	s := &budgetSeries{
		waits: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passgw_v2_budget_wait_seconds",
			Help:    "Time v2 calls waited for their device's turn in Adobe's throttle (upstream_budget), by method and route template; the count is the calls that waited.",
			Buckets: []float64{.05, .1, .25, .5, .75, 1, 1.25, 1.5, 2},
		}, []string{"method", "route"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v2_budget_refused_total",
			Help: "v2 calls the upstream budget did not send, each answered with v1's 429 by the gateway, by method, route template and reason (held: the device is held after an upstream 429; no_turn: its next turn was beyond upstream_budget.max_wait).",
		}, []string{"method", "route", "reason"}),
		holds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v2_budget_holds_total",
			Help: "Upstream 429s, each holding its device's address for a second before the gateway sends it anything again, by method and route template of the throttled call.",
		}, []string{"method", "route"}),
	}
	// Every route at zero from the start, so that increase() sees the
	// first event.
	for _, r := range v2client.Routes() {
		method, route := RouteLabels(r, "")
		s.waits.WithLabelValues(method, route)
		s.refused.WithLabelValues(method, route, BudgetHeld)
		s.refused.WithLabelValues(method, route, BudgetNoTurn)
		s.holds.WithLabelValues(method, route)
	}
	reg.MustRegister(s.waits, s.refused, s.holds)
	return s
}

// BudgetEvents returns the hooks of a v2client.Budget that count its waits,
// refusals and holds; on a nil *Metrics they record nothing.
func (m *Metrics) BudgetEvents() v2client.BudgetEvents {
	if m == nil {
		return v2client.BudgetEvents{}
	}
	return v2client.BudgetEvents{
		Waited: func(route string, d time.Duration) {
			method, route := RouteLabels(route, "")
			m.budget.waits.WithLabelValues(method, route).Observe(d.Seconds())
		},
		Refused: func(route string, held bool) {
			reason := BudgetNoTurn
			if held {
				reason = BudgetHeld
			}
			method, route := RouteLabels(route, "")
			m.budget.refused.WithLabelValues(method, route, reason).Inc()
		},
		Held: func(route string) {
			method, route := RouteLabels(route, "")
			m.budget.holds.WithLabelValues(method, route).Inc()
		},
	}
}
