package telemetry

import (
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport instruments base (nil means http.DefaultTransport), the
// transport of the v2 client: one client span per HTTP attempt, named by
// route(r), the route template the client gave the request (such as
// "GET /api/v2/{serviceProvider}/profiles"; "" or a nil route means
// RouteUnmatched), and child of the v1 call's span; W3C trace context on the request; and
// passgw_v2_calls_total and passgw_v2_call_duration_seconds. Neither
// headers (tokens, device identifiers) nor the raw path (codes) reach span
// attributes: url.full carries the template.
func (t *Telemetry) Transport(base http.RoundTripper, route func(*http.Request) string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	name := func(r *http.Request) string {
		if route == nil {
			return RouteUnmatched
		}
		if n := route(r); n != "" {
			return n
		}
		return RouteUnmatched
	}
	inner := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		name := name(r)
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			full := r.URL.Scheme + "://" + r.URL.Host
			if name != RouteUnmatched {
				full += routePath(name)
			}
			span.SetAttributes(attribute.String("url.full", full), attribute.String("http.route", routePath(name)))
		}
		start := time.Now()
		resp, err := base.RoundTrip(r)
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		t.Metrics.V2Call(r.Method, name, status, time.Since(start))
		return resp, err
	})
	if !t.tracing() {
		// As in Handler: no otelhttp when no span is recorded; the trace
		// context of the v1 call is still passed on.
		prop := t.propagator()
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			ctx := r.Context()
			if trace.SpanContextFromContext(ctx).IsValid() || baggage.FromContext(ctx).Len() > 0 {
				// A RoundTripper must not change the caller's request.
				r = r.Clone(ctx)
				prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
			}
			return inner.RoundTrip(r)
		})
	}
	return otelhttp.NewTransport(inner,
		otelhttp.WithTracerProvider(t.tracerProvider()),
		otelhttp.WithPropagators(t.propagator()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return name(r) }),
	)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
