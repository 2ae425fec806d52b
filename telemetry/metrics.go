// Package telemetry instruments the gateway for its operators: OpenTelemetry
// traces after the HTTP semantic conventions (a server span per v1 call, a
// client span per v2 call, W3C trace context sent upstream; spans.go),
// Prometheus metrics labelled method, route and code, request-scoped log
// fields and the access log (durations under duration_ms), and the
// readiness endpoint.
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
	"strings"
	"sync"
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

	// v1Series caches the series of each kind of answered v1 call, so that
	// recording a call costs one map lookup rather than hashing its labels
	// for each of its series. The keys come from bounded sets (route
	// templates, MethodLabel, formats, statuses).
	v1Mu     sync.RWMutex
	v1Series map[v1Key]*v1Children

	v1Requests     *prometheus.CounterVec
	v1Duration     *prometheus.HistogramVec
	throttled      *prometheus.CounterVec
	otherRequests  *prometheus.CounterVec
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
	budget         *budgetSeries
	conns          *connSeries
}

type v1Key struct {
	method, route, format string
	code                  int
}

type v1Children struct {
	requests  prometheus.Counter
	duration  prometheus.Observer
	throttled prometheus.Counter // nil unless the code is 429
}

// Label values used where a request matches no known route, so that
// scanners probing random paths cannot grow the label space: the route
// label of such a request is RouteUnmatched, and a method outside the
// ones HTTP defines is MethodOther (the name OpenTelemetry's HTTP
// conventions give it).
const (
	RouteUnmatched = "unmatched"
	MethodOther    = "_OTHER"
)

// NewMetrics returns a fresh registry holding the gateway's series, the Go
// runtime and process collectors and passgw_build_info{version}.
func NewMetrics(version string) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		v1Series: map[v1Key]*v1Children{},
		v1Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v1_requests_total",
			Help: "v1 calls answered, by method, v1 route template (unmatched for a v1 path no route matches), response format (xml, json, html, none) and HTTP status code.",
		}, []string{"method", "route", "format", "code"}),
		v1Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passgw_v1_request_duration_seconds",
			Help:    "Time to answer a v1 call, by method and v1 route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v1_throttled_total",
			Help: "v1 calls answered 429, by method and v1 route template: refused by the gateway's per-device throttle or throttled by Adobe.",
		}, []string{"method", "route"}),
		otherRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_other_requests_total",
			Help: "Requests to the device listener outside the v1 API (the device DCR endpoints /o/client/*, the signed-in page; unmatched for any other path), by method, route and HTTP status code. Operator endpoints (/healthz, /readyz, /metrics, /status, /ops/*) are not counted.",
		}, []string{"method", "route", "code"}),
		v2Calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passgw_v2_calls_total",
			Help: "HTTP attempts to Adobe Pass v2 and DCR, by method, v2 route template and HTTP status code (\"error\" when no answer came).",
		}, []string{"method", "route", "code"}),
		v2Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passgw_v2_call_duration_seconds",
			Help:    "Latency of HTTP attempts to Adobe Pass v2 and DCR, by method and v2 route template.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
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
			Help: "Shadow-mode comparisons of the v1 upstream's answer with the translated one, by method, v1 route template and result: match, difference; skipped (not compared: every comparison slot was busy), failed (not compared: the translated answer could not be had, a panic or a timeout before any answer).",
		}, []string{"method", "route", "result"}),
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
		m.v1Requests, m.v1Duration, m.throttled, m.otherRequests, m.v2Calls, m.v2Duration,
		m.cacheLookups, m.tokenRefreshes, m.storeErrors, m.shadow,
		m.v1Fallback, m.v1Switches,
	)
	for _, op := range storeOperations() {
		m.storeErrors.WithLabelValues(op)
	}
	m.alerts = newAlertSeries(m.registry)
	m.reload = newReloadSeries(m.registry)
	m.budget = newBudgetSeries(m.registry)
	m.conns = newConnSeries(m.registry)
	return m
}

