package translate

import (
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
)

// codePolls counts the v2 polls of code.
func (e *env) codePolls(code string) int { return len(e.upstream("/profiles/code/" + code)) }

// TestCodePollsCoalesced: however many v1 callers poll a code — the device
// and its login web app, concurrently — v2 is polled at most once per
// interval, and the callers in between get the last poll's answer.
func TestCodePollsCoalesced(t *testing.T) {
	e := newEnv(t)
	d := testDevice("poll-tv")
	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d})
	if err != nil {
		t.Fatal(err)
	}
	code := reg.Code
	browser := v1model.Device{Requestor: testRequestor, UserAgent: "Mozilla/5.0 (login app)"}
	poll := func(n int) (authenticated int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			caller := d
			if i%2 == 1 {
				caller = browser
			}
			wg.Go(func() {
				_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: caller, Code: code})
				if err == nil {
					mu.Lock()
					authenticated++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return authenticated
	}
	if ok := poll(8); ok != 0 || e.codePolls(code) != 1 {
		t.Fatalf("8 pollers before the login: %d authenticated, %d v2 polls; want 0 and 1", ok, e.codePolls(code))
	}
	// The second screen's authenticate starts a login: the next poll asks
	// v2, whatever the last poll answered.
	e.secondScreen(code, "AcmeCable", "alice")
	if ok := poll(4); ok != 4 || e.codePolls(code) != 2 {
		t.Fatalf("after the login: %d of 4 authenticated, %d v2 polls; want 4 and 2", ok, e.codePolls(code))
	}
	e.advance(DefaultCodePollInterval - time.Millisecond)
	if ok := poll(6); ok != 6 || e.codePolls(code) != 2 {
		t.Fatalf("within the interval: %d of 6 authenticated, %d v2 polls; want the last answer (6) and no new poll", ok, e.codePolls(code))
	}
	e.advance(time.Millisecond)
	if ok := poll(2); ok != 2 || e.codePolls(code) != 3 {
		t.Fatalf("once the interval is over: %d of 2 authenticated, %d v2 polls; want 2 and 3", ok, e.codePolls(code))
	}
}

// TestCodeNotPolledOnceGone: once v2 says a code's session is gone
// (invalid_authentication_session: sessions live 30 minutes), the code is
// never polled again; the registering device's own profiles answer.
func TestCodeNotPolledOnceGone(t *testing.T) {
	e := newEnv(t)
	d := testDevice("gone-tv")
	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d, TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(31 * time.Minute)
	for range 4 {
		_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d, Code: reg.Code})
		v1err(t, err, 403, v1model.CodeAuthenticationSessionMissing)
		e.advance(DefaultCodePollInterval)
	}
	if n := e.codePolls(reg.Code); n != 1 {
		t.Fatalf("%d v2 polls of a code v2 said was gone, want 1 (the one that said so)", n)
	}
}

// TestSupersededCodeNotPolled: a device that registered a newer code has
// stopped polling the old one at Adobe; calls about the old code cost no v2
// poll.
func TestSupersededCodeNotPolled(t *testing.T) {
	e := newEnv(t)
	d := testDevice("superseded-tv")
	old, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d}); err != nil {
		t.Fatal(err)
	}
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d, Code: old.Code})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionMissing)
	if n := e.codePolls(old.Code); n != 0 {
		t.Fatalf("%d v2 polls of a superseded code, want 0", n)
	}
}
