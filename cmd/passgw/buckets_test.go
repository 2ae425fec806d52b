package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/internal/tokenbucket"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client/sandbox"
)

// startRedisGateway starts a gateway instance on the Redis at redisURL in
// front of the sandbox at sandboxURL, with the upstream budget off and cfg
// changed by set before provisioning; now is its clock and sleep how its
// budget waits (nil: the real ones). It returns the instance's base URL.
func startRedisGateway(tb testing.TB, redisURL, sandboxURL string, now func() time.Time,
	sleep func(context.Context, time.Duration) error, logger *slog.Logger, set func(*Config)) string {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	cfg := &Config{Addr: srv.Listener.Addr().String(), PublicURL: base, Store: redisURL, DCRKeys: []string{procDCRKey},
		UpstreamBudget: BudgetConfig{Off: true}}
	set(cfg)
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		tb.Fatal(err)
	}
	st, err := redisstore.Open(cfg.Store, now)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := newGatewayHandler(cfg, sandboxURL, logger, hooks{Store: st, Now: now, Sleep: sleep})
	if err != nil {
		tb.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	tb.Cleanup(func() { srv.Close(); st.Close() })
	return base
}

// configCall is one device's v1 configuration call on the instance at base
// (its X-Forwarded-For address): a throttled path that needs no shared
// state to be answered.
func configCall(t *testing.T, client *http.Client, base, device string) int {
	t.Helper()
	resp, _ := deviceCall(t, client, http.MethodGet, base+"/api/v1/config/REF30", http.Header{"X-Forwarded-For": {device}}, "")
	return resp.StatusCode
}

