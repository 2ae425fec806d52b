package translate

import (
	"fmt"
	"github.com/passgw/passgw/v2client/sandbox"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
)

func TestAuthorizeDenials(t *testing.T) {
	e := newEnv(t)
	bob := testDevice("bob-tv")
	e.signIn(bob, "AcmeCable", "bob")
	carol := testDevice("carol-tv")
	e.signIn(carol, "BetaFiber", "carol")
	const tvma = `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>movies</title><item><title>Late show</title><media:rating scheme="urn:v-chip">TV-MA</media:rating></item></channel></rss>`
	const tv14 = `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>movies</title><item><title>Family show</title><media:rating scheme="urn:v-chip">TV-14</media:rating></item></channel></rss>`

	tests := []struct {
		name     string
		d        v1model.Device
		resource string
		status   int
		code     string
		details  string
	}{
		{"bob entitled", bob, "news", 200, "", ""},
		{"bob not entitled", bob, "movies", 403, v1model.CodeAuthorizationDeniedByMVPD, "Your subscription package does not include this channel"},
		{"carol within parental limit", carol, tv14, 200, "", ""},
		{"carol above parental limit", carol, tvma, 403, v1model.CodeAuthorizationDeniedByParentalControls, "The content is rated TV-MA, above the parental limit TV-14"},
		{"not signed in", testDevice("nobody"), "news", 403, v1model.CodeAuthenticationSessionMissing, ""},
		{"no resource", bob, "", 400, v1model.CodeMissingResource, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			az, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: tt.d, Resource: tt.resource})
			if tt.status == 200 {
				if err != nil || az.Resource != tt.resource {
					t.Fatalf("Authorize = %+v, %v", az, err)
				}
				return
			}
			ve := v1err(t, err, tt.status, tt.code)
			if ve.Details != tt.details {
				t.Errorf("details = %q, want %q", ve.Details, tt.details)
			}
		})
	}
	// The MRSS went to v2 byte for byte.
	var sent bool
	for _, r := range e.upstream("/decisions/authorize/BetaFiber") {
		if slices.Contains([]string{fmt.Sprintf(`{"resources":[%q]}`, tvma)}, string(r.Body)) || containsJSONString(r.Body, tvma) {
			sent = true
		}
	}
	if !sent {
		t.Error("the MRSS resource did not reach v2 unchanged")
	}
}

func containsJSONString(body []byte, s string) bool {
	var req struct{ Resources []string }
	if err := jsonUnmarshal(body, &req); err != nil {
		return false
	}
	return slices.Contains(req.Resources, s)
}

