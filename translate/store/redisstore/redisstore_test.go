package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/internal/tokenbucket"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/translate/store/storetest"
)

func open(t *testing.T, url string, now func() time.Time) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(url, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// conformance runs the conformance suite on the Redis at url.
func conformance(t *testing.T, url string) {
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		s := open(t, url, now)
		// One database for the whole suite: each subtest gets its own keys.
		s.Prefix = fmt.Sprintf("conf%d:", n.Add(1))
		return s
	})
}

func TestConformance(t *testing.T) { conformance(t, redistest.Start(t).URL()) }

// TestConformanceCluster runs the conformance suite on a Redis Cluster of
// three masters created by the test: the keys of each subtest spread over
// the three, and every atomic operation still holds.
func TestConformanceCluster(t *testing.T) {
	conformance(t, redistest.StartCluster(t, 3, time.Second).URL())
}

// TestConformanceSentinel runs the conformance suite through Sentinel.
func TestConformanceSentinel(t *testing.T) {
	conformance(t, redistest.StartSentinel(t, time.Second).URL())
}

// TestSharedAcrossClients checks what several gateway instances rely on: two
// independent clients of one database see each other's values, and their
// races have one winner.
func TestSharedAcrossClients(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := open(t, srv.URL(), nil)
	b := open(t, srv.URL(), nil)
	if err := a.Set(ctx, "k", []byte("from a"), time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "k")
	if err != nil || string(got) != "from a" {
		t.Fatalf("b.Get = %q, %v; want the value a set", got, err)
	}
	for i := range 50 {
		key := fmt.Sprint("media", i)
		start := make(chan struct{})
		wins := make(chan bool, 2)
		for _, s := range []*redisstore.Store{a, b} {
			go func() {
				<-start
				ok, err := store.Marks{Store: s}.TakeOnce(ctx, key, time.Minute)
				if err != nil {
					t.Error(err)
				}
				wins <- ok
			}()
		}
		close(start)
		if w1, w2 := <-wins, <-wins; w1 == w2 {
			t.Fatalf("round %d: both clients won or both lost (%v, %v), want exactly one winner", i, w1, w2)
		}
	}
}

