package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1api"
	"github.com/passgw/passgw/v2client"
)

// instrumentStore counts store failures and cache lookups when metrics are
// on.
func instrumentStore(tel *telemetry.Telemetry, st store.Store) store.Store {
	if tel == nil || tel.Metrics == nil {
		return st
	}
	return tel.Metrics.Store(st)
}

// instrumentClient sends the v2 client's calls through the traced, counted
// transport and counts its token refreshes. Without telemetry the
// transport still forwards incoming W3C trace context upstream.
func instrumentClient(tel *telemetry.Telemetry, c *v2client.Client) {
	if tel == nil {
		tel = &telemetry.Telemetry{}
	}
	var base http.RoundTripper
	if c.HTTPClient != nil {
		base = c.HTTPClient.Transport
	}
	c.HTTPClient = &http.Client{Transport: tel.Transport(base, v2client.RouteOf)}
	if tel.Metrics == nil {
		return
	}
	if c.Tokens != nil {
		c.Tokens = tel.Metrics.Tokens(c.Tokens)
	}
	c.Outcome = tel.Metrics.V2Outcome
	if c.Budget != nil {
		c.Budget.Events = tel.Metrics.BudgetEvents()
	}
	if u, err := url.Parse(c.BaseURL); err == nil && c.Breaker != nil {
		tel.Metrics.WatchBreaker(c.Breaker, u.Host)
	}
}

// instrumentRouter labels the calls the migration router answers with
// their requestor, mode and backend (passgw_migration_calls_total).
// Requestors not configured count as "other", so that devices naming
// random requestors cannot grow the label space.
func instrumentRouter(tel *telemetry.Telemetry, front http.Handler, cfg *Config) {
	rt, ok := front.(*compat.Router)
	if !ok || tel == nil || tel.Metrics == nil {
		return
	}
	known := map[string]bool{}
	for _, r := range cfg.Requestors {
		known[r.ID] = true
	}
	if p := tel.Progress; p != nil && rt.Shadow != nil && rt.Shadow.Translated == nil {
		rt.Shadow.Translated = func(r *http.Request, call compat.Call, status int) {
			// The comparison runs after the call was answered: read the
			// request's own copy, not the parsed call.
			raw := r.Header.Get("X-Device-Info")
			if raw == "" {
				raw = r.URL.Query().Get("device_info")
			}
			p.ObserveShadow(call.Op, call.Requestor, call.DeviceID, telemetry.DeviceInfo(v1api.DeviceInfoObject(raw)), status)
		}
	}
	rt.Routed = func(r *http.Request, requestor string, mode compat.Mode, translated bool) {
		if !known[requestor] {
			requestor = "other"
		}
		backend := telemetry.BackendV1
		if translated {
			backend = telemetry.BackendTranslate
		}
		telemetry.Routed(r, requestor, string(mode), backend)
	}
}

// describeV1 describes a v1 call to telemetry: the Call v1api.Front
// parsed.
func describeV1(r *http.Request) telemetry.Call {
	if c, ok := v1api.CallFrom(r.Context()); ok {
		return c
	}
	return otherRoute("")
}

// describeOther describes the device-facing calls outside the v1 API: the
// DCR endpoints and the landing page by their route, anything else
// unmatched.
func describeOther(r *http.Request) telemetry.Call {
	switch p := r.URL.Path; {
	case r.Method == http.MethodPost && p == "/o/client/register":
		return otherRoute("POST /o/client/register")
	case r.Method == http.MethodPost && p == "/o/client/token":
		return otherRoute("POST /o/client/token")
	case r.Method == http.MethodGet && p == signedInPath:
		return otherRoute("GET " + signedInPath)
	}
	return otherRoute("")
}

// otherRoute is a call outside the v1 API, known by its route alone.
type otherRoute string

func (o otherRoute) Route() string                                 { return string(o) }
func (otherRoute) Requestor() string                               { return "" }
func (otherRoute) DeviceID() string                                { return "" }
func (otherRoute) Answer(h http.Header) (format, requestID string) { return v1api.AnswerOf(h) }

