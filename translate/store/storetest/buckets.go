package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/tokenbucket"
	"github.com/passgw/passgw/translate/store"
)

// bucketIdle is the idle timeout of the suite's buckets.
const bucketIdle = time.Minute

// tokenBuckets is s as a store.TokenBuckets. The interface is optional (the
// gateway counts in process without it), so a store without it skips these
// cases; Memory and the Redis store assert statically that they have it.
func tokenBuckets(t *testing.T, s store.Store) store.TokenBuckets {
	t.Helper()
	tb, ok := s.(store.TokenBuckets)
	if !ok {
		t.Skipf("%T does not implement the optional store.TokenBuckets", s)
	}
	return tb
}

// testBucketSameAsInProcess replays a random sequence of decisions over a
// few buckets, Adobe's and spaced ones, against the store and against
// tokenbucket.Bucket in process: every decision is the same.
func testBucketSameAsInProcess(t *testing.T, s store.Store, clock *Clock) {
	tb := tokenBuckets(t, s)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	limits := []tokenbucket.Limit{
		tokenbucket.Default(),
		{Interval: time.Second, Burst: 2, Spacing: 1050 * time.Millisecond},
	}
	keys := []string{"bucket:a", "bucket:b", "bucket:c"}
	local := make([]tokenbucket.Bucket, len(keys))
	// seen is when each local bucket was last changed, from which the
	// store forgets it.
	seen := make([]time.Time, len(keys))
	for i := range 300 {
		clock.Advance(time.Duration(rng.IntN(400)) * time.Millisecond)
		if rng.IntN(40) == 0 {
			// Past the idle timeout: buckets start again with their burst.
			clock.Advance(bucketIdle)
		}
		// Times to the millisecond: the stores keep microseconds.
		now := clock.Now().Truncate(time.Millisecond)
		k := rng.IntN(len(keys))
		r := tokenbucket.Request{Now: now, Limit: limits[k%2], MaxWait: time.Duration(rng.IntN(3)) * time.Second}
		switch n := rng.IntN(20); {
		case n < 2:
			r.Op, r.Hold = tokenbucket.Hold, time.Second
		case n < 3:
			r.Op = tokenbucket.Check
		}
		got, err := tb.Bucket(ctx, keys[k], r, bucketIdle)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if local[k].Used() && local[k].Idle(now, seen[k], bucketIdle) {
			local[k] = tokenbucket.Bucket{}
		}
		before := local[k]
		want := local[k].Apply(r)
		if !local[k].Equal(before) {
			seen[k] = now
		}
		if got != want {
			t.Fatalf("step %d (%s, op %d): store decided %+v, in process %+v", i, keys[k], r.Op, got, want)
		}
	}
}

// testBucketExpiry proves a bucket unused for the idle timeout is forgotten
// (a fresh burst), and one held or holding a reserved turn is not.
func testBucketExpiry(t *testing.T, s store.Store, clock *Clock) {
	tb := tokenBuckets(t, s)
	ctx := context.Background()
	lim := tokenbucket.Limit{Interval: time.Second, Burst: 1}
	take := func(key string) tokenbucket.Decision {
		t.Helper()
		d, err := tb.Bucket(ctx, key, tokenbucket.Request{Now: clock.Now(), Limit: lim}, bucketIdle)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for range 2 {
		take("bucket:idle")
	}
	if take("bucket:idle").OK {
		t.Fatal("burst not spent")
	}
	if _, err := tb.Bucket(ctx, "bucket:held", tokenbucket.Request{Op: tokenbucket.Hold, Now: clock.Now(), Hold: 2 * bucketIdle}, bucketIdle); err != nil {
		t.Fatal(err)
	}
	clock.Advance(bucketIdle + time.Second)
	for i := range 2 {
		if !take("bucket:idle").OK {
			t.Fatalf("call %d after the idle timeout refused: the bucket was not forgotten", i)
		}
	}
	if d := take("bucket:held"); !d.Held {
		t.Fatalf("held bucket answered %+v after the idle timeout, within its hold", d)
	}
}

// testBucketRace proves a decision is atomic: of racers taking from one
// fresh bucket at one instant, exactly the turn and the burst go.
func testBucketRace(t *testing.T, s store.Store, clock *Clock) {
	tb := tokenBuckets(t, s)
	r := tokenbucket.Request{Now: clock.Now(), Limit: tokenbucket.Default()}
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range racers {
		wg.Go(func() {
			<-start
			d, err := tb.Bucket(context.Background(), "bucket:race", r, bucketIdle)
			if err != nil {
				t.Error(err)
			}
			if d.OK {
				ok.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if want := int64(1 + tokenbucket.DefaultBurst); ok.Load() != want {
		t.Fatalf("%d of %d racing calls went, want %d (one turn and the burst)", ok.Load(), racers, want)
	}
}

// testBucketCanceled proves a decision asked with an ended context fails and
// spends nothing.
func testBucketCanceled(t *testing.T, s store.Store, clock *Clock) {
	tb := tokenBuckets(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := tokenbucket.Request{Now: clock.Now(), Limit: tokenbucket.Limit{Interval: time.Second}}
	if _, err := tb.Bucket(ctx, "bucket:canceled", r, bucketIdle); !errors.Is(err, context.Canceled) {
		t.Fatalf("Bucket with a canceled context: %v, want context.Canceled", err)
	}
	d, err := tb.Bucket(context.Background(), "bucket:canceled", r, bucketIdle)
	if err != nil || !d.OK {
		t.Fatalf("first call after a canceled one: %+v, %v; want it to go (nothing spent)", d, err)
	}
}
