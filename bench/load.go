package bench

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxOutstanding bounds the open-loop arrivals in flight; beyond it an
// arrival is dropped and counted as an error (the configuration cannot
// keep up with the offered rate at all).
const maxOutstanding = 4096

// errDropped is the error of an open-loop arrival dropped for overload.
var errDropped = errors.New("dropped: too many requests in flight")

// slot is a device and its place in its sequence of operations.
type slot struct {
	dev  device
	next func() Op
}

// window is the measured part of a load: operations that started at or
// after start and ended before end count.
type window struct {
	start, end time.Time
}

// loadResult is what a load observed in its window.
type loadResult struct {
	latencies map[Op][]time.Duration
	errors    map[Op]int
	firstErr  string
	dropped   int
	elapsed   time.Duration
}

// collector gathers samples from many goroutines; each keeps its own
// buffer and hands it over once, so recording costs no lock per request.
type collector struct {
	mu  sync.Mutex
	res loadResult
	win atomic.Pointer[window]
}

func newCollector() *collector {
	return &collector{res: loadResult{latencies: map[Op][]time.Duration{}, errors: map[Op]int{}}}
}

type localSamples struct {
	lat      map[Op][]time.Duration
	errs     map[Op]int
	firstErr string
}

func (l *localSamples) add(c *collector, op Op, began, ended time.Time, err error) {
	w := c.win.Load()
	if w == nil || began.Before(w.start) || (!w.end.IsZero() && ended.After(w.end)) {
		return
	}
	if err != nil {
		if l.errs == nil {
			l.errs = map[Op]int{}
		}
		l.errs[op]++
		if l.firstErr == "" {
			l.firstErr = err.Error()
		}
		return
	}
	if l.lat == nil {
		l.lat = map[Op][]time.Duration{}
	}
	l.lat[op] = append(l.lat[op], ended.Sub(began))
}

func (c *collector) merge(l *localSamples) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for op, d := range l.lat {
		c.res.latencies[op] = append(c.res.latencies[op], d...)
	}
	for op, n := range l.errs {
		c.res.errors[op] += n
	}
	if c.res.firstErr == "" {
		c.res.firstErr = l.firstErr
	}
}

// measure runs the load started by start (which returns a function that
// stops it and waits) through warm-up and window, calling mark at the
// window's start and end so that process counters can be read.
func measure(ctx context.Context, c *collector, warmup, duration time.Duration, start func() (stop func()), mark func(begin bool)) loadResult {
	stop := start()
	sleepCtx(ctx, warmup)
	mark(true)
	w := &window{start: time.Now()}
	c.win.Store(w)
	sleepCtx(ctx, duration)
	end := time.Now()
	c.win.Store(&window{start: w.start, end: end})
	mark(false)
	stop()
	c.res.elapsed = end.Sub(w.start)
	return c.res
}

// closedLoop runs each slot in its own goroutine, one operation after
// another with no pause: fixed concurrency, maximum throughput.
func closedLoop(ctx context.Context, slots []*slot, warmup, duration time.Duration, mark func(bool)) loadResult {
	c := newCollector()
	return measure(ctx, c, warmup, duration, func() func() {
		var stopping atomic.Bool
		var wg sync.WaitGroup
		for _, s := range slots {
			wg.Go(func() {
				var local localSamples
				for !stopping.Load() && ctx.Err() == nil {
					op := s.next()
					began := time.Now()
					err := s.dev.do(ctx, op)
					local.add(c, op, began, time.Now(), err)
				}
				c.merge(&local)
			})
		}
		return func() {
			stopping.Store(true)
			wg.Wait()
		}
	}, mark)
}

// openLoop offers operations at a fixed rate whatever the answers' pace,
// each on the next idle device. Latency runs from the intended arrival
// time, so time spent queueing for a device counts (no coordinated
// omission).
func openLoop(ctx context.Context, slots []*slot, rate float64, warmup, duration time.Duration, mark func(bool)) loadResult {
	c := newCollector()
	interval := time.Duration(float64(time.Second) / rate)
	var dropped atomic.Int64
	res := measure(ctx, c, warmup, duration, func() func() {
		idle := make(chan *slot, len(slots))
		for _, s := range slots {
			idle <- s
		}
		var stopping atomic.Bool
		var wg sync.WaitGroup
		var outstanding atomic.Int64
		var mu sync.Mutex
		var locals []*localSamples
		arrive := func(at time.Time) {
			if outstanding.Add(1) > maxOutstanding {
				outstanding.Add(-1)
				if w := c.win.Load(); w != nil && w.end.IsZero() && !at.Before(w.start) {
					dropped.Add(1)
				}
				return
			}
			wg.Go(func() {
				defer outstanding.Add(-1)
				s := <-idle
				op := s.next()
				err := s.dev.do(ctx, op)
				idle <- s
				l := &localSamples{}
				l.add(c, op, at, time.Now(), err)
				if l.lat != nil || l.errs != nil {
					mu.Lock()
					locals = append(locals, l)
					mu.Unlock()
				}
			})
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			next := time.Now()
			for !stopping.Load() && ctx.Err() == nil {
				now := time.Now()
				for !next.After(now) {
					arrive(next)
					next = next.Add(interval)
				}
				time.Sleep(next.Sub(now))
			}
		}()
		return func() {
			stopping.Store(true)
			<-done
			wg.Wait()
			for _, l := range locals {
				c.merge(l)
			}
		}
	}, mark)
	res.dropped = int(dropped.Load())
	return res
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// percentile returns the p-th percentile (0..1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// latencyStats summarises durations.
func latencyStats(d []time.Duration) Latency {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return Latency{}
	}
	return Latency{P50: ms(percentile(s, 0.50)), P90: ms(percentile(s, 0.90)), P99: ms(percentile(s, 0.99)), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