// TestRedisTTL checks that Redis itself reclaims entries: the key TTL is the
// time to live plus the grace, and none for values that never expire; a
// token bucket's is its idle time plus the grace, or reaches past its hold
// when that ends later, so that no bucket leaks.
func TestRedisTTL(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := open(t, srv.URL(), nil)
	s.Prefix = "ttl:"
	s.ExpiryGrace = 30 * time.Second
	if err := s.Set(ctx, "short", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "forever", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if ttl := pttl(t, s, "ttl:short"); ttl <= time.Minute || ttl > 90*time.Second {
		t.Errorf("Redis TTL of a 1 min value = %v, want within (1m, 1m30s]", ttl)
	}
	if ttl := pttl(t, s, "ttl:forever"); ttl != -1 {
		t.Errorf("Redis TTL of a value without expiry = %v, want none (-1)", ttl)
	}
	// Replace keeps the key TTL.
	if err := s.Replace(ctx, "short", []byte("w")); err != nil {
		t.Fatal(err)
	}
	if ttl := pttl(t, s, "ttl:short"); ttl <= time.Minute {
		t.Errorf("Redis TTL after Replace = %v, want the original one kept", ttl)
	}
	// Set without expiry over a value with one removes the key TTL.
	if err := s.Set(ctx, "short", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if ttl := pttl(t, s, "ttl:short"); ttl != -1 {
		t.Errorf("Redis TTL after Set without expiry = %v, want none", ttl)
	}

	now := time.Now()
	if _, err := s.Bucket(ctx, "take", tokenbucket.Request{Now: now, Limit: tokenbucket.Default()}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if ttl := pttl(t, s, "ttl:take"); ttl <= time.Minute || ttl > 90*time.Second {
		t.Errorf("Redis TTL of a bucket idle after 1 min = %v, want within (1m, 1m30s]", ttl)
	}
	if _, err := s.Bucket(ctx, "held", tokenbucket.Request{Op: tokenbucket.Hold, Now: now, Hold: 5 * time.Minute}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if ttl := pttl(t, s, "ttl:held"); ttl <= 5*time.Minute || ttl > 5*time.Minute+30*time.Second {
		t.Errorf("Redis TTL of a bucket held 5 min = %v, want within (5m, 5m30s]", ttl)
	}
	// A check writes nothing: no key for a bucket never used.
	if _, err := s.Bucket(ctx, "checked", tokenbucket.Request{Op: tokenbucket.Check, Now: now}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n, err := srv.Do("EXISTS", "ttl:checked"); err != nil || n != int64(0) {
		t.Errorf("EXISTS of a bucket only checked = %v, %v; want 0", n, err)
	}
}

// TestOutage checks that an unreachable Redis is an error (never
// ErrNotFound, which would let a dead code look merely absent), and that the
// same store works again once Redis is back, without being rebuilt.
func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := open(t, srv.URL(), nil)
	if err := s.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ops := map[string]func() error{
		"Get":     func() error { _, err := s.Get(ctx, "k"); return err },
		"Set":     func() error { return s.Set(ctx, "k", []byte("v"), time.Minute) },
		"SetNX":   func() error { _, err := s.SetNX(ctx, "n", []byte("v"), time.Minute); return err },
		"Replace": func() error { return s.Replace(ctx, "k", []byte("w")) },
		"Take":    func() error { _, err := s.Take(ctx, "k"); return err },
		"Delete":  func() error { return s.Delete(ctx, "k") },
		"Bucket": func() error {
			_, err := s.Bucket(ctx, "b", tokenbucket.Request{Now: time.Now()}, time.Minute)
			return err
		},
	}
	for name, op := range ops {
		err := op()
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s during the outage: %v, want a connection error", name, err)
		}
	}
	srv.Restart()
	// The client notices by itself that the server is back; the restarted
	// server is empty, so the scripts must be loaded again too.
	testenv.Eventually(t, "the store works again after Redis returned", 10*time.Second, func() error {
		ok, err := s.SetNX(ctx, "n", []byte("v"), time.Minute)
		if err == nil && !ok {
			t.Fatal("SetNX on the emptied server = false, want true")
		}
		return err
	})
	if err := s.Replace(ctx, "n", []byte("w")); err != nil {
		t.Fatalf("Replace after Redis returned: %v", err)
	}
	if got, err := s.Take(ctx, "n"); err != nil || string(got) != "w" {
		t.Fatalf("Take after Redis returned = %q, %v", got, err)
	}
}

// pttl is Redis' own time to live of key (no prefix added): -1 for none.
func pttl(t *testing.T, s *redisstore.Store, key string) time.Duration {
	t.Helper()
	ms, err := s.Client.Do(context.Background(), s.Client.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	if ms < 0 {
		return time.Duration(ms)
	}
	return time.Duration(ms) * time.Millisecond
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
		db      int
		dial    time.Duration
	}{
		{url: "redis://127.0.0.1:6379/2", db: 2, dial: redisstore.DefaultTimeout},
		{url: "redis://127.0.0.1:6379/0?dial_timeout=7s", dial: 7 * time.Second},
		{url: "rediss://cache.example:6380/1", db: 1, dial: redisstore.DefaultTimeout},
		{url: "http://127.0.0.1:6379/0", wantErr: true},
		{url: "redis://:s3cret-pw@127.0.0.1:6379/notanumber", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			opts, err := redisstore.ParseURL(tt.url)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseURL = %+v, want an error", opts)
				}
				if strings.Contains(err.Error(), "s3cret-pw") {
					t.Fatalf("error %q reveals the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.SelectDB != tt.db || opts.Dialer.Timeout != tt.dial || opts.ConnWriteTimeout != redisstore.DefaultTimeout {
				t.Errorf("ParseURL = db %d, dial %v, read %v; want db %d, dial %v, read %v",
					opts.SelectDB, opts.Dialer.Timeout, opts.ConnWriteTimeout, tt.db, tt.dial, redisstore.DefaultTimeout)
			}
		})
	}
}
