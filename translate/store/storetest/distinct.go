package storetest

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// RunDistinct checks a store.DistinctCounter: each estimate is within four
// standard errors (store.DistinctStdError) of the true count, adding a
// member again changes nothing, several keys count as their union, and
// absent keys as empty sets. keyPrefix keeps the test's keys apart from
// other runs on a shared store.
func RunDistinct(t *testing.T, s store.DistinctCounter, keyPrefix string) {
	t.Helper()
	ctx := context.Background()
	expires := time.Now().Add(time.Hour)
	within := func(what string, got uint64, want int) {
		t.Helper()
		tolerance := math.Max(4*store.DistinctStdError*float64(want), 1)
		if math.Abs(float64(got)-float64(want)) > tolerance {
			t.Errorf("%s: estimate %d, want %d ± %.0f", what, got, want, tolerance)
		}
	}
	add := func(key string, from, to int) {
		t.Helper()
		batch := make([]string, 0, 500)
		for i := from; i < to; i++ {
			batch = append(batch, fmt.Sprintf("device-%d", i))
			if len(batch) == cap(batch) || i == to-1 {
				if err := s.AddDistinct(ctx, keyPrefix+key, expires, batch...); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	count := func(keys ...string) uint64 {
		t.Helper()
		for i := range keys {
			keys[i] = keyPrefix + keys[i]
		}
		n, err := s.CountDistinct(ctx, keys...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	within("absent key", count("absent"), 0)
	add("one", 0, 1)
	add("one", 0, 1)
	within("one member added twice", count("one"), 1)
	for _, n := range []int{100, 5000, 30000} {
		key := fmt.Sprintf("n%d", n)
		add(key, 0, n)
		add(key, 0, n/2) // again: no change
		within(fmt.Sprintf("%d members", n), count(key), n)
	}
	// Overlapping sets: 0..30000 and 20000..40000.
	add("b", 20000, 40000)
	within("union of overlapping sets", count("n30000", "b", "absent"), 40000)
	within("union with itself", count("n5000", "n5000"), 5000)
}
