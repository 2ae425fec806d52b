package telemetry

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passgw/passgw/v2client"
)

// Label values of passgw_v2_outcomes_total's error_code beside Adobe's
// documented codes.
const (
	// CodeNone labels a call (or decision) that succeeded.
	CodeNone = "none"
	// CodeOther labels an error code Adobe does not document.
	CodeOther = "other"
	// CodeMissing labels a failure that carried no code: no answer, an
	// open circuit, an HTML or empty body.
	CodeMissing = "no_code"
)

// Label values of passgw_migration_calls_total's backend.
const (
	BackendTranslate = "translate"
	BackendV1        = "v1"
)

// storeOperations are the store methods, the operation label values of the
// store series; each is exported at zero from the start, so that rates and
// alerts over them never see an absent series.
func storeOperations() []string {
	return []string{"get", "set", "setnx", "replace", "take", "delete"}
}

// alertSeries are the series the alert rules (monitoring/prometheus) rest
// on beside the request counts: how v2 calls end, the breaker, token
// failures, store latency and the migration modes' outcomes.
type alertSeries struct {
	outcomes      *prometheus.CounterVec
	breakerOpens  *prometheus.CounterVec
	tokenErrors   *prometheus.CounterVec
	storeDuration *prometheus.HistogramVec
	storeInFlight *prometheus.GaugeVec
	migration     *prometheus.CounterVec
	breakerState  *prometheus.Desc

	mu       sync.Mutex
	breakers []watchedBreaker
}

type watchedBreaker struct {
	b    *v2client.Breaker
	host string
}

func newAlertSeries(reg *prometheus.Registry) *alertSeries {
	a := &alertSeries{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v2_outcomes_total",
			Help: "How calls to Adobe Pass v2 and DCR ended (after retries), by method, v2 route template and Adobe error code: none for a success, a documented Enhanced Error or DCR code, other for an undocumented one, no_code for a failure without one. Authorize and preauthorize count once per decision.",
		}, []string{"method", "route", "error_code"}),
		breakerOpens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v2_breaker_opens_total",
			Help: "Times the circuit breaker on the Adobe Pass upstream opened, by host.",
		}, []string{"host"}),
		tokenErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v2_token_errors_total",
			Help: "Failures to obtain or refresh the gateway's v2 access token, by service provider.",
		}, []string{"service_provider"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passgw_store_operation_duration_seconds",
			Help:    "Latency of state store operations, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"operation"}),
		storeInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "passgw_store_operations_in_flight",
			Help: "State store operations started and not yet answered, by operation.",
		}, []string{"operation"}),
		migration: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_migration_calls_total",
			Help: "v1 calls of requestors in a migration mode, by requestor, mode (translate, passthrough, shadow, canary), backend that answered (translate, v1) and HTTP status code.",
		}, []string{"requestor", "mode", "backend", "code"}),
		breakerState: prometheus.NewDesc("passgw_v2_breaker_state",
			"State of the circuit breaker on the Adobe Pass upstream, by host: 1 for the current state (closed, open, half-open), 0 for the others.",
			[]string{"host", "state"}, nil),
	}
	for _, op := range storeOperations() {
		a.storeDuration.WithLabelValues(op)
		a.storeInFlight.WithLabelValues(op)
	}
	reg.MustRegister(a.outcomes, a.breakerOpens, a.tokenErrors, a.storeDuration, a.storeInFlight, a.migration, a)
	return a
}

// Describe implements prometheus.Collector for the breaker states.
func (a *alertSeries) Describe(ch chan<- *prometheus.Desc) { ch <- a.breakerState }

