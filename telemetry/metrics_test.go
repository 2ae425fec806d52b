package telemetry

import (
	"strconv"
	"testing"
	"time"
)

func TestStatusLabel(t *testing.T) {
	for status := 100; status < 600; status++ {
		if got, want := statusLabel(status), strconv.Itoa(status); got != want {
			t.Errorf("statusLabel(%d) = %q, want %q", status, got, want)
		}
	}
}

// BenchmarkV1Request records answered v1 calls, as every call does.
func BenchmarkV1Request(b *testing.B) {
	m := NewMetrics("bench")
	b.ReportAllocs()
	for b.Loop() {
		m.V1Request("GET /api/v1/authorize", "json", 200, time.Millisecond)
	}
}
