package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// batchRecorder is the underlying writer of the tests: it keeps every
// batch it is given. gate, when set, holds each write until a value is
// received or gate is closed; fail decides the result of each write.
type batchRecorder struct {
	gate chan struct{}
	fail func(n int, p []byte) (int, error) // n counts writes from 0

	mu      sync.Mutex
	batches []string
}

func (r *batchRecorder) Write(p []byte) (int, error) {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.batches)
	r.batches = append(r.batches, string(p))
	if r.fail != nil {
		return r.fail(n, p)
	}
	return len(p), nil
}

func (r *batchRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.batches, "")
}

func (r *batchRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

func TestLogWriterInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &batchRecorder{}
		lw := NewLogWriter(rec, LogWriterOptions{Interval: 200 * time.Millisecond})
		defer lw.Close()
		io.WriteString(lw, "a\n")
		io.WriteString(lw, "b\n")

		time.Sleep(199 * time.Millisecond)
		synctest.Wait()
		if got := rec.String(); got != "" {
			t.Fatalf("written before the interval: %q", got)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if rec.count() != 1 || rec.String() != "a\nb\n" {
			t.Fatalf("after the interval: batches %q, want one with both lines", rec.batches)
		}
		io.WriteString(lw, "c\n")
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if got := rec.String(); got != "a\nb\nc\n" {
			t.Fatalf("after a second interval: %q", got)
		}
	})
}

func TestLogWriterBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &batchRecorder{}
		lw := NewLogWriter(rec, LogWriterOptions{Batch: 16, Interval: time.Hour})
		defer lw.Close()
		start := time.Now()
		io.WriteString(lw, "0123456\n")
		synctest.Wait()
		if rec.count() != 0 {
			t.Fatalf("half a batch written: %q", rec.batches)
		}
		io.WriteString(lw, "789abcd\n")
		synctest.Wait()
		if got := rec.String(); got != "0123456\n789abcd\n" {
			t.Fatalf("a full batch: written %q", got)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the full batch waited %v for the interval", d)
		}
	})
}

func TestLogWriterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &batchRecorder{}
		lw := NewLogWriter(rec, LogWriterOptions{Interval: time.Hour})
		for i := range 100 {
			fmt.Fprintf(lw, "line %d\n", i)
		}
		synctest.Wait()
		if rec.count() != 0 {
			t.Fatalf("written before Close: %q", rec.batches)
		}
		if err := lw.Close(); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for i := range 100 {
			fmt.Fprintf(&want, "line %d\n", i)
		}
		if got := rec.String(); got != want.String() {
			t.Fatalf("after Close: %q", got)
		}
		// Lines after Close are not kept back.
		io.WriteString(lw, "late\n")
		if got := rec.String(); !strings.HasSuffix(got, "line 99\nlate\n") {
			t.Fatalf("a line after Close: %q", got)
		}
		if err := lw.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// synctest.Test fails if the background goroutine is still there.
	})
}

func TestLogWriterOrder(t *testing.T) {
	const writers, lines = 8, 500
	rec := &batchRecorder{}
	lw := NewLogWriter(rec, LogWriterOptions{Batch: 256, Interval: time.Millisecond})
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(lw, "g=%d i=%d\n", g, i)
				if i%50 == 0 {
					lw.Flush()
				}
			}
		})
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	for _, b := range rec.batches {
		if !strings.HasSuffix(b, "\n") {
			t.Fatalf("a batch ends inside a line: %q", b)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(rec.String(), "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(line, "g=%d i=%d", &g, &i); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after line %d", g, i, next[g]-1)
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d lines written, want %d", g, n, lines)
		}
	}
	if len(rec.batches) >= writers*lines/2 {
		t.Errorf("%d writes for %d lines: not batched", len(rec.batches), writers*lines)
	}
}

