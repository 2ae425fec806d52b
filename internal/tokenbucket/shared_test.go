package tokenbucket

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// localStore is a Store in process memory with error injection and a delay,
// for the fallback rules of Shared; the real stores pass the conformance
// suite of translate/store/storetest.
type localStore struct {
	mu    sync.Mutex
	b     Buckets[string]
	err   error
	delay time.Duration
	calls int
}

func (l *localStore) Bucket(ctx context.Context, key string, r Request, idle time.Duration) (Decision, error) {
	l.mu.Lock()
	err, delay := l.err, l.delay
	l.calls++
	l.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return Decision{}, ctx.Err()
		}
	}
	if err != nil {
		return Decision{}, err
	}
	return l.b.Apply(key, r), nil
}

func (l *localStore) set(err error, delay time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err, l.delay = err, delay
}

func TestSharedFallback(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name  string
		err   error
		delay time.Duration
		want  error
	}{
		{name: "store fails", err: down, want: down},
		{name: "store slower than Timeout", delay: time.Second, want: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &localStore{}
			var told []error
			s := &Shared{Store: st, Timeout: 20 * time.Millisecond, Retry: 200 * time.Millisecond,
				OnFallback: func(_ context.Context, err error) { told = append(told, err) }}
			ctx := context.Background()
			r := Request{Now: start, Limit: Limit{Interval: time.Second}}
			if d, err := s.Apply(ctx, "dev", r); err != nil || !d.OK {
				t.Fatalf("store up: %+v, %v", d, err)
			}
			if d, err := s.Apply(ctx, "dev", r); err != nil || d.OK {
				t.Fatalf("store up, second call in the interval: %+v, %v; want a refusal from the store", d, err)
			}
			st.set(tt.err, tt.delay)
			began := time.Now()
			if _, err := s.Apply(ctx, "dev", r); !errors.Is(err, tt.want) {
				t.Fatalf("store down: err %v, want %v", err, tt.want)
			}
			if took := time.Since(began); took > 500*time.Millisecond {
				t.Errorf("a failing decision took %s, want it bounded by Timeout", took)
			}
			calls := st.calls
			// Within Retry the store is not asked: one failure told.
			for range 5 {
				if _, err := s.Apply(ctx, "dev", r); !errors.Is(err, ErrStoreSkipped) {
					t.Fatalf("within Retry: err %v, want ErrStoreSkipped", err)
				}
			}
			if st.calls != calls || len(told) != 1 {
				t.Fatalf("within Retry: store asked %d more times, %d failures told; want 0 and 1", st.calls-calls, len(told))
			}
			// After Retry the store is asked again, and answers once it is back.
			st.set(nil, 0)
			time.Sleep(250 * time.Millisecond)
			if d, err := s.Apply(ctx, "dev", r.withNow(start.Add(time.Second))); err != nil || !d.OK {
				t.Fatalf("store back: %+v, %v", d, err)
			}
		})
	}
}

// TestSharedCallerGaveUp proves a caller's own ended context is not taken
// for a store failure: nothing told, the store asked again at once.
func TestSharedCallerGaveUp(t *testing.T) {
	st := &localStore{delay: time.Second}
	told := 0
	s := &Shared{Store: st, OnFallback: func(context.Context, error) { told++ }}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Apply(ctx, "dev", Request{Now: start}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	st.set(nil, 0)
	if _, err := s.Apply(context.Background(), "dev", Request{Now: start}); err != nil || told != 0 {
		t.Fatalf("after a caller gave up: %v, %d failures told; want the store asked, none told", err, told)
	}
}

func (r Request) withNow(now time.Time) Request { r.Now = now; return r }
