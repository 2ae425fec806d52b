// Package storetest is the conformance suite every store.Store implementation
// must pass. Run it from the implementation's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
//			return store.NewMemory(now)
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// Factory returns a fresh, empty store that judges expiry by now. Each subtest
// gets its own store and clock.
type Factory func(t *testing.T, now func() time.Time) store.Store

// racers is how many goroutines contend in the race tests.
const racers = 64

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, clock *Clock)
	}{
		{"GetMissing", testGetMissing},
		{"SetGet", testSetGet},
		{"EmptyValue", testEmptyValue},
		{"Copies", testCopies},
		{"Expiry", testExpiry},
		{"NoExpiry", testNoExpiry},
		{"NegativeTTL", testNegativeTTL},
		{"SetNX", testSetNX},
		{"SetNXAfterExpiry", testSetNXAfterExpiry},
		{"SetNXRace", testSetNXRace},
		{"Replace", testReplace},
		{"Take", testTake},
		{"TakeRace", testTakeRace},
		{"Delete", testDelete},
		{"LargeValue", testLargeValue},
		{"Canceled", testCanceled},
		{"JSON", testJSON},
		{"RecordTombstone", testRecordTombstone},
		{"MarksRace", testMarksRace},
		{"Key", testKey},
		{"GetMany", testGetMany},
		{"BucketSameAsInProcess", testBucketSameAsInProcess},
		{"BucketExpiry", testBucketExpiry},
		{"BucketRace", testBucketRace},
		{"BucketCanceled", testBucketCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock()
			tt.fn(t, newStore(t, clock.Now), clock)
		})
	}
}

