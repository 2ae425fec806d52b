package telemetry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Span attributes the gateway adds to the standard HTTP ones.
const (
	AttrRequestor  = attribute.Key("passgw.requestor")
	AttrDeviceHash = attribute.Key("passgw.device.hash")
	AttrFormat     = attribute.Key("passgw.format")
	AttrRequestID  = attribute.Key("passgw.request_id")
)

// Telemetry instruments HTTP traffic in and out of the gateway. The zero
// value records no spans and no metrics but still propagates W3C trace
// context from v1 calls to v2 calls.
type Telemetry struct {
	// TracerProvider records spans. Nil means none are recorded (a no-op
	// provider); incoming trace context is still passed upstream.
	TracerProvider trace.TracerProvider

	// Propagator reads trace context from v1 calls and writes it on v2
	// calls. Nil means W3C Trace Context and Baggage.
	Propagator propagation.TextMapPropagator

	// Metrics receives request counts and latencies. Nil records nothing.
	Metrics *Metrics

	// Logger receives one line per answered call (route template, status,
	// format, duration, request id; never parameters). Nil discards.
	Logger *slog.Logger

	// Progress, when set, counts the devices of each answered call in the
	// migration progress figures.
	Progress *Progress
}

func (t *Telemetry) tracerProvider() trace.TracerProvider {
	if t.TracerProvider == nil {
		return noop.NewTracerProvider()
	}
	return t.TracerProvider
}

func (t *Telemetry) propagator() propagation.TextMapPropagator {
	if t.Propagator == nil {
		return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return t.Propagator
}

// Call describes one call of the device-facing surface, as the layer that
// parsed it knows it (package v1api for v1 calls), so that telemetry reads
// no parameter, header or body of its own.
type Call interface {
	// Route names the call: a route template such as
	// "GET /api/v1/authorize", never a raw path, or "" when the call has
	// none. Routes become span names and metric labels, so they must come
	// from a small fixed set.
	Route() string
	// Requestor is the requestor the call names; "" for none.
	Requestor() string
	// DeviceID is the device identifier the call carries; "" for none.
	// Only a hash of it is recorded.
	DeviceID() string
	// Answer reads, from the header of the answer, the format of its body
	// (such as "xml", "json", "none") and its request id.
	Answer(http.Header) (format, requestID string)
}

// Handler instruments next, the v1 API: one server span per call named by
// its route (RouteUnmatched when it has none), with the requestor and a
// hash of the device id as attributes, a count in the v1 series
// (passgw_v1_requests_total...) and a log line. describe returns the Call
// of a request; it is asked before next serves it.
func (t *Telemetry) Handler(next http.Handler, describe func(*http.Request) Call) http.Handler {
	return t.handler(next, describe, true)
}

// OtherHandler instruments next, the device listener's requests outside
// the v1 API (the device DCR endpoints, the signed-in page, unknown
// paths), as Handler does but counted in passgw_other_requests_total: the
// v1 series count v1 calls only. The operator endpoints are not meant to
// go through it.
func (t *Telemetry) OtherHandler(next http.Handler, describe func(*http.Request) Call) http.Handler {
	return t.handler(next, describe, false)
}

func (t *Telemetry) handler(next http.Handler, describe func(*http.Request) Call, v1 bool) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st, _ := r.Context().Value(callKey{}).(*callState)
		if st == nil {
			st = &callState{route: RouteUnmatched, call: noCall{}}
		}
		name := st.route
		span := trace.SpanFromContext(r.Context())
		recording := span.IsRecording()
		if recording {
			attrs := make([]attribute.KeyValue, 0, 2)
			if rq := st.call.Requestor(); rq != "" {
				attrs = append(attrs, AttrRequestor.String(rq))
			}
			if id := st.call.DeviceID(); id != "" {
				attrs = append(attrs, AttrDeviceHash.String(HashDeviceID(id)))
			}
			span.SetAttributes(attrs...)
		}

		st.rec = statusRecorder{ResponseWriter: w}
		rec := &st.rec
		next.ServeHTTP(rec, r)
		status := rec.statusCode()
		format, reqID := st.call.Answer(rec.Header())
		if recording {
			span.SetAttributes(AttrFormat.String(format))
			if reqID != "" {
				span.SetAttributes(AttrRequestID.String(reqID))
			}
			endServer(span, status)
		}
		took := time.Since(start)
		method, route := RouteLabels(name, r.Method)
		if !v1 {
			t.Metrics.OtherRequest(method, route, status)
		} else {
			t.Metrics.V1Request(method, route, format, status, took)
		}
		if st.mode != "" {
			t.Metrics.MigrationCall(st.requestor, st.mode, st.backend, status)
		}
		if v1 && t.Progress != nil {
			backend := st.backend
			if backend == "" {
				backend = BackendTranslate
			}
			info, _ := st.call.(DeviceInformer)
			t.Progress.Observe(name, st.call.Requestor(), st.call.DeviceID(), info, status, backend)
		}

		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelWarn
		}
		msg := "v1 call"
		if !v1 {
			msg = "call"
		}
		logCall(r.Context(), t.Logger, level, msg, name, status, format, took, reqID)
	})
	if !t.tracing() {
		// No span is recorded: no span is started, whose attributes would
		// still cost every call. The incoming trace context is still taken
		// over, for the v2 calls the call makes.
		prop := t.propagator()
		// The default propagator reads only traceparent (with tracestate)
		// and baggage; most devices send neither, and looking them up
		// through the carrier costs an allocation per header name.
		always := t.Propagator != nil
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if always || len(r.Header["Traceparent"]) > 0 || len(r.Header["Baggage"]) > 0 {
				ctx = prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
			}
			inner.ServeHTTP(w, r.WithContext(newCallContext(ctx, describe(r))))
		})
	}
	tracer := t.tracerProvider().Tracer(tracerName)
	prop := t.propagator()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		// Matching a route is a sizeable share of a cheap call: match
		// once, for the span and for the handler.
		cc := newCallContext(ctx, describe(r))
		template := cc.st.route
		ctx, span := tracer.Start(cc, spanName(MethodLabel(r.Method), template),
			trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(serverAttrs(r, template)...))
		defer span.End()
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
}

