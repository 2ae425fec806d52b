package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/bench"
)

// TestBenchEndToEnd runs `passgw bench` briefly, as a user would: the
// sandbox, gateway and proxy processes start, every configuration serves
// the device mix without errors, and the report carries the costs read
// from the processes, the ratios and the chart.
func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four processes")
	}
	bin := passgwBinary(t)
	dir := t.TempDir()
	chart := filepath.Join(dir, "latency.svg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "--duration", "400ms", "--warmup", "100ms", "--reps", "1",
		"--concurrency", "4", "--ops", "checkauthn", "--loads", "0.5", "--store", "memory,redis",
		"--json", "--quiet", "--chart", chart, "--cpuprofile", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("passgw bench: %v\n%s", err, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout.String())
	}

	want := map[string]bool{}
	for _, w := range []string{"mix/closed", "checkauthn/closed", "mix/open"} {
		for _, c := range []string{bench.ConfigGateway, bench.ConfigProxy, bench.ConfigDirect} {
			want[w+"/"+c] = true
		}
	}
	// The profile cache is judged at an upstream latency, gateway against
	// direct v2 calls.
	for _, c := range []string{bench.ConfigGateway, bench.ConfigDirect} {
		want["checkauthn@20ms/closed/"+c] = true
	}
	if _, err := exec.LookPath("redis-server"); err == nil {
		want["mix/closed/"+bench.ConfigGatewayRedis] = true
	} else if len(rep.Notices) == 0 {
		t.Error("the Redis store was skipped without a notice")
	}
	for _, r := range rep.Summary {
		key := r.Workload + "/" + r.Mode + "/" + r.Config
		if !want[key] {
			t.Errorf("unexpected result %s", key)
			continue
		}
		delete(want, key)
		if r.Requests == 0 || r.Errors != 0 || r.Throughput <= 0 {
			t.Errorf("%s: %d requests, %d errors (%s), %.0f/s", key, r.Requests, r.Errors, r.FirstError, r.Throughput)
		}
		if r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50 || r.Latency.Max < r.Latency.P99 {
			t.Errorf("%s: latency %+v", key, r.Latency)
		}
		front := map[string]string{bench.ConfigGateway: "gateway", bench.ConfigGatewayRedis: "gateway", bench.ConfigProxy: "proxy"}[r.Config]
		if front == "" {
			continue
		}
		p, ok := r.Process(front)
		if !ok || p.AllocsPerOp <= 0 || p.PeakRSS <= 0 {
			t.Errorf("%s: %s process figures %+v", key, front, p)
		}
		if r.Workload == bench.WorkloadMix && r.Mode == bench.ModeClosed && p.CPUSeconds <= 0 {
			t.Errorf("%s: no CPU time read for %s", key, front)
		}
	}
	for key := range want {
		t.Errorf("missing result %s", key)
	}
	if r := findRatio(rep.Ratios, "mix", bench.ModeClosed, bench.ConfigProxy); r == nil || r.Throughput == nil || r.FrontCPU == nil {
		t.Errorf("no gateway/proxy ratio for the closed mix: %+v", r)
	}
	if r := findRatio(rep.Ratios, "checkauthn", bench.ModeClosed, bench.ConfigDirect); r == nil || r.Throughput == nil {
		t.Errorf("no gateway/direct ratio for checkauthn: %+v", r)
	}
	if len(rep.Targets) == 0 {
		t.Error("no targets judged")
	}
	for _, tg := range rep.Targets {
		if strings.HasPrefix(tg.Name, "checkauthn rate") && !tg.Measured {
			t.Errorf("the profile cache was not judged: %+v", tg)
		}
	}

	svg, err := os.ReadFile(chart)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName   xml.Name `xml:"svg"`
		Polylines []struct {
			Points string `xml:"points,attr"`
		} `xml:"polyline"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatalf("chart is not well-formed SVG: %v", err)
	}
	if len(doc.Polylines) != 6 { // p50 and p99 of three configurations
		t.Errorf("chart has %d lines, want 6", len(doc.Polylines))
	}
	for _, name := range []string{"gateway.pprof", "proxy.pprof"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("CPU profile %s not written: %v", name, err)
		}
	}
	if strings.Contains(stderr.String(), "bench:") {
		t.Errorf("--quiet still printed progress: %s", stderr.String())
	}
}

func findRatio(rs []bench.Ratio, workload, mode, baseline string) *bench.Ratio {
	for i, r := range rs {
		if r.Workload == workload && r.Mode == mode && r.Baseline == baseline {
			return &rs[i]
		}
	}
	return nil
}
