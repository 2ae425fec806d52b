package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

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
