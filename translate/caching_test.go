package translate

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// profileReads counts the v2 calls that list a device's profiles.
func (e *env) profileReads() int {
	n := 0
	for _, r := range e.upstream("/profiles") {
		if strings.HasSuffix(r.Path, "/profiles") {
			n++
		}
	}
	return n
}

// TestProfileCacheNeverPastNotAfter: however long the configured cache, a
// cached profile is not reused once its notAfter (24 h in the sandbox) has
// passed; v2 is asked again.
func TestProfileCacheNeverPastNotAfter(t *testing.T) {
	e := newEnv(t, envOption{gateway: func(c *GatewayConfig) { c.Requestors[0].ProfileCacheTTL = 48 * time.Hour }})
	d := testDevice("long-cache")
	e.signIn(d, "AcmeCable", "alice")
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
		t.Fatal(err)
	}
	e.advance(24*time.Hour - time.Second)
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
		t.Fatal(err)
	}
	if n := e.profileReads(); n != 1 {
		t.Fatalf("two checkauthn within the profile's life read profiles %d times, want 1 (cached)", n)
	}
	e.advance(time.Second)
	_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionExpired)
	if n := e.profileReads(); n != 2 {
		t.Fatalf("checkauthn at the profile's notAfter: %d profile reads in all, want 2 (cache ended with the profile)", n)
	}
}

// TestProfileCacheDroppedOnLogout: right after a logout the device is signed
// out, although its profiles were cached moments before.
func TestProfileCacheDroppedOnLogout(t *testing.T) {
	e := newEnv(t)
	d := testDevice("logout-cache")
	e.signIn(d, "AcmeCable", "alice")
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
		t.Fatal(err)
	}
	if err := e.gw.Logout(e.ctx, &v1model.LogoutRequest{Device: d}); err != nil {
		t.Fatal(err)
	}
	_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionMissing)
}

// TestProfileReadsShared: concurrent calls for one device make one v2
// profiles read.
func TestProfileReadsShared(t *testing.T) {
	e := newEnv(t)
	d := testDevice("burst")
	e.signIn(d, "AcmeCable", "alice")
	const n = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if reads := e.profileReads(); reads != 1 {
		t.Errorf("%d concurrent checkauthn made %d v2 profile reads, want 1", n, reads)
	}
}

// failingWrites is a store whose writes under one key prefix fail, as when
// the shared store is unreachable.
type failingWrites struct {
	store.Store
	prefix string
}

var errStoreDown = errors.New("store down")

func (f failingWrites) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if strings.HasPrefix(key, f.prefix) {
		return errStoreDown
	}
	return f.Store.Set(ctx, key, v, ttl)
}

// TestConfigWithoutCache: the configuration is still answered when it cannot
// be cached; it is then read from v2 each time.
func TestConfigWithoutCache(t *testing.T) {
	e := newEnv(t, envOption{gateway: func(c *GatewayConfig) {
		c.Store = failingWrites{Store: store.NewMemory(c.Now), prefix: "config:"}
	}})
	for i := range 2 {
		c, err := e.gw.Config(e.ctx, &v1model.ConfigRequest{Device: v1model.Device{Requestor: testRequestor}})
		if err != nil {
			t.Fatalf("config %d with the cache failing: %v", i, err)
		}
		if len(c.Requestor.MVPDs) == 0 {
			t.Fatalf("config %d: no MVPDs", i)
		}
	}
	if calls := len(e.upstream("/configuration")); calls != 2 {
		t.Errorf("two uncacheable config calls made %d v2 calls, want 2", calls)
	}
	if !strings.Contains(e.logs.String(), "caching the v2 configuration") {
		t.Error("the cache failure was not logged")
	}
}

// TestDecodedProfilesFollowStore: the decoding kept for a device's cached
// profiles is reused only while the store holds the same value; a changed
// value (another gateway instance, a new login) is decoded again.
func TestDecodedProfilesFollowStore(t *testing.T) {
	e := newEnv(t)
	dv, err := e.gw.deviceOf(e.ctx, e.gw.requestors[testRequestor], &v1model.Device{Requestor: testRequestor, DeviceID: "memo", UserAgent: "Roku/DVP-9.10"})
	if err != nil {
		t.Fatal(err)
	}
	key := dv.key("profiles")
	write := func(mvpd string) {
		t.Helper()
		set := profileSet{Profiles: map[string]v2client.Profile{mvpd: {Issuer: mvpd, Type: v2client.ProfileRegular,
			NotAfter: v2client.MillisOf(e.clock.Now().Add(time.Hour))}}}
		if err := setState(e.ctx, e.gw, dv, key, set, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	read := func() *profileSet {
		t.Helper()
		set, err := e.gw.cachedProfiles(e.ctx, dv, key)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	write("AcmeCable")
	first := read()
	if _, ok := first.Profiles["AcmeCable"]; !ok {
		t.Fatalf("read %+v, want the AcmeCable profile", first.Profiles)
	}
	if again := read(); again != first {
		t.Error("an unchanged stored value was decoded again")
	}
	write("BetaFiber")
	changed := read()
	if _, ok := changed.Profiles["BetaFiber"]; !ok || len(changed.Profiles) != 1 {
		t.Fatalf("after the stored value changed, read %+v, want only the BetaFiber profile", changed.Profiles)
	}
	if err := e.store.Delete(e.ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gw.cachedProfiles(e.ctx, dv, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the stored value was deleted, err = %v, want ErrNotFound", err)
	}
}

// TestProfileReadOncePerSignIn: the device polls its code until the login
// shows, then acts with it; the profile v2 answered for the code serves the
// device's next calls, without a GET profiles.
func TestProfileReadOncePerSignIn(t *testing.T) {
	e := newEnv(t)
	d := testDevice("read-once")
	code := e.signIn(d, "AcmeCable", "alice")
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d, Code: code}); err != nil {
		t.Fatalf("checkauthn/{code} after the login: %v", err)
	}
	if _, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d}); err != nil {
		t.Fatalf("tokens/authn: %v", err)
	}
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if n := e.profileReads(); n != 0 {
		t.Fatalf("%d GET profiles after a successful profiles/code, want 0", n)
	}
}

// TestTempPassStateCached: the TempPass state of a device — a trial used up
// here — is kept like any profile answer: repeated calls within the cache's
// life cost no profile reads.
func TestTempPassStateCached(t *testing.T) {
	e := newEnv(t)
	d := testDevice("temppass-cache")
	if err := e.gw.FreePreview(e.ctx, &v1model.FreePreviewRequest{Device: d, DomainName: testDomain}); err != nil {
		t.Fatalf("FreePreview: %v", err)
	}
	e.advance(11 * time.Minute) // the 10-minute trial is over
	reads := func() int { return len(e.upstream("/profiles")) }
	_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	var v1e *v1model.Error
	if !errors.As(err, &v1e) {
		t.Fatalf("checkauthn after the trial: %v", err)
	}
	first := reads()
	for i := range 3 {
		e.advance(2 * time.Second)
		_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
		if !errors.As(err, &v1e) {
			t.Fatalf("checkauthn %d after the trial: %v", i, err)
		}
	}
	if n := reads() - first; n != 0 {
		t.Fatalf("%d profile reads for 3 calls within the cache's life after the trial ended, want 0 (the TempPass state cached)", n)
	}
}
