package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestPrimaryDeviceFlow(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "living-room-tv")

	sess := d.createSession("AcmeCable")
	wantTypes(t, "session", sess, map[string]string{
		"actionName": "string", "code": "string", "sessionId": "string",
		"notBefore": "string", "notAfter": "string",
	})
	code := sess["code"].(string)
	if sess["actionName"] != "authenticate" || sess["actionType"] != "interactive" || sess["reasonType"] != "none" {
		t.Fatalf("session actions %v", sess)
	}
	if want := "/api/v2/authenticate/REF30/" + code; sess["url"] != want {
		t.Errorf("url %v, want %s", sess["url"], want)
	}
	if !validCode(code) || len(code) != 7 {
		t.Errorf("code %q is not 7 characters of [A-Z0-9]", code)
	}
	nb, _ := strconv.ParseInt(sess["notBefore"].(string), 10, 64)
	na, _ := strconv.ParseInt(sess["notAfter"].(string), 10, 64)
	if nb != epoch.UnixMilli() || na-nb != (30*time.Minute).Milliseconds() {
		t.Errorf("session window %d..%d, want 30 minutes from %d", nb, na, epoch.UnixMilli())
	}

	// Pending: an empty map (§15 #18).
	pending := d.get("/profiles/code/" + code)
	if pending.status != http.StatusOK || string(pending.body) != `{"profiles":{}}` {
		t.Fatalf("pending poll: %d %s", pending.status, pending.body)
	}

	landed, err := SignIn(context.Background(), nil, s.URL+sess["url"].(string), "alice", "alice-pass")
	if err != nil || landed != appRedirect {
		t.Fatalf("SignIn = %q, %v; want %q", landed, err, appRedirect)
	}

	poll := d.get("/profiles/code/" + code)
	if poll.status != http.StatusOK {
		t.Fatalf("poll: %d %s", poll.status, poll.body)
	}
	prof, ok := poll.json(t)["profiles"].(map[string]any)["AcmeCable"].(map[string]any)
	if !ok {
		t.Fatalf("no AcmeCable profile in %s", poll.body)
	}
	wantTypes(t, "profile", prof, map[string]string{"notBefore": "number", "notAfter": "number", "issuer": "string", "type": "string"})
	if prof["issuer"] != "AcmeCable" || prof["type"] != "regular" {
		t.Errorf("profile issuer/type %v/%v", prof["issuer"], prof["type"])
	}
	if got := prof["notAfter"].(float64) - prof["notBefore"].(float64); got != float64((24 * time.Hour).Milliseconds()) {
		t.Errorf("profile lasts %v ms, want 24 h", got)
	}
	uid := prof["attributes"].(map[string]any)["userID"].(map[string]any)
	if uid["value"] != "acme-alice-0001" || uid["state"] != "plain" {
		t.Errorf("userID attribute %v", uid)
	}

	all := d.get("/profiles")
	if _, ok := all.json(t)["profiles"].(map[string]any)["AcmeCable"]; !ok {
		t.Errorf("GET profiles lacks AcmeCable: %s", all.body)
	}

	items := decisions(t, d.decide("authorize", "AcmeCable", "news"))
	it := items[0]
	wantTypes(t, "decision", it, map[string]string{"authorized": "bool", "notBefore": "number", "notAfter": "number", "resource": "string", "source": "string"})
	if it["authorized"] != true || it["resource"] != "news" || it["source"] != "mvpd" || it["mvpd"] != "AcmeCable" {
		t.Fatalf("decision %v", it)
	}
	tok := it["token"].(map[string]any)
	wantTypes(t, "token", tok, map[string]string{"notBefore": "number", "notAfter": "number", "serializedToken": "string"})
	if got := tok["notAfter"].(float64) - tok["notBefore"].(float64); got != float64((7 * time.Minute).Milliseconds()) {
		t.Errorf("media token lasts %v ms, want 7 min", got)
	}
	if got := it["notAfter"].(float64) - it["notBefore"].(float64); got != float64(time.Hour.Milliseconds()) {
		t.Errorf("authorization lasts %v ms, want 1 h", got)
	}
	mt, err := s.VerifyMediaToken(tok["serializedToken"].(string))
	if err != nil {
		t.Fatalf("VerifyMediaToken: %v", err)
	}
	if mt.Resource != "news" || mt.MVPD != "AcmeCable" || mt.UserID != "acme-alice-0001" {
		t.Errorf("media token claims %+v", mt)
	}

	// Signed in: a new session answers authorize (§6.2).
	again := d.createSession("AcmeCable")
	if again["actionName"] != "authorize" || again["reasonType"] != "authenticated" || again["code"] != nil {
		t.Errorf("second session %v, want authorize/authenticated without code", again)
	}
	if len(s.UnhandledRequests()) != 0 {
		t.Errorf("unhandled requests: %+v", s.UnhandledRequests())
	}
}

