package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/passgw/passgw/internal/testenv"
)

// TestChromiumSignIn is the whole v1 flow with a real browser for the
// second screen: the device registers through the gateway, headless
// Chromium opens the v1 authenticate URL, signs in as alice on the mock MVPD
// page and lands on the redirect_url; the device then sees the login,
// authorizes, gets a media token and logs out.
func TestChromiumSignIn(t *testing.T) {
	w := newTestWorld(t)
	const dev = "requestor=REF30&deviceId=chromium-tv"
	accept := map[string]string{"Accept": "application/json"}

	code := createRegcode(t, w, "REF30", "chromium-tv")
	if resp, body := w.do("GET", "/api/v1/checkauthn?"+dev, accept, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("checkauthn before the login: %d %s", resp.StatusCode, body)
	}

	browserCtx, cancelBrowser := startChromium(t, 60*time.Second)
	defer cancelBrowser()

	var mvpdPage, landed, text string
	err := chromedp.Do(browserCtx,
		chromedp.Navigate(w.authenticateURL(code, "REF30")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
	)
	if err == nil {
		mvpdPage, err = chromedp.Run(browserCtx, chromedp.Location())
	}
	if err == nil {
		err = chromedp.Do(browserCtx,
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "alice"),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "alice-pass"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.Search(`//h1[contains(., "You are signed in")]`)),
		)
	}
	if err == nil {
		landed, err = chromedp.Run(browserCtx, chromedp.Location())
	}
	if err == nil {
		text, err = chromedp.Run(browserCtx, chromedp.Text(chromedp.CSS("body")))
	}
	if err != nil {
		t.Fatalf("browser: %v (MVPD page %q, landed on %q)", err, mvpdPage, landed)
	}
	if !strings.HasPrefix(mvpdPage, w.sandbox.URL+"/adobe-services/") {
		t.Errorf("the login form was at %s, want the sandbox's MVPD pages", mvpdPage)
	}
	if landed != w.URL+signedInPath {
		t.Errorf("landed on %s, want the redirect_url %s", landed, w.URL+signedInPath)
	}
	if !strings.Contains(text, "Return to your TV") {
		t.Errorf("landing page text: %q", text)
	}
	cancelBrowser()

	type authnToken struct{ Requestor, MVPD, UserID, Expires string }
	for _, path := range []string{"/api/v1/checkauthn", "/api/v1/tokens/authn"} {
		var a authnToken
		resp, body := w.do("GET", path+"?"+dev, accept, "")
		expectJSON(t, path, resp, body, http.StatusOK, &a)
		if a.UserID != "acme-alice-0001" || a.MVPD != "AcmeCable" || a.Requestor != "REF30" {
			t.Fatalf("%s: %+v, want alice's AcmeCable login", path, a)
		}
	}
	resp, body := w.do("GET", "/api/v1/authorize?"+dev+"&resource=movies", accept, "")
	expectJSON(t, "authorize", resp, body, http.StatusOK, nil)
	var media struct{ SerializedToken, UserID string }
	resp, body = w.do("GET", "/api/v1/tokens/media?"+dev+"&resource=movies", accept, "")
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &media) != nil {
		t.Fatalf("tokens/media: %d %s", resp.StatusCode, body)
	}
	if claims, err := w.sandbox.VerifyMediaToken(media.SerializedToken); err != nil || claims.UserID != "acme-alice-0001" || claims.Resource != "movies" {
		t.Fatalf("media token: %v %+v", err, claims)
	}
	if resp, body := w.do("DELETE", "/api/v1/logout?"+dev, accept, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if resp, body := w.do("GET", "/api/v1/checkauthn?"+dev, accept, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("checkauthn after logout: %d %s", resp.StatusCode, body)
	}
}

// startChromium starts a headless Chromium (a missing one fails the test
// under CI=true, see testenv.LookPath) with a fresh profile, for at most
// timeout; cancel stops it.
func startChromium(t *testing.T, timeout time.Duration) (ctx context.Context, cancel func()) {
	t.Helper()
	browser := testenv.LookPath(t, "chromium", "chromium-browser", "google-chrome")
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	return browserCtx, func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	}
}
