package callerauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client"
)

// newClock returns the settable clock of the package's tests.
func newClock() *testenv.Clock { return testenv.NewClock(time.Unix(1_750_000_000, 0)) }

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

const (
	sandboxStatement = "sandbox-statement"
	sandboxRequestor = "REF30"
)

// jwtStatement is a JWT-shaped statement (signature deliberately bogus)
// whose claims name an application.
var jwtStatement = "eyJhbGciOiJSUzI1NiJ9." +
	base64.RawURLEncoding.EncodeToString([]byte(`{"software_id":"app-42","client_name":"Other App","software_version":"3.1"}`)) +
	".c2lnbmF0dXJl"

func testKey(t testing.TB, id string) Key {
	t.Helper()
	return Key{ID: id, Secret: bytes.Repeat([]byte(id[:1]), 32)}
}

func testRing(t testing.TB, current Key, previous ...Key) *KeyRing {
	t.Helper()
	kr, err := NewKeyRing(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func testStatements() []Statement {
	return []Statement{
		{Requestor: sandboxRequestor, Text: sandboxStatement},
		{Requestor: "OTHER", Text: jwtStatement},
	}
}

func newTestIssuer(t testing.TB, c *testenv.Clock, kr *KeyRing, mod func(*IssuerConfig)) *Issuer {
	t.Helper()
	cfg := IssuerConfig{Keys: kr, Statements: testStatements(), Now: c.Now, Logger: quietLogger()}
	if mod != nil {
		mod(&cfg)
	}
	is, err := NewIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func post(h http.Handler, path, contentType, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// credentials registers with statement and returns client id and secret.
func register(t testing.TB, h http.Handler, statement string) (id, secret string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"software_statement": statement})
	w := post(h, "/o/client/register", "application/json;charset=utf-8", string(body))
	if w.Code != http.StatusCreated {
		t.Fatalf("register: status %d, body %s", w.Code, w.Body)
	}
	var reg v2client.ClientCredentials
	if err := json.Unmarshal(w.Body.Bytes(), &reg); err != nil {
		t.Fatal(err)
	}
	return reg.ClientID, reg.ClientSecret
}

// token obtains an access token for the client.
func token(t testing.TB, h http.Handler, id, secret string) string {
	t.Helper()
	form := url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {"client_credentials"}}
	w := post(h, "/o/client/token", "application/x-www-form-urlencoded", form.Encode())
	if w.Code != http.StatusCreated {
		t.Fatalf("token: status %d, body %s", w.Code, w.Body)
	}
	var tok v2client.AccessToken
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// shape is a JSON object's keys in order, each with its JSON type (and an
// array's element type): what a client parser depends on.
func shape(t testing.TB, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", body)
	}
	var out []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, k.(string)+":"+jsonType(v))
	}
	return out
}

func jsonType(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	case []any:
		if len(x) == 0 {
			return "array"
		}
		return "array of " + jsonType(x[0])
	}
	return "object"
}

func readAll(t testing.TB, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func httptestRequest(path, form string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func serveRecorder(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
