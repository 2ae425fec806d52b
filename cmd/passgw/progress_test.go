package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client/sandbox"
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
		testenv.Eventually(t, "progress figures on "+base, 10*time.Second, func() error {
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
	if err := run(context.Background(), []string{"status", "--gateway", b.URL, "--platforms"}, &out, &errOut); err != nil {
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

// signInVia registers deviceID for requestor on the gateway w and signs
// alice in through w's v1 authenticate URL, redirected to redirectBase's
// landing page (the base URL of whoever answers the requestor's calls).
func signInVia(t *testing.T, w *obsWorld, requestor, deviceID, redirectBase string) {
	t.Helper()
	resp, body := w.call("POST", "/reggie/v1/"+requestor+"/regcode.json", nil, "deviceId="+url.QueryEscape(deviceID))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%s regcode: %d %s", requestor, resp.StatusCode, body)
	}
	var reg struct{ Code string }
	if err := json.Unmarshal([]byte(body), &reg); err != nil || reg.Code == "" {
		t.Fatalf("%s regcode body %s: %v", requestor, body, err)
	}
	q := url.Values{"reg_code": {reg.Code}, "requestor_id": {requestor}, "mso_id": {"AcmeCable"},
		"domain_name": {"localhost"}, "redirect_url": {redirectBase + signedInPath}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := sandbox.SignIn(ctx, &http.Client{Timeout: 10 * time.Second}, w.URL+"/api/v1/authenticate?"+q.Encode(), "alice", "alice-pass"); err != nil {
		t.Fatalf("%s sign-in: %v", requestor, err)
	}
	target := "/api/v1/tokens/authn?" + url.Values{"requestor": {requestor}, "deviceId": {deviceID}}.Encode()
	if resp, body := w.call("GET", target, nil, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("%s tokens/authn: %d %s", requestor, resp.StatusCode, body)
	}
}

// TestMigrationProgressV1Only: where the migration modes can tell, devices
// signed in on v1 and not through v2 are counted as such. A canary device
// on the v1 side and a shadow-mode device sign in on the v1 service (a
// second gateway standing in for it) through the gateway; a canary device
// on the translate side and a translate-mode device sign in through v2.
// The gateway's /status says which is which.
func TestMigrationProgressV1Only(t *testing.T) {
	w, v1 := newMonitoredWorld(t, nil)
	onV1, onV2 := "", ""
	for i := 0; onV1 == "" || onV2 == ""; i++ {
		id := fmt.Sprintf("canary-tv-%d", i)
		if compat.InCanary(monitoredCanary, id, 50) {
			onV2 = id
		} else {
			onV1 = id
		}
	}
	signInVia(t, w, monitoredCanary, onV1, v1.URL)
	signInVia(t, w, monitoredCanary, onV2, w.URL)
	signInVia(t, w, monitoredShadow, "shadow-tv", v1.URL)
	signInVia(t, w, "REF30", "translate-tv", w.URL)

	resp, err := http.Get(w.URL + statusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a statusAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/status: %d, %v", resp.StatusCode, err)
	}
	if a.Version == "" || a.Version != releaseVersion() || a.StdError != store.DistinctStdError {
		t.Errorf("/status: version %q (want %q), std_error %v", a.Version, releaseVersion(), a.StdError)
	}
	want := map[string]map[string]uint64{
		monitoredCanary: {telemetry.StateSeen: 2, telemetry.StateSignedInV2: 1, telemetry.StateSignedInV1: 1, telemetry.StateV1Only: 1},
		monitoredShadow: {telemetry.StateSeen: 1, telemetry.StateSignedInV2: 0, telemetry.StateSignedInV1: 1, telemetry.StateV1Only: 1},
		"REF30":         {telemetry.StateSeen: 1, telemetry.StateSignedInV2: 1, telemetry.StateSignedInV1: 0, telemetry.StateV1Only: 0},
	}
	for rq, states := range want {
		for _, window := range telemetry.ProgressWindows() {
			if got := a.Progress.Requestors[rq].Windows[window]; !maps.Equal(got, states) {
				t.Errorf("%s %s: %v, want %v", rq, window, got, states)
			}
		}
	}
}