// Registry is where the series live; register more collectors here.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus text format (/metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// V1Request records one answered v1 call: method and route are its
// labels (see RouteLabels), code its status.
func (m *Metrics) V1Request(method, route, format string, code int, took time.Duration) {
	if m == nil {
		return
	}
	c := m.v1Children(v1Key{method: method, route: route, format: format, code: code})
	c.requests.Inc()
	c.duration.Observe(took.Seconds())
	if c.throttled != nil {
		c.throttled.Inc()
	}
}

func (m *Metrics) v1Children(k v1Key) *v1Children {
	m.v1Mu.RLock()
	c, ok := m.v1Series[k]
	m.v1Mu.RUnlock()
	if ok {
		return c
	}
	c = &v1Children{
		requests: m.v1Requests.WithLabelValues(k.method, k.route, k.format, statusLabel(k.code)),
		duration: m.v1Duration.WithLabelValues(k.method, k.route),
	}
	if k.code == http.StatusTooManyRequests {
		c.throttled = m.throttled.WithLabelValues(k.method, k.route)
	}
	m.v1Mu.Lock()
	m.v1Series[k] = c
	m.v1Mu.Unlock()
	return c
}

// OtherRequest records one answered request to the device listener outside
// the v1 API: method and route are its labels (see RouteLabels).
func (m *Metrics) OtherRequest(method, route string, code int) {
	if m == nil {
		return
	}
	m.otherRequests.WithLabelValues(method, route, statusLabel(code)).Inc()
}

// V2Call records one HTTP attempt upstream, named by its v2 route template
// (such as "GET /api/v2/{serviceProvider}/profiles"; "" when it has none);
// status 0 means no answer (connection failure, timeout).
func (m *Metrics) V2Call(method, template string, status int, took time.Duration) {
	if m == nil {
		return
	}
	s := "error"
	if status > 0 {
		s = statusLabel(status)
	}
	method, route := RouteLabels(template, method)
	m.v2Calls.WithLabelValues(method, route, s).Inc()
	m.v2Duration.WithLabelValues(method, route).Observe(took.Seconds())
}

// RouteLabels splits a route template ("GET /api/v1/authorize") into the
// method and route labels of a series ("GET", "/api/v1/authorize"). A
// request no route matched (template "" or RouteUnmatched) is labelled by
// its own method, bounded by MethodLabel, and RouteUnmatched.
func RouteLabels(template, method string) (string, string) {
	if template == "" || template == RouteUnmatched {
		return MethodLabel(method), RouteUnmatched
	}
	m, path, ok := strings.Cut(template, " ")
	if !ok {
		return MethodLabel(method), template
	}
	return m, path
}

// MethodLabel is method as a label or attribute value: one of the methods
// HTTP defines (RFC 9110, section 9, and PATCH), else MethodOther, so
// that a client cannot grow the label space.
func MethodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead,
		http.MethodOptions, http.MethodPatch, http.MethodConnect, http.MethodTrace:
		return method
	}
	return MethodOther
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
// answer to a call of route (a v1 route template) with the translated
// answer. The shadow differ calls it once per compared call.
func (m *Metrics) ShadowCompared(route string, match bool) {
	if m == nil {
		return
	}
	result := "difference"
	if match {
		result = "match"
	}
	method, path := RouteLabels(route, "")
	m.shadow.WithLabelValues(method, path, result).Inc()
}

// ShadowSkipped records a shadow-mode call of route not compared because
// every comparison slot was busy.
func (m *Metrics) ShadowSkipped(route string) {
	if m == nil {
		return
	}
	method, path := RouteLabels(route, "")
	m.shadow.WithLabelValues(method, path, "skipped").Inc()
}

// ShadowFailed records a shadow-mode call of route whose translated answer
// could not be had.
func (m *Metrics) ShadowFailed(route string) {
	if m == nil {
		return
	}
	method, path := RouteLabels(route, "")
	m.shadow.WithLabelValues(method, path, "failed").Inc()
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