// Collect implements prometheus.Collector: the breaker states, read at
// scrape time.
func (a *alertSeries) Collect(ch chan<- prometheus.Metric) {
	a.mu.Lock()
	watched := append([]watchedBreaker(nil), a.breakers...)
	a.mu.Unlock()
	for _, w := range watched {
		cur := w.b.State(w.host)
		for _, s := range []v2client.BreakerState{v2client.BreakerClosed, v2client.BreakerOpen, v2client.BreakerHalfOpen} {
			v := 0.0
			if s == cur {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(a.breakerState, prometheus.GaugeValue, v, w.host, s.String())
		}
	}
}

// WatchBreaker exports the state of b's circuit for host (the upstream's
// host and port) in passgw_v2_breaker_state and counts its openings in
// passgw_v2_breaker_opens_total. It sets b.OnChange, keeping any hook
// already there; call it before calls are in flight.
func (m *Metrics) WatchBreaker(b *v2client.Breaker, host string) {
	if m == nil || b == nil {
		return
	}
	a := m.alerts
	opens := a.breakerOpens.WithLabelValues(host)
	a.mu.Lock()
	a.breakers = append(a.breakers, watchedBreaker{b: b, host: host})
	a.mu.Unlock()
	prev := b.OnChange
	b.OnChange = func(h string, from, to v2client.BreakerState) {
		if prev != nil {
			prev(h, from, to)
		}
		if to == v2client.BreakerOpen && h == host {
			opens.Inc()
		}
	}
}

// V2Outcome records how a v2 call ended; it is the v2 client's Outcome
// hook.
func (m *Metrics) V2Outcome(_ context.Context, o v2client.Outcome) {
	if m == nil {
		return
	}
	code := CodeNone
	switch {
	case !o.Failed:
	case o.Code == "":
		code = CodeMissing
	case v2client.DocumentedCode(o.Code):
		code = o.Code
	default:
		code = CodeOther
	}
	method, route := RouteLabels(o.Route, o.Method)
	m.alerts.outcomes.WithLabelValues(method, route, code).Inc()
}

// TokenError records a failure to obtain or refresh sp's access token.
func (m *Metrics) TokenError(sp string) {
	if m == nil {
		return
	}
	m.alerts.tokenErrors.WithLabelValues(sp).Inc()
}

// tokenSeen exports sp's token series at zero, so that alerts over their
// increase see them from the first token on.
func (m *Metrics) tokenSeen(sp string) {
	if m == nil {
		return
	}
	m.alerts.tokenErrors.WithLabelValues(sp)
	m.tokenRefreshes.WithLabelValues(sp, "expired")
	m.tokenRefreshes.WithLabelValues(sp, "rejected")
}

// MigrationCall records a v1 call answered in a migration mode.
func (m *Metrics) MigrationCall(requestor, mode, backend string, status int) {
	if m == nil {
		return
	}
	m.alerts.migration.WithLabelValues(requestor, mode, backend, statusLabel(status)).Inc()
}

// Routed tells the telemetry Handler serving r's call where the migration
// router sent it: requestor (a configured one, or a fixed stand-in: it
// becomes a label), mode and backend (BackendTranslate or BackendV1). The
// call then also counts in passgw_migration_calls_total. Outside a call
// served by Handler it does nothing.
func Routed(r *http.Request, requestor, mode, backend string) {
	st, ok := r.Context().Value(callKey{}).(*callState)
	if !ok {
		return
	}
	st.requestor, st.mode, st.backend = requestor, mode, backend
}

// storeTimer holds, per store operation, the series of its calls: their
// latency and how many are in flight.
type storeTimer map[string]storeSeries

type storeSeries struct {
	latency  prometheus.Observer
	inFlight prometheus.Gauge
}

func (m *Metrics) storeTimer() storeTimer {
	t := storeTimer{}
	for _, op := range storeOperations() {
		t[op] = storeSeries{latency: m.alerts.storeDuration.WithLabelValues(op), inFlight: m.alerts.storeInFlight.WithLabelValues(op)}
	}
	return t
}

// begin counts a call of op in flight and returns its series and start
// time, for end.
func (t storeTimer) begin(op string) (storeSeries, time.Time) {
	s := t[op]
	if s.inFlight != nil {
		s.inFlight.Inc()
	}
	return s, time.Now()
}

// end records the call begun at start: no longer in flight, and its
// latency observed.
func (s storeSeries) end(start time.Time) {
	if s.inFlight == nil {
		return
	}
	s.inFlight.Dec()
	s.latency.Observe(time.Since(start).Seconds())
}