// tracing reports whether spans are recorded.
func (t *Telemetry) tracing() bool {
	switch t.TracerProvider.(type) {
	case nil, noop.TracerProvider, *noop.TracerProvider:
		return false
	}
	return true
}

// callKey holds the *callState of a call served by Handler.
type callKey struct{}

// callState is what Handler keeps for one call: its route name, the
// recorder of its status and the cache keys already counted as missed. It
// lives in the call's context, which carries it under callKey and its
// misses under missesKey, all in one allocation.
type callState struct {
	route  string
	call   Call
	rec    statusRecorder
	misses misses

	// requestor, mode and backend are set by Routed when the migration
	// router answers the call.
	requestor, mode, backend string
}

// callContext is the context of a call served by Handler.
type callContext struct {
	context.Context
	st callState
}

func newCallContext(parent context.Context, call Call) *callContext {
	if call == nil {
		call = noCall{}
	}
	route := call.Route()
	if route == "" {
		route = RouteUnmatched
	}
	return &callContext{Context: parent, st: callState{route: route, call: call}}
}

// noCall describes a call nothing is known of.
type noCall struct{}

func (noCall) Route() string                       { return "" }
func (noCall) Requestor() string                   { return "" }
func (noCall) DeviceID() string                    { return "" }
func (noCall) Answer(http.Header) (string, string) { return "none", "" }

// Value answers the call's own keys and asks the parent for the rest.
func (c *callContext) Value(key any) any {
	switch key.(type) {
	case callKey:
		return &c.st
	case missesKey:
		return &c.st.misses
	}
	return c.Context.Value(key)
}

// HashDeviceID is how a deviceId appears in telemetry: the first 16 hex
// digits of its SHA-256, enough to follow one device across calls without
// revealing the id.
func HashDeviceID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:8])
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) statusCode() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}
