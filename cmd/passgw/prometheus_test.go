package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/monitoring"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client/sandbox"
)

// The end-to-end test evaluates a copy of the rule file whose ranges are
// e2eWindow and whose alerts hold for e2eHold (monitoring.Shortened), on a
// Prometheus scraping and evaluating every e2eInterval: the same
// expressions and thresholds, in seconds instead of minutes.
const (
	e2eInterval = time.Second
	e2eWindow   = 4 * time.Second
	e2eHold     = 2 * time.Second
)

// prometheusServer is a prometheus process started by a test.
type prometheusServer struct {
	t   *testing.T
	URL string
	log *syncBuffer
}

// startPrometheus runs prometheus scraping target (HOST:PORT) as job
// passgw and evaluating the rules in rules, both every e2eInterval.
func startPrometheus(t *testing.T, target string, rules []byte) *prometheusServer {
	t.Helper()
	bin := testenv.LookPath(t, "prometheus")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: %[1]s
rule_files: [rules.yml]
scrape_configs:
  - job_name: passgw
    static_configs:
      - targets: [%[2]q]
`, fmt.Sprintf("%dms", e2eInterval.Milliseconds()), target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	// Prometheus cannot report a port it picked itself: take a free one.
	// Another process may take it first; then the start is retried.
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		p := &prometheusServer{t: t, URL: "http://" + addr, log: &syncBuffer{}}
		cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path="+filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
			"--web.listen-address="+addr, "--log.level=warn")
		cmd.Stdout, cmd.Stderr = p.log, p.log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		ready := false
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			select {
			case <-exited:
			default:
				if resp, err := http.Get(p.URL + "/-/ready"); err == nil {
					resp.Body.Close()
					ready = resp.StatusCode == http.StatusOK
				}
				if !ready {
					continue
				}
			}
			break
		}
		if ready {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("prometheus log:\n%s", p.log)
				}
			})
			return p
		}
		stop()
		if attempt == 3 || !strings.Contains(p.log.String(), "address already in use") {
			t.Fatalf("prometheus did not become ready:\n%s", p.log)
		}
	}
}

// alertStates asks Prometheus's HTTP API for the state of every alerting
// rule: inactive, pending or firing.
func (p *prometheusServer) alertStates() (map[string]string, error) {
	resp, err := http.Get(p.URL + "/api/v1/rules?type=alert")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Groups []struct {
				Rules []struct {
					Name  string `json:"name"`
					State string `json:"state"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		return nil, fmt.Errorf("rules API: status %q, %v", body.Status, err)
	}
	out := map[string]string{}
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			out[r.Name] = r.State
		}
	}
	return out, nil
}

