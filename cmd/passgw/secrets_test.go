package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/passgw/passgw/v2client/sandbox"
)

// TestNoSecretsInLogs runs a full flow with every kind of credential —
// registration codes (the device's, and the v2 session codes the sandbox
// handed out), device DCR registration and tokens (good, wrong and tampered), a signed
// header (accepted, then replayed), the gateway's own v2 registration and
// tokens (refreshed once after the sandbox forgets them) — with every log
// line at debug level captured as JSON, and searches the logs for each
// secret: none may appear, in any encoding a logger might use.
func TestNoSecretsInLogs(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newRigLogging(t, func(c *Config) { c.DCRKeys = []string{rigDCRKey} }, logs, logger)

	id, secret := r.register(rigStatement)
	resp, body := r.tokenRequest(id, secret+"x")
	r.want(resp, body, http.StatusBadRequest)
	tok := r.token(id, secret)
	code := r.signIn("dev-s", bearer(tok), "alice", "alice-pass")
	q := "?requestor=REF30&deviceId=dev-s&format=json"
	for _, target := range []string{
		"/api/v1/checkauthn" + q,
		"/api/v1/tokens/authn" + q,
		"/api/v1/authorize" + q + "&resource=news",
		"/api/v1/tokens/authz" + q + "&resource=news",
		"/api/v1/tokens/media" + q + "&resource=news",
		"/api/v1/preauthorize" + q + "&resource=news,sports,movies",
		"/api/v1/tokens/usermetadata" + q,
	} {
		resp, body := r.do(http.MethodGet, target, bearer(tok), "")
		r.want(resp, body, http.StatusOK)
	}
	resp, body = r.do(http.MethodGet, "/api/v1/checkauthn"+q+"&access_token="+url.QueryEscape(tok), nil, "")
	r.want(resp, body, http.StatusOK)

	// The sandbox forgets the gateway's v2 token: the gateway refreshes it.
	r.sandbox.ExpireAccessTokens()
	signed := r.signed("nonce-logs", r.clock.Now(), rigPrivateKey)
	resp, body = r.do(http.MethodGet, "/api/v1/authorize"+q+"&resource=sports", signed, "")
	r.want(resp, body, http.StatusOK)
	resp, body = r.do(http.MethodGet, "/api/v1/authorize"+q+"&resource=sports", signed, "")
	r.want(resp, body, http.StatusUnauthorized) // the replayed nonce

	// A registration whose code v2 fails to answer for: the error, and
	// the lines of the call that names the code in its path, keep it out.
	resp, body = r.do(http.MethodPost, "/reggie/v1/REF30/regcode?format=json", bearer(tok), "deviceId=dev-f")
	r.want(resp, body, http.StatusCreated)
	var pending struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal([]byte(body), &pending); err != nil || pending.Code == "" {
		t.Fatalf("regcode body %s: %v", body, err)
	}
	if _, err := r.sandbox.AddFault(sandbox.Fault{Kind: sandbox.FaultStatus, Status: http.StatusInternalServerError, Path: "/api/v2/*/profiles/code/*", Count: 1}); err != nil {
		t.Fatal(err)
	}
	resp, body = r.do(http.MethodGet, "/api/v1/checkauthn/"+pending.Code+"?requestor=REF30&format=json", bearer(tok), "")
	if resp.StatusCode < 500 {
		t.Fatalf("checkauthn/{code} under a v2 failure: %d %s, want a 5xx", resp.StatusCode, body)
	}

	tampered := tok[:len(tok)-2] + flip(tok[len(tok)-2]) + tok[len(tok)-1:]
	resp, body = r.do(http.MethodGet, "/api/v1/checkauthn"+q, bearer(tampered), "")
	r.want(resp, body, http.StatusUnauthorized)
	resp, body = r.do(http.MethodDelete, "/api/v1/logout"+q, bearer(tok), "")
	r.want(resp, body, http.StatusNoContent)

	// The gateway's own v2 credentials, as the sandbox received them.
	secrets := map[string]string{
		"registration code":            code,
		"pending registration code":    pending.Code,
		"device client secret":         secret,
		"device access token":          tok,
		"device access token MAC":      tok[strings.LastIndexByte(tok, '.')+1:],
		"signing key":                  rigPrivateKey,
		"device software statement":    rigStatement,
		"other software statement":     rigOtherStatement,
		"gateway software statement":   sandboxStatement,
		"DCR key secret as configured": rigDCRKey[strings.IndexByte(rigDCRKey, ':')+1:],
		"DCR key secret":               mustBase64(t, rigDCRKey[strings.IndexByte(rigDCRKey, ':')+1:]),
		"DCR key secret, std encoding": base64.StdEncoding.EncodeToString([]byte(mustBase64(t, rigDCRKey[strings.IndexByte(rigDCRKey, ':')+1:]))),
	}
	v2Tokens := map[string]bool{}
	for _, req := range r.sandbox.Requests() {
		switch {
		case req.Path == "/o/client/token":
			form, err := url.ParseQuery(string(req.Body))
			if err != nil || form.Get("client_secret") == "" {
				t.Fatalf("the gateway's token request %q: %v", req.Body, err)
			}
			secrets["gateway v2 client secret"] = form.Get("client_secret")
		case strings.HasPrefix(req.Path, "/api/v2/"):
			if v, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && v != "" {
				v2Tokens[v] = true
			}
			// The v2 session codes the sandbox handed out, as the gateway
			// sent them back in paths.
			for _, seg := range []string{"/sessions/", "/profiles/code/"} {
				if _, c, ok := strings.Cut(req.Path, seg); ok && c != "" && !strings.Contains(c, "/") {
					secrets["v2 session code "+c] = c
				}
			}
		}
	}
	if len(v2Tokens) < 2 {
		t.Fatalf("%d v2 access tokens seen by the sandbox, want at least 2 (one refresh)", len(v2Tokens))
	}
	for v := range v2Tokens {
		secrets[fmt.Sprintf("gateway v2 access token %d", len(secrets))] = v
	}
	if secrets["gateway v2 client secret"] == "" {
		t.Fatal("the gateway never fetched a v2 token")
	}

	out := logs.String()
	// The capture works: debug lines of every layer are there, with the
	// identifiers that are not secrets.
	for _, want := range []string{`"level":"DEBUG"`, `"component":"v2client"`, `"component":"v1api"`, `"component":"dcr"`, `"component":"callerauth"`, `"route":"/api/v2/{serviceProvider}/`} {
		if !strings.Contains(out, want) {
			t.Fatalf("logs lack %s: the capture is broken", want)
		}
	}
	checkLogConventions(t, out)
	for name, s := range secrets {
		if s == "" {
			t.Fatalf("%s: empty", name)
		}
		for enc, form := range encodings(s) {
			if strings.Contains(out, form) {
				t.Errorf("%s appears in the logs (%s)", name, enc)
				break
			}
		}
	}
}

