package main

import (
	"errors"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client/sandbox"
)

// Requestors of the monitored world, all on the sandbox's REF30: one per
// migration mode.
const (
	monitoredShadow = "SHADOW"
	monitoredCanary = "CANARY"
)

// newMonitoredWorld is a gateway with metrics on (state in st; nil: in
// memory) whose requestors cover the migration modes: REF30 in translate,
// SHADOW in shadow and CANARY in canary (half the devices), the last two
// in front of a second gateway, on its own sandbox, standing in for the v1
// service (returned second).
func newMonitoredWorld(t *testing.T, st store.Store) (w, v1 *obsWorld) {
	t.Helper()
	v1 = newObsWorld(t, func(c *Config) { c.Requestors = monitoredRequestors(c.PublicURL) })
	return newObsWorldStore(t, func(c *Config) {
		c.Requestors = monitoredRequestors(c.PublicURL)
		c.V1Upstream = v1.URL
		half := 50.0
		c.Requestors[1].Mode = "shadow"
		c.Requestors[2].Mode, c.Requestors[2].CanaryPercent = "canary", &half
	}, st), v1
}

func monitoredRequestors(base string) []RequestorConfig {
	var out []RequestorConfig
	for _, id := range []string{"REF30", monitoredShadow, monitoredCanary} {
		out = append(out, sandboxRequestor(id, base))
	}
	return out
}

// driveEverySeries runs the calls after which the gateway has exported
// each of its series: a device signed in and authorized on translate, a
// call Adobe throttles, one that fails upstream, shadow comparisons and
// canary devices on both sides.
func (w *obsWorld) driveEverySeries() {
	t := w.t
	t.Helper()
	const device = "monitored-tv-1"
	dev := "?requestor=REF30&deviceId=" + device
	w.signIn(device)
	for _, c := range []string{"/api/v1/tokens/authn" + dev, "/api/v1/authorize" + dev + "&resource=sports", "/api/v1/tokens/media" + dev + "&resource=sports"} {
		if resp, body := w.call("GET", c, nil, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c, resp.StatusCode, body)
		}
	}
	for kind, status := range map[sandbox.FaultKind]int{sandbox.FaultThrottle: http.StatusTooManyRequests, sandbox.FaultStatus: http.StatusInternalServerError} {
		if _, err := w.sandbox.AddFault(sandbox.Fault{Kind: kind, Status: status, Path: "/api/v2/*/profiles", Count: 1}); err != nil {
			t.Fatal(err)
		}
		target := "/api/v1/checkauthn?requestor=REF30&deviceId=faulted-" + string(kind)
		if resp, body := w.call("GET", target, nil, ""); resp.StatusCode != status {
			t.Fatalf("%s under fault %s: %d %s", target, kind, resp.StatusCode, body)
		}
	}
	for _, target := range []string{"/api/v1/config/" + monitoredShadow, "/api/v1/checkauthn?requestor=" + monitoredShadow + "&deviceId=shadowed"} {
		if resp, body := w.call("GET", target, nil, ""); resp.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", target, resp.StatusCode, body)
		}
	}
	for i := range 8 {
		target := "/api/v1/checkauthn?requestor=" + monitoredCanary + "&deviceId=canary-" + string(rune('a'+i))
		if resp, body := w.call("GET", target, nil, ""); resp.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", target, resp.StatusCode, body)
		}
	}
	// Shadow comparisons finish in the background.
	testenv.Eventually(t, "shadow comparisons counted", 10*time.Second, func() error {
		if _, ok := w.exported()["passgw_shadow_comparisons_total"]; !ok {
			return errors.New("no passgw_shadow_comparisons_total yet")
		}
		return nil
	})
}

// exportedRoutes scrapes the gateway's /metrics over HTTP and returns the
// values of the route label of every series.
func (w *obsWorld) exportedRoutes() map[string]bool {
	w.t.Helper()
	out := map[string]bool{}
	for key := range w.scrape() {
		if m := routeLabel.FindStringSubmatch(key); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

// routeLabel matches the route label of a sample in the text format.
var routeLabel = regexp.MustCompile(`[{,]route="((?:[^"\\]|\\.)*)"`)
