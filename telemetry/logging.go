package telemetry

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/passgw/passgw/v1api"
)

// LogHandler wraps h so that every record logged with the context of a v1
// call carries the call's request_id (its Adobe-Request-Id) and, when the
// call is traced, trace_id and span_id — whichever package logs it.
func LogHandler(h slog.Handler) slog.Handler { return &logHandler{next: h} }

type logHandler struct{ next slog.Handler }

func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.next.Enabled(ctx, level)
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return l.next.Handle(ctx, r)
	}
	if id, ok := v1api.RequestIDFromContext(ctx); ok && !hasAttr(r, "request_id") {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !hasAttr(r, "trace_id") {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.next.Handle(ctx, r)
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{next: l.next.WithAttrs(attrs)}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: l.next.WithGroup(name)}
}

// DurationMS is d as the value of a duration_ms log attribute:
// milliseconds, to the microsecond.
func DurationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// logCall logs the access-log line of one answered call, msg ("v1 call"
// or "call"): its route template ("GET /api/v1/authorize", or
// RouteUnmatched), status, format, duration_ms (milliseconds, to the
// microsecond: the one key and unit of durations in the gateway's log
// lines) and, when the answer has one, its request id: five attributes,
// which a record holds without allocating. l may be nil (nothing is
// logged). The record is built here
// rather than by Logger.LogAttrs, which looks up the caller's program
// counter for a source location the gateway never prints — as costly as
// formatting the whole line — and whose attribute slice escapes to the
// heap; a handler set to add sources prints none for this line.
func logCall(ctx context.Context, l *slog.Logger, level slog.Level, msg, route string, status int, format string, took time.Duration, reqID string) {
	if l == nil {
		return
	}
	h := l.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(slog.String("route", route), slog.Int("status", status),
		slog.String("format", format), slog.Float64("duration_ms", DurationMS(took)))
	if reqID != "" {
		r.AddAttrs(slog.String("request_id", reqID))
	}
	// As Logger does, the handler's error has nowhere to go.
	_ = h.Handle(ctx, r)
}