func TestLogWriterHandlerFlushesAtLevel(t *testing.T) {
	tests := []struct {
		level   slog.Level
		flushed bool
	}{
		{slog.LevelDebug, false},
		{slog.LevelInfo, false},
		{slog.LevelWarn, true},
		{slog.LevelError, true},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &batchRecorder{}
				lw := NewLogWriter(rec, LogWriterOptions{Interval: time.Hour})
				defer lw.Close()
				h := lw.Handler(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.LevelWarn)
				log := slog.New(h).With("component", "http").WithGroup("g")
				log.Info("before")
				log.Log(t.Context(), tt.level, "this")
				// No synctest.Wait: a flush is done when Log returns.
				got := rec.String()
				if !tt.flushed {
					if got != "" {
						t.Fatalf("flushed at %v: %q", tt.level, got)
					}
					return
				}
				if !strings.Contains(got, "msg=before component=http") || !strings.Contains(got, "msg=this component=http") ||
					strings.Index(got, "before") > strings.Index(got, "this") {
					t.Fatalf("at %v: written %q, want both lines in order", tt.level, got)
				}
			})
		})
	}
}

func TestLogWriterErrors(t *testing.T) {
	errBroken := errors.New("broken pipe")
	tests := []struct {
		name string
		fail func(n int, p []byte) (int, error)
		want error
	}{
		{"error", func(n int, p []byte) (int, error) {
			if n == 0 {
				return 0, errBroken
			}
			return len(p), nil
		}, errBroken},
		{"short write", func(n int, p []byte) (int, error) {
			if n == 0 {
				return len(p) - 1, nil
			}
			return len(p), nil
		}, io.ErrShortWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &batchRecorder{fail: tt.fail}
				lw := NewLogWriter(rec, LogWriterOptions{Interval: time.Hour})
				defer lw.Close() // a no-op once the test closed it
				if n, err := io.WriteString(lw, "lost\n"); n != 5 || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
				if err := lw.Flush(); !errors.Is(err, tt.want) {
					t.Fatalf("Flush: %v, want %v", err, tt.want)
				}
				// Reported once; the writer is used again for later lines.
				io.WriteString(lw, "kept\n")
				if err := lw.Flush(); err != nil {
					t.Fatalf("Flush after recovery: %v", err)
				}
				if last := rec.batches[len(rec.batches)-1]; last != "kept\n" {
					t.Fatalf("last batch %q, want the line after the failure", last)
				}
				// A failure of the last batch is Close's error.
				rec.fail = func(int, []byte) (int, error) { return 0, errBroken }
				io.WriteString(lw, "at exit\n")
				if err := lw.Close(); !errors.Is(err, errBroken) {
					t.Fatalf("Close: %v, want %v", err, errBroken)
				}
			})
		})
	}
}

// A stuck underlying writer makes writers wait once the pending lines
// reach their bound: memory stays bounded and no line is dropped.
func TestLogWriterBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const batch, lines = 16, 100
		rec := &batchRecorder{gate: make(chan struct{})}
		lw := NewLogWriter(rec, LogWriterOptions{Batch: batch, Interval: time.Hour})
		var want bytes.Buffer
		for i := range lines {
			fmt.Fprintf(&want, "line %03d\n", i) // 9 bytes
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range lines {
				fmt.Fprintf(lw, "line %03d\n", i)
			}
		}()
		synctest.Wait()
		select {
		case <-done:
			t.Error("every line was taken while the underlying writer was stuck")
		default:
		}
		lw.mu.Lock()
		pending := len(lw.buf)
		lw.mu.Unlock()
		if bound := pendingBatches*batch + 9; pending > bound {
			t.Errorf("%d bytes pending, bound %d", pending, bound)
		}

		close(rec.gate)
		<-done
		if err := lw.Close(); err != nil {
			t.Fatal(err)
		}
		if got := rec.String(); got != want.String() {
			t.Fatalf("written %q, want every line in order", got)
		}
		for _, b := range rec.batches {
			if len(b) > pendingBatches*batch+9 {
				t.Errorf("a batch of %d bytes", len(b))
			}
		}
	})
}
