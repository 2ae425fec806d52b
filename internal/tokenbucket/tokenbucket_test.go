package tokenbucket

import (
	"fmt"
	"testing"
	"time"
)

var start = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// step is one request of a table case and the decision wanted.
type step struct {
	at   time.Duration
	op   Op
	max  time.Duration // MaxWait
	want Decision
}

func ok() Decision                     { return Decision{OK: true} }
func okAfter(d time.Duration) Decision { return Decision{OK: true, Wait: d} }
func refused(d time.Duration) Decision { return Decision{Wait: d} }
func heldFor(d time.Duration) Decision { return Decision{Wait: d, Held: true} }
func burst(n int, at time.Duration) []step {
	s := make([]step, n)
	for i := range s {
		s[i] = step{at: at, want: ok()}
	}
	return s
}

func TestBucketApply(t *testing.T) {
	spaced := Limit{Interval: time.Second, Burst: 2, Spacing: ms(1050)}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{{
		// The scenario table of Adobe's throttling page, call by call.
		name:  "Adobe's example",
		limit: Default(),
		steps: []step{
			{at: 0, want: ok()}, {at: ms(300), want: ok()}, {at: ms(600), want: ok()}, {at: ms(900), want: ok()},
			{at: ms(1200), want: ok()}, {at: ms(1300), want: ok()}, {at: ms(1400), want: ok()},
			{at: ms(1500), want: ok()}, {at: ms(1600), want: ok()}, {at: ms(1700), want: ok()},
			{at: ms(1800), want: ok()}, {at: ms(2100), want: ok()}, {at: ms(2200), want: ok()},
			{at: ms(2400), want: refused(ms(600))}, {at: ms(2600), want: refused(ms(400))},
			{at: ms(2800), want: refused(ms(200))}, {at: ms(3100), want: ok()},
		},
	}, {
		name:  "turns fall on whole intervals since the first call",
		limit: Limit{Interval: time.Second},
		steps: []step{
			{at: 0, want: ok()}, {at: ms(1500), want: ok()},
			// 2.2 s is in the third interval: a turn, though 0.7 s after the last.
			{at: ms(2200), want: ok()}, {at: ms(2900), want: refused(ms(100))},
			// A long pause leaves no credit: one call per interval.
			{at: ms(9000), want: ok()}, {at: ms(9500), want: refused(ms(500))},
		},
	}, {
		name:  "zero interval means a second",
		limit: Limit{},
		steps: []step{{at: 0, want: ok()}, {at: ms(999), want: refused(ms(1))}, {at: ms(1000), want: ok()}},
	}, {
		name:  "spaced turns count from the last turn",
		limit: Limit{Interval: time.Second, Spacing: ms(1050)},
		steps: []step{
			{at: 0, want: ok()}, {at: ms(1049), want: refused(ms(1))}, {at: ms(1500), want: ok()},
			{at: ms(2200), want: refused(ms(350))},
		},
	}, {
		name:  "the burst goes at once, then calls reserve turns within MaxWait",
		limit: spaced,
		steps: append(burst(3, 0), []step{
			{at: 0, max: 2 * time.Second, want: okAfter(ms(1050))},
			{at: 0, max: 2 * time.Second, want: refused(ms(2100))},
			{at: ms(100), max: 2 * time.Second, want: okAfter(ms(2000))},
			{at: ms(100), want: refused(ms(3050))},
		}...),
	}, {
		name:  "a refusal spends nothing",
		limit: Limit{Interval: time.Second, Burst: 1},
		steps: []step{
			{at: 0, want: ok()}, {at: ms(10), want: ok()}, {at: ms(20), want: refused(ms(980))},
			{at: ms(30), want: refused(ms(970))}, {at: ms(1000), want: ok()},
		},
	}, {
		name:  "a hold refuses everything, spends the burst, and its end is a turn",
		limit: spaced,
		steps: []step{
			{at: 0, want: ok()},
			{at: ms(200), op: Hold, want: heldFor(time.Second)},
			{at: ms(300), want: heldFor(ms(900))},
			{at: ms(300), op: Check, want: heldFor(ms(900))},
			{at: ms(1199), max: time.Minute, want: heldFor(ms(1))},
			{at: ms(1200), op: Check, want: ok()},
			{at: ms(1200), want: ok()},
			{at: ms(1300), want: refused(ms(950))},
		},
	}, {
		name:  "a hold on an unused bucket grants no burst after it",
		limit: spaced,
		steps: []step{
			{at: 0, op: Hold, want: heldFor(time.Second)},
			{at: ms(1000), want: ok()}, {at: ms(1001), want: refused(ms(1049))},
		},
	}, {
		name:  "a second 429 extends the hold, never shortens it",
		limit: spaced,
		steps: []step{
			{at: 0, op: Hold, want: heldFor(time.Second)},
			{at: ms(500), op: Hold, want: heldFor(time.Second)},
			{at: ms(1499), want: heldFor(ms(1))}, {at: ms(1500), want: ok()},
		},
	}, {
		name:  "a check spends nothing",
		limit: Limit{Interval: time.Second},
		steps: []step{
			{at: 0, op: Check, want: ok()}, {at: 0, want: ok()}, {at: ms(1), op: Check, want: ok()},
			{at: ms(2), want: refused(ms(998))},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Bucket
			for i, s := range tt.steps {
				got := b.Apply(Request{Op: s.op, Now: start.Add(s.at), Limit: tt.limit, MaxWait: s.max})
				if got != s.want {
					t.Fatalf("step %d (op %d at %s): %+v, want %+v (bucket %+v)", i, s.op, s.at, got, s.want, b)
				}
			}
		})
	}
}

