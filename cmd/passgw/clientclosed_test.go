package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/v2client/sandbox"
)

// TestAbandonedCallIsClientClosed: a device that gives up on a call while
// the gateway waits on Adobe is counted with status 499 ("client closed"),
// outside the 5xx series operators alert on, and logged without an error.
func TestAbandonedCallIsClientClosed(t *testing.T) {
	w := newObsWorld(t, nil)
	if _, err := w.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultLatency, Latency: sandbox.Duration(3 * time.Second), Path: "/api/v2/*/profiles"}); err != nil {
		t.Fatal(err)
	}
	impatient := &http.Client{Timeout: 300 * time.Millisecond}
	if resp, err := impatient.Get(w.URL + "/api/v1/checkauthn?requestor=REF30&deviceId=impatient"); err == nil {
		resp.Body.Close()
		t.Fatalf("the call answered %d before the device gave up", resp.StatusCode)
	}
	const closed = `passgw_v1_requests_total{code="499",format="none",method="GET",route="/api/v1/checkauthn"}`
	deadline := time.Now().Add(10 * time.Second)
	var m map[string]float64
	for {
		m = scrapeURL(t, w.URL)
		if m[closed] == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m[closed] != 1 {
		var got []string
		for k := range m {
			if strings.HasPrefix(k, "passgw_v1_requests_total") {
				got = append(got, k)
			}
		}
		t.Fatalf("no %s; v1 series: %v", closed, got)
	}
	for k, v := range m {
		if strings.HasPrefix(k, "passgw_v1_requests_total") && strings.Contains(k, `code="5`) && v > 0 {
			t.Errorf("%s = %v: an abandoned call counted as a server error", k, v)
		}
	}
	logs := w.logs.String()
	if !strings.Contains(logs, "client closed") {
		t.Errorf("no log line says the client closed the call:\n%s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("error logged for an abandoned call: %s", line)
		}
	}
}
