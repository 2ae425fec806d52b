package sandbox

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"
)

func TestTempPassDuration(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")

	// Before the first authorization there is no trial, and preauthorize
	// permits without starting one.
	if got := d.get("/profiles/TempPass_REF30").json(t)["profiles"].(map[string]any); len(got) != 0 {
		t.Fatalf("profile before first authorize: %v", got)
	}
	if it := decisions(t, d.decide("preauthorize", "TempPass_REF30", "news"))[0]; it["authorized"] != true || it["source"] != "temppass" {
		t.Fatalf("preauthorize: %v", it)
	}
	sess := d.createSession("TempPass_REF30")
	if sess["actionName"] != "authorize" || sess["reasonType"] != "temporary" {
		t.Errorf("TempPass session: %v", sess)
	}

	s.Advance(time.Hour) // the clock starts on first authorize, not before
	it := decisions(t, d.decide("authorize", "TempPass_REF30", "news"))[0]
	if it["authorized"] != true || it["source"] != "temppass" || it["token"] == nil {
		t.Fatalf("first authorize: %v", it)
	}
	prof := d.get("/profiles/TempPass_REF30").json(t)["profiles"].(map[string]any)["TempPass_REF30"].(map[string]any)
	if prof["issuer"] != "Adobe" || prof["type"] != "temporary" {
		t.Errorf("temp profile %v", prof)
	}
	exp := prof["attributes"].(map[string]any)["expiration_date"].(map[string]any)
	if exp["value"] != float64(epoch.Add(time.Hour+10*time.Minute).UnixMilli()) {
		t.Errorf("expiration_date %v (want a number 10 minutes after the first authorize)", exp["value"])
	}
	// GET profiles lists regular and SSO profiles only (§15 #19).
	if got := d.get("/profiles").json(t)["profiles"].(map[string]any); len(got) != 0 {
		t.Errorf("GET profiles lists TempPass: %v", got)
	}

	s.Advance(10 * time.Minute)
	it = decisions(t, d.decide("authorize", "TempPass_REF30", "news"))[0]
	if errorCode(it["error"]) != CodeTempPassDurationExceeded || it["authorized"] != false {
		t.Errorf("after 10 minutes: %v", it)
	}
	if e := it["error"].(map[string]any); e["action"] != "authentication" || e["status"] != float64(403) {
		t.Errorf("duration error %v", e)
	}
	wantStatusCode(t, d.get("/profiles/TempPass_REF30"), http.StatusForbidden, CodeTempPassDurationExceeded)

	// Another device has its own trial.
	other := newDevice(t, s, d.token, "other-tv")
	if it := decisions(t, other.decide("authorize", "TempPass_REF30", "news"))[0]; it["authorized"] != true {
		t.Errorf("other device: %v", it)
	}
}

func TestTempPassResources(t *testing.T) {
	s := start(t)
	d := newDevice(t, s, registerClient(t, s, "sandbox-statement"), "tv")
	for _, res := range []string{"a", "b", "c", "a"} {
		if it := decisions(t, d.decide("authorize", "TempPass_REF30", res))[0]; it["authorized"] != true {
			t.Fatalf("resource %s: %v", res, it)
		}
	}
	it := decisions(t, d.decide("authorize", "TempPass_REF30", "d"))[0]
	if errorCode(it["error"]) != CodeTempPassResourcesExceeded {
		t.Errorf("fourth distinct resource: %v", it)
	}
	wantStatusCode(t, d.get("/profiles/TempPass_REF30"), http.StatusForbidden, CodeTempPassResourcesExceeded)
}

func TestPromotionalTempPass(t *testing.T) {
	f := DefaultFixture()
	f.MVPDs = append(f.MVPDs, MVPD{ID: "PromoPass", DisplayName: "Promo", TempPass: &TempPass{Duration: Duration(time.Hour), MaxResources: 2, Promotional: true}})
	f.ServiceProviders[0].MVPDs = append(f.ServiceProviders[0].MVPDs, "PromoPass")
	s := start(t, func(c *Config) { c.Fixture = f })
	tok := registerClient(t, s, "sandbox-statement")
	tv := newDevice(t, s, tok, "tv")

	if it := decisions(t, tv.decide("authorize", "PromoPass", "a"))[0]; errorCode(it["error"]) != CodeInvalidHeaderTempPassIdentity || it["error"].(map[string]any)["status"] != float64(400) {
		t.Fatalf("no identity on authorize: %v", it)
	}
	wantStatusCode(t, tv.get("/profiles/PromoPass"), http.StatusBadRequest, CodeInvalidHeaderTempPassIdentity)

	identity := base64.StdEncoding.EncodeToString([]byte(`{"email":"hash-of-foo"}`))
	tv.extra.Set("AP-TempPass-Identity", identity)
	if it := decisions(t, tv.decide("authorize", "PromoPass", "a"))[0]; it["authorized"] != true {
		t.Fatalf("with identity: %v", it)
	}
	// The same identity on a new device continues the trial.
	phone := newDevice(t, s, tok, "phone")
	phone.extra.Set("AP-TempPass-Identity", identity)
	if it := decisions(t, phone.decide("authorize", "PromoPass", "b"))[0]; it["authorized"] != true {
		t.Fatalf("phone: %v", it)
	}
	if it := decisions(t, phone.decide("authorize", "PromoPass", "c"))[0]; errorCode(it["error"]) != CodeTempPassResourcesExceeded {
		t.Errorf("third resource across devices: %v", it)
	}
	// A new identity on a known device continues the device's trial.
	tv.extra.Set("AP-TempPass-Identity", base64.StdEncoding.EncodeToString([]byte(`{"email":"hash-of-bar"}`)))
	wantStatusCode(t, tv.get("/profiles/PromoPass"), http.StatusForbidden, CodeTempPassResourcesExceeded)
}
