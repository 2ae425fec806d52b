package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate/store"
)

// TestMigrationProgressAcrossInstances signs N devices in through two
// `passgw serve` processes sharing one redis-server, each device hopping
// between them (registration on one, second screen and authentication
// check on the other), and reads the migration progress figures from both
// instances' /metrics and with `passgw status`: the distinct counts of
// devices seen and signed in through v2 are within the estimator's error
// (three standard errors, store.DistinctStdError) of N, the same on both
// instances, and no device is signed in on v1 only.
func TestMigrationProgressAcrossInstances(t *testing.T) {
	const n = 150
	redis := redistest.Start(t)
	sandbox := startSandboxProc(t)
	config := writeServeConfig(t, sandbox.URL, redis.URL())
	f, err := os.OpenFile(config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Figures shared within a fraction of a second, for the test.
	fmt.Fprintln(f, "progress: {flush_interval: 100ms, refresh_interval: 50ms}")
	f.Close()
	a := startServe(t, "instance A", config, "127.0.0.1:0")
	b := startServe(t, "instance B", config, "127.0.0.1:0")
	instances := []string{a.URL, b.URL}

	devices := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range devices {
				first, other := instances[i%2], instances[(i+1)%2]
				d := newDevice(t, fmt.Sprintf("progress-device-%03d", i))
				code := d.regcode(first)
				browserSignIn(t, other, code, "alice")
				d.call("tokens/authn", other, http.MethodGet, "/api/v1/tokens/authn", nil, http.StatusOK)
				d.call("checkauthn", first, http.MethodGet, "/api/v1/checkauthn", nil, http.StatusOK)
			}
		})
	}
	for i := range n {
		devices <- i
	}
	close(devices)
	wg.Wait()
	if t.Failed() {
		return
	}

	tolerance := math.Ceil(3 * store.DistinctStdError * n)
	series := func(state string) string {
		return testenv.MetricSeries("passgw_migration_devices", map[string]string{"requestor": "REF30", "state": state, "window": "1d"})
	}
	for _, base := range instances {
		eventually(t, "progress figures on "+base, 10*time.Second, func() error {
			resp, err := http.Get(base + "/metrics")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			got := testenv.MetricSamples(t, resp.Body)
			for _, state := range []string{telemetry.StateSeen, telemetry.StateSignedInV2} {
				if v, ok := got[series(state)]; !ok || math.Abs(v-n) > tolerance {
					return fmt.Errorf("%s = %v (exported: %v), want %d ± %.0f", series(state), v, ok, n, tolerance)
				}
			}
			if v := got[series(telemetry.StateV1Only)]; v != 0 {
				return fmt.Errorf("%s = %v, want 0", series(telemetry.StateV1Only), v)
			}
			return nil
		})
	}

	// The operator's one command, against instance B.
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"status", "--url", b.URL, "--platforms"}, &out, &errOut); err != nil {
		t.Fatalf("passgw status: %v\n%s", err, errOut.String())
	}
	var seen, signed, v1, v1only int
	found := false
	for _, line := range strings.Split(out.String(), "\n") {
		var share string
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "REF30 all 1d %d %d %d %d %s", &seen, &signed, &v1, &v1only, &share); err == nil {
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("passgw status printed no REF30 line for 1d:\n%s", out.String())
	}
	if math.Abs(float64(seen)-n) > tolerance || math.Abs(float64(signed)-n) > tolerance || v1 != 0 || v1only != 0 {
		t.Errorf("passgw status: seen %d, signed in v2 %d, v1 %d, v1 only %d; want %d ± %.0f, %d ± %.0f, 0, 0:\n%s",
			seen, signed, v1, v1only, n, tolerance, n, tolerance, out.String())
	}
	if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), "REF30 unknown 1d") {
		t.Errorf("passgw status --platforms shows no line for platform unknown (the devices sent no device information):\n%s", out.String())
	}
	t.Logf("passgw status:\n%s", out.String())
}