// encodings are the forms a value takes in a JSON log line, by name: as
// is, JSON escaped, URL escaped (query strings) and Base64.
func encodings(s string) map[string]string {
	j, _ := json.Marshal(s)
	return map[string]string{
		"as is":        s,
		"JSON escaped": string(j[1 : len(j)-1]),
		"URL escaped":  url.QueryEscape(s),
		"Base64":       base64.StdEncoding.EncodeToString([]byte(s)),
	}
}

func mustBase64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkLogConventions reads JSON log lines: durations are logged under
// duration_ms (or another key ending in _ms) as a number of milliseconds,
// never as slog formats a time.Duration under another key; the lines that
// time an operation carry duration_ms; no message repeats its component.
func checkLogConventions(t *testing.T, out string) {
	t.Helper()
	timed := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		msg, _ := rec["msg"].(string)
		for k, v := range rec {
			switch {
			case k == "took" || k == "elapsed" || k == "after" || k == "wait" || k == "latency":
				t.Errorf("%q: duration under %q, want duration_ms or a key ending in _ms", msg, k)
			case strings.HasSuffix(k, "_ms"):
				if _, ok := v.(float64); !ok {
					t.Errorf("%q: %s = %v, want a number of milliseconds", msg, k, v)
				}
			}
		}
		switch msg {
		case "v1 call", "call", "v1 request", "adobe pass call", "adobe pass call failed":
			timed[msg]++
			if _, ok := rec["duration_ms"].(float64); !ok {
				t.Errorf("%q line without duration_ms: %s", msg, line)
			}
		}
		if comp, _ := rec["component"].(string); comp != "" && strings.HasPrefix(strings.ToLower(msg), comp+":") {
			t.Errorf("message %q repeats its component %q", msg, comp)
		}
		for _, prefix := range []string{"adobe pass:", "compat:", "shadow:", "v1 end-of-life guard:", "migration progress:"} {
			if strings.HasPrefix(msg, prefix) {
				t.Errorf("message %q names its component, which the component attribute says", msg)
			}
		}
	}
	for _, msg := range []string{"v1 call", "call", "v1 request", "adobe pass call"} {
		if timed[msg] == 0 {
			t.Errorf("no %q line: the capture is broken", msg)
		}
	}
}