func TestMediaTokenVerification(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	d.login("AcmeCable", "alice")
	serialized := decisions(t, d.decide("authorize", "AcmeCable", "news"))[0]["token"].(map[string]any)["serializedToken"].(string)

	other := start(t, func(c *Config) { c.IDs = DeterministicIDs(99) })
	if _, err := other.VerifyMediaToken(serialized); !errors.Is(err, ErrMediaTokenInvalid) {
		t.Errorf("another sandbox's token: %v, want ErrMediaTokenInvalid", err)
	}
	if _, err := s.VerifyMediaToken(serialized[:len(serialized)-4] + "AAAA"); !errors.Is(err, ErrMediaTokenInvalid) {
		t.Errorf("tampered token: %v, want ErrMediaTokenInvalid", err)
	}
	s.Advance(7 * time.Minute)
	if _, err := s.VerifyMediaToken(serialized); !errors.Is(err, ErrMediaTokenExpired) {
		t.Errorf("after 7 minutes: %v, want ErrMediaTokenExpired", err)
	}
}

func TestDenials(t *testing.T) {
	// Access tokens outlive the profiles here, so the expired profile, not
	// the token, is what the last check meets.
	s := start(t, func(c *Config) {
		c.Fixture = DefaultFixture()
		c.Fixture.TTLs.AccessToken = Duration(48 * time.Hour)
	})
	tok := registerClient(t, s, "sandbox-statement")

	bob := newDevice(t, s, tok, "bob-tv")
	bob.login("AcmeCable", "bob")
	items := decisions(t, bob.decide("authorize", "AcmeCable", "movies"))
	it := items[0]
	if it["authorized"] != false || it["token"] != nil {
		t.Fatalf("bob movies: %v", it)
	}
	e := it["error"].(map[string]any)
	if e["code"] != CodeAuthorizationDeniedByMVPD || e["status"] != float64(403) || e["action"] != "none" {
		t.Errorf("bob movies error %v", e)
	}
	if d, _ := e["details"].(string); d == "" {
		t.Errorf("bob movies deny has no details: %v", e)
	}
	wantTypes(t, "deny", it, map[string]string{"notBefore": "number", "notAfter": "number"})
	if got := decisions(t, bob.decide("authorize", "AcmeCable", "sports"))[0]; got["authorized"] != true {
		t.Errorf("bob sports: %v", got)
	}
	pre := decisions(t, bob.decide("preauthorize", "AcmeCable", "news", "movies"))
	if pre[0]["authorized"] != true || pre[0]["token"] != nil || pre[0]["notBefore"] != nil {
		t.Errorf("preauthorize news: %v (no token, no times expected)", pre[0])
	}
	if errorCode(pre[1]["error"]) != CodePreauthorizationDeniedByMVPD {
		t.Errorf("preauthorize movies: %v", pre[1])
	}

	carol := newDevice(t, s, tok, "carol-tv")
	carol.login("BetaFiber", "carol")
	mature := `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>movies</title><item><title>Late show</title><media:rating scheme="urn:v-chip">TV-MA</media:rating></item></channel></rss>`
	teen := `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>movies</title><media:rating scheme="urn:v-chip">TV-14</media:rating></channel></rss>`
	got := decisions(t, carol.decide("authorize", "BetaFiber", mature, teen))
	if got[0]["resource"] != mature {
		t.Errorf("MRSS resource not echoed byte-for-byte: %v", got[0]["resource"])
	}
	if errorCode(got[0]["error"]) != CodeDeniedByParentalControls || got[0]["authorized"] != false {
		t.Errorf("carol TV-MA: %v", got[0])
	}
	if got[1]["authorized"] != true {
		t.Errorf("carol TV-14: %v", got[1])
	}

	// A device with no profile: item-level (§15 #16).
	stranger := newDevice(t, s, tok, "stranger")
	if it := decisions(t, stranger.decide("authorize", "AcmeCable", "news"))[0]; errorCode(it["error"]) != CodeProfileMissing {
		t.Errorf("no profile: %v", it)
	}
	// Expired profile.
	s.Advance(24 * time.Hour)
	if it := decisions(t, bob.decide("authorize", "AcmeCable", "news"))[0]; errorCode(it["error"]) != CodeProfileExpired {
		t.Errorf("after 24 h: %v", it)
	}
}