// firingAlerts lists the alerts Prometheus's alerts API reports firing.
func (p *prometheusServer) firingAlerts() ([]string, error) {
	resp, err := http.Get(p.URL + "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	var out []string
	for _, a := range body.Data.Alerts {
		if a.State == "firing" && !slices.Contains(out, a.Labels["alertname"]) {
			out = append(out, a.Labels["alertname"])
		}
	}
	slices.Sort(out)
	return out, nil
}

// waitAlerts waits until every alert of names is in state, as the rules
// API reports, and returns how long it took.
func (p *prometheusServer) waitAlerts(what, state string, limit time.Duration, names ...string) time.Duration {
	p.t.Helper()
	start := time.Now()
	var last map[string]string
	for time.Since(start) < limit {
		states, err := p.alertStates()
		if err == nil {
			last = states
			done := true
			for _, n := range names {
				if _, ok := states[n]; !ok {
					p.t.Fatalf("%s: Prometheus has no alerting rule %s (rules: %v)", what, n, states)
				}
				done = done && states[n] == state
			}
			if done {
				return time.Since(start)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.t.Fatalf("%s: after %v, want %v %s; rule states: %v", what, limit, names, state, last)
	return 0
}

// TestAlertsOnPrometheus runs the alert rules on a real Prometheus
// scraping a gateway (on the sandbox, state in a redis-server) under
// steady device traffic: with the sandbox answering 500 to every v2 call,
// PassgwV1ServerErrors and PassgwBreakerOpen fire, and resolve once it
// answers again; with redis-server stopped, PassgwStoreErrors and
// PassgwV1ServerErrors fire, and resolve once it is back. The rules are
// those of the rule file, shortened (monitoring.Shortened) so that the
// test runs in seconds: every range is e2eWindow, every for e2eHold.
func TestAlertsOnPrometheus(t *testing.T) {
	testenv.LookPath(t, "prometheus")
	redis := redistest.Start(t)
	st, err := redisstore.Open(redis.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := newObsWorldStore(t, func(c *Config) {
		rs := monitoredRequestors(c.PublicURL)[:1]
		rs[0].ProfileCacheTTL = -1 // every authentication check asks v2
		c.Requestors = rs
		c.UpstreamBreaker.Cooldown = 500 * time.Millisecond
	}, st)

	rules, err := monitoring.ParseRules(monitoring.Rules())
	if err != nil {
		t.Fatal(err)
	}
	short, err := rules.Shortened(e2eWindow, e2eHold).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(w.URL)
	prom := startPrometheus(t, u.Host, short)

	// Devices keep calling: each authentication check reads the store and
	// calls v2 (profiles), whose failures reach the device as a 500.
	ctx, stop := context.WithCancel(context.Background())
	var traffic sync.WaitGroup
	t.Cleanup(func() { stop(); traffic.Wait() })
	for worker := range 2 {
		traffic.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ctx.Err() == nil; i++ {
				target := fmt.Sprintf("%s/api/v1/checkauthn?requestor=REF30&deviceId=e2e-%d-%d", w.URL, worker, i%50)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
				time.Sleep(25 * time.Millisecond)
			}
		})
	}

	all := []string{"PassgwV1ServerErrors", "PassgwBreakerOpen", "PassgwStoreErrors"}
	prom.waitAlerts("healthy start", "inactive", 20*time.Second, all...)
	// Prometheus has series to evaluate: a healthy ratio, not an absent one.
	testenv.Eventually(t, "Prometheus scraped the gateway", 20*time.Second, func() error {
		resp, err := http.Get(prom.URL + "/api/v1/query?query=" + url.QueryEscape(`sum(rate(passgw_v1_requests_total{job="passgw"}[4s])) > 0`))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				Result []any `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Data.Result) == 0 {
			return fmt.Errorf("no v1 traffic in Prometheus yet (%v)", err)
		}
		return nil
	})

	// Fault 1: Adobe answers 500 to every v2 call.
	if _, err := w.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultStatus, Status: http.StatusInternalServerError, Path: "/api/v2/**"}); err != nil {
		t.Fatal(err)
	}
	took := prom.waitAlerts("upstream 500s", "firing", 30*time.Second, "PassgwV1ServerErrors", "PassgwBreakerOpen")
	if states, _ := prom.alertStates(); states["PassgwStoreErrors"] != "inactive" {
		t.Errorf("upstream 500s: PassgwStoreErrors %s, want inactive (the store is fine)", states["PassgwStoreErrors"])
	}
	firing, err := prom.firingAlerts()
	if err != nil || !slices.Contains(firing, "PassgwV1ServerErrors") || !slices.Contains(firing, "PassgwBreakerOpen") {
		t.Errorf("alerts API during upstream 500s: firing %v (%v), want PassgwV1ServerErrors and PassgwBreakerOpen", firing, err)
	}
	t.Logf("upstream 500s: firing after %v", took.Round(100*time.Millisecond))
	w.sandbox.ClearFaults()
	took = prom.waitAlerts("upstream recovered", "inactive", 30*time.Second, "PassgwV1ServerErrors", "PassgwBreakerOpen")
	t.Logf("upstream recovered: resolved after %v", took.Round(100*time.Millisecond))

	// Fault 2: the store stops.
	redis.Stop()
	took = prom.waitAlerts("redis stopped", "firing", 30*time.Second, "PassgwStoreErrors", "PassgwV1ServerErrors")
	t.Logf("redis stopped: firing after %v", took.Round(100*time.Millisecond))
	redis.Restart()
	took = prom.waitAlerts("redis back", "inactive", 30*time.Second, "PassgwStoreErrors", "PassgwV1ServerErrors")
	t.Logf("redis back: resolved after %v", took.Round(100*time.Millisecond))
}
