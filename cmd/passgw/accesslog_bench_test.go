package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/passgw/passgw/telemetry"
)

// benchResponse is a ResponseWriter that keeps nothing, so that the
// benchmark counts what the telemetry handler and its log line cost.
type benchResponse struct{ h http.Header }

func (b *benchResponse) Header() http.Header         { return b.h }
func (b *benchResponse) Write(p []byte) (int, error) { return len(p), nil }
func (b *benchResponse) WriteHeader(int)             {}

// BenchmarkAccessLog serves one call through telemetry.Handler with the
// logger serve builds, so that one "v1 call" line goes through the whole
// handler chain. "none" is the same call without a logger: the difference
// is the cost of the line. "discard" formats to io.Discard unbuffered,
// "devnull" writes each line to /dev/null as an unbuffered stderr would
// (one write(2) per line), and "buffered" goes through the LogWriter to
// /dev/null, as serve does by default.
func BenchmarkAccessLog(b *testing.B) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Header()["Adobe-Request-Id"] = []string{"4c8a1a7e-0d5f-4bfa-9f0e-6c1f5e3b2a10"}
		w.WriteHeader(http.StatusOK)
	})
	call := telemetry.Call(otherRoute("GET /api/v1/authorize"))
	describe := func(*http.Request) telemetry.Call { return call }
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	type sink struct {
		name     string
		w        io.Writer
		buffered bool
	}
	sinks := []sink{{"discard", io.Discard, false}, {"devnull", devNull, false}, {"buffered", devNull, true}}

	run := func(b *testing.B, tel *telemetry.Telemetry) {
		h := tel.Handler(next, describe)
		r := httptest.NewRequest(http.MethodGet, "/api/v1/authorize?requestor=REF30&resource=sports", nil)
		w := &benchResponse{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	}
	b.Run("none", func(b *testing.B) { run(b, &telemetry.Telemetry{}) })
	for _, format := range []string{"text", "json"} {
		for _, s := range sinks {
			b.Run(format+"/"+s.name, func(b *testing.B) {
				cfg := &Config{LogFormat: format, LogLevel: "info", LogBuffer: LogBufferConfig{Off: !s.buffered}}
				out, closeLog := logOutput(cfg, s.w)
				defer closeLog()
				logger := newLogger(cfg, out)
				run(b, &telemetry.Telemetry{Logger: logger.With("component", "http")})
			})
		}
	}
}
