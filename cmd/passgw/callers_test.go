package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/v1api/callerauth"
)

// Refusal bodies: a bad DCR token is answered the OAuth way, a bad signed
// header or a missing credential the v1 way.
const (
	bodyAccessDenied = `{"error":"access_denied"}`
	bodyUnauthorized = `{"status":401,"message":"Unauthorized"}`
)

// signed returns the legacy signed Authorization header for a call made at
// the rig's current time, signed with key.
func (r *rig) signed(nonce string, at time.Time, key string) http.Header {
	h := callerauth.SignHeader(http.MethodGet, "REF30", nonce, at.UnixMilli(), "/api/v1/checkauthn", rigPublicKey, []byte(key))
	return http.Header{"Authorization": {h}, "Accept": {"application/json"}}
}

// TestCallerAuthRequired drives caller_auth: required through the whole
// gateway: a device registers, gets a token, signs in and calls with it; a
// pre-DCR device calls with the signed header; then every kind of bad or
// missing credential is refused with 401 without any call reaching v2.
func TestCallerAuthRequired(t *testing.T) {
	r := newRig(t, nil)
	id, secret := r.register(rigStatement)
	tok := r.token(id, secret)

	// Accepted: the whole device flow with the bearer token.
	r.signIn("dev-dcr", bearer(tok), "alice", "alice-pass")
	n := r.upstreamCount()
	resp, body := r.do(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev-dcr&format=json", bearer(tok), "")
	r.want(resp, body, http.StatusOK)
	resp, body = r.do(http.MethodGet, "/api/v1/authorize?requestor=REF30&deviceId=dev-dcr&resource=news&format=json", bearer(tok), "")
	r.want(resp, body, http.StatusOK)
	if !strings.Contains(body, `"resource":"news"`) {
		t.Fatalf("authorize body %s", body)
	}
	if len(r.upstreamSince(n)) == 0 {
		t.Fatal("accepted calls made no v2 call; the refusals below would prove nothing")
	}
	// The historical access_token parameter is accepted too.
	resp, body = r.do(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev-dcr&format=json&access_token="+url.QueryEscape(tok), nil, "")
	r.want(resp, body, http.StatusOK)
	// And a pre-DCR device with a signed header.
	resp, body = r.do(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev-dcr", r.signed("nonce-accepted", r.clock.Now(), rigPrivateKey), "")
	r.want(resp, body, http.StatusOK)

	otherID, otherSecret := r.register(rigOtherStatement)
	otherTok := r.token(otherID, otherSecret)
	tampered := tok[:len(tok)-2] + flip(tok[len(tok)-2]) + tok[len(tok)-1:]

	// The token endpoint refuses a wrong client secret the DCR way.
	n = r.upstreamCount()
	resp, body = r.tokenRequest(id, secret[:len(secret)-1]+flip(secret[len(secret)-1]))
	if resp.StatusCode != http.StatusBadRequest || body != `{"error":"invalid_client"}` {
		t.Errorf("token with a wrong secret: %d %s, want 400 invalid_client", resp.StatusCode, body)
	}
	if got := r.upstreamSince(n); len(got) != 0 {
		t.Errorf("token with a wrong secret reached the sandbox: %v", paths(got))
	}

	const checkauthn = "/api/v1/checkauthn?requestor=REF30&deviceId=dev-dcr&format=json"
	refusals := []struct {
		name   string
		target string
		header func() http.Header
		body   string
		// advance moves the clock before the call.
		advance time.Duration
	}{
		{name: "missing credential", target: checkauthn, body: bodyUnauthorized,
			header: func() http.Header { return nil }},
		{name: "token of another requestor", target: checkauthn, body: bodyAccessDenied,
			header: func() http.Header { return bearer(otherTok) }},
		{name: "tampered token", target: checkauthn, body: bodyAccessDenied,
			header: func() http.Header { return bearer(tampered) }},
		{name: "tampered access_token parameter", target: checkauthn + "&access_token=" + url.QueryEscape(tampered), body: bodyAccessDenied,
			header: func() http.Header { return nil }},
		{name: "not a token", target: checkauthn, body: bodyAccessDenied,
			header: func() http.Header { return bearer("not-a-token") }},
		{name: "signed with a wrong secret", target: checkauthn, body: bodyUnauthorized,
			header: func() http.Header { return r.signed("nonce-wrong-key", r.clock.Now(), "not-the-private-key") }},
		{name: "replayed nonce", target: checkauthn, body: bodyUnauthorized,
			header: func() http.Header { return r.signed("nonce-accepted", r.clock.Now(), rigPrivateKey) }},
		{name: "stale request_time", target: checkauthn, body: bodyUnauthorized,
			header: func() http.Header {
				return r.signed("nonce-stale", r.clock.Now().Add(-callerauth.DefaultSkew-time.Second), rigPrivateKey)
			}},
		{name: "request_time from the future", target: checkauthn, body: bodyUnauthorized,
			header: func() http.Header {
				return r.signed("nonce-future", r.clock.Now().Add(callerauth.DefaultSkew+time.Second), rigPrivateKey)
			}},
		{name: "regcode without credential", target: "/reggie/v1/REF30/regcode?format=json&deviceId=dev-x", body: bodyUnauthorized,
			header: func() http.Header { return nil }},
		// Last: it moves the shared clock past the token's lifetime.
		{name: "expired token", target: checkauthn, body: bodyAccessDenied, advance: callerauth.DefaultTokenTTL + time.Second,
			header: func() http.Header { return bearer(tok) }},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			r.clock.Advance(c.advance)
			n := r.upstreamCount()
			method := http.MethodGet
			if strings.HasPrefix(c.target, "/reggie/") {
				method = http.MethodPost
			}
			h := c.header()
			if h == nil {
				h = http.Header{}
			}
			h.Set("Accept", "application/json")
			resp, body := r.do(method, c.target, h, "")
			if resp.StatusCode != http.StatusUnauthorized || body != c.body {
				t.Errorf("status %d, body %s; want 401 %s", resp.StatusCode, body, c.body)
			}
			if got := r.upstreamSince(n); len(got) != 0 {
				t.Errorf("a refused call reached the sandbox: %v", paths(got))
			}
		})
	}

	// After all that, a fresh token still works: the refusals broke nothing.
	tok = r.token(id, secret)
	resp, body = r.do(http.MethodGet, checkauthn, bearer(tok), "")
	r.want(resp, body, http.StatusOK)
}

// TestCallerAuthOptional checks a credential only when one is sent.
func TestCallerAuthOptional(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Requestors[0].CallerAuth = "optional" })
	for _, c := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no credential", nil, http.StatusForbidden}, // reaches v2: not signed in
		{"bad token", bearer("not-a-token"), http.StatusUnauthorized},
		{"good signed header", r.signed("n-1", r.clock.Now(), rigPrivateKey), http.StatusForbidden},
		{"bad signed header", r.signed("n-2", r.clock.Now(), "wrong"), http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := r.upstreamCount()
			resp, body := r.do(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev-o&format=json", c.header, "")
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, c.want, body)
			}
			if reached := len(r.upstreamSince(n)) > 0; reached != (c.want != http.StatusUnauthorized) {
				t.Errorf("reached v2 = %v for status %d", reached, c.want)
			}
		})
	}
}

