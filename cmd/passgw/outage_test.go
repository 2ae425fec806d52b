package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client/sandbox"
)

// recoveryWait bounds how long the gateway may take to notice Redis is back
// (its client probes about every second).
const recoveryWait = 15 * time.Second

// wantRetry checks a v1 500 with the enhanced code internal_error and action
// retry: what a device gets while the shared store is down.
func wantRetry(t *testing.T, step string, d *device, base, method, path string, params url.Values) {
	t.Helper()
	var e v1ErrorBody
	d.call(step, base, method, path, params, http.StatusInternalServerError).decode(t, &e)
	if e.Status != 500 || e.Code != "internal_error" || e.Action != "retry" {
		t.Fatalf("%s: %+v, want 500 internal_error with action retry", step, e)
	}
}

// fullFlow runs a device through regcode, sign-in, checkauthn, authorize,
// mediatoken and logout on the gateway at base.
func fullFlow(t *testing.T, d *device, base string) {
	t.Helper()
	sports := url.Values{"resource": {"sports"}}
	code := d.regcode(base)
	browserSignIn(t, base, code, "alice")
	d.call("checkauthn", base, http.MethodGet, "/api/v1/checkauthn/"+code, nil, http.StatusOK)
	d.call("authorize", base, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)
	d.call("mediatoken", base, http.MethodGet, "/api/v1/mediatoken", sports, http.StatusOK)
	d.call("logout", base, http.MethodDelete, "/api/v1/logout", nil, http.StatusNoContent)
}

// outage stops Redis under a gateway serving a device mid-flow, checks the
// calls that need shared state fail cleanly while what needs none is still
// answered, starts Redis again and checks new flows complete.
func outage(t *testing.T, redis *redistest.Server, base string) {
	sports := url.Values{"resource": {"sports"}}
	d := newDevice(t, "outage-device")
	code := d.regcode(base)
	browserSignIn(t, base, code, "alice")
	d.call("checkauthn before the outage", base, http.MethodGet, "/api/v1/checkauthn/"+code, nil, http.StatusOK)

	redis.Stop()
	wantRetry(t, "checkauthn during the outage", d, base, http.MethodGet, "/api/v1/checkauthn/"+code, nil)
	wantRetry(t, "authorize during the outage", d, base, http.MethodGet, "/api/v1/authorize", sports)
	wantRetry(t, "mediatoken during the outage", d, base, http.MethodGet, "/api/v1/mediatoken", sports)
	wantRetry(t, "regcode during the outage", newDevice(t, "newcomer"), base, http.MethodPost, "/reggie/v1/REF30/regcode", nil)
	// Many devices at once: every one gets its answer.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := newDevice(t, fmt.Sprint("crowd-", i)).try(base, http.MethodPost, "/reggie/v1/REF30/regcode", nil)
			if err != nil || a.Status != http.StatusInternalServerError {
				t.Errorf("regcode %d during the outage: %v %d %s", i, err, a.Status, a.Body)
			}
		}()
	}
	wg.Wait()
	// The configuration needs no shared state: still answered.
	d.call("config during the outage", base, http.MethodGet, "/api/v1/config/REF30", nil, http.StatusOK)

	redis.Restart()
	// The gateway, never restarted, reconnects by itself. The restarted
	// Redis is empty (no persistence in tests), but the device's sign-in
	// lives in v2: it carries on where it was.
	testenv.Eventually(t, "checkauthn once Redis is back", recoveryWait, func() error {
		a, err := d.try(base, http.MethodGet, "/api/v1/checkauthn", nil)
		if err == nil && a.Status != http.StatusOK {
			err = fmt.Errorf("status %d: %s", a.Status, a.Body)
		}
		return err
	})
	d.call("authorize after the outage", base, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)
	d.call("mediatoken after the outage", base, http.MethodGet, "/api/v1/mediatoken", sports, http.StatusOK)
	d.call("logout after the outage", base, http.MethodDelete, "/api/v1/logout", nil, http.StatusNoContent)
	fullFlow(t, newDevice(t, "after-outage"), base)
}

// TestRedisOutage: a `passgw serve` process survives Redis going away and
// coming back.
func TestRedisOutage(t *testing.T) {
	redis := redistest.Start(t)
	sandbox := startSandboxProc(t)
	gw := startServe(t, "gateway", writeServeConfig(t, sandbox.URL, redis.URL()), "127.0.0.1:0")
	outage(t, redis, gw.URL)
	select {
	case <-gw.done:
		t.Fatalf("the gateway exited: %v", gw.err)
	default:
	}
}

// TestRedisOutageNoLeak is the outage in-process, counting goroutines:
// once the gateway, its store and the sandbox are closed, none of the
// goroutines the outage started is left behind.
func TestRedisOutageNoLeak(t *testing.T) {
	before := goleak.IgnoreCurrent()
	redis := redistest.Start(t)
	sb, err := sandbox.NewServer(sandbox.Config{DisableThrottling: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{
		Store:          redis.URL(),
		Throttle:       ThrottleConfig{Off: true},
		UpstreamBudget: BudgetConfig{Off: true},
		DCRKeys:        []string{procDCRKey},
		Requestors: []RequestorConfig{
			{
				Requestor: translate.Requestor{
					ID:             "REF30",
					DomainName:     "example.com",
					RedirectURL:    procRedirect,
					EnhancedErrors: true,
				},
				SoftwareStatement: sandboxStatement,
			},
		},
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	st, err := redisstore.Open(cfg.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newGatewayHandler(cfg, sb.URL, slog.New(slog.NewTextHandler(io.Discard, nil)), hooks{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)

	outage(t, redis, srv.URL)

	srv.Close()
	sb.Close()
	st.Close()
	redis.Stop()
	http.DefaultClient.CloseIdleConnections()
	testenv.Eventually(t, "no goroutine left behind by the test", 10*time.Second, func() error {
		return goleak.Find(before)
	})
}