func mustSet(t *testing.T, s store.Store, key, value string, ttl time.Duration) {
	t.Helper()
	if err := s.Set(context.Background(), key, []byte(value), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func wantValue(t *testing.T, s store.Store, key, want string) {
	t.Helper()
	got, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v, want %q", key, err, want)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func wantNotFound(t *testing.T, s store.Store, key string) {
	t.Helper()
	got, err := s.Get(context.Background(), key)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	}
}

func testGetMissing(t *testing.T, s store.Store, _ *Clock) {
	wantNotFound(t, s, "missing")
}

func testSetGet(t *testing.T, s store.Store, _ *Clock) {
	mustSet(t, s, "k", "one", time.Minute)
	wantValue(t, s, "k", "one")
	mustSet(t, s, "k", "two", time.Minute)
	wantValue(t, s, "k", "two")
	wantNotFound(t, s, "other")
}

func testEmptyValue(t *testing.T, s store.Store, _ *Clock) {
	mustSet(t, s, "k", "", time.Minute)
	wantValue(t, s, "k", "")
}

func testCopies(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	in := []byte("abc")
	if err := s.Set(ctx, "k", in, time.Minute); err != nil {
		t.Fatal(err)
	}
	in[0] = 'X'
	out, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	out[1] = 'Y'
	wantValue(t, s, "k", "abc")
}

func testExpiry(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	mustSet(t, s, "k", "v", time.Minute)
	clock.Advance(59 * time.Second)
	wantValue(t, s, "k", "v")
	clock.Advance(time.Second)
	wantNotFound(t, s, "k")
	if _, err := s.Take(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Take after expiry: %v, want ErrNotFound", err)
	}
	if err := s.Replace(ctx, "k", []byte("w")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Replace after expiry: %v, want ErrNotFound", err)
	}
	// Set renews the expiry from the current time.
	mustSet(t, s, "k", "v2", time.Minute)
	clock.Advance(30 * time.Second)
	mustSet(t, s, "k", "v3", time.Minute)
	clock.Advance(45 * time.Second)
	wantValue(t, s, "k", "v3")
}

func testNoExpiry(t *testing.T, s store.Store, clock *Clock) {
	mustSet(t, s, "k", "v", 0)
	clock.Advance(10000 * time.Hour)
	wantValue(t, s, "k", "v")
}

func testNegativeTTL(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	if err := s.Set(ctx, "k", []byte("v"), -time.Second); !errors.Is(err, store.ErrInvalidTTL) {
		t.Errorf("Set with negative ttl: %v, want ErrInvalidTTL", err)
	}
	if ok, err := s.SetNX(ctx, "k", []byte("v"), -time.Second); ok || !errors.Is(err, store.ErrInvalidTTL) {
		t.Errorf("SetNX with negative ttl: %v, %v; want false, ErrInvalidTTL", ok, err)
	}
	wantNotFound(t, s, "k")
}

func testSetNX(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	ok, err := s.SetNX(ctx, "k", []byte("first"), time.Minute)
	if err != nil || !ok {
		t.Fatalf("first SetNX = %v, %v; want true", ok, err)
	}
	ok, err = s.SetNX(ctx, "k", []byte("second"), time.Minute)
	if err != nil || ok {
		t.Fatalf("second SetNX = %v, %v; want false", ok, err)
	}
	wantValue(t, s, "k", "first")
}

func testSetNXAfterExpiry(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	if ok, err := s.SetNX(ctx, "k", []byte("first"), time.Minute); err != nil || !ok {
		t.Fatalf("SetNX = %v, %v", ok, err)
	}
	clock.Advance(time.Minute)
	ok, err := s.SetNX(ctx, "k", []byte("again"), time.Minute)
	if err != nil || !ok {
		t.Fatalf("SetNX after expiry = %v, %v; want true", ok, err)
	}
	wantValue(t, s, "k", "again")
	clock.Advance(59 * time.Second)
	wantValue(t, s, "k", "again")
}

// race runs fn in racers goroutines released together and returns how many
// reported a win.
func race(t *testing.T, fn func(i int) (bool, error)) int {
	t.Helper()
	var (
		wins  atomic.Int64
		start = make(chan struct{})
		wg    sync.WaitGroup
		errs  = make(chan error, racers)
	)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			won, err := fn(i)
			if err != nil {
				errs <- err
				return
			}
			if won {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("racer: %v", err)
	}
	return int(wins.Load())
}

func testSetNXRace(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	var winner atomic.Int64
	winner.Store(-1)
	n := race(t, func(i int) (bool, error) {
		ok, err := s.SetNX(ctx, "k", []byte(fmt.Sprint(i)), time.Minute)
		if ok {
			winner.Store(int64(i))
		}
		return ok, err
	})
	if n != 1 {
		t.Fatalf("%d SetNX calls won, want exactly 1", n)
	}
	wantValue(t, s, "k", fmt.Sprint(winner.Load()))
}

func testReplace(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	if err := s.Replace(ctx, "k", []byte("v")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Replace of absent key: %v, want ErrNotFound", err)
	}
	wantNotFound(t, s, "k")

	mustSet(t, s, "k", "v", time.Minute)
	clock.Advance(40 * time.Second)
	if err := s.Replace(ctx, "k", []byte("w")); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	wantValue(t, s, "k", "w")
	// The original expiry stays: 40 s + 20 s = 1 min.
	clock.Advance(19 * time.Second)
	wantValue(t, s, "k", "w")
	clock.Advance(time.Second)
	wantNotFound(t, s, "k")

	mustSet(t, s, "forever", "v", 0)
	if err := s.Replace(ctx, "forever", []byte("w")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10000 * time.Hour)
	wantValue(t, s, "forever", "w")
}

func testTake(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	mustSet(t, s, "k", "v", time.Minute)
	got, err := s.Take(ctx, "k")
	if err != nil || string(got) != "v" {
		t.Fatalf("Take = %q, %v; want v", got, err)
	}
	wantNotFound(t, s, "k")
	if got, err := s.Take(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Take = %q, %v; want ErrNotFound", got, err)
	}
}

func testTakeRace(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	mustSet(t, s, "k", "prize", time.Minute)
	n := race(t, func(int) (bool, error) {
		v, err := s.Take(ctx, "k")
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if string(v) != "prize" {
			return false, fmt.Errorf("Take = %q, want prize", v)
		}
		return true, nil
	})
	if n != 1 {
		t.Fatalf("%d Take calls got the value, want exactly 1", n)
	}
}

func testDelete(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	mustSet(t, s, "k", "v", time.Minute)
	mustSet(t, s, "other", "o", time.Minute)
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, "k")
	wantValue(t, s, "other", "o")
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete of absent key: %v", err)
	}
	if ok, err := s.SetNX(ctx, "k", []byte("new"), time.Minute); err != nil || !ok {
		t.Fatalf("SetNX after Delete = %v, %v; want true", ok, err)
	}
}

