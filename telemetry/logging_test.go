package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/passgw/passgw/v1api"
)

func TestLogHandlerStampsRequest(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "v2client")

	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(v1api.ContextWithRequestID(context.Background(), "req-42"), "op")
	defer span.End()

	tests := []struct {
		name      string
		log       func()
		requestID string
		traced    bool
	}{
		{"call context", func() { log.InfoContext(ctx, "adobe pass call") }, "req-42", true},
		{"explicit id kept", func() { log.InfoContext(ctx, "v1 request", "request_id", "mine") }, "mine", true},
		{"no context", func() { log.Info("started") }, "", false},
		{"grouped", func() { log.WithGroup("g").InfoContext(ctx, "x") }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			tt.log()
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			if tt.name == "grouped" {
				rec, _ = rec["g"].(map[string]any)
				tt.requestID = "req-42"
			}
			if id, _ := rec["request_id"].(string); id != tt.requestID {
				t.Errorf("request_id %q, want %q: %s", id, tt.requestID, buf.Bytes())
			}
			traceID, _ := rec["trace_id"].(string)
			if want := span.SpanContext().TraceID().String(); tt.traced && traceID != want {
				t.Errorf("trace_id %q, want %q", traceID, want)
			} else if !tt.traced && traceID != "" {
				t.Errorf("trace_id %q on an untraced line", traceID)
			}
		})
	}
}

// fixedTime stamps every record with one time, so that two ways of
// logging the same record can be compared byte for byte.
type fixedTime struct{ slog.Handler }

func (f fixedTime) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Date(2026, 11, 22, 12, 0, 0, 123456789, time.UTC)
	return f.Handler.Handle(ctx, r)
}

func (f fixedTime) WithAttrs(attrs []slog.Attr) slog.Handler {
	return fixedTime{f.Handler.WithAttrs(attrs)}
}

// logCall must write exactly the line Logger.LogAttrs wrote, which
// operators and log pipelines parse.
func TestLogCallMatchesLogAttrs(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	traced, span := tp.Tracer("t").Start(v1api.ContextWithRequestID(context.Background(), "req-from-context"), "op")
	defer span.End()
	contexts := map[string]context.Context{"plain": context.Background(), "traced": traced}
	handlers := map[string]func(io.Writer) slog.Handler{
		"text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		"json": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	}
	calls := []struct {
		level                     slog.Level
		msg, route, format, reqID string
		status                    int
		took                      time.Duration
	}{
		{slog.LevelInfo, "v1 call", "GET /api/v1/authorize", "json", "4c8a1a7e-0d5f-4bfa-9f0e-6c1f5e3b2a10", 200, 1234567 * time.Nanosecond},
		{slog.LevelInfo, "v1 call", "POST /reggie/v1/{requestor}/regcode", "xml", "", 201, 0},
		{slog.LevelWarn, "call", "unmatched", "none", "id with \"quotes\" and spaces", 503, 10 * time.Second},
		{slog.LevelInfo, "v1 call", "", "other", "é\u2028\x00=tab\t", 404, -time.Millisecond},
		{slog.LevelDebug, "v1 call", "GET /api/v1/config/{requestor}", "html", "x", 200, time.Hour},
	}
	for hname, newHandler := range handlers {
		for cname, ctx := range contexts {
			t.Run(hname+"/"+cname, func(t *testing.T) {
				var want, got bytes.Buffer
				old := slog.New(LogHandler(fixedTime{newHandler(&want)})).With("component", "http")
				logger := slog.New(LogHandler(fixedTime{newHandler(&got)})).With("component", "http")
				for _, c := range calls {
					attrs := []slog.Attr{slog.String("route", c.route), slog.Int("status", c.status),
						slog.String("format", c.format), slog.Float64("duration_ms", float64(c.took.Microseconds())/1e3)}
					if c.reqID != "" {
						attrs = append(attrs, slog.String("request_id", c.reqID))
					}
					old.LogAttrs(ctx, c.level, c.msg, attrs...)
					logCall(ctx, logger, c.level, c.msg, c.route, c.status, c.format, c.took, c.reqID)
				}
				if got.String() != want.String() {
					t.Errorf("logCall wrote\n%s\nLogAttrs wrote\n%s", got.String(), want.String())
				}
				if n := strings.Count(got.String(), "\n"); n != len(calls)-1 { // debug is below the default level
					t.Errorf("%d lines for %d calls at info and above", n, len(calls)-1)
				}
			})
		}
	}
	logCall(context.Background(), nil, slog.LevelError, "v1 call", "r", 500, "none", 0, "") // a nil logger logs nothing
}
