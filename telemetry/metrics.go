// Package telemetry instruments the gateway for its operators: OpenTelemetry
// traces (a server span per v1 call, a client span per v2 call, W3C trace
// context sent upstream), Prometheus metrics, request-scoped log fields and
// the readiness endpoint.
//
// The instrumented packages (v1api, translate, v2client) know nothing of
// exporters: telemetry wraps what they already expose — an http.Handler, the
// v2 client's http.RoundTripper, the store and the token provider. It knows
// nothing of the v1 and v2 wire either: a v1 call is named and described by
// the Call its parser gives (v1api.Call), a v2 call by the route template
// the v2 client gave it.
package telemetry

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the gateway's Prometheus registry and the series it keeps.
// Every method is safe on a nil *Metrics, which records nothing, so
// instrumented code needs no "metrics enabled" checks.
type Metrics struct {
	registry *prometheus.Registry

	v1Requests     *prometheus.CounterVec
	v1Duration     *prometheus.HistogramVec
	throttled      *prometheus.CounterVec
	v2Calls        *prometheus.CounterVec
	v2Duration     *prometheus.HistogramVec
	cacheLookups   *prometheus.CounterVec
	tokenRefreshes *prometheus.CounterVec
	storeErrors    *prometheus.CounterVec
	shadow         *prometheus.CounterVec
	alerts         *alertSeries
	v1Fallback     *prometheus.GaugeVec
	v1Switches     *prometheus.CounterVec
	reload         *reloadSeries
}

// Label values used where a request matches no known route, so that
// scanners probing random paths cannot grow the label space.
const (
	RouteUnmatched = "unmatched"
)

// NewMetrics returns a fresh registry holding the gateway's series, the Go
// runtime and process collectors and passgw_build_info{version}.
func NewMetrics(version string) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		v1Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v1_requests_total",
			Help: "v1 calls answered, by route template, response format (xml, json, none) and HTTP status.",
		}, []string{"endpoint", "format", "status"}),
		v1Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passgw_v1_request_duration_seconds",
			Help:    "Time to answer a v1 call, by route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"endpoint"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v1_throttled_total",
			Help: "v1 calls answered 429, by route template: refused by the gateway's per-device throttle or throttled by Adobe.",
		}, []string{"endpoint"}),
		v2Calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v2_calls_total",
			Help: "HTTP attempts to Adobe Pass v2 and DCR, by route template and HTTP status (\"error\" when no answer came).",
		}, []string{"endpoint", "status"}),
		v2Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passgw_v2_call_duration_seconds",
			Help:    "Latency of HTTP attempts to Adobe Pass v2 and DCR, by route template.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_cache_lookups_total",
			Help: "Lookups in the gateway's v2 answer caches (profiles, config), by result (hit, miss).",
		}, []string{"cache", "result"}),
		tokenRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v2_token_refreshes_total",
			Help: "New v2 access tokens taken into use, by service provider and reason (expired: the previous one ran out; rejected: v2 answered 401).",
		}, []string{"service_provider", "reason"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_store_errors_total",
			Help: "Failed state store operations (absent keys are not failures), by operation.",
		}, []string{"operation"}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_shadow_comparisons_total",
			Help: "Shadow-mode comparisons of the v1 upstream's answer with the translated one, by route template and result (match, difference).",
		}, []string{"endpoint", "result"}),
		v1Fallback: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "passgw_v1_fallback",
			Help: "1 while the v1 end-of-life guard answers a requestor's calls through translate because its v1 upstream stopped answering, else 0; by requestor (* for requestors not configured).",
		}, []string{"requestor"}),
		v1Switches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v1_fallback_switches_total",
			Help: "Switches of the v1 end-of-life guard, by requestor and direction (translate: v1 stopped answering; v1: back to the configured mode).",
		}, []string{"requestor", "to"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "passgw_build_info",
		Help:        "Always 1; the version label names the running build.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build,
		m.v1Requests, m.v1Duration, m.throttled, m.v2Calls, m.v2Duration,
		m.cacheLookups, m.tokenRefreshes, m.storeErrors, m.shadow,
		m.v1Fallback, m.v1Switches,
	)
	for _, op := range storeOperations() {
		m.storeErrors.WithLabelValues(op)
	}
	m.alerts = newAlertSeries(m.registry)
	m.reload = newReloadSeries(m.registry)
	return m
}