func TestPreauthorize(t *testing.T) {
	e := newEnv(t)
	bob := testDevice("bob-tv")
	code := e.signIn(bob, "AcmeCable", "bob")

	// 12 distinct resources, with duplicates, in an order that is not sorted.
	var req []string
	for i := 12; i >= 1; i-- {
		req = append(req, fmt.Sprintf("res-%02d", i))
		if i == 6 {
			req = append(req, "news", "res-12")
		}
	}
	req = append(req, "sports", "news")
	// 12 + news + sports = 14 distinct, in first-seen order.
	want := []string{"res-12", "res-11", "res-10", "res-09", "res-08", "res-07", "res-06", "news", "res-05", "res-04", "res-03", "res-02", "res-01", "sports"}
	want = slices.DeleteFunc(want, func(s string) bool { return s == "res-01" || s == "res-02" })
	req = slices.DeleteFunc(req, func(s string) bool { return s == "res-01" || s == "res-02" })
	if len(want) != 12 {
		t.Fatalf("test setup: %d distinct resources, want 12", len(want))
	}

	for _, viaCode := range []bool{false, true} {
		t.Run(fmt.Sprintf("code=%v", viaCode), func(t *testing.T) {
			before := len(e.upstream("/decisions/preauthorize/"))
			r := &v1model.PreauthorizeRequest{Device: bob, Resources: req}
			if viaCode {
				r = &v1model.PreauthorizeRequest{Device: v1model.Device{Requestor: testRequestor}, Code: code, Resources: req}
			}
			p, err := e.gw.Preauthorize(e.ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rd := range p.Resources {
				got = append(got, rd.ID)
				wantOK := rd.ID == "news" || rd.ID == "sports"
				if rd.Authorized != wantOK {
					t.Errorf("%s authorized = %v, want %v", rd.ID, rd.Authorized, wantOK)
				}
				if !wantOK && (rd.Error == nil || rd.Error.Code != v1model.CodePreauthorizationDeniedByMVPD) {
					t.Errorf("%s item error = %+v, want preauthorization_denied_by_mvpd", rd.ID, rd.Error)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("resources = %v, want %v", got, want)
			}
			calls := e.upstream("/decisions/preauthorize/")[before:]
			// The second call reuses the permits of the first (news and
			// sports): 10 resources are asked again, in 2 chunks.
			wantCalls := 3
			if viaCode {
				wantCalls = 2
			}
			if len(calls) != wantCalls {
				t.Fatalf("%d v2 preauthorize calls, want %d chunks of at most 5", len(calls), wantCalls)
			}
			for _, c := range calls {
				var body struct{ Resources []string }
				if err := jsonUnmarshal(c.Body, &body); err != nil || len(body.Resources) > 5 {
					t.Errorf("chunk %s: %v", c.Body, err)
				}
				if viaCode && (slices.Contains(body.Resources, "news") || slices.Contains(body.Resources, "sports")) {
					t.Errorf("chunk %s asks again for a permit still reusable", c.Body)
				}
				if c.Header.Get("AP-Device-Identifier") == "" {
					t.Error("preauthorize chunk without the device identifier")
				}
			}
		})
	}

	_, err := e.gw.Preauthorize(e.ctx, &v1model.PreauthorizeRequest{Device: testDevice("nobody"), Resources: []string{"news"}})
	v1err(t, err, 412, v1model.CodePreauthorizationAuthenticationSessionMissing)
}

func TestDeletedRegcode(t *testing.T) {
	e := newEnv(t)
	d := testDevice("deleted")
	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d})
	if err != nil {
		t.Fatal(err)
	}
	anon := v1model.Device{Requestor: testRequestor}
	if err := e.gw.DeleteRegcode(e.ctx, &v1model.DeleteRegcodeRequest{Device: anon, Code: reg.Code}); err != nil {
		t.Fatalf("DeleteRegcode: %v", err)
	}
	_, err = e.gw.GetRegcode(e.ctx, &v1model.GetRegcodeRequest{Device: anon, Code: reg.Code})
	v1err(t, err, 404, "")
	v1err(t, e.gw.DeleteRegcode(e.ctx, &v1model.DeleteRegcodeRequest{Device: anon, Code: reg.Code}), 404, "")
	_, err = e.gw.Authenticate(e.ctx, &v1model.AuthenticateRequest{Device: anon, MVPD: "AcmeCable", Code: reg.Code, DomainName: testDomain, RedirectURL: testRedirect})
	v1err(t, err, 400, "")
	if n := len(e.upstream("/sessions/" + reg.Code)); n != 0 {
		t.Errorf("a deleted code reached v2 %d times", n)
	}
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: anon, Code: reg.Code})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionMissing)
	// Unknown codes and other requestors' codes are 404 too.
	_, err = e.gw.GetRegcode(e.ctx, &v1model.GetRegcodeRequest{Device: anon, Code: "NOSUCH1"})
	v1err(t, err, 404, "")
}

