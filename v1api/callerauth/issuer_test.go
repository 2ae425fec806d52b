package callerauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client"
)

// TestRegisterAndTokenBodies compares the 201 answers with the documented
// samples: same fields, order and JSON types, and the values the gateway
// owes the client (grant type, scope, bearer, expiry, units).
func TestRegisterAndTokenBodies(t *testing.T) {
	c := newClock()
	is := newTestIssuer(t, c, testRing(t, testKey(t, "k1")), nil)

	w := post(is, "/o/client/register", "application/json;charset=utf-8",
		`{"software_statement":"sandbox-statement","redirect_uri":"app://com.programmer.adobe#sdasdsadas"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("register: status %d, body %s", w.Code, w.Body)
	}
	if diff := cmp.Diff(shape(t, testenv.Sample(t, "v1", "dcr-register-201.json")), shape(t, w.Body.Bytes())); diff != "" {
		t.Errorf("register body shape (-sample +got):\n%s", diff)
	}
	checkJSONHeaders(t, w.Header())
	var reg v2client.ClientCredentials
	if err := json.Unmarshal(w.Body.Bytes(), &reg); err != nil {
		t.Fatal(err)
	}
	want := v2client.ClientCredentials{ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
		RedirectURIs: []string{"app://com.programmer.adobe#sdasdsadas"}, GrantTypes: []string{"client_credentials"},
		Scopes: []string{"api:client:v2"}, ClientIDIssuedAt: c.Now().Unix()}
	if diff := cmp.Diff(want, reg); diff != "" {
		t.Errorf("registration (-want +got):\n%s", diff)
	}
	if reg.ClientID == "" || reg.ClientSecret == "" || strings.Contains(reg.ClientID, sandboxStatement) {
		t.Errorf("client id %q / secret empty or carrying the statement", reg.ClientID)
	}

	form := url.Values{"client_id": {reg.ClientID}, "client_secret": {reg.ClientSecret}, "grant_type": {"client_credentials"}}
	w = post(is, "/o/client/token", "application/x-www-form-urlencoded", form.Encode())
	if w.Code != http.StatusCreated {
		t.Fatalf("token: status %d, body %s", w.Code, w.Body)
	}
	if diff := cmp.Diff(shape(t, testenv.Sample(t, "v1", "dcr-token-201.json")), shape(t, w.Body.Bytes())); diff != "" {
		t.Errorf("token body shape (-sample +got):\n%s", diff)
	}
	checkJSONHeaders(t, w.Header())
	var tok v2client.AccessToken
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	if tok.CreatedAt != c.Now().UnixMilli() || tok.ExpiresIn != int64(DefaultTokenTTL/time.Second) || tok.TokenType != "bearer" {
		t.Errorf("token created_at %d expires_in %d type %q, want %d %d bearer",
			tok.CreatedAt, tok.ExpiresIn, tok.TokenType, c.Now().UnixMilli(), int64(DefaultTokenTTL/time.Second))
	}
	got, err := is.VerifyToken(tok.AccessToken)
	if err != nil {
		t.Fatalf("issued token does not verify: %v", err)
	}
	if got.ID != tok.ID || got.Client.ID != reg.ClientID || got.Client.Requestor != sandboxRequestor {
		t.Errorf("verified token %+v does not match the answer %+v", got, tok)
	}
}

func checkJSONHeaders(t *testing.T, h http.Header) {
	t.Helper()
	if ct := h.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// TestRegisterRefusals covers every documented register error.
func TestRegisterRefusals(t *testing.T) {
	is := newTestIssuer(t, newClock(), testRing(t, testKey(t, "k1")), nil)
	tests := []struct {
		name, contentType, body, want string
	}{
		{"broken JSON of the documented sample", "application/json", string(testenv.Sample(t, "v1", "dcr-register-request.broken.json")), ErrCodeInvalidRequest},
		{"no statement", "application/json", `{"redirect_uri":"app://x"}`, ErrCodeInvalidRequest},
		{"statement not a string", "application/json", `{"software_statement":42}`, ErrCodeInvalidRequest},
		{"empty body", "application/json", ``, ErrCodeInvalidRequest},
		{"unknown plain text", "application/json", `{"software_statement":"sandbox-statement "}`, ErrCodeInvalidSoftwareStatement},
		{"unlisted JWT", "application/json", `{"software_statement":"eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6Ing5In0.c2ln"}`, ErrCodeUnapprovedSoftwareStatement},
		{"redirect without scheme", "application/json", `{"software_statement":"sandbox-statement","redirect_uri":"not a uri"}`, ErrCodeInvalidRedirectURI},
		{"redirect relative", "application/json", `{"software_statement":"sandbox-statement","redirect_uri":"/callback"}`, ErrCodeInvalidRedirectURI},
		{"oversized body", "application/json", `{"software_statement":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`, ErrCodeInvalidRequest},
	}
	wantShape := shape(t, testenv.Sample(t, "v1", "dcr-register-400.json"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := post(is, "/o/client/register", tt.contentType, tt.body)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", w.Code)
			}
			if got := w.Body.String(); got != `{"error":"`+tt.want+`"}` {
				t.Errorf("body %s, want error %s", got, tt.want)
			}
			if diff := cmp.Diff(wantShape, shape(t, w.Body.Bytes())); diff != "" {
				t.Errorf("shape (-sample +got):\n%s", diff)
			}
		})
	}
}

// TestRegisterAccepts covers the accepted variants: a listed JWT (no
// signature check), a form body, no redirect_uri.
func TestRegisterAccepts(t *testing.T) {
	is := newTestIssuer(t, newClock(), testRing(t, testKey(t, "k1")), nil)
	for _, tt := range []struct {
		name, contentType, body, wantRequestor string
		wantRedirects                          []string
	}{
		{"listed JWT with a bogus signature", "application/json", `{"software_statement":"` + jwtStatement + `"}`, "OTHER", []string{}},
		{"form body", "application/x-www-form-urlencoded", "software_statement=sandbox-statement&redirect_uri=adobepass%3A%2F%2Fcom.programmer", sandboxRequestor, []string{"adobepass://com.programmer"}},
		{"no content type", "", `{"software_statement":"sandbox-statement"}`, sandboxRequestor, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := post(is, "/o/client/register", tt.contentType, tt.body)
			if w.Code != http.StatusCreated {
				t.Fatalf("status %d, body %s", w.Code, w.Body)
			}
			var reg v2client.ClientCredentials
			if err := json.Unmarshal(w.Body.Bytes(), &reg); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantRedirects, reg.RedirectURIs); diff != "" {
				t.Errorf("redirect_uris (-want +got):\n%s", diff)
			}
			tok, err := is.VerifyToken(token(t, is, reg.ClientID, reg.ClientSecret))
			if err != nil {
				t.Fatal(err)
			}
			if tok.Client.Requestor != tt.wantRequestor {
				t.Errorf("requestor %q, want %q", tok.Client.Requestor, tt.wantRequestor)
			}
		})
	}
}

// TestTokenRefusals covers every token error, each answered 400 with the
// documented body shape.
func TestTokenRefusals(t *testing.T) {
	is := newTestIssuer(t, newClock(), testRing(t, testKey(t, "k1")), nil)
	id, secret := register(t, is, sandboxStatement)
	otherID, _ := register(t, is, jwtStatement)
	// A client made with a key this issuer never had.
	stranger := newTestIssuer(t, newClock(), testRing(t, testKey(t, "zz")), nil)
	strangerID, strangerSecret := register(t, stranger, sandboxStatement)
	// The last character changed to another that base64 can end with, so
	// that the secret is wrong whatever it ended with.
	wrongSecret := secret[:len(secret)-1] + "A"
	if strings.HasSuffix(secret, "A") {
		wrongSecret = secret[:len(secret)-1] + "E"
	}

	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"no grant type", url.Values{"client_id": {id}, "client_secret": {secret}}, ErrCodeInvalidRequest},
		{"no client id", url.Values{"client_secret": {secret}, "grant_type": {"client_credentials"}}, ErrCodeInvalidRequest},
		{"no secret", url.Values{"client_id": {id}, "grant_type": {"client_credentials"}}, ErrCodeInvalidRequest},
		{"other grant", url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"password"}}, ErrCodeUnsupportedGrantType},
		{"wrong secret", url.Values{"client_id": {id}, "client_secret": {wrongSecret}, "grant_type": {"client_credentials"}}, ErrCodeInvalidClient},
		{"secret of another client", url.Values{"client_id": {otherID}, "client_secret": {secret}, "grant_type": {"client_credentials"}}, ErrCodeInvalidClient},
		{"made-up client id", url.Values{"client_id": {"s6BhdRkqt3"}, "client_secret": {"t7AkePiru4"}, "grant_type": {"client_credentials"}}, ErrCodeInvalidClient},
		{"client of an unknown key", url.Values{"client_id": {strangerID}, "client_secret": {strangerSecret}, "grant_type": {"client_credentials"}}, ErrCodeInvalidClient},
		{"tampered requestor", url.Values{"client_id": {retarget(t, id, "OTHER")}, "client_secret": {secret}, "grant_type": {"client_credentials"}}, ErrCodeInvalidClient},
	}
	wantShape := shape(t, testenv.Sample(t, "v1", "dcr-token-400.json"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := post(is, "/o/client/token", "application/x-www-form-urlencoded", tt.form.Encode())
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", w.Code)
			}
			if got := w.Body.String(); got != `{"error":"`+tt.want+`"}` {
				t.Errorf("body %s, want error %s", got, tt.want)
			}
			if diff := cmp.Diff(wantShape, shape(t, w.Body.Bytes())); diff != "" {
				t.Errorf("shape (-sample +got):\n%s", diff)
			}
		})
	}
}

// retarget rewrites the requestor field of a client id.
func retarget(t *testing.T, clientID, requestor string) string {
	t.Helper()
	f := strings.Split(clientID, ".")
	f[2] = base64.RawURLEncoding.EncodeToString([]byte(requestor))
	return strings.Join(f, ".")
}

// TestTokenBasicAuth: RFC 6749 clients send the credentials in HTTP Basic.
func TestTokenBasicAuth(t *testing.T) {
	is := newTestIssuer(t, newClock(), testRing(t, testKey(t, "k1")), nil)
	id, secret := register(t, is, sandboxStatement)
	for _, tt := range []struct {
		secret string
		want   int
	}{{secret, http.StatusCreated}, {"wrong", http.StatusBadRequest}} {
		r := httptestRequest("/o/client/token", "grant_type=client_credentials")
		r.SetBasicAuth(id, tt.secret)
		w := serveRecorder(is, r)
		if w.Code != tt.want {
			t.Errorf("basic auth: status %d, want %d (%s)", w.Code, tt.want, w.Body)
		}
	}
}

// TestIssuerRouting: only POST on register and token.
func TestIssuerRouting(t *testing.T) {
	is := newTestIssuer(t, newClock(), testRing(t, testKey(t, "k1")), nil)
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/o/client/register", http.StatusMethodNotAllowed},
		{http.MethodGet, "/o/client/token", http.StatusMethodNotAllowed},
		{http.MethodPost, "/o/client/scopes", http.StatusNotFound},
		{http.MethodPost, "/register", http.StatusBadRequest}, // prefix stripped: still routed
	} {
		r := httptestRequest(tt.path, "")
		r.Method = tt.method
		if w := serveRecorder(is, r); w.Code != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, w.Code, tt.want)
		}
	}
}

// TestKeyRotation: tokens and clients of a previous key keep working while
// it is in the ring and are refused once it is retired.
func TestKeyRotation(t *testing.T) {
	c := newClock()
	old, next := testKey(t, "k1"), testKey(t, "k2")
	before := newTestIssuer(t, c, testRing(t, old), nil)
	id, secret := register(t, before, sandboxStatement)
	tok := token(t, before, id, secret)

	rotated := newTestIssuer(t, c, testRing(t, next, old), nil)
	if _, err := rotated.VerifyToken(tok); err != nil {
		t.Errorf("token of the previous key refused during rotation: %v", err)
	}
	newTok := token(t, rotated, id, secret)
	if !strings.HasPrefix(newTok, "pt1.k2.") {
		t.Errorf("token after rotation not signed with the current key: %.7s", newTok)
	}

	retired := newTestIssuer(t, c, testRing(t, next), nil)
	if _, err := retired.VerifyToken(tok); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("token of a retired key: error %v, want ErrUnknownKey", err)
	}
	if _, err := retired.VerifyToken(newTok); err != nil {
		t.Errorf("token of the current key refused: %v", err)
	}
	form := url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}}
	if w := post(retired, "/o/client/token", "application/x-www-form-urlencoded", form.Encode()); w.Body.String() != `{"error":"invalid_client"}` {
		t.Errorf("client of a retired key: %d %s, want invalid_client", w.Code, w.Body)
	}
}

// TestVerifyToken covers the ways a token is refused.
func TestVerifyToken(t *testing.T) {
	c := newClock()
	kr := testRing(t, testKey(t, "k1"))
	is := newTestIssuer(t, c, kr, func(cfg *IssuerConfig) { cfg.TokenTTL = time.Hour })
	id, secret := register(t, is, sandboxStatement)
	tok := token(t, is, id, secret)
	revoked := newTestIssuer(t, c, kr, func(cfg *IssuerConfig) { cfg.Statements = testStatements()[1:] })
	moved := newTestIssuer(t, c, kr, func(cfg *IssuerConfig) {
		cfg.Statements = []Statement{{Requestor: "ELSEWHERE", Text: sandboxStatement}}
	})

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	parts := strings.Split(tok, ".")
	tests := []struct {
		name    string
		is      *Issuer
		tok     string
		advance time.Duration
		want    error
	}{
		{"valid", is, tok, 0, nil},
		{"valid just before expiry", is, tok, time.Hour - time.Second, nil},
		{"expired", is, tok, time.Hour, ErrExpired},
		{"tampered MAC", is, flip(tok, len(tok)-3), 0, ErrBadMAC},
		{"tampered expiry", is, strings.Join(append(append([]string{}, parts[:2]...), append([]string{"9999999999"}, parts[3:]...)...), "."), 0, ErrBadMAC},
		{"tampered client", is, strings.Join(append(append([]string{}, parts[:4]...), base64.RawURLEncoding.EncodeToString([]byte(retarget(t, id, "OTHER"))), parts[5]), "."), 0, ErrBadMAC},
		{"client secret as token", is, secret, 0, ErrMalformed},
		{"client id as token", is, id, 0, ErrMalformed},
		{"garbage", is, "2YotnFZFEjr1zCsicMWpAA", 0, ErrMalformed},
		{"huge", is, strings.Repeat("a.", 2000), 0, ErrMalformed},
		{"statement revoked", revoked, tok, 0, ErrRevoked},
		{"statement moved to another requestor", moved, tok, 0, ErrRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			c.Advance(tt.advance)
			tt.is.cfg.Now = c.Now
			_, err := tt.is.VerifyToken(tt.tok)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), tt.tok) {
				t.Errorf("error string quotes the token")
			}
		})
	}
}

func TestNewIssuerValidation(t *testing.T) {
	kr := testRing(t, testKey(t, "k1"))
	for _, tt := range []struct {
		name string
		cfg  IssuerConfig
	}{
		{"no keys", IssuerConfig{Statements: testStatements()}},
		{"statement without requestor", IssuerConfig{Keys: kr, Statements: []Statement{{Text: "s"}}}},
		{"statement for two requestors", IssuerConfig{Keys: kr, Statements: []Statement{{Requestor: "A", Text: "secret-s"}, {Requestor: "B", Text: "secret-s"}}}},
	} {
		_, err := NewIssuer(tt.cfg)
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
		} else if strings.Contains(err.Error(), "secret-s") {
			t.Errorf("%s: error quotes the statement: %v", tt.name, err)
		}
	}
}
