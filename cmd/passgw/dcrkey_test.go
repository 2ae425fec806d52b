package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
)

// dcrApp is a device app using the gateway's own DCR (/o/client/*).
type dcrApp struct {
	t      *testing.T
	client *http.Client
	id     string
	secret string
}

func (a *dcrApp) post(base, path, contentType, body string, header http.Header) (int, []byte) {
	a.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// register registers the app with statement on the gateway at base.
func (a *dcrApp) register(base, statement string) {
	a.t.Helper()
	b, _ := json.Marshal(map[string]string{"software_statement": statement, "redirect_uri": "adobepass://android.app"})
	status, body := a.post(base, "/o/client/register", "application/json", string(b), nil)
	var reg struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &reg) != nil || reg.ClientSecret == "" {
		a.t.Fatalf("register: %d %s", status, body)
	}
	a.id, a.secret = reg.ClientID, reg.ClientSecret
}

// token asks the gateway at base for an access token: its status and the
// token.
func (a *dcrApp) token(base string) (int, string) {
	a.t.Helper()
	form := url.Values{"client_id": {a.id}, "client_secret": {a.secret}, "grant_type": {"client_credentials"}}
	status, body := a.post(base, "/o/client/token", "application/x-www-form-urlencoded", form.Encode(), nil)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &tok)
	return status, tok.AccessToken
}

// regcode asks the gateway at base for a registration code with the
// access token: 201, or 401 when the gateway does not accept the token.
func (a *dcrApp) regcode(base, token, device string) int {
	a.t.Helper()
	status, _ := a.post(base, "/reggie/v1/REF30/regcode", "application/x-www-form-urlencoded",
		url.Values{"deviceId": {device}}.Encode(), http.Header{"Authorization": {"Bearer " + token}})
	return status
}

// TestDCRKeyWrittenBack: with no dcr_keys, the device DCR key the gateway
// generated and keeps in Redis is written back by the running instance
// after a FLUSHALL, so that an instance started after the flush signs and
// checks device credentials with the same key: an app registered on the
// first instance before the flush is served by the second, and the other
// way round.
func TestDCRKeyWrittenBack(t *testing.T) {
	redis := redistest.Start(t)
	sandbox := startSandboxProc(t)
	const statement = "eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6ImRjcmtleS10diJ9.c3RhdGVtZW50LW9mLWRjcmtleQ"
	cfg := fmt.Sprintf(`upstream: %s
store: %s
log_buffer: {off: true}
throttle: {off: true}
upstream_budget: {off: true}
requestors:
  - id: REF30
    software_statement: %s
    domain_name: example.com
    redirect_url: %s
    caller_auth: required
    device_statements: [%q]
`, sandbox.URL, redis.URL(), sandboxStatement, procRedirect, statement)
	config := filepath.Join(t.TempDir(), "passgw.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	keyInRedis := func() bool {
		n, err := redis.Do("EXISTS", "passgw:callerauth:dcr-key")
		if err != nil {
			t.Fatal(err)
		}
		return n == int64(1)
	}

	a := startServe(t, "A", config, "127.0.0.1:0")
	app := &dcrApp{t: t, client: &http.Client{Timeout: 20 * time.Second}}
	app.register(a.URL, statement)
	status, tokA := app.token(a.URL)
	if status != http.StatusCreated {
		t.Fatalf("token on A: %d", status)
	}
	if got := app.regcode(a.URL, tokA, "dcr-device"); got != http.StatusCreated {
		t.Fatalf("regcode on A with A's token: %d", got)
	}

	if _, err := redis.Do("FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	flushed := time.Now()
	// B starts on the emptied store at once: it waits for A's write-back
	// rather than generate a key of its own.
	b := startServe(t, "B", config, "127.0.0.1:0")
	testenv.Eventually(t, "the DCR key written back after FLUSHALL", 10*time.Second, func() error {
		if !keyInRedis() {
			return fmt.Errorf("no DCR key in Redis")
		}
		return nil
	})
	t.Logf("DCR key back in Redis, B listening %v after FLUSHALL", time.Since(flushed).Round(time.Millisecond))
	if !strings.Contains(a.stderr.String(), "the device DCR key was missing from the store; wrote back the one in use") {
		t.Errorf("A did not log the write-back:\n%s", a.stderr)
	}

	if got := app.regcode(b.URL, tokA, "dcr-device"); got != http.StatusCreated {
		t.Errorf("regcode on B with the token A issued before the flush: %d, want 201", got)
	}
	status, tokB := app.token(b.URL)
	if status != http.StatusCreated {
		t.Fatalf("token on B with the credentials A issued before the flush: %d, want 201", status)
	}
	if got := app.regcode(a.URL, tokB, "dcr-device"); got != http.StatusCreated {
		t.Errorf("regcode on A with B's token: %d, want 201", got)
	}
}
