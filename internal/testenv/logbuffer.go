package testenv

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
)

// LogBuffer collects log output written from several goroutines (servers
// under test) and is read by the test. The zero value is ready to use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// NewLogBuffer returns an empty LogBuffer whose content is logged when t
// fails, so that a failing test shows what the servers under it said.
func NewLogBuffer(t testing.TB) *LogBuffer {
	b := &LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", b)
		}
	})
	return b
}

// DebugLogger returns a logger writing every level as text into a
// NewLogBuffer(t), and that buffer.
func DebugLogger(t testing.TB) (*slog.Logger, *LogBuffer) {
	b := NewLogBuffer(t)
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}