// TestSpacedTurnsStayInsideAdobesBucket replays what a spaced bucket lets go
// against Adobe's own bucket at every phase: turns Interval+slack apart
// never spend Adobe's burst, whatever the phase of its intervals.
func TestSpacedTurnsStayInsideAdobesBucket(t *testing.T) {
	plan := Limit{Interval: time.Second, Spacing: ms(1050)}
	for phase := time.Duration(0); phase < time.Second; phase += 37 * time.Millisecond {
		var ours Bucket
		// Adobe's bucket, its first interval started before ours by phase,
		// with no burst: any call it counts as burst is refused.
		adobe := Bucket{Next: start.Add(-phase)}
		sent := 0
		for tick := range 200 {
			now := start.Add(time.Duration(tick) * ms(700))
			for range 3 {
				d := ours.Apply(Request{Now: now, Limit: plan, MaxWait: 2 * time.Second})
				if !d.OK {
					continue
				}
				sent++
				// Adobe counts the call up to 20ms after its turn.
				at := now.Add(d.Wait + time.Duration(sent%3)*ms(10))
				if !adobe.Apply(Request{Now: at, Limit: Limit{Interval: time.Second}}).OK {
					t.Fatalf("phase %s: call %d at %s planned but Adobe refuses it", phase, sent, at.Sub(start))
				}
			}
		}
		if want := 133; sent < want-2 {
			t.Fatalf("phase %s: %d calls in 140 s, want about %d", phase, sent, want)
		}
	}
}

func TestBucketsEviction(t *testing.T) {
	now := start
	s := &Buckets[string]{Now: func() time.Time { return now }, MaxKeys: 3}
	lim := Default()
	take := func(key string) bool { return s.Apply(key, Request{Limit: lim}).OK }
	for range 1 + DefaultBurst {
		take("dev")
	}
	if take("dev") {
		t.Fatal("burst not spent")
	}
	now = now.Add(DefaultIdle - time.Millisecond)
	take("b")
	if n := s.Len(); n != 2 {
		t.Fatalf("%d buckets before the idle timeout, want 2", n)
	}
	now = now.Add(time.Millisecond)
	take("c")
	if n := s.Len(); n != 2 {
		t.Fatalf("%d buckets after dev's idle timeout, want 2", n)
	}
	for i := range 1 + DefaultBurst {
		if !take("dev") {
			t.Fatalf("returning key, call %d refused: no fresh burst", i)
		}
	}
	for i := range 10 {
		take(fmt.Sprint("k", i))
	}
	if n := s.Len(); n != 3 {
		t.Fatalf("%d buckets, want MaxKeys = 3", n)
	}
	if _, ok := s.Get("k9"); !ok {
		t.Fatal("most recent key forgotten")
	}
	if _, ok := s.Get("dev"); ok {
		t.Fatal("least recent key kept beyond MaxKeys")
	}
}

// TestBucketsKeepHeldAndReserved proves a bucket is not forgotten while held
// or while a turn is reserved ahead, however long it has been unused.
func TestBucketsKeepHeldAndReserved(t *testing.T) {
	now := start
	s := &Buckets[string]{Now: func() time.Time { return now }, IdleTimeout: time.Second}
	s.Apply("held", Request{Op: Hold, Hold: time.Minute})
	now = now.Add(2 * time.Second)
	s.Apply("other", Request{Limit: Default()})
	if _, ok := s.Get("held"); !ok {
		t.Fatal("held bucket forgotten while held")
	}
	if d := s.Apply("held", Request{Op: Check}); !d.Held {
		t.Fatalf("held bucket answers %+v, want a hold", d)
	}
	now = now.Add(time.Minute)
	s.Apply("other", Request{Limit: Default()})
	if _, ok := s.Get("held"); ok {
		t.Fatal("bucket kept after its hold and idle timeout")
	}
	if d := s.Apply("never", Request{Op: Check}); !d.OK || s.Len() != 1 {
		t.Fatalf("check of an unknown key: %+v, %d buckets; want OK and no bucket made", d, s.Len())
	}
	s.Reset()
	if s.Len() != 0 {
		t.Fatal("Reset kept buckets")
	}
}

func BenchmarkBucketsApply(b *testing.B) {
	now := start
	s := &Buckets[int]{Now: func() time.Time { return now }}
	lim := Default()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now = now.Add(time.Microsecond)
		s.Apply(i%1024, Request{Limit: lim})
	}
}
