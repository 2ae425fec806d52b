package v2client

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzErrorDecoder feeds arbitrary answers (status, content type, body) to
// the decoder of failed and successful calls: it never panics, a failure
// always yields a usable *HTTPError (status kept, throttling and refused
// credentials recognised, a message naming the status), and a body that is
// not an error object never reaches the error text.
func FuzzErrorDecoder(f *testing.F) {
	f.Add(400, "application/json", `{"status":400,"code":"invalid_parameter_service_provider","message":"m","action":"configuration"}`)
	f.Add(401, "application/json", `{"error":"invalid_client","error_description":"unknown client"}`)
	f.Add(403, "application/json;charset=utf-8", `{"status":"403","code":12}`)
	f.Add(429, "text/html", "<html><body>Too many requests</body></html>")
	f.Add(502, "", "upstream connect error or disconnect/reset before headers")
	f.Add(500, "application/json", `{"error":null,"code":"internal_server_error"}`)
	f.Add(500, "application/json", `{"error":{"nested":true},"code":"x"}`)
	f.Add(200, "application/json", `{"profiles":{"AcmeCable":{"notBefore":"1","notAfter":1e400}}}`)
	f.Add(200, "application/json", `{"decisions":[{"authorized":true,"error":{"status":403}}]}`)
	f.Add(201, "application/json", `{"client_id":1,"actionName":["x"]}`)
	f.Add(503, "text/plain", "\x00\xff{")
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		if status < 100 || status > 999 {
			t.Skip()
		}
		cl := &call{method: http.MethodGet, path: "/api/v2/REF30/profiles"}
		ans := &answer{status: status, contentType: contentType, body: []byte(body)}
		if status >= 200 && status < 300 {
			for _, out := range []any{&Profiles{}, &Decisions{}, &Session{}, &Configuration{}, &Logouts{}, &ClientCredentials{}, &AccessToken{}} {
				_ = decode(cl, ans, out)
			}
			return
		}
		he := (&Client{}).httpError(cl, ans)
		var err error = he
		if got := StatusCode(err); got != status {
			t.Fatalf("StatusCode = %d, want %d", got, status)
		}
		msg := err.Error()
		if !strings.Contains(msg, strconv.Itoa(status)) {
			t.Fatalf("error text %q does not name status %d", msg, status)
		}
		if IsThrottled(err) != (status == http.StatusTooManyRequests) {
			t.Fatalf("IsThrottled = %v for status %d", IsThrottled(err), status)
		}
		if errors.Is(err, ErrUnauthorized) != (status == http.StatusUnauthorized && he.DCR == nil) {
			t.Fatalf("ErrUnauthorized match wrong for status %d (DCR %v)", status, he.DCR)
		}
		if he.Enhanced != nil && he.DCR != nil {
			t.Fatal("both an Enhanced and a DCR error decoded")
		}
		if he.Enhanced != nil && (he.Enhanced.Code == "" || Code(err) != he.Enhanced.Code) {
			t.Fatalf("Enhanced error without a usable code: %+v", he.Enhanced)
		}
		if he.DCR != nil && he.DCR.Code == "" {
			t.Fatalf("DCR error without a code: %+v", he.DCR)
		}
		if he.Enhanced == nil && he.DCR == nil && len(body) >= 8 &&
			!strings.Contains(contentType, body) && strings.Contains(msg, body) {
			t.Fatalf("undecoded body reached the error text: %q", msg)
		}
	})
}

// FuzzAttributeString checks that Attribute.String's shortcut for plain
// strings answers what decoding the value with encoding/json answers.
func FuzzAttributeString(f *testing.F) {
	for _, s := range []string{`"alice"`, `"a\"b"`, `"é"`, `"\u00e9"`, `""`, `"`, `12`, ` "x" `, `["10001"]`, "\"a\tb\"", `"a\\"`, "\"\x7f\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Attribute{Value: b}.String()
		var want string
		if json.Unmarshal(b, &want) != nil {
			want = string(bytes.TrimSpace(b))
		}
		if got != want {
			t.Fatalf("String(%q) = %q, want %q", b, got, want)
		}
	})
}