func testLargeValue(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	big := make([]byte, 1<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	big[0], big[len(big)-1] = 0, 0
	if err := s.Set(ctx, "big", big, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatalf("1 MiB value changed in the store (got %d bytes)", len(got))
	}
	got, err = s.Take(ctx, "big")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Take of 1 MiB value: %d bytes, %v", len(got), err)
	}
}

func testCanceled(t *testing.T, s store.Store, _ *Clock) {
	mustSet(t, s, "k", "v", time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with canceled context: %v, want context.Canceled", op, err)
		}
	}
	_, err := s.Get(ctx, "k")
	check("Get", err)
	check("Set", s.Set(ctx, "k", []byte("changed"), time.Minute))
	_, err = s.SetNX(ctx, "new", []byte("x"), time.Minute)
	check("SetNX", err)
	check("Replace", s.Replace(ctx, "k", []byte("changed")))
	_, err = s.Take(ctx, "k")
	check("Take", err)
	check("Delete", s.Delete(ctx, "k"))
	// Nothing changed.
	wantValue(t, s, "k", "v")
	wantNotFound(t, s, "new")
}

type sample struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
}

func testJSON(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	j := store.JSON[sample]{Store: s}
	want := sample{Name: "n", Count: 3, Tags: []string{"a", "b"}}
	if err := j.Set(ctx, "k", want, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := j.Get(ctx, "k")
	if err != nil || got.Name != want.Name || got.Count != want.Count || len(got.Tags) != 2 || got.Tags[1] != "b" {
		t.Fatalf("JSON Get = %+v, %v; want %+v", got, err, want)
	}
	if ok, err := j.SetNX(ctx, "k", sample{Name: "other"}, time.Minute); ok || err != nil {
		t.Fatalf("JSON SetNX on taken key = %v, %v", ok, err)
	}
	got, err = j.Take(ctx, "k")
	if err != nil || got.Name != "n" {
		t.Fatalf("JSON Take = %+v, %v", got, err)
	}
	if _, err := j.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("JSON Get after Take: %v", err)
	}
	mustSet(t, s, "garbage", "{not json", time.Minute)
	if _, err := j.Get(ctx, "garbage"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("JSON Get of undecodable value: %v, want a decode error", err)
	}
}

func testRecordTombstone(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	r := store.Records[sample]{Store: s}
	if err := r.Create(ctx, "code", sample{Name: "reg"}, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, "code", sample{Name: "dup"}, 30*time.Minute); !errors.Is(err, store.ErrExists) {
		t.Fatalf("Create over a live record: %v, want ErrExists", err)
	}
	got, err := r.Get(ctx, "code")
	if err != nil || got.Name != "reg" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	clock.Advance(10 * time.Minute)
	if err := r.Delete(ctx, "code"); err != nil {
		t.Fatal(err)
	}
	_, err = r.Get(ctx, "code")
	if !errors.Is(err, store.ErrNotFound) || !errors.Is(err, store.ErrDeleted) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound and ErrDeleted", err)
	}
	if err := r.Delete(ctx, "code"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
	// The tombstone blocks re-creation until the original expiry...
	clock.Advance(19 * time.Minute)
	if err := r.Create(ctx, "code", sample{Name: "zombie"}, 30*time.Minute); !errors.Is(err, store.ErrExists) {
		t.Fatalf("Create over a tombstone: %v, want ErrExists", err)
	}
	// ...and no longer.
	clock.Advance(time.Minute)
	if _, err := r.Get(ctx, "code"); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDeleted) {
		t.Fatalf("Get after original expiry: %v, want plain ErrNotFound", err)
	}
	if err := r.Create(ctx, "code", sample{Name: "fresh"}, 30*time.Minute); err != nil {
		t.Fatalf("Create after tombstone expiry: %v", err)
	}
	if err := r.Delete(ctx, "never"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete of unknown record: %v, want ErrNotFound", err)
	}
}