// TestRegcodeLifetime: a code lives as long as the device asked, though
// its v2 session ends after 30 minutes: used later, a new v2 session is
// created behind it, and the login made with it reaches the device. Past
// its ttl, the second screen's authenticate refuses it with v1's 400.
func TestRegcodeLifetime(t *testing.T) {
	e := newEnv(t)
	d := testDevice("ttl")
	anon := v1model.Device{Requestor: testRequestor}
	short, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d, TTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	long, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d, TTL: 10 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if !short.Expires.Equal(now.Add(5 * time.Minute)) {
		t.Errorf("ttl 5 min: expires %v", short.Expires)
	}
	if !long.Expires.Equal(now.Add(10 * time.Hour)) {
		t.Errorf("ttl 10 h: expires %v, want the whole ttl", long.Expires)
	}
	e.advance(31 * time.Minute) // past the v2 sessions' 30 minutes
	_, err = e.gw.GetRegcode(e.ctx, &v1model.GetRegcodeRequest{Device: anon, Code: short.Code})
	v1err(t, err, 404, "")
	authenticate := func(code string) (*v1model.AuthenticateRedirect, error) {
		return e.gw.Authenticate(e.ctx, &v1model.AuthenticateRequest{Device: anon, MVPD: "AcmeCable", Code: code, DomainName: testDomain, RedirectURL: testRedirect})
	}
	_, err = authenticate(short.Code)
	v1err(t, err, 400, "")

	if got, err := e.gw.GetRegcode(e.ctx, &v1model.GetRegcodeRequest{Device: anon, Code: long.Code}); err != nil || got.Code != long.Code {
		t.Fatalf("long code after 31 minutes: %+v, %v", got, err)
	}
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: anon, Code: long.Code})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionMissing)
	redirect, err := authenticate(long.Code)
	if err != nil {
		t.Fatalf("authenticate with the long code after 31 minutes: %v", err)
	}
	if strings.Contains(redirect.URL, long.Code) {
		t.Errorf("redirect %s: want the new v2 session's code, not the expired one", redirect.URL)
	}
	if _, err := sandbox.SignIn(e.ctx, &http.Client{}, redirect.URL, "alice", "alice-pass"); err != nil {
		t.Fatalf("sign-in through the renewed session: %v", err)
	}
	// The second screen asks again with the same code (a new session is not
	// made twice) and the login reaches the code and the device.
	if _, err := authenticate(long.Code); err != nil {
		t.Fatalf("authenticate again: %v", err)
	}
	if n := len(e.upstream("/sessions")); n == 0 {
		t.Fatal("no v2 session call")
	}
	a, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: anon, Code: long.Code})
	if err != nil || a.UserID != "acme-alice-0001" {
		t.Fatalf("checkauthn/{code} after the login: %+v, %v", a, err)
	}
	if tok, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d}); err != nil || tok.UserID != "acme-alice-0001" {
		t.Fatalf("the device's tokens/authn after the login: %+v, %v", tok, err)
	}

	e.advance(10*time.Hour - 31*time.Minute)
	_, err = authenticate(long.Code)
	v1err(t, err, 400, "")
}

// TestRegcodeWhenSignedIn covers a device that asks for a code while it has
// a profile: v2 answers "authorize" without a code, and the gateway issues
// one the second screen reports as done.
func TestRegcodeWhenSignedIn(t *testing.T) {
	e := newEnv(t)
	d := testDevice("signed-in")
	e.signIn(d, "AcmeCable", "alice")
	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: d, MVPD: "AcmeCable"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Code) != 7 || reg.MVPD != "AcmeCable" {
		t.Fatalf("registration = %+v", reg)
	}
	anon := v1model.Device{Requestor: testRequestor}
	tok, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: anon, Code: reg.Code})
	if err != nil || tok.UserID != "acme-alice-0001" {
		t.Fatalf("checkauthn/{code} = %+v, %v", tok, err)
	}
	r, err := e.gw.Authenticate(e.ctx, &v1model.AuthenticateRequest{Device: anon, MVPD: "AcmeCable", Code: reg.Code, DomainName: testDomain, RedirectURL: testRedirect})
	if err != nil || r.URL != testRedirect {
		t.Fatalf("authenticate = %+v, %v; want straight to the redirect URL", r, err)
	}
}

func TestAuthnAndAuthzExpiry(t *testing.T) {
	e := newEnv(t)
	d := testDevice("expiry")

	_, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	v1err(t, err, 404, v1model.CodeAuthenticationSessionMissing)
	_, err = e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: "news"})
	if ve := v1err(t, err, 412, v1model.CodeAuthenticationSessionMissing); !ve.NullDetails {
		t.Error("tokens/authz error without null details")
	}

	code := e.signIn(d, "AcmeCable", "alice")
	_, err = e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: "news"})
	v1err(t, err, 404, v1model.CodeAuthorizationNotFound)
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatal(err)
	}
	e.advance(59 * time.Minute)
	if _, err := e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatalf("tokens/authz within the hour: %v", err)
	}
	e.advance(time.Minute)
	_, err = e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: "news"})
	v1err(t, err, 410, v1model.CodeAuthorizationExpired)
	// An expired decision's media token is not handed out: a fresh one is.
	m, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "news"})
	if err != nil || !m.Expires.Equal(e.clock.Now().Add(7*time.Minute)) {
		t.Fatalf("media token after the decision expired = %+v, %v", m, err)
	}

	e.advance(23 * time.Hour)
	_, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
	v1err(t, err, 410, v1model.CodeAuthenticationSessionExpired)
	_, err = e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionExpired)
	// The code's record is long gone, but the gateway remembers the login
	// made with it: expired, not unknown.
	_, err = e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: v1model.Device{Requestor: testRequestor}, Code: code})
	v1err(t, err, 410, v1model.CodeAuthenticationSessionExpired)
	_, err = e.gw.UserMetadata(e.ctx, &v1model.UserMetadataRequest{Device: d})
	v1err(t, err, 412, v1model.CodeAuthenticationSessionExpired)
}