func TestTooManyResources(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	d.login("AcmeCable", "alice")
	for _, kind := range []string{"authorize", "preauthorize"} {
		wantStatusCode(t, d.decide(kind, "AcmeCable", "a", "b", "c", "d", "e", "f"), http.StatusForbidden, CodeTooManyResources)
		if got := decisions(t, d.decide(kind, "AcmeCable", "a", "b", "c", "d", "e")); len(got) != 5 {
			t.Errorf("%s with 5 resources: %d items", kind, len(got))
		}
	}
	wantStatusCode(t, d.decide("authorize", "AcmeCable"), http.StatusBadRequest, CodeInvalidParameterResources)
	wantStatusCode(t, d.decide("authorize", "Nope", "news"), http.StatusBadRequest, CodeInvalidIntegration)
}

func TestSecondScreenResume(t *testing.T) {
	s := start(t)
	tok := registerClient(t, s, "sandbox-statement")
	tv := newDevice(t, s, tok, "tv")
	created := tv.postForm("/sessions", url.Values{"domainName": {"example.com"}, "redirectUrl": {appRedirect}}).json(t)
	if created["actionName"] != "resume" || created["actionType"] != "direct" {
		t.Fatalf("create without mvpd: %v", created)
	}
	code := created["code"].(string)
	if got := created["missingParameters"].([]any); len(got) != 1 || got[0] != "mvpd" {
		t.Errorf("missingParameters %v", got)
	}

	phone := newDevice(t, s, tok, "phone")
	info := phone.get("/sessions/" + code)
	if info.status != http.StatusOK {
		t.Fatalf("retrieve: %d %s", info.status, info.body)
	}
	body := info.json(t)
	wantTypes(t, "retrieve", body, map[string]string{"notBefore": "string", "notAfter": "string"})
	if ex := body["existingParameters"].(map[string]any); ex["domainName"] != "example.com" || ex["serviceProvider"] != "REF30" || ex["mvpd"] != nil {
		t.Errorf("existingParameters %v", ex)
	}
	if body["device"].(map[string]any)["model"] != "Bravia" {
		t.Errorf("device %v", body["device"])
	}

	// Resume needs no device headers (§15 #11).
	bare := &device{t: t, s: s, sp: "REF30", token: tok, extra: http.Header{}}
	retry := bare.postForm("/sessions/"+code, url.Values{"domainName": {"example.com"}}).json(t)
	if retry["actionName"] != "retry" {
		t.Errorf("resume still missing mvpd: %v", retry)
	}
	resumed := bare.postForm("/sessions/"+code, url.Values{"mvpd": {"BetaFiber"}}).json(t)
	if resumed["actionName"] != "authenticate" || resumed["code"] != code || resumed["url"] != "/api/v2/authenticate/REF30/"+code {
		t.Fatalf("resume: %v", resumed)
	}
	if _, err := SignIn(context.Background(), nil, s.URL+resumed["url"].(string), "carol", "carol-pass"); err != nil {
		t.Fatal(err)
	}
	// The profile belongs to the device that created the session.
	if _, ok := tv.get("/profiles/BetaFiber").json(t)["profiles"].(map[string]any)["BetaFiber"]; !ok {
		t.Errorf("tv has no BetaFiber profile")
	}
	if got := phone.get("/profiles").json(t)["profiles"].(map[string]any); len(got) != 0 {
		t.Errorf("phone got profiles %v", got)
	}

	wantStatusCode(t, bare.postForm("/sessions/ZZZZZZZ", url.Values{"mvpd": {"AcmeCable"}}), http.StatusBadRequest, CodeInvalidAuthenticationSession)
	wantStatusCode(t, bare.postForm("/sessions/bad-code", url.Values{}), http.StatusBadRequest, CodeInvalidParameterCode)
	wantStatusCode(t, tv.postForm("/sessions", url.Values{"mvpd": {"Nope"}}), http.StatusBadRequest, CodeInvalidIntegration)
	wantStatusCode(t, tv.postForm("/sessions", url.Values{"redirectUrl": {"not a url"}}), http.StatusBadRequest, CodeInvalidParameterRedirectURL)
}

