package telemetry

import (
	"net/http"
	"time"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport instruments base (nil means http.DefaultTransport), the
// transport of the v2 client: one client span per HTTP attempt, named by
// route(r), the route template the client gave the request (such as
// "GET /api/v2/{serviceProvider}/profiles"; "" or a nil route means none:
// the span is named by the method), child of the v1 call's span, with
// url.template and, when the path carries no code, url.full (see
// spans.go); W3C trace context on the request; and passgw_v2_calls_total
// and passgw_v2_call_duration_seconds. No header (tokens, device
// identifiers) reaches a span attribute.
func (t *Telemetry) Transport(base http.RoundTripper, route func(*http.Request) string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	template := func(r *http.Request) string {
		if route == nil {
			return ""
		}
		return route(r)
	}
	prop := t.propagator()
	counted := func(r *http.Request, template string) (*http.Response, error) {
		start := time.Now()
		resp, err := base.RoundTrip(r)
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		t.Metrics.V2Call(r.Method, template, status, time.Since(start))
		return resp, err
	}
	if !t.tracing() {
		// No span is recorded: none is started; the trace context of the
		// v1 call is still passed on.
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			ctx := r.Context()
			if trace.SpanContextFromContext(ctx).IsValid() || baggage.FromContext(ctx).Len() > 0 {
				// A RoundTripper must not change the caller's request.
				r = r.Clone(ctx)
				prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
			}
			return counted(r, template(r))
		})
	}
	tracer := t.tracerProvider().Tracer(tracerName)
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		tmpl := template(r)
		ctx, span := tracer.Start(r.Context(), spanName(MethodLabel(r.Method), tmpl),
			trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(clientAttrs(r, tmpl)...))
		defer span.End()
		// A RoundTripper must not change the caller's request.
		r = r.Clone(ctx)
		prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
		resp, err := counted(r, tmpl)
		endClient(span, resp, err)
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