// TestMediaTokenRace: of many concurrent media-token calls, exactly one gets
// the kept token; every other caller gets a fresh one, and no token is
// handed out twice.
func TestMediaTokenRace(t *testing.T) {
	e := newEnv(t)
	d := testDevice("racer")
	e.signIn(d, "AcmeCable", "alice")
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatal(err)
	}
	dv := e.mustDevice(d)
	kept, err := getState[keptDecision](e.ctx, e.gw, dv, dv.key("decision", "news"))
	if err != nil || kept.MediaToken == "" {
		t.Fatalf("kept decision = %+v, %v", kept, err)
	}

	const n = 16
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		tokens = make([]string, n)
		errs   = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			m, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "news"})
			errs[i] = err
			if m != nil {
				tokens[i] = m.SerializedToken
			}
		}()
	}
	close(start)
	wg.Wait()
	seen := map[string]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		seen[tokens[i]]++
	}
	if seen[kept.MediaToken] != 1 {
		t.Errorf("the kept media token was handed out %d times, want exactly once", seen[kept.MediaToken])
	}
	if len(seen) != n {
		t.Errorf("%d distinct tokens among %d callers: a token was handed out twice", len(seen), n)
	}
}

func (e *env) mustDevice(d v1model.Device) *device {
	e.t.Helper()
	rq, err := e.gw.requestor(d.Requestor)
	if err != nil {
		e.t.Fatal(err)
	}
	dv, err := e.gw.deviceOf(e.ctx, rq, &d)
	if err != nil {
		e.t.Fatal(err)
	}
	return dv
}

func TestUserMetadata(t *testing.T) {
	e := newEnv(t)
	d := testDevice("meta")
	signedAt := e.clock.Now()
	e.signIn(d, "AcmeCable", "alice")
	m, err := e.gw.UserMetadata(e.ctx, &v1model.UserMetadataRequest{Device: d})
	if err != nil {
		t.Fatal(err)
	}
	if m.Updated.Unix() != signedAt.Unix() {
		t.Errorf("updated = %v, want the login time %v", m.Updated, signedAt)
	}
	if !slices.Equal(m.Encrypted, []string{"zip"}) {
		t.Errorf("encrypted = %v, want [zip]", m.Encrypted)
	}
	got := map[string]any{}
	var names []string
	for _, f := range m.Data {
		got[f.Name] = f.Value
		names = append(names, f.Name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("data order %v, want sorted keys", names)
	}
	for k, want := range map[string]string{"userID": "acme-alice-0001", "householdID": "acme-household-0001", "zip": "MTAwMDE="} {
		if got[k] != want {
			t.Errorf("data %s = %v, want %q", k, got[k], want)
		}
	}
	_, err = e.gw.UserMetadata(e.ctx, &v1model.UserMetadataRequest{Device: testDevice("nobody")})
	v1err(t, err, 412, v1model.CodeAuthenticationSessionMissing)
}

func TestFreePreview(t *testing.T) {
	e := newEnv(t)
	d := testDevice("preview")
	d.GenericData = ""
	if err := e.gw.FreePreview(e.ctx, &v1model.FreePreviewRequest{Device: d, DomainName: testDomain}); err != nil {
		t.Fatalf("FreePreview: %v", err)
	}
	az, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"})
	if err != nil {
		t.Fatalf("authorize on the free preview: %v", err)
	}
	if az.MVPD != "TempPass_REF30" {
		t.Errorf("authorized by %q, want the TempPass MVPD", az.MVPD)
	}
	if _, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatalf("media token on the free preview: %v", err)
	}
	// A device that later signs in with a real MVPD uses it.
	e.advance(time.Minute)
	e.signIn(d, "AcmeCable", "alice")
	az, err = e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "sports"})
	if err != nil || az.MVPD != "AcmeCable" {
		t.Fatalf("authorize after signing in = %+v, %v; want AcmeCable", az, err)
	}
	// A non-TempPass MVPD is no free preview.
	err = e.gw.FreePreview(e.ctx, &v1model.FreePreviewRequest{Device: testDevice("other"), MVPD: "BetaFiber"})
	v1err(t, err, 400, v1model.CodeUnknownIntegration)
}

