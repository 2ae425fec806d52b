package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
)

// stallTimeout is the store timeout of TestStoreStallBoundedPerCall, and
// stallMargin what a call may take beyond it: the gateway's own work and
// a loaded test machine's scheduling.
const (
	stallTimeout = time.Second
	stallMargin  = 500 * time.Millisecond
)

// stallRedis freezes the redis-server process (SIGSTOP): its connections
// stay open and every command waits, as with a Redis host that hangs. The
// returned function thaws it (SIGCONT), once.
func stallRedis(t *testing.T, redis *redistest.Server) func() {
	t.Helper()
	p := redis.Cmd().Process
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	thaw := func() {
		once.Do(func() {
			if err := p.Signal(syscall.SIGCONT); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(thaw)
	return thaw
}

// TestStoreStallBoundedPerCall freezes the gateway's redis-server under a
// `passgw serve` process with a 1 s store timeout: every v1 call of a
// signed-in device (and of newcomers, many at once) is answered within the
// store timeout plus a margin, whatever the number of store operations the
// call needs, with the v1 500 action retry; once Redis is thawed the device
// carries on.
func TestStoreStallBoundedPerCall(t *testing.T) {
	redis := redistest.Start(t)
	sandbox := startSandboxProc(t)
	storeURL := fmt.Sprintf("%s?read_timeout=%s&write_timeout=%s&dial_timeout=%s", redis.URL(), stallTimeout, stallTimeout, stallTimeout)
	gw := startServe(t, "gateway", writeServeConfig(t, sandbox.URL, storeURL), "127.0.0.1:0")
	base := gw.URL

	sports := url.Values{"resource": {"sports"}}
	d := newDevice(t, "stalled-device")
	code := d.regcode(base)
	browserSignIn(t, base, code, "alice")
	d.call("checkauthn before the stall", base, http.MethodGet, "/api/v1/checkauthn/"+code, nil, http.StatusOK)
	d.call("authorize before the stall", base, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)
	// A second device signs out during the stall.
	leaver := newDevice(t, "leaving-device")
	browserSignIn(t, base, leaver.regcode(base), "bob")

	type call struct {
		step         string
		dev          *device
		method, path string
		params       url.Values
		// ok is the status of a normal answer that may come instead of
		// the v1 500: the configuration needs no shared state, and a
		// logout is answered once v2 forgot the sign-in.
		ok int
	}
	calls := []call{
		{"checkauthn", d, http.MethodGet, "/api/v1/checkauthn", nil, 0},
		{"checkauthn of the code", d, http.MethodGet, "/api/v1/checkauthn/" + code, nil, 0},
		{"tokens/authn", d, http.MethodGet, "/api/v1/tokens/authn", nil, 0},
		{"authorize", d, http.MethodGet, "/api/v1/authorize", sports, 0},
		{"tokens/authz", d, http.MethodGet, "/api/v1/tokens/authz", sports, 0},
		{"mediatoken", d, http.MethodGet, "/api/v1/mediatoken", sports, 0},
		{"preauthorize", d, http.MethodGet, "/api/v1/preauthorize", url.Values{"resource": {"sports,news"}}, 0},
		{"usermetadata", d, http.MethodGet, "/api/v1/tokens/usermetadata", nil, 0},
		{"config", d, http.MethodGet, "/api/v1/config/REF30", nil, http.StatusOK},
		{"logout", leaver, http.MethodDelete, "/api/v1/logout", nil, http.StatusNoContent},
	}
	for i := range 20 {
		calls = append(calls, call{fmt.Sprint("regcode of newcomer ", i), newDevice(t, fmt.Sprint("newcomer-", i)), http.MethodPost, "/reggie/v1/REF30/regcode", nil, 0})
	}

	thaw := stallRedis(t, redis)
	bound := stallTimeout + stallMargin
	// Every call at once, as devices make them: each must be answered
	// within bound, with the v1 500 action retry or its normal answer.
	took := make([]time.Duration, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			start := time.Now()
			a, err := c.dev.try(base, c.method, c.path, c.params)
			took[i] = time.Since(start)
			if err != nil {
				t.Errorf("%s: %v", c.step, err)
				return
			}
			if took[i] > bound {
				t.Errorf("%s answered after %v, more than the store timeout %v and margin %v", c.step, took[i].Round(time.Millisecond), stallTimeout, stallMargin)
			}
			if c.ok != 0 && a.Status == c.ok {
				return
			}
			var e v1ErrorBody
			if json.Unmarshal(a.Body, &e) != nil || a.Status != http.StatusInternalServerError || e.Code != "internal_error" || e.Action != "retry" {
				t.Errorf("%s: %d %s, want a v1 500 internal_error with action retry", c.step, a.Status, a.Body)
			}
		})
	}
	wg.Wait()
	t.Logf("store timeout %v: %d calls at once, the longest answered in %v", stallTimeout, len(calls), slices.Max(took).Round(time.Millisecond))

	thaw()
	thawed := time.Now()
	testenv.Eventually(t, "checkauthn once Redis is thawed", recoveryWait, func() error {
		a, err := d.try(base, http.MethodGet, "/api/v1/checkauthn", nil)
		if err == nil && a.Status != http.StatusOK {
			err = fmt.Errorf("status %d: %s", a.Status, a.Body)
		}
		return err
	})
	t.Logf("checkauthn answered 200 again %v after the thaw", time.Since(thawed).Round(time.Millisecond))
	d.call("authorize after the stall", base, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)
	d.call("mediatoken after the stall", base, http.MethodGet, "/api/v1/mediatoken", sports, http.StatusOK)
	fullFlow(t, newDevice(t, "after-stall"), base)
}
