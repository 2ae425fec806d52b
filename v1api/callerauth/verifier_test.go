package callerauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/v1model"
)

var legacyKey = []byte("ref30-private-key")

const legacyPublicKey = "ref30-public-key"

func legacyKeys(requestor, publicKey string) ([]byte, bool) {
	if requestor == sandboxRequestor && publicKey == legacyPublicKey {
		return legacyKey, true
	}
	return nil, false
}

// outcome classifies an Authenticate result the way v1api renders it.
func outcome(err error) string {
	var ce *v1model.CredentialError
	var te *v1model.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ce):
		return fmt.Sprintf("%d %s", ce.Status, ce.Code)
	case errors.As(err, &te):
		return fmt.Sprintf("%d %s", te.Status, te.Message)
	}
	return "failure: " + err.Error()
}

// TestAuthenticate covers every acceptance and refusal path of the
// Verifier under each policy.
func TestAuthenticate(t *testing.T) {
	c := newClock()
	k1, k2 := testKey(t, "k1"), testKey(t, "k2")
	issuer := newTestIssuer(t, c, testRing(t, k1), func(cfg *IssuerConfig) { cfg.TokenTTL = time.Hour })
	id, secret := register(t, issuer, sandboxStatement)
	valid := token(t, issuer, id, secret)
	otherID, otherSecret := register(t, issuer, jwtStatement)
	otherTok := token(t, issuer, otherID, otherSecret)
	expiring := valid // expires in an hour: cases advance the clock
	retiredKeyTok := func() string {
		old := newTestIssuer(t, c, testRing(t, k2), nil)
		i, s := register(t, old, sandboxStatement)
		return token(t, old, i, s)
	}()
	tampered := valid[:len(valid)-2] + map[bool]string{true: "AA", false: "BB"}[valid[len(valid)-2:] != "AA"]

	now := c.Now().UnixMilli()
	sign := func(requestor string, at int64, pub string, key []byte) string {
		return SignHeader("GET", requestor, "nonce-"+strconv.FormatInt(at, 10)+requestor+pub+string(key), at, "/api/v1/checkauthn", pub, key)
	}
	goodHeader := sign(sandboxRequestor, now, legacyPublicKey, legacyKey)

	ref30 := v1model.Caller{AuthorizationType: v1model.AuthorizationOAuth2, Requestor: sandboxRequestor}
	otherApp := v1model.Caller{AuthorizationType: v1model.AuthorizationOAuth2, Requestor: "OTHER",
		Application: &v1model.SourceApplication{ID: "app-42", Name: "Other App", Version: "3.1"}}
	legacy := v1model.Caller{Requestor: sandboxRequestor}

	type cred struct{ auth, query string }
	bearer := func(tok string) cred { return cred{auth: "Bearer " + tok} }
	tests := []struct {
		name       string
		mode       Mode
		requestor  string
		cred       cred
		advance    time.Duration
		revoked    bool
		want       string
		wantCaller v1model.Caller
	}{
		// DCR bearer tokens.
		{"required, valid bearer", ModeRequired, sandboxRequestor, bearer(valid), 0, false, "ok", ref30},
		{"required, valid bearer, lower-case scheme", ModeRequired, sandboxRequestor, cred{auth: "bearer " + valid}, 0, false, "ok", ref30},
		{"required, valid bearer names the requestor", ModeRequired, "", bearer(valid), 0, false, "ok", ref30},
		{"required, access_token parameter", ModeRequired, sandboxRequestor, cred{query: valid}, 0, false, "ok", ref30},
		{"required, application from the JWT claims", ModeRequired, "OTHER", bearer(otherTok), 0, false, "ok", otherApp},
		{"required, expired", ModeRequired, sandboxRequestor, bearer(expiring), time.Hour, false, "401 access_denied", v1model.Caller{}},
		{"required, expired parameter", ModeRequired, sandboxRequestor, cred{query: expiring}, time.Hour, false, "401 access_denied", v1model.Caller{}},
		{"required, token of another requestor", ModeRequired, "OTHER", bearer(valid), 0, false, "401 access_denied", v1model.Caller{}},
		{"required, tampered MAC", ModeRequired, sandboxRequestor, bearer(tampered), 0, false, "401 access_denied", v1model.Caller{}},
		{"required, retired key", ModeRequired, sandboxRequestor, bearer(retiredKeyTok), 0, false, "401 access_denied", v1model.Caller{}},
		{"required, revoked statement", ModeRequired, sandboxRequestor, bearer(valid), 0, true, "403 invalid_client", v1model.Caller{}},
		{"required, client secret as token", ModeRequired, sandboxRequestor, bearer(secret), 0, false, "401 access_denied", v1model.Caller{}},
		{"optional, tampered MAC", ModeOptional, sandboxRequestor, bearer(tampered), 0, false, "401 access_denied", v1model.Caller{}},
		{"optional, valid", ModeOptional, sandboxRequestor, bearer(valid), 0, false, "ok", ref30},
		{"none, tampered MAC ignored", ModeNone, sandboxRequestor, bearer(tampered), 0, false, "ok", v1model.Caller{}},
		{"none, expired ignored", ModeNone, sandboxRequestor, bearer(expiring), time.Hour, false, "ok", v1model.Caller{}},
		{"none, valid still identifies", ModeNone, sandboxRequestor, bearer(valid), 0, false, "ok", ref30},
		{"unknown mode fails closed", Mode("requierd"), sandboxRequestor, cred{}, 0, false, "401 Unauthorized", v1model.Caller{}},

		// No credential.
		{"required, none", ModeRequired, sandboxRequestor, cred{}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"required, other scheme counts as none", ModeRequired, sandboxRequestor, cred{auth: "Basic czZCaGRSa3F0Mzo="}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"optional, none", ModeOptional, sandboxRequestor, cred{}, 0, false, "ok", v1model.Caller{}},
		{"optional, Xbox token is not ours", ModeOptional, sandboxRequestor, cred{auth: "XBL3.0 x=123;abc"}, 0, false, "ok", v1model.Caller{}},
		{"none, none", ModeNone, sandboxRequestor, cred{}, 0, false, "ok", v1model.Caller{}},

		// Pre-DCR signed header.
		{"required, signed", ModeRequired, sandboxRequestor, cred{auth: goodHeader}, 0, false, "ok", legacy},
		{"required, signed names the requestor", ModeRequired, "", cred{auth: sign(sandboxRequestor, now+1, legacyPublicKey, legacyKey)}, 0, false, "ok", legacy},
		{"required, signed 4 min early", ModeRequired, sandboxRequestor, cred{auth: sign(sandboxRequestor, now+4*60_000, legacyPublicKey, legacyKey)}, 0, false, "ok", legacy},
		{"required, signed 4 min late", ModeRequired, sandboxRequestor, cred{auth: sign(sandboxRequestor, now-4*60_000, legacyPublicKey, legacyKey)}, 0, false, "ok", legacy},
		{"required, stale request_time", ModeRequired, sandboxRequestor, cred{auth: sign(sandboxRequestor, now-6*60_000, legacyPublicKey, legacyKey)}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"required, future request_time", ModeRequired, sandboxRequestor, cred{auth: sign(sandboxRequestor, now+6*60_000, legacyPublicKey, legacyKey)}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"required, request_time in seconds", ModeRequired, sandboxRequestor, cred{auth: sign(sandboxRequestor, now/1000, legacyPublicKey, legacyKey)}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"required, wrong signature", ModeRequired, sandboxRequestor, cred{auth: sign(sandboxRequestor, now+2, legacyPublicKey, []byte("not-the-key"))}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"required, no key for the public key", ModeRequired, sandboxRequestor, cred{auth: sign(sandboxRequestor, now+3, "unknown-public", legacyKey)}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"required, header of another requestor", ModeRequired, "OTHER", cred{auth: sign(sandboxRequestor, now+4, legacyPublicKey, legacyKey)}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"required, malformed", ModeRequired, sandboxRequestor, cred{auth: "GET requestor_id=REF30, nonce=1"}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"optional, unverifiable (no key) accepted", ModeOptional, sandboxRequestor, cred{auth: sign(sandboxRequestor, now+5, "unknown-public", legacyKey)}, 0, false, "ok", legacy},
		{"optional, wrong signature", ModeOptional, sandboxRequestor, cred{auth: sign(sandboxRequestor, now+6, legacyPublicKey, []byte("not-the-key"))}, 0, false, "401 Unauthorized", v1model.Caller{}},
		{"none, wrong signature ignored", ModeNone, "", cred{auth: sign(sandboxRequestor, now+7, legacyPublicKey, []byte("not-the-key"))}, 0, false, "ok", legacy},
		{"none, malformed still names the requestor", ModeNone, "", cred{auth: "GET requestor_id=REF30, nonce=1"}, 0, false, "ok", legacy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := newClock()
			vc.Advance(tt.advance)
			iss := issuer
			if tt.revoked {
				// Same key, but the operator no longer lists REF30's statement.
				iss = newTestIssuer(t, vc, testRing(t, k1), func(cfg *IssuerConfig) { cfg.Statements = testStatements()[1:] })
			}
			iss.cfg.Now = vc.Now
			v := NewVerifier(VerifierConfig{
				Issuer:     iss,
				Policy:     func(string) Mode { return tt.mode },
				SigningKey: legacyKeys,
				Now:        vc.Now,
				Logger:     quietLogger(),
			})
			target := "/api/v1/checkauthn?deviceId=d"
			if tt.cred.query != "" {
				target += "&access_token=" + url.QueryEscape(tt.cred.query)
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			if tt.cred.auth != "" {
				r.Header.Set("Authorization", tt.cred.auth)
			}
			caller, err := v.Authenticate(r, tt.requestor)
			if got := outcome(err); got != tt.want {
				t.Fatalf("outcome %q, want %q", got, tt.want)
			}
			if diff := cmp.Diff(tt.wantCaller, caller); diff != "" {
				t.Errorf("caller (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSignedHeaderNonce: a nonce is accepted once, per requestor, and a
// failing store is a server failure rather than a refusal.
func TestSignedHeaderNonce(t *testing.T) {
	c := newClock()
	v := NewVerifier(VerifierConfig{
		Policy:     func(string) Mode { return ModeRequired },
		SigningKey: legacyKeys,
		Now:        c.Now,
		Logger:     quietLogger(),
	})
	at := c.Now().UnixMilli()
	h := SignHeader("POST", sandboxRequestor, "4f2b6c1e", at, "/reggie/v1/REF30/regcode", legacyPublicKey, legacyKey)
	call := func(header string) string {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/authorize", nil)
		r.Header.Set("Authorization", header)
		_, err := v.Authenticate(r, sandboxRequestor)
		return outcome(err)
	}
	if got := call(h); got != "ok" {
		t.Fatalf("first use: %s", got)
	}
	if got := call(h); got != "401 Unauthorized" {
		t.Errorf("replayed nonce: %s, want 401 Unauthorized", got)
	}
	c.Advance(time.Minute)
	if got := call(h); got != "401 Unauthorized" {
		t.Errorf("replayed nonce a minute later: %s, want 401 Unauthorized", got)
	}
	fresh := SignHeader("POST", sandboxRequestor, "9a8b7c6d", c.Now().UnixMilli(), "/reggie/v1/REF30/regcode", legacyPublicKey, legacyKey)
	if got := call(fresh); got != "ok" {
		t.Errorf("fresh nonce: %s", got)
	}

	failing := NewVerifier(VerifierConfig{
		Policy: func(string) Mode { return ModeRequired }, SigningKey: legacyKeys, Now: c.Now, Logger: quietLogger(),
		Nonces: failingNonces{},
	})
	r := httptest.NewRequest(http.MethodGet, "/api/v1/authorize", nil)
	r.Header.Set("Authorization", SignHeader("GET", sandboxRequestor, "n", c.Now().UnixMilli(), "/x", legacyPublicKey, legacyKey))
	_, err := failing.Authenticate(r, sandboxRequestor)
	if got := outcome(err); got == "ok" || got == "401 Unauthorized" || !errors.Is(err, errStoreDown) {
		t.Errorf("nonce store down: %q (%v), want a server failure wrapping the store error", got, err)
	}
}

var errStoreDown = errors.New("store down")

type failingNonces struct{}

func (failingNonces) SetIfAbsent(context.Context, string, time.Duration) (bool, error) {
	return false, errStoreDown
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeNone, "none": ModeNone, "Optional": ModeOptional, " required ": ModeRequired} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("strict"); err == nil {
		t.Error("ParseMode(strict) accepted")
	}
}