func TestConfig(t *testing.T) {
	e := newEnv(t)
	const n = 12
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*v1model.Config, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.gw.Config(e.ctx, &v1model.ConfigRequest{Device: v1model.Device{Requestor: testRequestor}})
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	if calls := len(e.upstream("/configuration")); calls != 1 {
		t.Errorf("%d concurrent config calls made %d v2 calls, want 1", n, calls)
	}
	c := results[0]
	var ids []string
	for _, m := range c.Requestor.MVPDs {
		ids = append(ids, m.ID)
	}
	if c.Requestor.ID != testRequestor || !slices.Equal(ids, []string{"AcmeCable", "BetaFiber", "TempPass_REF30"}) {
		t.Errorf("config = %+v", c)
	}
	if c.Requestor.MVPDs[0].DisplayName != "Acme Cable" || c.Requestor.MVPDs[0].LogoURL == "" {
		t.Errorf("AcmeCable = %+v", c.Requestor.MVPDs[0])
	}
	e.advance(DefaultConfigCacheTTL - time.Second)
	if _, err := e.gw.Config(e.ctx, &v1model.ConfigRequest{Device: v1model.Device{Requestor: testRequestor}}); err != nil {
		t.Fatal(err)
	}
	if calls := len(e.upstream("/configuration")); calls != 1 {
		t.Errorf("config within 2 min made %d v2 calls, want 1", calls)
	}
	e.advance(time.Second)
	if _, err := e.gw.Config(e.ctx, &v1model.ConfigRequest{Device: v1model.Device{Requestor: testRequestor}}); err != nil {
		t.Fatal(err)
	}
	if calls := len(e.upstream("/configuration")); calls != 2 {
		t.Errorf("config after 2 min made %d v2 calls in total, want 2", calls)
	}
}

func TestProfileCache(t *testing.T) {
	e := newEnv(t)
	d := testDevice("cache")
	e.signIn(d, "AcmeCable", "alice")
	profileCalls := func() int {
		n := 0
		for _, r := range e.upstream("/profiles") {
			if len(r.Path) > len("/profiles") && r.Path[len(r.Path)-len("/profiles"):] == "/profiles" {
				n++
			}
		}
		return n
	}
	for range 3 {
		if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := profileCalls(); n != 1 {
		t.Errorf("3 authorizations read profiles %d times, want 1 (cached)", n)
	}
	e.advance(DefaultProfileCacheTTL)
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatal(err)
	}
	if n := profileCalls(); n != 2 {
		t.Errorf("after the cache TTL: %d profile reads, want 2", n)
	}
}

func TestUnknownRequestorAndPlainErrors(t *testing.T) {
	e := newEnv(t, envOption{gateway: func(c *GatewayConfig) {
		c.Requestors = append(c.Requestors, Requestor{ID: "PLAIN", ServiceProvider: testRequestor, DomainName: testDomain, RedirectURL: testRedirect})
	}})
	d := testDevice("x")
	d.Requestor = "NOPE"
	_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 400, v1model.CodeInvalidRequestor)

	d.Requestor = "PLAIN"
	_, err = e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"})
	ve := v1err(t, err, 403, "")
	if ve.Message != v1model.MsgNotAuthenticated || ve.Action != "" {
		t.Errorf("plain error = %+v", ve)
	}
}

func TestEnhancedSetting(t *testing.T) {
	e := newEnv(t, envOption{gateway: func(c *GatewayConfig) {
		c.Requestors = append(c.Requestors, Requestor{ID: "PLAIN", ServiceProvider: testRequestor, DomainName: testDomain, RedirectURL: testRedirect})
	}})
	for req, want := range map[string]bool{testRequestor: true, "PLAIN": false, "NOPE": false} {
		if got := e.gw.Enhanced(req); got != want {
			t.Errorf("Enhanced(%q) = %v, want %v", req, got, want)
		}
	}
}