// Registry is where the series live; register more collectors here.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus text format (/metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// V1Request records one answered v1 call.
func (m *Metrics) V1Request(endpoint, format string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.v1Requests.WithLabelValues(endpoint, format, statusLabel(status)).Inc()
	m.v1Duration.WithLabelValues(endpoint).Observe(took.Seconds())
	if status == http.StatusTooManyRequests {
		m.throttled.WithLabelValues(endpoint).Inc()
	}
}

// V2Call records one HTTP attempt upstream; status 0 means no answer
// (connection failure, timeout).
func (m *Metrics) V2Call(endpoint string, status int, took time.Duration) {
	if m == nil {
		return
	}
	s := "error"
	if status > 0 {
		s = statusLabel(status)
	}
	m.v2Calls.WithLabelValues(endpoint, s).Inc()
	m.v2Duration.WithLabelValues(endpoint).Observe(took.Seconds())
}

// CacheLookup records a lookup in the named cache.
func (m *Metrics) CacheLookup(cache string, hit bool) {
	if m == nil {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cacheLookups.WithLabelValues(cache, result).Inc()
}

// TokenRefresh records a new v2 access token for sp taken into use;
// reason is "expired" or "rejected".
func (m *Metrics) TokenRefresh(sp, reason string) {
	if m == nil {
		return
	}
	m.tokenRefreshes.WithLabelValues(sp, reason).Inc()
}

// StoreError records a failed store operation.
func (m *Metrics) StoreError(operation string) {
	if m == nil {
		return
	}
	m.storeErrors.WithLabelValues(operation).Inc()
}

// ShadowCompared records one shadow-mode comparison of the v1 upstream's
// answer to endpoint (a route template) with the translated answer. The
// shadow differ calls it once per compared call.
func (m *Metrics) ShadowCompared(endpoint string, match bool) {
	if m == nil {
		return
	}
	result := "difference"
	if match {
		result = "match"
	}
	m.shadow.WithLabelValues(endpoint, result).Inc()
}

// V1Fallback records a switch of the v1 end-of-life guard for requestor:
// fallback true when its calls went to translate, false when they went
// back to its configured mode. The compat guard calls it once per switch.
func (m *Metrics) V1Fallback(requestor string, fallback bool) {
	if m == nil {
		return
	}
	to, v := "v1", 0.0
	if fallback {
		to, v = "translate", 1
	}
	m.v1Fallback.WithLabelValues(requestor).Set(v)
	m.v1Switches.WithLabelValues(requestor, to).Inc()
}

// V1GuardWatches makes passgw_v1_fallback{requestor} exist, at 0 unless
// a switch set it, for a requestor the guard watches (one whose calls go
// to a v1 upstream), so that an instance that never switched shows 0
// rather than nothing.
func (m *Metrics) V1GuardWatches(requestor string) {
	if m == nil {
		return
	}
	m.v1Fallback.WithLabelValues(requestor)
}

// statusLabel is status as a label value; the statuses the gateway answers
// with are constants, so recording a call allocates no string for them.
func statusLabel(status int) string {
	switch status {
	case http.StatusOK:
		return "200"
	case http.StatusCreated:
		return "201"
	case http.StatusNoContent:
		return "204"
	case http.StatusFound:
		return "302"
	case http.StatusBadRequest:
		return "400"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusForbidden:
		return "403"
	case http.StatusNotFound:
		return "404"
	case http.StatusMethodNotAllowed:
		return "405"
	case http.StatusTooManyRequests:
		return "429"
	case http.StatusInternalServerError:
		return "500"
	case http.StatusBadGateway:
		return "502"
	case http.StatusServiceUnavailable:
		return "503"
	case http.StatusGatewayTimeout:
		return "504"
	}
	return strconv.Itoa(status)
}
