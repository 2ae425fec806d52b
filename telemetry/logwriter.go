package telemetry

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults of a LogWriter.
const (
	DefaultLogBatch    = 32 << 10
	DefaultLogInterval = 200 * time.Millisecond
)

// LogWriterOptions tune a LogWriter. The zero value is the default.
type LogWriterOptions struct {
	// Batch is how many pending bytes wake the background goroutine to
	// write them at once. Zero means DefaultLogBatch.
	Batch int

	// Interval is the longest a line waits before it is written. Zero
	// means DefaultLogInterval.
	Interval time.Duration
}

// pendingBatches bounds the pending bytes, in batches, before writers
// block: room for bursts while one batch is being written, but bounded.
const pendingBatches = 4

// LogWriter is an io.Writer for log lines that appends them to memory and
// writes them to the underlying writer in batches: one write when Batch
// bytes are pending, and at least every Interval, from one background
// goroutine. Logging a line then costs a copy instead of a system call.
//
// Flush writes everything pending before it returns; a slog.Handler
// wrapped by Handler calls it after records from a level up (the gateway:
// Warn), so failures reach the log at once. Close flushes and stops the
// goroutine; lines written after Close go straight to the underlying
// writer.
//
// Memory is bounded: when 4 batches are pending (the underlying writer is
// slower than the lines come, say a stuck reader of a pipe), Write blocks
// until the writer has taken them, as an unbuffered log would. No line is
// dropped. The order of lines is the order of the Write calls.
//
// Until Close, Write never fails: an error of the underlying writer loses
// that batch and is returned by the next Flush or Close. Lines written afterwards are
// written normally if the writer recovers.
type LogWriter struct {
	w     io.Writer
	batch int

	mu   sync.Mutex
	cond sync.Cond // broadcast when a write to w starts or ends
	// buf holds the pending lines; spare is the buffer of the previous
	// batch, reused once written (nil while that batch is being written).
	buf, spare []byte
	writing    bool  // a batch is being written to w
	closing    bool  // Close is writing the last batches: writers wait
	closed     bool  // lines go straight to w
	err        error // the first write error not yet reported
	// queued counts the bytes ever appended, written those whose write
	// has ended (well or not); Flush waits for written to reach queued.
	queued, written int64

	kick      chan struct{} // Batch bytes are pending
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// NewLogWriter returns a LogWriter writing to w and starts its goroutine;
// Close stops it.
func NewLogWriter(w io.Writer, o LogWriterOptions) *LogWriter {
	if o.Batch <= 0 {
		o.Batch = DefaultLogBatch
	}
	if o.Interval <= 0 {
		o.Interval = DefaultLogInterval
	}
	lw := &LogWriter{
		w:     w,
		batch: o.Batch,
		buf:   make([]byte, 0, o.Batch+o.Batch/4),
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	lw.cond.L = &lw.mu
	go lw.run(o.Interval)
	return lw
}

func (lw *LogWriter) run(interval time.Duration) {
	defer close(lw.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-lw.stop:
			return
		case <-tick.C:
		case <-lw.kick:
		}
		lw.mu.Lock()
		lw.writeLocked()
		lw.mu.Unlock()
	}
}

// Write appends p to the pending lines; it blocks only while the pending
// lines are at their bound. It returns len(p), nil, except after Close,
// when p is written to the underlying writer directly.
func (lw *LogWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	for lw.closing && !lw.closed {
		lw.cond.Wait()
	}
	for !lw.closed && len(lw.buf) >= pendingBatches*lw.batch {
		// The writer is behind: wait for its batch, then write the
		// pending ones here rather than wait for the goroutine.
		lw.writeLocked()
	}
	if lw.closed {
		for lw.writing {
			lw.cond.Wait()
		}
		return lw.w.Write(p)
	}
	lw.buf = append(lw.buf, p...)
	lw.queued += int64(len(p))
	if len(lw.buf) >= lw.batch {
		select {
		case lw.kick <- struct{}{}:
		default: // already woken
		}
	}
	return len(p), nil
}

// Flush returns once every line written before it was called has been
// written to the underlying writer. It returns the first write error since
// the last Flush or Close, if any.
func (lw *LogWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	// Lines appended meanwhile need not wait for their turn: under a
	// steady stream of lines, Flush would never end.
	for target := lw.queued; lw.written < target; {
		lw.writeLocked()
	}
	err := lw.err
	lw.err = nil
	return err
}

// Close flushes the pending lines and stops the background goroutine;
// later lines are written straight through. It returns the first write
// error not yet reported. Calling Close again returns nil.
func (lw *LogWriter) Close() error {
	first := false
	lw.closeOnce.Do(func() {
		first = true
		close(lw.stop)
	})
	if !first {
		return nil
	}
	<-lw.done
	lw.mu.Lock()
	defer lw.mu.Unlock()
	// Writers wait from here until closed, so the last batches are final
	// and the lines written meanwhile follow them in order.
	lw.closing = true
	for lw.writing || len(lw.buf) > 0 {
		lw.writeLocked()
	}
	lw.closed = true
	lw.cond.Broadcast()
	lw.buf, lw.spare = nil, nil
	err := lw.err
	lw.err = nil
	return err
}

// writeLocked waits for a batch being written, then writes the pending
// lines, if any. It is called with mu held and returns with it held; mu is
// released during the write, so that lines keep being appended.
func (lw *LogWriter) writeLocked() {
	for lw.writing {
		lw.cond.Wait()
	}
	if len(lw.buf) == 0 {
		return
	}
	batch := lw.buf
	lw.buf, lw.spare = lw.spare[:0], nil
	lw.writing = true
	lw.cond.Broadcast() // room for writers blocked at the bound
	lw.mu.Unlock()
	n, err := lw.w.Write(batch)
	if err == nil && n < len(batch) {
		err = io.ErrShortWrite
	}
	lw.mu.Lock()
	lw.writing = false
	lw.written += int64(len(batch))
	if err != nil && lw.err == nil {
		lw.err = err
	}
	// A buffer grown far past the bound by a burst is not kept.
	if cap(batch) <= 2*pendingBatches*lw.batch {
		lw.spare = batch[:0]
	}
	lw.cond.Broadcast()
}

// Handler returns h, which must write to lw, with lw flushed after every
// record at level or above, so that an operator tailing the log sees
// failures at once. An error of the flush is returned by Handle.
func (lw *LogWriter) Handler(h slog.Handler, level slog.Leveler) slog.Handler {
	return &flushHandler{next: h, level: level, flush: lw.Flush}
}

type flushHandler struct {
	next  slog.Handler
	level slog.Leveler
	flush func() error
}

func (f *flushHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return f.next.Enabled(ctx, level)
}

func (f *flushHandler) Handle(ctx context.Context, r slog.Record) error {
	err := f.next.Handle(ctx, r)
	if r.Level >= f.level.Level() {
		if ferr := f.flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (f *flushHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &flushHandler{next: f.next.WithAttrs(attrs), level: f.level, flush: f.flush}
}

func (f *flushHandler) WithGroup(name string) slog.Handler {
	return &flushHandler{next: f.next.WithGroup(name), level: f.level, flush: f.flush}
}