// TestCallerCredentialsAcrossInstances shows that, with no dcr_keys
// configured, the generated key lives in the store: credentials issued by
// one instance work on another sharing the store, and a nonce accepted by
// one is refused by the other. An instance with its own store has its own
// key.
func TestCallerCredentialsAcrossInstances(t *testing.T) {
	a := newRig(t, nil)
	b := a.instance()
	if a.URL == b.URL {
		t.Fatal("the second instance is the first")
	}

	id, secret := a.register(rigStatement)
	tok := b.token(id, secret)
	const checkauthn = "/api/v1/checkauthn?requestor=REF30&deviceId=dev-i&format=json"
	resp, body := a.do(http.MethodGet, checkauthn, bearer(tok), "")
	a.want(resp, body, http.StatusForbidden) // accepted: v2 says not signed in
	resp, body = b.do(http.MethodGet, checkauthn, bearer(tok), "")
	b.want(resp, body, http.StatusForbidden)

	header := a.signed("nonce-shared", a.clock.Now(), rigPrivateKey)
	resp, body = a.do(http.MethodGet, checkauthn, header, "")
	a.want(resp, body, http.StatusForbidden)
	n := a.upstreamCount()
	resp, body = b.do(http.MethodGet, checkauthn, header, "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("nonce replayed to the second instance: status %d, body %s", resp.StatusCode, body)
	}
	if got := a.upstreamSince(n); len(got) != 0 {
		t.Errorf("the replay reached the sandbox: %v", paths(got))
	}

	// Another gateway with a store of its own generated another key.
	elsewhere := newRig(t, nil)
	resp, body = elsewhere.do(http.MethodGet, checkauthn, bearer(tok), "")
	if resp.StatusCode != http.StatusUnauthorized || body != bodyAccessDenied {
		t.Errorf("token of another store's key: %d %s, want 401 access_denied", resp.StatusCode, body)
	}
}

// TestCallerCredentialsConfiguredKey shows that configured dcr_keys, not a
// store, make credentials portable: two gateways on separate stores with
// the same key accept each other's tokens.
func TestCallerCredentialsConfiguredKey(t *testing.T) {
	withKey := func(c *Config) { c.DCRKeys = []string{rigDCRKey} }
	a, b := newRig(t, withKey), newRig(t, withKey)
	id, secret := a.register(rigStatement)
	tok := b.token(id, secret)
	resp, body := a.do(http.MethodGet, "/api/v1/checkauthn?requestor=REF30&deviceId=dev-k&format=json", bearer(tok), "")
	a.want(resp, body, http.StatusForbidden)
}

// flip returns a different base64url character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
