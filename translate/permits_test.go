package translate

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

func withPermitReuse(ttl time.Duration) envOption {
	return envOption{gateway: func(c *GatewayConfig) { c.Requestors[0].PermitReuseTTL = ttl }}
}

// preauthorized runs a device preauthorize and returns the authorized
// resources and the v2 preauthorize calls it cost.
func (e *env) preauthorized(d v1model.Device, resources ...string) (ok []string, calls int) {
	e.t.Helper()
	before := len(e.upstream("/decisions/preauthorize/"))
	p, err := e.gw.Preauthorize(e.ctx, &v1model.PreauthorizeRequest{Device: d, Resources: resources})
	if err != nil {
		e.t.Fatalf("Preauthorize: %v", err)
	}
	for _, rd := range p.Resources {
		if rd.Authorized {
			ok = append(ok, rd.ID)
		}
	}
	return ok, len(e.upstream("/decisions/preauthorize/")) - before
}

func TestPreauthorizeReusesPermits(t *testing.T) {
	e := newEnv(t)
	bob := testDevice("bob-tv")
	e.signIn(bob, "AcmeCable", "bob")

	steps := []struct {
		name      string
		before    func()
		resources []string
		wantOK    []string
		wantCalls int
	}{
		{"first ask", nil, []string{"news", "sports", "movies"}, []string{"news", "sports"}, 1},
		{"permits reused, the denial asked again", func() { e.advance(10 * time.Second) },
			[]string{"news", "sports", "movies"}, []string{"news", "sports"}, 1},
		{"only permits: no v2 call", nil, []string{"sports", "news"}, []string{"sports", "news"}, 0},
		{"reuse ends after PermitReuseTTL", func() { e.advance(DefaultPermitReuseTTL) },
			[]string{"news"}, []string{"news"}, 1},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		ok, calls := e.preauthorized(bob, s.resources...)
		if !slices.Equal(ok, s.wantOK) || calls != s.wantCalls {
			t.Fatalf("%s: authorized %v with %d v2 calls, want %v with %d", s.name, ok, calls, s.wantOK, s.wantCalls)
		}
	}

	// Authorize always asks v2, permit or not (Adobe: authorize before
	// every playback), and its media token is never a reused one.
	before := len(e.upstream("/decisions/authorize/"))
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: bob, Resource: "news"}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.upstream("/decisions/authorize/")) - before; n != 1 {
		t.Fatalf("authorize after a preauthorize permit: %d v2 authorize calls, want 1", n)
	}

	// Logout drops the permits: signed in again, the device is asked for
	// anew.
	if err := e.gw.Logout(e.ctx, &v1model.LogoutRequest{Device: bob}); err != nil {
		t.Fatal(err)
	}
	e.signIn(bob, "AcmeCable", "bob")
	if ok, calls := e.preauthorized(bob, "news"); calls != 1 || !slices.Equal(ok, []string{"news"}) {
		t.Fatalf("after logout and a new sign-in: authorized %v with %d v2 calls, want [news] with 1", ok, calls)
	}
}

func TestPreauthorizePermitsNeverReusedPastNotAfter(t *testing.T) {
	// Reuse is configured for longer than the permit lives. (The sandbox's
	// preauthorize permits carry no notAfter, as Adobe's samples; a permit
	// that does is kept until it.)
	e := newEnv(t, withPermitReuse(3*time.Hour))
	dv := e.mustDevice(testDevice("alice-tv"))
	now := e.clock.Now()
	e.gw.keepPermits(e.ctx, dv, "AcmeCable", nil, []v2client.Decision{
		{Resource: "news", Authorized: true, NotAfter: v2client.MillisOf(now.Add(time.Minute))},
		{Resource: "sports", Authorized: true},
		{Resource: "gone", Authorized: true, NotAfter: v2client.MillisOf(now.Add(-time.Second))},
		{Resource: "movies"},
	})
	for _, c := range []struct {
		at   time.Duration
		mvpd string
		want []string
	}{
		{0, "AcmeCable", []string{"news", "sports"}},
		{0, "BetaFiber", nil},
		{59 * time.Second, "AcmeCable", []string{"news", "sports"}},
		{2 * time.Minute, "AcmeCable", []string{"sports"}},
		{3 * time.Hour, "AcmeCable", nil},
	} {
		e.advance(now.Add(c.at).Sub(e.clock.Now()))
		got := slices.Sorted(maps.Keys(e.gw.reusablePermits(e.ctx, dv, c.mvpd)))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s later, %s: reusable %v, want %v", c.at, c.mvpd, got, c.want)
		}
	}
}