func TestSignInRejected(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	sess := d.createSession("AcmeCable")
	for _, tc := range []struct{ user, pass string }{
		{"alice", "wrong"},
		{"carol", "carol-pass"}, // a BetaFiber subscriber
		{"mallory", "x"},
	} {
		if _, err := SignIn(context.Background(), nil, s.URL+sess["url"].(string), tc.user, tc.pass); !errors.Is(err, ErrSignInRejected) {
			t.Errorf("SignIn(%s/%s) = %v, want ErrSignInRejected", tc.user, tc.pass, err)
		}
	}
	if got := d.get("/profiles").json(t)["profiles"].(map[string]any); len(got) != 0 {
		t.Errorf("rejected sign-ins stored profiles: %v", got)
	}
	// The form answers 200 with the error.
	r := send(t, http.MethodPost, s.URL+"/adobe-services/mvpd/AcmeCable/login", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		[]byte(url.Values{"code": {sess["code"].(string)}, "requestor_id": {"REF30"}, "username": {"alice"}, "password": {"nope"}}.Encode()))
	if r.status != http.StatusOK || !contains(string(r.body), `name="password"`) || !contains(string(r.body), "incorrect") {
		t.Errorf("wrong password: %d %s", r.status, r.body)
	}
}

func TestSessionExpiry(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	code := d.createSession("AcmeCable")["code"].(string)
	s.Advance(30*time.Minute - time.Millisecond)
	if r := d.get("/sessions/" + code); r.status != http.StatusOK {
		t.Fatalf("just before expiry: %d %s", r.status, r.body)
	}
	s.Advance(time.Millisecond)
	wantStatusCode(t, d.get("/sessions/"+code), http.StatusBadRequest, CodeInvalidAuthenticationSession)
	wantStatusCode(t, d.get("/profiles/code/"+code), http.StatusBadRequest, CodeInvalidAuthenticationSession)
	r := send(t, http.MethodGet, s.URL+"/api/v2/authenticate/REF30/"+code, nil, nil)
	if r.status != http.StatusBadRequest || !contains(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("authenticate expired code: %d %q", r.status, r.header.Get("Content-Type"))
	}
}
