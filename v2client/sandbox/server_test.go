package sandbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestEmbeddedHandler(t *testing.T) {
	tests := []struct {
		name, baseURL, wantPrefix string
	}{
		{"configured base URL", "https://passgw.example:8443/", "https://passgw.example:8443/adobe-services/authenticate/saml?"},
		{"derived from the request", "", ""}, // filled in below: the listener's URL
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{BaseURL: tc.baseURL, Now: func() time.Time { return epoch }, DisableThrottling: true})
			if err != nil {
				t.Fatal(err)
			}
			// Another process's own listener, mounting the handler.
			mux := http.NewServeMux()
			mux.Handle("/", s)
			outer := httptest.NewServer(mux)
			defer outer.Close()
			s.URL = outer.URL
			want := tc.wantPrefix
			if want == "" {
				want = outer.URL + "/adobe-services/authenticate/saml?"
			}
			d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
			sess := d.createSession("AcmeCable")
			r := send(t, http.MethodGet, outer.URL+sess["url"].(string), nil, nil)
			if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), want) {
				t.Fatalf("authenticate: %d Location %q, want prefix %q", r.status, r.header.Get("Location"), want)
			}
			loc, _ := url.Parse(r.header.Get("Location"))
			q := loc.Query()
			for k, v := range map[string]string{"mso_id": "AcmeCable", "requestor_id": "REF30", "domain_name": "example.com", "redirect_url": appRedirect, "noflash": "true", "no_iframe": "false"} {
				if q.Get(k) != v {
					t.Errorf("query %s = %q, want %q", k, q.Get(k), v)
				}
			}
		})
	}
}

func TestDeterministicIDs(t *testing.T) {
	run := func(seed uint64) (string, string) {
		s := start(t, func(c *Config) { c.IDs = DeterministicIDs(seed) })
		d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
		sess := d.createSession("AcmeCable")
		return sess["code"].(string), sess["sessionId"].(string)
	}
	c1, id1 := run(7)
	c2, id2 := run(7)
	c3, _ := run(8)
	if c1 != c2 || id1 != id2 {
		t.Errorf("same seed gave %s/%s and %s/%s", c1, id1, c2, id2)
	}
	if c1 == c3 {
		t.Errorf("different seeds gave the same code %s", c1)
	}
	g := RandomIDs()
	if a, b := g.Code(), g.Code(); a == b || !validCode(a) {
		t.Errorf("random codes %q, %q", a, b)
	}
}

func TestSignInFromAnotherHost(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	sess := d.createSession("BetaFiber")
	// A gateway's authenticate URL on another host sends the browser to the
	// sandbox; the walk follows it there and still stops at the app.
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.URL+sess["url"].(string), http.StatusFound)
	}))
	defer gw.Close()
	landed, err := SignIn(context.Background(), gw.Client(), gw.URL+"/api/v1/authenticate?reg_code=X", "carol", "carol-pass")
	if err != nil || landed != appRedirect {
		t.Fatalf("SignIn = %q, %v", landed, err)
	}
	for _, r := range s.Requests() {
		if r.Path == "/done" {
			t.Errorf("the off-sandbox redirectUrl was fetched")
		}
	}
	if _, err := SignIn(context.Background(), nil, s.URL+"/api/v2/authenticate/REF30/NOCODE1", "carol", "carol-pass"); err == nil {
		t.Error("SignIn through an unknown code succeeded")
	}
}

func TestDegradation(t *testing.T) {
	f := DefaultFixture()
	f.MVPDs = append(f.MVPDs,
		MVPD{ID: "DownAuthN", DisplayName: "AuthN down", Degradation: "AuthNAll"},
		MVPD{ID: "DownAuthZ", DisplayName: "AuthZ down", Degradation: "AuthZNone", DegradationMessage: "Maintenance until 6pm"},
	)
	f.ServiceProviders[0].MVPDs = append(f.ServiceProviders[0].MVPDs, "DownAuthN", "DownAuthZ")
	f.Users = append(f.Users, User{Username: "dave", Password: "dave-pass", MVPD: "DownAuthZ", UserID: "dave-1", Entitlements: []string{"*"}})
	s := start(t, func(c *Config) { c.Fixture = f })
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")

	if sess := d.createSession("DownAuthN"); sess["actionName"] != "authorize" || sess["reasonType"] != "degraded" {
		t.Errorf("AuthNAll session: %v", sess)
	}
	if it := decisions(t, d.decide("authorize", "DownAuthN", "news"))[0]; it["authorized"] != true || it["source"] != "degradation" || it["token"] == nil {
		t.Errorf("AuthNAll authorize: %v", it)
	}
	prof := d.get("/profiles/DownAuthN").json(t)["profiles"].(map[string]any)["DownAuthN"].(map[string]any)
	if prof["type"] != "degraded" || prof["issuer"] != "Adobe" || !strings.HasPrefix(prof["attributes"].(map[string]any)["userID"].(map[string]any)["value"].(string), "95cf93bcd183214a") {
		t.Errorf("degraded profile %v", prof)
	}

	d.login("DownAuthZ", "dave")
	it := decisions(t, d.decide("authorize", "DownAuthZ", "news"))[0]
	if e := it["error"].(map[string]any); e["code"] != CodeDeniedByDegradationRule || e["details"] != "Maintenance until 6pm" || it["source"] != "degradation" {
		t.Errorf("AuthZNone: %v", it)
	}
}

func httptestServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

func TestProfilesAndReset(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	d.extra.Set("AD-Service-Token", "opaque-service-token")
	d.login("AcmeCable", "alice")

	got := s.Profiles()
	if len(got) != 2 {
		t.Fatalf("Profiles() = %+v, want the regular and the serviceTokenSSO profile", got)
	}
	reg, sso := got[0], got[1] // ordered by type: regular < serviceTokenSSO
	if reg.Type != "regular" || reg.Username != "alice" || reg.MVPD != "AcmeCable" || reg.Device == "" || reg.ClientID == "" || !reg.NotAfter.Equal(epoch.Add(24*time.Hour)) {
		t.Errorf("regular profile %+v", reg)
	}
	if sso.Type != "serviceTokenSSO" || sso.SSOSubject == "" || sso.Device != "" {
		t.Errorf("SSO profile %+v", sso)
	}

	s.Reset()
	if len(s.Profiles()) != 0 || len(s.Requests()) != 0 {
		t.Errorf("after Reset: %d profiles, %d requests", len(s.Profiles()), len(s.Requests()))
	}
	// Registered clients and their tokens survive a Reset.
	if r := d.get("/profiles"); r.status != http.StatusOK || string(r.body) != `{"profiles":{}}` {
		t.Errorf("after Reset: %d %s", r.status, r.body)
	}
}
