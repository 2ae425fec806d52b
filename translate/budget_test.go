package translate

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

// withBudget plans the gateway's v2 calls inside each device's allowance on
// the env's clock; a wait for a turn moves the clock.
func withBudget(b *v2client.Budget) envOption {
	return envOption{client: func(c *v2client.Client) {
		c.Budget = b
		if ts, ok := c.Tokens.(*v2client.TokenSource); ok {
			ts.Client.Budget = b
		}
	}}
}

func newBudgetEnv(t *testing.T) *env {
	b := &v2client.Budget{}
	e := newEnv(t, withBudget(b))
	b.Now = e.clock.Now
	b.Sleep = func(_ context.Context, d time.Duration) error { e.advance(d); return nil }
	return e
}

// sentFor counts the sandbox requests forwarded for ip ("" for the
// gateway's own calls, which name no device).
func (e *env) sentFor(ip string) int {
	n := 0
	for _, r := range e.sandbox.Requests() {
		if r.Header.Get("X-Forwarded-For") == ip {
			n++
		}
	}
	return n
}

// checkThrottled asserts err is the v1 429.
func checkThrottled(t *testing.T, err error, what string) {
	t.Helper()
	var e *v1model.Error
	if !errors.As(err, &e) || e.Status != 429 {
		t.Fatalf("%s: %v, want the v1 429", what, err)
	}
}

// checkNotThrottled asserts the call reached an answer other than 429.
func checkNotThrottled(t *testing.T, err error, what string) {
	t.Helper()
	var e *v1model.Error
	if errors.As(err, &e) && e.Status == 429 || err != nil && !errors.As(err, &e) {
		t.Fatalf("%s: %v, want an answer that is not throttled", what, err)
	}
}

func TestUpstream429HoldsTheDeviceOneSecond(t *testing.T) {
	e := newBudgetEnv(t)
	a, b := testDevice("device-a"), testDevice("device-b")
	b.IP = netip.MustParseAddr("203.0.113.8")
	ipA, ipB := a.IP.String(), b.IP.String()
	checkauthn := func(d v1model.Device) error {
		_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
		return err
	}
	// Credentials first, so that only device calls follow.
	checkNotThrottled(t, checkauthn(b), "first call of device B")

	if _, err := e.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Path: "/api/v2/*/profiles", Count: 1}); err != nil {
		t.Fatal(err)
	}
	checkThrottled(t, checkauthn(a), "device A throttled upstream")
	sentA := e.sentFor(ipA)
	if sentA != 1 {
		t.Fatalf("%d calls sent for device A, want 1 (the throttled one)", sentA)
	}
	start := e.clock.Now()

	for _, at := range []time.Duration{0, 10 * time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
		e.advance(start.Add(at).Sub(e.clock.Now()))
		checkThrottled(t, checkauthn(a), "device A "+at.String()+" after the 429")
		if n := e.sentFor(ipA); n != sentA {
			t.Fatalf("%s after the 429: %d calls sent for device A, want %d (held)", at, n, sentA)
		}
		// Other devices are unaffected.
		sentB := e.sentFor(ipB)
		checkNotThrottled(t, checkauthn(b), "device B "+at.String()+" after device A's 429")
		if n := e.sentFor(ipB); n != sentB+1 {
			t.Fatalf("device B: %d calls sent, want %d", n, sentB+1)
		}
	}

	e.advance(start.Add(time.Second).Sub(e.clock.Now()))
	checkNotThrottled(t, checkauthn(a), "device A one second after the 429")
	if n := e.sentFor(ipA); n != sentA+1 {
		t.Fatalf("one second after the 429: %d calls sent for device A, want %d", n, sentA+1)
	}
	// The burst counts as spent: the next call is planned at the device's
	// next turn (the Sleep hook moves the clock) rather than sent at once.
	before := e.clock.Now()
	checkNotThrottled(t, checkauthn(a), "device A's next call")
	if waited := e.clock.Now().Sub(before); waited < time.Second {
		t.Fatalf("device A's call right after the hold went after %s, want its next turn (>= 1s)", waited)
	}
}

func TestUpstream429OnDCRHoldsTheGatewaysOwnCalls(t *testing.T) {
	e := newBudgetEnv(t)
	a, b := testDevice("device-a"), testDevice("device-b")
	b.IP = netip.MustParseAddr("203.0.113.8")
	checkauthn := func(d v1model.Device) error {
		_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
		return err
	}
	if _, err := e.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Path: "/o/client/token", Count: 1}); err != nil {
		t.Fatal(err)
	}
	checkThrottled(t, checkauthn(a), "device A while the gateway's token call is throttled")
	own := e.sentFor("")
	e.advance(500 * time.Millisecond)
	// Any device needing a DCR call now is held with the gateway's address.
	checkThrottled(t, checkauthn(b), "device B within the gateway's hold")
	if n := e.sentFor(""); n != own {
		t.Fatalf("%d DCR calls sent within the hold, want none", n-own)
	}
	e.advance(500 * time.Millisecond)
	checkNotThrottled(t, checkauthn(b), "device B after the gateway's hold")
}