func TestPreauthorizePermitReuseOff(t *testing.T) {
	e := newEnv(t, withPermitReuse(-1))
	alice := testDevice("alice-tv")
	e.signIn(alice, "AcmeCable", "alice")
	for i := range 2 {
		if _, calls := e.preauthorized(alice, "news"); calls != 1 {
			t.Fatalf("call %d with reuse off: %d v2 calls, want 1", i, calls)
		}
	}
}

// TestPreauthorizePartialAnswer: when one chunk fails and the other
// answers, the decisions are answered and the failed chunk's resources are
// not authorized, with the failure as their item error.
func TestPreauthorizePartialAnswer(t *testing.T) {
	resources := []string{"news", "sports", "r1", "r2", "r3", "movies", "kids"}
	tests := []struct {
		fault      sandbox.Fault
		status     int
		code, msg  string
		allFailing bool
	}{
		{fault: sandbox.Fault{Kind: sandbox.FaultThrottle}, status: 429, msg: v1model.MsgTooManyRequests},
		{fault: sandbox.Fault{Kind: sandbox.FaultStatus, Status: 503}, status: 500, code: v1model.CodeInternalError, msg: v1model.MsgInternalServerError},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault.Kind), func(t *testing.T) {
			e := newEnv(t, withPermitReuse(-1))
			alice := testDevice("alice-tv")
			e.signIn(alice, "AcmeCable", "alice")
			f := tt.fault
			f.Path, f.Count = "/api/v2/*/decisions/preauthorize/*", 1
			if _, err := e.sandbox.AddFault(f); err != nil {
				t.Fatal(err)
			}
			p, err := e.gw.Preauthorize(e.ctx, &v1model.PreauthorizeRequest{Device: alice, Resources: resources})
			if err != nil {
				t.Fatalf("one chunk of two failing: %v, want a partial answer", err)
			}
			var ids []string
			failed := 0
			for _, rd := range p.Resources {
				ids = append(ids, rd.ID)
				switch {
				case rd.Error != nil:
					failed++
					if rd.Authorized || rd.Error.Status != tt.status || rd.Error.Code != tt.code || rd.Error.Message != tt.msg {
						t.Errorf("%s: authorized %v, item error %d %q %q; want not authorized, %d %q %q",
							rd.ID, rd.Authorized, rd.Error.Status, rd.Error.Code, rd.Error.Message, tt.status, tt.code, tt.msg)
					}
				case !rd.Authorized:
					t.Errorf("%s: not authorized without an error (alice is entitled to everything)", rd.ID)
				}
			}
			if !slices.Equal(ids, resources) {
				t.Errorf("resources %v, want %v in request order", ids, resources)
			}
			// Chunks are 5 and 2; either may be the failed one.
			if failed != 5 && failed != 2 {
				t.Errorf("%d resources with an item error, want those of one chunk (5 or 2)", failed)
			}
		})
	}

	t.Run("every chunk failing", func(t *testing.T) {
		e := newEnv(t)
		alice := testDevice("alice-tv")
		e.signIn(alice, "AcmeCable", "alice")
		if _, err := e.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Path: "/api/v2/*/decisions/preauthorize/*"}); err != nil {
			t.Fatal(err)
		}
		_, err := e.gw.Preauthorize(e.ctx, &v1model.PreauthorizeRequest{Device: alice, Resources: resources})
		v1err(t, err, 429, "")
	})
}