func testMarksRace(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	m := store.Marks{Store: s}
	n := race(t, func(int) (bool, error) { return m.TakeOnce(ctx, "media", 7*time.Minute) })
	if n != 1 {
		t.Fatalf("%d TakeOnce calls won, want exactly 1", n)
	}
	clock.Advance(6 * time.Minute)
	if ok, err := m.TakeOnce(ctx, "media", 7*time.Minute); ok || err != nil {
		t.Fatalf("TakeOnce while marked = %v, %v; want false", ok, err)
	}
	clock.Advance(time.Minute)
	if ok, err := m.TakeOnce(ctx, "media", 7*time.Minute); !ok || err != nil {
		t.Fatalf("TakeOnce after the mark expired = %v, %v; want true", ok, err)
	}
}

// testKey checks that keys built by store.Key are usable and distinct where
// naive joining would collide.
func testKey(t *testing.T, s store.Store, _ *Clock) {
	a := store.Key("dec", "ab", "c")
	b := store.Key("dec", "a", "bc")
	if a == b {
		t.Fatalf("Key(ab,c) == Key(a,bc) = %q", a)
	}
	mrss := `<rss version="2.0"><channel><title>REF30</title></channel></rss>` + string(make([]byte, 4096))
	c := store.Key("dec", "REF30", "device", mrss)
	mustSet(t, s, a, "A", time.Minute)
	mustSet(t, s, b, "B", time.Minute)
	mustSet(t, s, c, "C", time.Minute)
	wantValue(t, s, a, "A")
	wantValue(t, s, b, "B")
	wantValue(t, s, c, "C")
	if len(c) > 128 {
		t.Errorf("Key of a long resource is %d bytes long, want a bounded key", len(c))
	}
}

// testGetMany: reading several keys at once (in one step when the store is
// a store.ManyGetter) gives each key's live value in order, nil for absent,
// expired and deleted keys, and an empty non-nil slice for an empty value.
func testGetMany(t *testing.T, s store.Store, clock *Clock) {
	ctx := context.Background()
	mustSet(t, s, "a", "alpha", time.Minute)
	mustSet(t, s, "short", "gone soon", time.Second)
	mustSet(t, s, "empty", "", time.Minute)
	mustSet(t, s, "deleted", "x", time.Minute)
	if err := s.Delete(ctx, "deleted"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	got, err := store.GetMany(ctx, s, "short", "a", "absent", "empty", "deleted", "a")
	if err != nil {
		t.Fatal(err)
	}
	want := []*string{nil, ptr("alpha"), nil, ptr(""), nil, ptr("alpha")}
	if len(got) != len(want) {
		t.Fatalf("GetMany returned %d values for %d keys", len(got), len(want))
	}
	for i, w := range want {
		switch {
		case w == nil && got[i] != nil:
			t.Errorf("value %d = %q, want none", i, got[i])
		case w != nil && (got[i] == nil || string(got[i]) != *w):
			t.Errorf("value %d = %q (nil: %t), want %q", i, got[i], got[i] == nil, *w)
		}
	}
	if len(got[1]) > 0 {
		got[1][0] = 'X' // the caller owns what it receives
		wantValue(t, s, "a", "alpha")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := store.GetMany(cctx, s, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("GetMany on a canceled context: %v, want context.Canceled", err)
	}
}

func ptr(s string) *string { return &s }
