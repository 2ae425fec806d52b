package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// loginAppPage is a second-screen login web app as programmers wrote them
// for v1: its script calls the v1 API on another origin with credentials.
// config is a simple request; checkauthn/{code} sends X-Device-Info, so the
// browser sends a preflight first; preauthorize/{code} asks for JSON.
const loginAppPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Login web app</title></head><body>
<script>
async function loginApp(base, code) {
  const calls = {
    config: [base + "/api/v1/config/REF30.json", {}],
    checkauthn: [base + "/api/v1/checkauthn/" + code + ".json?requestor=REF30",
      {"X-Device-Info": btoa(JSON.stringify({model: "browser", osName: "Linux"}))}],
    preauthorize: [base + "/api/v1/preauthorize/" + code + "?requestor=REF30&resource=news,movies",
      {"Accept": "application/json"}],
  };
  const out = {};
  for (const [name, [url, headers]] of Object.entries(calls)) {
    try {
      const r = await fetch(url, {credentials: "include", mode: "cors", headers});
      out[name] = {status: r.status, body: await r.text(), requestId: r.headers.get("Adobe-Request-Id") || ""};
    } catch (e) {
      out[name] = {error: String(e)};
    }
  }
  return JSON.stringify(out);
}
</script></body></html>`

// loginAppResult is what the page's script saw of one call.
type loginAppResult struct {
	Status    int
	Body      string
	RequestID string
	Error     string
}

// TestChromiumLoginAppCORS is the login web app of a second screen in a
// real browser: served from its own origin (another port), its script
// calls config, checkauthn/{code} and preauthorize/{code} on the gateway
// with credentials, and reads the answers, the Adobe-Request-Id header
// included. The same page served from an origin the requestor does not
// allow is refused by the browser.
func TestChromiumLoginAppCORS(t *testing.T) {
	w := newTestWorld(t)
	code := createRegcode(t, w, "REF30", "cors-tv")
	secondScreen(t, w, code, "REF30", "alice")

	app := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(rw, loginAppPage)
	}))
	defer app.Close()
	_, port, _ := net.SplitHostPort(app.Listener.Addr().String())
	// The sandbox requestor allows the domains localhost and example.com:
	// http://localhost:PORT is one of its origins, http://127.0.0.1:PORT
	// is not.
	allowed := "http://localhost:" + port
	disallowed := "http://127.0.0.1:" + port

	ctx, cancel := startChromium(t, 60*time.Second)
	defer cancel()
	run := func(origin string) map[string]loginAppResult {
		t.Helper()
		err := chromedp.Do(ctx, chromedp.Navigate(origin+"/login"))
		var raw string
		if err == nil {
			raw, err = chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("loginApp(%q, %q)", w.URL, code), chromedp.EvalAwaitPromise))
		}
		if err != nil {
			t.Fatalf("browser on %s: %v", origin, err)
		}
		var res map[string]loginAppResult
		if err := json.Unmarshal([]byte(raw), &res); err != nil {
			t.Fatalf("page result %s: %v", raw, err)
		}
		return res
	}

	got := run(allowed)
	for name, want := range map[string]string{
		"config":       `"id":"REF30"`,
		"checkauthn":   `"userId":"acme-alice-0001"`,
		"preauthorize": `{"resources":[{"id":"news","authorized":true},{"id":"movies","authorized":true}]}`,
	} {
		r := got[name]
		if r.Error != "" || r.Status != http.StatusOK || !strings.Contains(r.Body, want) {
			t.Errorf("%s from %s: %+v, want 200 with %s", name, allowed, r, want)
		}
		if r.RequestID == "" {
			t.Errorf("%s from %s: Adobe-Request-Id not readable by the page (Access-Control-Expose-Headers)", name, allowed)
		}
	}

	got = run(disallowed)
	for _, name := range []string{"config", "checkauthn", "preauthorize"} {
		if r := got[name]; r.Error == "" {
			t.Errorf("%s from %s: the browser let the page read %+v, want the call blocked", name, disallowed, r)
		}
	}
}
