package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestModuleRoot(t *testing.T) {
	root := ModuleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(b), "module github.com/passgw/passgw\n") {
		t.Fatalf("%s holds no passgw go.mod: %v", root, err)
	}
	if wd, _ := os.Getwd(); filepath.Dir(filepath.Dir(wd)) != root {
		t.Errorf("root %s, want two levels above %s", root, wd)
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c := NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now %v, want %v", c.Now(), start)
	}
	c.Advance(90 * time.Second)
	if want := start.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Errorf("after Advance: %v, want %v", c.Now(), want)
	}
}

func TestLogBufferConcurrentWriters(t *testing.T) {
	var b LogBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				fmt.Fprintf(&b, "w%d-%d\n", i, j)
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
}

func TestLookPath(t *testing.T) {
	got := LookPath(t, "no-such-tool-passgw", "go")
	if filepath.Base(got) != "go" {
		t.Errorf("LookPath = %q, want the go tool", got)
	}
}

func TestMetricSamples(t *testing.T) {
	text := "# HELP x_total X.\n# TYPE x_total counter\n" +
		`x_total{endpoint="GET /a",status="200"} 3` + "\n" +
		"up 1\n\n" +
		`lat_seconds_sum{op="q \"x\""} 0.25` + "\n"
	got := MetricSamples(t, strings.NewReader(text))
	want := map[string]float64{
		MetricSeries("x_total", map[string]string{"status": "200", "endpoint": "GET /a"}): 3,
		MetricSeries("up", nil): 1,
		MetricSeries("lat_seconds_sum", map[string]string{"op": `q "x"`}): 0.25,
	}
	if len(got) != len(want) {
		t.Fatalf("samples %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (have %v)", k, got[k], v, got)
		}
	}
}

func TestDebugLogger(t *testing.T) {
	logger, logs := DebugLogger(t)
	logger.Debug("hello", "k", "v")
	if got := logs.String(); !strings.Contains(got, "level=DEBUG msg=hello k=v") {
		t.Errorf("logs %q", got)
	}
}

// fatalTB records a Fatalf and ends the goroutine it runs on, as testing's
// own FailNow does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestEventually: fn is retried until it succeeds; past the limit the
// test fails with what and the last error.
func TestEventually(t *testing.T) {
	tries := 0
	Eventually(t, "settling", 5*time.Second, func() error {
		if tries++; tries < 3 {
			return fmt.Errorf("try %d", tries)
		}
		return nil
	})
	if tries != 3 {
		t.Errorf("fn ran %d times, want 3 (until it succeeded)", tries)
	}

	f := &fatalTB{TB: t}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		Eventually(f, "never settling", 120*time.Millisecond, func() error { return errors.New("still down") })
	}()
	<-done
	if want := "never settling: still failing after 120ms: still down"; f.msg != want {
		t.Errorf("failure %q, want %q", f.msg, want)
	}
	if took := time.Since(start); took < 120*time.Millisecond {
		t.Errorf("gave up after %v, before the limit", took)
	}
}