// readiness is /readyz: the store answers, and the gateway holds (or can
// obtain) a v2 access token for every service provider it serves. The
// token source caches tokens until shortly before expiry, so a probe costs
// a store read and, at most once per token lifetime, a DCR call.
func readiness(st store.Store, tokens v2client.TokenProvider, cfg *Config, logger *slog.Logger) *telemetry.Readiness {
	rd := &telemetry.Readiness{Logger: logger}
	rd.Checks = append(rd.Checks, telemetry.Check{Name: "store", Run: func(ctx context.Context) error {
		return telemetry.Ping(ctx, st)
	}})
	sps := make([]string, 0, len(cfg.Requestors))
	for sp := range cfg.statements() {
		sps = append(sps, sp)
	}
	slices.Sort(sps)
	for _, sp := range sps {
		rd.Checks = append(rd.Checks, telemetry.Check{Name: "v2 token " + sp, Run: func(ctx context.Context) error {
			if tokens == nil {
				return nil
			}
			_, err := tokens.AccessToken(ctx, sp)
			return err
		}})
	}
	return rd
}

// publicReadiness is /readyz as the device listener serves it: the verdict
// alone (200 ready or 503 not ready), since the failed checks name store
// addresses and carry upstream error texts that are for operators; in
// full at log level debug (a development set-up) or on the operator
// listener (ops.addr), which is served rd itself.
func publicReadiness(cfg *Config, rd *telemetry.Readiness) http.Handler {
	if logLevel(cfg) <= slog.LevelDebug {
		return rd
	}
	return rd.Terse()
}

// withOps serves the operator endpoints in front of the device-facing
// handler: /healthz (the process answers), /readyz and, when metrics are
// on, /metrics and /status (the migration progress figures, JSON, which
// `passgw status` reads). They are neither traced nor counted.
func withOps(device http.Handler, ready http.Handler, tel *telemetry.Telemetry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", device)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", ready)
	if tel != nil && tel.Metrics != nil {
		mux.Handle("GET /metrics", tel.Metrics.Handler())
	}
	if tel != nil && tel.Progress != nil {
		mux.Handle("GET "+statusPath, statusHandler(tel.Progress))
	}
	return mux
}

// newTelemetry sets up tracing from the OTEL_* environment and a metrics
// registry; shutdown flushes spans not yet exported.
func newTelemetry(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*telemetry.Telemetry, func(context.Context) error, error) {
	tp, shutdown, err := telemetry.NewTracerProvider(ctx, version, getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		logger.Info("spans exported over OTLP", "component", "tracing")
	}
	return &telemetry.Telemetry{
		TracerProvider: tp,
		Metrics:        telemetry.NewMetrics(releaseVersion()),
		Logger:         logger.With("component", "http"),
	}, shutdown, nil
}

// flushTraces sends the spans not yet exported, waiting at most grace.
func flushTraces(shutdown func(context.Context) error, grace time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		logger.Warn("flushing spans at exit failed", "component", "tracing", "error", err)
	}
}

// trackProgress counts the migration progress figures (distinct devices
// seen and signed in, per requestor and platform) in st, when metrics are
// on: shared by every instance when st is a store.DistinctCounter (Redis),
// this process's own otherwise.
func trackProgress(tel *telemetry.Telemetry, st store.Store, cfg *Config, logger *slog.Logger) {
	if tel == nil || tel.Metrics == nil || tel.Progress != nil || cfg.Progress.Off {
		return
	}
	ids := make([]string, 0, len(cfg.Requestors))
	for _, r := range cfg.Requestors {
		ids = append(ids, r.ID)
	}
	tel.Progress = &telemetry.Progress{Store: st, Requestors: ids, Logger: logger,
		FlushInterval: cfg.Progress.FlushInterval, RefreshInterval: cfg.Progress.RefreshInterval}
	tel.Metrics.Registry().MustRegister(tel.Progress)
}
