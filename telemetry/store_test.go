package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate/store"
)

// failingStore fails every operation on keys prefixed "bad:" and otherwise
// behaves like the in-memory store.
type failingStore struct{ store.Store }

var errBroken = errors.New("connection refused")

func (f failingStore) check(key string) error {
	if len(key) > 4 && key[:4] == "bad:" {
		return errBroken
	}
	return nil
}

func (f failingStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := f.check(key); err != nil {
		return nil, err
	}
	return f.Store.Get(ctx, key)
}

func (f failingStore) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if err := f.check(key); err != nil {
		return err
	}
	return f.Store.Set(ctx, key, v, ttl)
}

func (f failingStore) Take(ctx context.Context, key string) ([]byte, error) {
	if err := f.check(key); err != nil {
		return nil, err
	}
	return f.Store.Take(ctx, key)
}

func TestStoreCounts(t *testing.T) {
	m := NewMetrics("test")
	st := m.Store(failingStore{store.NewMemory(time.Now)})
	ctx := context.Background()

	// Absent keys are answers, not failures.
	if _, err := st.Get(ctx, "reg:absent"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get absent: %v", err)
	}
	if _, err := st.Take(ctx, "reg:absent"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Take absent: %v", err)
	}
	// Failures pass through unchanged and count.
	if _, err := st.Get(ctx, "bad:x"); !errors.Is(err, errBroken) {
		t.Fatalf("Get bad: %v", err)
	}
	if err := st.Set(ctx, "bad:x", []byte("v"), 0); !errors.Is(err, errBroken) {
		t.Fatalf("Set bad: %v", err)
	}
	if err := st.Set(ctx, "bad:y", []byte("v"), 0); !errors.Is(err, errBroken) {
		t.Fatalf("Set bad: %v", err)
	}
	// A caller giving up is not a store failure.
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = st.Get(done, "bad:z")

	// Cache keys: within one call (a context from Handler) a key's
	// repeated misses count once; hits always count.
	call := withMisses(ctx)
	for range 2 {
		if _, err := st.Get(call, "profiles:k1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if err := st.Set(call, "profiles:k1", []byte("{}"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if v, err := st.Get(withMisses(ctx), "profiles:k1"); err != nil || string(v) != "{}" {
			t.Fatalf("Get cached: %q %v", v, err)
		}
	}
	// Outside a call every miss counts.
	_, _ = st.Get(ctx, "config:k2")
	_, _ = st.Get(ctx, "config:k2")

	got := scrape(t, m)
	for key, want := range map[string]float64{
		testenv.MetricSeries("passgw_store_errors_total", map[string]string{"operation": "get"}):                     1,
		testenv.MetricSeries("passgw_store_errors_total", map[string]string{"operation": "set"}):                     2,
		testenv.MetricSeries("passgw_store_errors_total", map[string]string{"operation": "take"}):                    0,
		testenv.MetricSeries("passgw_cache_lookups_total", map[string]string{"cache": "profiles", "result": "miss"}): 1,
		testenv.MetricSeries("passgw_cache_lookups_total", map[string]string{"cache": "profiles", "result": "hit"}):  3,
		testenv.MetricSeries("passgw_cache_lookups_total", map[string]string{"cache": "config", "result": "miss"}):   2,
		testenv.MetricSeries("passgw_cache_lookups_total", map[string]string{"cache": "config", "result": "hit"}):    0,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}

// manyStore is the in-memory store with its one-step GetMany, counting
// how often that is used.
type manyStore struct {
	*store.Memory
	calls *int
}

func (m manyStore) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	*m.calls++
	return m.Memory.GetMany(ctx, keys...)
}

// TestStoreGetMany: reading several keys through the instrumentation still
// uses the store's one-step read, and counts cache hits and misses as Get
// does.
func TestStoreGetMany(t *testing.T) {
	m := NewMetrics("test")
	var calls int
	st := m.Store(manyStore{store.NewMemory(time.Now), &calls})
	ctx := context.Background()
	if err := st.Set(ctx, "profiles:hit", []byte("{}"), time.Minute); err != nil {
		t.Fatal(err)
	}
	call := withMisses(ctx)
	for range 2 {
		vals, err := store.GetMany(call, st, "gen:x", "profiles:hit", "profiles:miss")
		if err != nil || len(vals) != 3 || vals[1] == nil || vals[2] != nil {
			t.Fatalf("GetMany = %q, %v", vals, err)
		}
	}
	if calls != 2 {
		t.Errorf("the store's GetMany ran %d times for 2 reads, want 2", calls)
	}
	got := scrape(t, m)
	for key, want := range map[string]float64{
		testenv.MetricSeries("passgw_cache_lookups_total", map[string]string{"cache": "profiles", "result": "hit"}):  2,
		testenv.MetricSeries("passgw_cache_lookups_total", map[string]string{"cache": "profiles", "result": "miss"}): 1,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}

func TestPing(t *testing.T) {
	ctx := context.Background()
	if err := Ping(ctx, store.NewMemory(time.Now)); err != nil {
		t.Errorf("healthy store: %v", err)
	}
	if err := Ping(ctx, brokenStore{failingStore{store.NewMemory(time.Now)}}); !errors.Is(err, errBroken) {
		t.Errorf("broken store: %v, want %v", err, errBroken)
	}
}

// brokenStore fails every read.
type brokenStore struct{ failingStore }

func (b brokenStore) Get(ctx context.Context, key string) ([]byte, error) {
	return b.failingStore.Get(ctx, "bad:"+key)
}

// blockingStore holds every Get until release is closed, telling entered
// when one starts.
type blockingStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
}

func (b blockingStore) Get(ctx context.Context, key string) ([]byte, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Store.Get(ctx, key)
}

// TestStoreInFlightAndLatency: a store call shows in
// passgw_store_operations_in_flight while it runs, and once answered its
// latency is in passgw_store_operation_duration_seconds.
func TestStoreInFlightAndLatency(t *testing.T) {
	m := NewMetrics("test")
	bs := blockingStore{Store: store.NewMemory(time.Now), entered: make(chan struct{}), release: make(chan struct{})}
	st := m.Store(bs)
	inFlight := func(op string) string {
		return testenv.MetricSeries("passgw_store_operations_in_flight", map[string]string{"operation": op})
	}
	done := make(chan struct{})
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			_, _ = st.Get(context.Background(), "k")
		}()
	}
	<-bs.entered
	<-bs.entered
	got := scrape(t, m)
	if got[inFlight("get")] != 2 || got[inFlight("set")] != 0 {
		t.Errorf("while two gets wait: get %v, set %v in flight, want 2 and 0", got[inFlight("get")], got[inFlight("set")])
	}
	const held = 30 * time.Millisecond
	time.Sleep(held)
	close(bs.release)
	<-done
	<-done
	got = scrape(t, m)
	if got[inFlight("get")] != 0 {
		t.Errorf("once answered: %s = %v, want 0", inFlight("get"), got[inFlight("get")])
	}
	count := testenv.MetricSeries("passgw_store_operation_duration_seconds_count", map[string]string{"operation": "get"})
	sum := testenv.MetricSeries("passgw_store_operation_duration_seconds_sum", map[string]string{"operation": "get"})
	fast := testenv.MetricSeries("passgw_store_operation_duration_seconds_bucket", map[string]string{"operation": "get", "le": "0.025"})
	if got[count] != 2 || got[sum] < 2*held.Seconds() || got[fast] != 0 {
		t.Errorf("latency: count %v, sum %v, under 25 ms %v; want 2 calls of at least %v each", got[count], got[sum], got[fast], held)
	}
}