// startBucketWorld starts a redis-server and a sandbox on a manual clock,
// throttling per address as Adobe does when throttling is set, and the
// warning-level logger of the instances (logs printed when t fails).
func startBucketWorld(t *testing.T, throttling bool) (*redistest.Server, *testenv.Clock, *sandbox.Server, *slog.Logger, *syncBuffer) {
	t.Helper()
	redis := redistest.Start(t)
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	sb, err := sandbox.NewServer(sandbox.Config{Now: clock.Now, DisableThrottling: !throttling, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return redis, clock, sb, logger, logs
}

// TestSharedThrottle: two gateway instances on one redis-server (buckets
// left to their default, shared with Redis) spend one v1 throttle bucket
// per device. A device alternating between them at two calls a second gets
// v1's 429 exactly where one bucket of Adobe's page would refuse it, not at
// twice the allowance; with Redis stopped mid-way its calls are still
// served, each instance counting in a bucket of its own, and the fallback
// is logged.
func TestSharedThrottle(t *testing.T) {
	redis, clock, sb, logger, logs := startBucketWorld(t, false)
	var urls [2]string
	for i := range urls {
		urls[i] = startRedisGateway(t, redis.URL(), sb.URL, clock.Now, nil, logger.With("instance", i), func(*Config) {})
	}
	const device = "203.0.113.7"
	client := &http.Client{Timeout: 10 * time.Second}

	fleet := tokenbucket.Bucket{}
	refused := 0
	for i := range 40 {
		want := http.StatusOK
		if !fleet.Apply(tokenbucket.Request{Now: clock.Now(), Limit: tokenbucket.Default()}).OK {
			want = http.StatusTooManyRequests
			refused++
		}
		if got := configCall(t, client, urls[i%2], device); got != want {
			t.Fatalf("call %d (instance %d, %s in): status %d, want %d as one bucket for both instances",
				i, i%2, time.Duration(i)*500*time.Millisecond, got, want)
		}
		clock.Advance(500 * time.Millisecond)
	}
	// 20 s at two calls a second: 20 turns and the burst of 10 go, 10 are
	// refused; a bucket per instance (one call a second each) refuses none.
	if refused != 10 {
		t.Fatalf("one bucket refused %d of 40 calls, want 10", refused)
	}

	// Each instance holds the gateway's v2 credentials in memory (a
	// registration code asks v2), as a running fleet does: the
	// configuration is then answered without Redis.
	for i, base := range urls {
		newDevice(t, fmt.Sprint("warm-", i)).regcode(base)
	}
	redis.Stop()
	// Fifteen calls on each instance at once: each counts in its own
	// fresh bucket, so each serves its turn and burst and refuses the rest.
	own := [2]tokenbucket.Bucket{}
	refused = 0
	for i := range 30 {
		want := http.StatusOK
		if !own[i%2].Apply(tokenbucket.Request{Now: clock.Now(), Limit: tokenbucket.Default()}).OK {
			want = http.StatusTooManyRequests
			refused++
		}
		if got := configCall(t, client, urls[i%2], device); got != want {
			t.Fatalf("Redis down, call %d on instance %d: status %d, want %d counted in the instance's own bucket", i, i%2, got, want)
		}
	}
	if refused != 8 {
		t.Fatalf("Redis down: %d of 30 calls refused, want 8 (4 per instance)", refused)
	}
	if n := strings.Count(logs.String(), "shared token buckets unavailable"); n < 2 {
		t.Errorf("%d fallback lines logged, want one per instance at least", n)
	}
}

// BenchmarkSharedThrottle measures, in one run, a v1 call through a gateway
// on Redis with the devices' throttle buckets kept in Redis (buckets:
// shared, one more round trip per call) and in process (buckets: process).
// The call is the configuration, answered from the store's cache; 1024
// device addresses; a limit so large that no call is refused.
func BenchmarkSharedThrottle(b *testing.B) {
	redis := redistest.Start(b)
	sb, err := sandbox.NewServer(sandbox.Config{DisableThrottling: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sb.Close)
	logger := slog.New(slog.DiscardHandler)
	for _, buckets := range []string{bucketsProcess, bucketsShared} {
		b.Run(buckets, func(b *testing.B) {
			base := startRedisGateway(b, redis.URL(), sb.URL, nil, nil, logger, func(c *Config) {
				c.Buckets = buckets
				c.Throttle = ThrottleConfig{Interval: time.Millisecond, Burst: 1 << 30}
			})
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			// 16 callers on two cores: throughput, not one call's latency.
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/config/REF30", nil)
					req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.1.%d.%d", i/256%4, i%256))
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
		})
	}
}

// TestSharedBudget: two gateway instances on one redis-server plan their v2
// calls inside one budget per device address (buckets shared, the default
// with Redis), in front of a sandbox throttling per address as Adobe does. A
// device asking for a registration code (one v2 call each) twice a second,
// alternately on each instance, has its calls held for the device's turns
// (the budget's waits move the test's clock) and Adobe never answers it
// 429; with a budget per instance, each spends the allowance once and Adobe
// answers 429.
func TestSharedBudget(t *testing.T) {
	for _, tt := range []struct {
		buckets string
		// adobe429 reports whether Adobe is to answer the device 429.
		adobe429 bool
	}{{buckets: bucketsShared}, {buckets: bucketsProcess, adobe429: true}} {
		t.Run(tt.buckets, func(t *testing.T) {
			redis, clock, sb, logger, _ := startBucketWorld(t, true)
			// The budget's waits for a turn move the shared clock.
			var waited atomic.Int64
			sleep := func(ctx context.Context, d time.Duration) error {
				waited.Add(int64(d))
				clock.Advance(d)
				return ctx.Err()
			}
			var urls [2]string
			for i := range urls {
				urls[i] = startRedisGateway(t, redis.URL(), sb.URL, clock.Now, sleep, logger.With("instance", i), func(c *Config) {
					c.Buckets, c.Throttle.Off, c.UpstreamBudget.Off = tt.buckets, true, false
				})
			}
			const device = "203.0.113.9"
			client := &http.Client{Timeout: 10 * time.Second}
			codes, refused := 0, 0
			for i := range 40 {
				resp, _ := deviceCall(t, client, http.MethodPost, urls[i%2]+"/reggie/v1/REF30/regcode",
					http.Header{"X-Forwarded-For": {device}}, "deviceId="+device)
				switch got := resp.StatusCode; got {
				case http.StatusCreated:
					codes++
				case http.StatusTooManyRequests:
					refused++
				default:
					t.Fatalf("regcode %d on instance %d: status %d", i, i%2, got)
				}
				clock.Advance(500 * time.Millisecond)
			}
			adobe := 0
			for _, r := range sb.Requests() {
				if r.Status == http.StatusTooManyRequests && strings.HasPrefix(r.Header.Get("X-Forwarded-For"), device) {
					adobe++
				}
			}
			t.Logf("buckets %s: %d codes, %d answered 429, %d answered 429 by Adobe, %s waited for turns",
				tt.buckets, codes, refused, adobe, time.Duration(waited.Load()))
			if tt.adobe429 {
				if adobe == 0 {
					t.Fatal("a budget per instance: Adobe answered the device no 429; the test no longer tells one budget from two")
				}
				return
			}
			if adobe != 0 {
				t.Fatalf("Adobe answered the device 429 %d times, want none: the instances overspent one allowance", adobe)
			}
			// 40 calls in 20 s where Adobe allows about 19 turns 1.05 s apart
			// and the burst of 10: the rest waited for their turns.
			if w := time.Duration(waited.Load()); w < 5*time.Second {
				t.Fatalf("the budget held the device's calls %s in all, want the calls beyond Adobe's allowance held for their turns", w)
			}
		})
	}
}
