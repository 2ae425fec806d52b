package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client/sandbox"
)

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestReadyzDetailsForOperators: with the gateway's Redis unreachable,
// /readyz answers 503 on both listeners, but only the operator listener
// (ops.addr) says which check failed, with the store's address and error;
// the device listener answers "not ready" alone, unless log_level is
// debug.
func TestReadyzDetailsForOperators(t *testing.T) {
	sb, err := sandbox.NewServer(sandbox.Config{DisableThrottling: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	redisAddr := closedAddr(t)
	for _, level := range []string{"info", "debug"} {
		t.Run(level, func(t *testing.T) {
			st, err := redisstore.Open("redis://"+redisAddr+"/0?dial_timeout=500ms", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			cfg := &Config{LogLevel: level, Throttle: ThrottleConfig{Off: true}, UpstreamBudget: BudgetConfig{Off: true},
				DCRKeys: []string{procDCRKey}}
			if err := cfg.provision(func(string) string { return "" }); err != nil {
				t.Fatal(err)
			}
			gw, err := newGateway(cfg, sb.URL, slog.New(slog.DiscardHandler), hooks{Store: st})
			if err != nil {
				t.Fatal(err)
			}
			public := httptest.NewServer(gw)
			defer public.Close()
			ops := httptest.NewServer(gw.opsHandler())
			defer ops.Close()

			get := func(base string) string {
				t.Helper()
				resp, err := http.Get(base + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("%s/readyz: %d %s, want 503", base, resp.StatusCode, b)
				}
				return string(b)
			}
			full := get(ops.URL)
			for _, want := range []string{"not ready\n", "store: ", redisAddr, "v2 token REF30: "} {
				if !strings.Contains(full, want) {
					t.Errorf("operator listener's /readyz lacks %q:\n%s", want, full)
				}
			}
			bare := get(public.URL)
			if level == "debug" {
				if bare != full {
					t.Errorf("device listener's /readyz at debug:\n%s\nwant the operator listener's:\n%s", bare, full)
				}
				return
			}
			if bare != "not ready\n" {
				t.Errorf("device listener's /readyz: %q, want the verdict alone", bare)
			}
		})
	}
}
