package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/internal/tokenbucket"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client/v2test"
)

// startRedisGateway starts a gateway instance on the Redis at redisURL in
// front of the sandbox at sandboxURL, with the upstream budget off and cfg
// changed by set before provisioning; now is its clock (nil: the real one).
// It returns the instance's base URL.
func startRedisGateway(tb testing.TB, redisURL, sandboxURL string, now func() time.Time, logger *slog.Logger, set func(*Config)) string {
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
	h, err := newGatewayHandler(cfg, sandboxURL, logger, hooks{Store: st, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	tb.Cleanup(func() { srv.Close(); st.Close() })
	return base
}

// configCall is one device's v1 configuration call on the instance at base:
// a throttled path that needs no shared state to be answered.
func configCall(tb testing.TB, client *http.Client, base, device string) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/config/REF30", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", device)
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSharedThrottle: two gateway instances on one redis-server (buckets
// left to their default, shared with Redis) spend one v1 throttle bucket
// per device. A device alternating between them at two calls a second gets
// v1's 429 exactly where one bucket of Adobe's page would refuse it, not at
// twice the allowance; with Redis stopped mid-way its calls are still
// served, each instance counting in a bucket of its own, and the fallback
// is logged.
func TestSharedThrottle(t *testing.T) {
	redis := redistest.Start(t)
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	sb, err := v2test.NewServer(v2test.Config{Now: clock.Now, DisableThrottling: true, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	var urls [2]string
	for i := range urls {
		urls[i] = startRedisGateway(t, redis.URL(), sb.URL, clock.Now, logger.With("instance", i), func(*Config) {})
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
	sb, err := v2test.NewServer(v2test.Config{DisableThrottling: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sb.Close)
	logger := slog.New(slog.DiscardHandler)
	for _, buckets := range []string{bucketsProcess, bucketsShared} {
		b.Run(buckets, func(b *testing.B) {
			base := startRedisGateway(b, redis.URL(), sb.URL, nil, logger, func(c *Config) {
				c.Buckets = buckets
				c.Throttle = ThrottleConfig{Interval: time.Millisecond, Burst: 1 << 30}
			})
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if got := configCall(b, client, base, fmt.Sprintf("10.1.%d.%d", i/256%4, i%256)); got != http.StatusOK {
						b.Fatalf("status %d", got)
					}
				}
			})
		})
	}
}
