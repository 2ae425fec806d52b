package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeLogBuffer runs `passgw serve` on the sandbox, makes calls and
// stops it. Buffered (the default, with an interval no test outlives), no
// "v1 call" line is written while it runs and every one is written by the
// time serve returns; with log_buffer.off each is written before its call
// is answered.
func TestServeLogBuffer(t *testing.T) {
	const calls = 5
	tests := []struct {
		name     string
		config   string
		buffered bool
	}{
		{"buffered", "log_buffer: {interval: 1h}\n", true},
		{"off", "log_buffer: {off: true}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "passgw.yaml")
			if err := os.WriteFile(file, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out, outW := io.Pipe()
			stderr := &syncBuffer{}
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--config", file, "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0"}, outW, stderr)
				outW.Close()
			}()
			base := ""
			lines := bufio.NewScanner(out)
			for lines.Scan() {
				if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
					base = m[1]
					break
				}
			}
			go io.Copy(io.Discard, out)
			if base == "" {
				t.Fatalf("serve did not start: %v\n%s", <-done, stderr)
			}
			// The start-up warnings (sandbox, no dcr_keys) are written at once.
			if !strings.Contains(stderr.String(), "RUNNING ON THE SANDBOX") {
				t.Errorf("the sandbox warning is not written at start:\n%s", stderr)
			}

			client := &http.Client{Timeout: 20 * time.Second}
			for i := range calls {
				resp, err := client.Get(base + "/api/v1/config/REF30.json")
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("config: %d", resp.StatusCode)
				}
				n := countLines(stderr.String(), "msg=\"v1 call\"")
				if tt.buffered && n != 0 {
					t.Fatalf("%d lines written while buffered with a 1h interval:\n%s", n, stderr)
				}
				if !tt.buffered && n != i+1 {
					t.Fatalf("after %d unbuffered calls, %d lines written:\n%s", i+1, n, stderr)
				}
			}

			cancel()
			if err := <-done; err != nil {
				t.Fatalf("serve: %v", err)
			}
			if n := countLines(stderr.String(), `msg="v1 call" component=http route="GET /api/v1/config/{requestor}" status=200`); n != calls {
				t.Fatalf("%d lines for %d calls after a clean stop:\n%s", n, calls, stderr)
			}
		})
	}
}

func TestConfigLogBuffer(t *testing.T) {
	tests := []struct {
		name    string
		in      LogBufferConfig
		want    LogBufferConfig
		wantErr string
	}{
		{"default", LogBufferConfig{}, LogBufferConfig{Interval: 200 * time.Millisecond}, ""},
		{"off", LogBufferConfig{Off: true}, LogBufferConfig{Off: true, Interval: 200 * time.Millisecond}, ""},
		{"interval", LogBufferConfig{Interval: time.Second}, LogBufferConfig{Interval: time.Second}, ""},
		{"negative", LogBufferConfig{Interval: -time.Second}, LogBufferConfig{Interval: -time.Second}, "log_buffer.interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{LogBuffer: tt.in}
			err := c.provision(func(string) string { return "" })
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
			}
			if c.LogBuffer != tt.want {
				t.Errorf("provisioned %+v, want %+v", c.LogBuffer, tt.want)
			}
		})
	}
}
