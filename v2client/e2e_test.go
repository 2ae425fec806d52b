package v2client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

// The default fixture's names (DESIGN.md, "The sandbox").
const (
	sp           = "REF30"
	statement    = "sandbox-statement"
	acme         = "AcmeCable"
	beta         = "BetaFiber"
	tempPass     = "TempPass_REF30"
	appDomain    = "example.com"
	pollInterval = 5 * time.Second // §13 rule 4, §15 #29
)

// sandboxEpoch is where the sandbox clock starts, so runs are repeatable.
var sandboxEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// startSandbox runs the default fixture on a fixed clock with deterministic
// ids. Throttling is off: the tests send far more than one request a second
// from one address. Strict X-Device-Info checking proves the client's
// device description is valid JSON with the five required keys.
func startSandbox(t *testing.T) *sandbox.Server {
	t.Helper()
	sb, err := sandbox.NewServer(sandbox.Config{
		Now:               func() time.Time { return sandboxEpoch },
		IDs:               sandbox.DeterministicIDs(42),
		DisableThrottling: true,
		StrictDeviceInfo:  true,
	})
	if err != nil {
		t.Fatalf("starting sandbox: %v", err)
	}
	t.Cleanup(sb.Close)
	return sb
}

// newClient is a v2 client whose TokenSource registers with the sandbox's
// software statement and judges token expiry on the sandbox clock.
func newClient(sb *sandbox.Server, hc *http.Client) *v2client.Client {
	dcr := &v2client.Client{BaseURL: sb.URL, HTTPClient: hc}
	return &v2client.Client{
		BaseURL:    sb.URL,
		HTTPClient: hc,
		Retries:    -1,
		Tokens: &v2client.TokenSource{
			Client: dcr,
			Statement: v2client.StaticStatements(map[string]v2client.RegisterRequest{
				sp: {SoftwareStatement: statement},
			}),
			Now: sb.Now,
		},
	}
}

// deviceInfo is the X-Device-Info of a set-top box, with the five keys v2
// requires (§4) and the connection of the device.
func deviceInfo() string {
	b, err := json.Marshal(map[string]string{
		"model":               "Sandbox Box 4K",
		"version":             "2.1",
		"osName":              "Linux",
		"osVersion":           "6.1",
		"connectionType":      "WiFi",
		"primaryHardwareType": "SetTopBox",
		"manufacturer":        "Example Devices",
		"connectionIp":        "203.0.113.7",
		"connectionPort":      "52100",
	})
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// device is the set of options a gateway sends for one device on every call.
func device(id string) []v2client.Option {
	return []v2client.Option{
		v2client.WithDeviceID(id),
		v2client.WithDeviceInfo(deviceInfo()),
		v2client.WithForwardedFor("203.0.113.7"),
		v2client.WithUserAgent("passgw-test/1.0"),
	}
}

// with appends extra options to a device's.
func with(opts []v2client.Option, extra ...v2client.Option) []v2client.Option {
	return append(append([]v2client.Option(nil), opts...), extra...)
}

// appServer is the programmer's page behind redirectUrl: the browser must
// land on it after the MVPD login.
type appServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits []string
}

func startApp(t *testing.T) *appServer {
	t.Helper()
	a := &appServer{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.hits = append(a.hits, r.URL.RequestURI())
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html><body>Signed in. Return to your TV.</body></html>")
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *appServer) landings() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.hits...)
}

// browser is a user agent: a plain net/http client with a cookie jar that
// follows redirects like a browser does.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 5 * time.Second}
}

// htmlForm is a form found in a page.
type htmlForm struct {
	action string
	method string
	fields url.Values
	inputs map[string]string // name -> type
}

// parseForms tokenizes an HTML page and returns its forms with their input
// fields (hidden values kept, as a browser submits them).
func parseForms(page string) ([]htmlForm, error) {
	dec := xml.NewDecoder(strings.NewReader(page))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	attr := func(se xml.StartElement, name string) string {
		for _, a := range se.Attr {
			if strings.EqualFold(a.Name.Local, name) {
				return a.Value
			}
		}
		return ""
	}
	var forms []htmlForm
	var cur *htmlForm
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parsing HTML: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch strings.ToLower(el.Name.Local) {
			case "form":
				forms = append(forms, htmlForm{
					action: attr(el, "action"),
					method: strings.ToUpper(attr(el, "method")),
					fields: url.Values{},
					inputs: map[string]string{},
				})
				cur = &forms[len(forms)-1]
			case "input":
				if cur == nil || attr(el, "name") == "" {
					continue
				}
				typ := strings.ToLower(attr(el, "type"))
				if typ == "" {
					typ = "text"
				}
				cur.inputs[attr(el, "name")] = typ
				cur.fields.Set(attr(el, "name"), attr(el, "value"))
			}
		case xml.EndElement:
			if strings.EqualFold(el.Name.Local, "form") {
				cur = nil
			}
		}
	}
	return forms, nil
}

// signIn opens the authenticate URL in the browser, follows the redirects to
// the MVPD login page, fills in its form and submits it; the browser then
// follows the redirects to wherever the login sends it. It returns the URL
// the browser ended on.
func signIn(ctx context.Context, ua *http.Client, authenticateURL, username, password string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authenticateURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := ua.Do(req)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", authenticateURL, err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return "", fmt.Errorf("login page: status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	loginPage := resp.Request.URL
	if loginPage.String() == authenticateURL {
		return "", fmt.Errorf("%s did not redirect to a login page", authenticateURL)
	}
	forms, err := parseForms(string(page))
	if err != nil {
		return "", err
	}
	var login *htmlForm
	for i := range forms {
		if forms[i].inputs["username"] != "" && forms[i].inputs["password"] == "password" {
			login = &forms[i]
		}
	}
	if login == nil {
		return "", fmt.Errorf("no username/password form at %s:\n%s", loginPage, page)
	}
	if login.method != http.MethodPost {
		return "", fmt.Errorf("login form method %q, want POST", login.method)
	}
	action, err := loginPage.Parse(login.action)
	if err != nil {
		return "", fmt.Errorf("form action %q: %w", login.action, err)
	}
	login.fields.Set("username", username)
	login.fields.Set("password", password)
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(login.fields.Encode()))
	if err != nil {
		return "", err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = ua.Do(post)
	if err != nil {
		return "", fmt.Errorf("submitting login: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("after login: status %d:\n%s", resp.StatusCode, body)
	}
	if again, _ := parseForms(string(body)); len(again) > 0 {
		return "", fmt.Errorf("the login form came back for %s", username)
	}
	return resp.Request.URL.String(), nil
}

// pollProfile polls profiles/code/{code} the way §13 rule 4 says: every
// pollInterval of sandbox time (the sandbox clock is advanced instead of
// sleeping), stopping on a profile or when the session's notAfter passes.
// Between polls it waits only tick of real time, for the browser to act.
// It returns the profiles and how many polls saw an empty map.
func pollProfile(ctx context.Context, sb *sandbox.Server, c *v2client.Client, code string, notAfter time.Time, tick time.Duration, opts []v2client.Option) (*v2client.Profiles, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	t := time.NewTicker(tick)
	defer t.Stop()
	pending := 0
	for {
		ps, err := c.ProfileByCode(ctx, sp, code, opts...)
		if err != nil {
			return nil, pending, err
		}
		if len(ps.Profiles) > 0 {
			return ps, pending, nil
		}
		pending++
		if !sb.Now().Add(pollInterval).Before(notAfter) {
			return nil, pending, fmt.Errorf("session %s expired while polling", code)
		}
		select {
		case <-ctx.Done():
			return nil, pending, fmt.Errorf("no profile for %s after %d polls: %w", code, pending, ctx.Err())
		case <-t.C:
			sb.Advance(pollInterval)
		}
	}
}

// loginDevice runs the primary-device flow for one user on a fresh device:
// create a session, sign in through the browser while polling, and return
// the profile found.
func loginDevice(ctx context.Context, t *testing.T, sb *sandbox.Server, c *v2client.Client, app *appServer, opts []v2client.Option, mvpd, username, password string) v2client.Profile {
	t.Helper()
	redirect := app.URL + "/signed-in/" + username
	sess, err := c.CreateSession(ctx, sp, v2client.SessionParams{MVPD: mvpd, DomainName: appDomain, RedirectURL: redirect}, opts...)
	if err != nil {
		t.Fatalf("%s: create session: %v", username, err)
	}
	if sess.ActionName != v2client.ActionNameAuthenticate || sess.ActionType != v2client.ActionTypeInteractive || sess.Code == "" {
		t.Fatalf("%s: session = %+v, want authenticate/interactive with a code", username, sess)
	}
	if got, err := c.ResolveURL(sess.URL); err != nil || got != c.AuthenticateURL(sp, sess.Code) {
		t.Fatalf("%s: session url %q resolves to %q (%v), want %q", username, sess.URL, got, err, c.AuthenticateURL(sp, sess.Code))
	}

	// The first poll comes before the user has done anything.
	first, err := c.ProfileByCode(ctx, sp, sess.Code, opts...)
	if err != nil || len(first.Profiles) != 0 {
		t.Fatalf("%s: poll before login = %+v, %v; want an empty map", username, first, err)
	}

	type result struct {
		landed string
		err    error
	}
	done := make(chan result, 1)
	ua := browser(t)
	go func() {
		landed, err := signIn(ctx, ua, c.AuthenticateURL(sp, sess.Code), username, password)
		done <- result{landed, err}
	}()
	ps, pending, err := pollProfile(ctx, sb, c, sess.Code, sess.NotAfter.Time(), 5*time.Millisecond, opts)
	r := <-done
	if r.err != nil {
		t.Fatalf("%s: browser: %v", username, r.err)
	}
	if err != nil {
		t.Fatalf("%s: polling: %v", username, err)
	}
	if r.landed != redirect {
		t.Errorf("%s: browser landed on %q, want redirectUrl %q", username, r.landed, redirect)
	}
	t.Logf("%s: profile after %d pending polls", username, pending+1)
	p, ok := ps.Profiles[mvpd]
	if !ok || len(ps.Profiles) != 1 {
		t.Fatalf("%s: polled profiles %+v, want one for %s", username, ps.Profiles, mvpd)
	}
	if p.Type != v2client.ProfileRegular || p.Issuer != mvpd || !p.NotBefore.Time().Before(p.NotAfter.Time()) {
		t.Errorf("%s: profile %+v", username, p)
	}
	return p
}

// mrss is an MRSS resource whose channel is title and whose item is rated.
func mrss(title, rating string) string {
	return `<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>` + title +
		`</title><item><title>Episode 1</title><guid>ep-1</guid><media:rating scheme="urn:v-chip">` + rating +
		`</media:rating></item></channel></rss>`
}

// TestEndToEnd drives the whole v2 journey through v2client against the
// sandbox, with a real HTTP client as the user's browser.
func TestEndToEnd(t *testing.T) {
	ctx := t.Context()
	sb := startSandbox(t)
	app := startApp(t)
	c := newClient(sb, &http.Client{})

	// alice signs in on the living-room TV.
	aliceTV := device("e2e-alice-living-room")
	alice := loginDevice(ctx, t, sb, c, app, aliceTV, acme, "alice", "alice-pass")
	if got := alice.Attributes["userID"].String(); got != "acme-alice-0001" {
		t.Errorf("alice userID = %q", got)
	}
	if got := app.landings(); len(got) != 1 || got[0] != "/signed-in/alice" {
		t.Errorf("app page hits = %v, want one landing for alice", got)
	}
	if ps, err := c.Profiles(ctx, sp, aliceTV...); err != nil || len(ps.Profiles) != 1 {
		t.Errorf("alice profiles = %+v, %v", ps, err)
	}

	t.Run("alice is authorized for news with a media token", func(t *testing.T) {
		ds, err := c.Authorize(ctx, sp, acme, []string{"news"}, aliceTV...)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Decisions) != 1 {
			t.Fatalf("decisions = %+v", ds)
		}
		d := ds.Decisions[0]
		if !d.Authorized || d.Error != nil || d.Source != v2client.SourceMVPD || d.Resource != "news" || d.Token == nil || d.Token.SerializedToken == "" {
			t.Fatalf("decision = %+v", d)
		}
		claims, err := sb.VerifyMediaToken(d.Token.SerializedToken)
		if err != nil {
			t.Fatalf("media token does not verify: %v", err)
		}
		if claims.Resource != "news" || claims.MVPD != acme || claims.UserID != "acme-alice-0001" || claims.ServiceProvider != sp {
			t.Errorf("media token claims = %+v", claims)
		}
		if life := d.Token.NotAfter.Time().Sub(d.Token.NotBefore.Time()); life != 7*time.Minute {
			t.Errorf("media token lives %v, want 7m", life)
		}
		if _, err := sb.VerifyMediaToken(d.Token.SerializedToken + "x"); err == nil {
			t.Error("a tampered media token verifies")
		}
	})

	t.Run("bob is denied movies by the MVPD", func(t *testing.T) {
		bobTV := device("e2e-bob-bedroom")
		loginDevice(ctx, t, sb, c, app, bobTV, acme, "bob", "bob-pass")
		ds, err := c.Authorize(ctx, sp, acme, []string{"movies"}, bobTV...)
		if err != nil {
			t.Fatalf("a deny must not be an HTTP error: %v", err)
		}
		d := ds.Decisions[0]
		if d.Authorized || d.Token != nil || d.Error == nil {
			t.Fatalf("decision = %+v, want a deny without token", d)
		}
		// The item-level error is an ordinary Go error for the caller.
		err = fmt.Errorf("playing %s: %w", d.Resource, d.Error)
		var ee *v2client.Error
		if !errors.As(err, &ee) {
			t.Fatalf("errors.As(%v) found no *v2client.Error", err)
		}
		if ee.Code != sandbox.CodeAuthorizationDeniedByMVPD || ee.Status != http.StatusForbidden || strings.TrimSpace(ee.Details) == "" {
			t.Errorf("deny = %+v, want authorization_denied_by_mvpd 403 with details", ee)
		}
		// bob may still watch what he pays for.
		ds, err = c.Authorize(ctx, sp, acme, []string{"sports"}, bobTV...)
		if err != nil || !ds.Decisions[0].Authorized {
			t.Errorf("bob sports = %+v, %v", ds, err)
		}
	})

	t.Run("carol is held to her parental limit", func(t *testing.T) {
		carolTV := device("e2e-carol-den")
		loginDevice(ctx, t, sb, c, app, carolTV, beta, "carol", "carol-pass")
		mature, teen := mrss("movies", "TV-MA"), mrss("movies", "TV-14")
		ds, err := c.Authorize(ctx, sp, beta, []string{mature}, carolTV...)
		if err != nil {
			t.Fatal(err)
		}
		d := ds.Decisions[0]
		if d.Resource != mature {
			t.Errorf("resource not echoed byte for byte: %q", d.Resource)
		}
		if d.Authorized || d.Error == nil || d.Error.Code != sandbox.CodeDeniedByParentalControls {
			t.Errorf("TV-MA decision = %+v, want authorization_denied_by_parental_controls", d)
		}
		ds, err = c.Authorize(ctx, sp, beta, []string{teen}, carolTV...)
		if err != nil {
			t.Fatal(err)
		}
		if d := ds.Decisions[0]; !d.Authorized || d.Token == nil {
			t.Errorf("TV-14 decision = %+v, want a permit", d)
		}
	})

	t.Run("TempPass resource limit", func(t *testing.T) {
		kiosk := device("e2e-temppass-kiosk")
		ds, err := c.Authorize(ctx, sp, tempPass, []string{"news", "sports", "movies"}, kiosk...)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds.Decisions {
			if !d.Authorized || d.Source != v2client.SourceTempPass || d.Token == nil {
				t.Errorf("TempPass decision %+v, want a permit", d)
			}
		}
		ds, err = c.Authorize(ctx, sp, tempPass, []string{"kids"}, kiosk...)
		if err != nil {
			t.Fatal(err)
		}
		if d := ds.Decisions[0]; d.Authorized || d.Error == nil || d.Error.Code != sandbox.CodeTempPassResourcesExceeded || d.Error.Status != http.StatusForbidden {
			t.Errorf("4th resource = %+v, want item-level temporary_access_resources_limit_exceeded", d)
		}
		_, err = c.Profile(ctx, sp, tempPass, kiosk...)
		wantTopLevel(t, err, http.StatusForbidden, sandbox.CodeTempPassResourcesExceeded)
	})

	t.Run("TempPass duration limit", func(t *testing.T) {
		hotel := device("e2e-temppass-hotel")
		ds, err := c.Authorize(ctx, sp, tempPass, []string{"news"}, hotel...)
		if err != nil || !ds.Decisions[0].Authorized {
			t.Fatalf("first TempPass authorize = %+v, %v", ds, err)
		}
		ps, err := c.Profile(ctx, sp, tempPass, hotel...)
		if err != nil || ps.Profiles[tempPass].Type != v2client.ProfileTemporary || ps.Profiles[tempPass].Issuer != "Adobe" {
			t.Fatalf("TempPass profile = %+v, %v", ps, err)
		}
		sb.Advance(10 * time.Minute)
		ds, err = c.Authorize(ctx, sp, tempPass, []string{"news"}, hotel...)
		if err != nil {
			t.Fatal(err)
		}
		if d := ds.Decisions[0]; d.Authorized || d.Error == nil || d.Error.Code != sandbox.CodeTempPassDurationExceeded {
			t.Errorf("after 10 minutes = %+v, want item-level temporary_access_duration_limit_exceeded", d)
		}
		_, err = c.Profile(ctx, sp, tempPass, hotel...)
		wantTopLevel(t, err, http.StatusForbidden, sandbox.CodeTempPassDurationExceeded)
	})

	t.Run("alice logs out", func(t *testing.T) {
		back := app.URL + "/logged-out"
		lo, err := c.Logout(ctx, sp, acme, back, aliceTV...)
		if err != nil {
			t.Fatal(err)
		}
		a, ok := lo.Logouts[acme]
		if !ok || a.ActionName != v2client.LogoutActionLogout || a.ActionType != v2client.LogoutTypeInteractive || a.URL == "" {
			t.Fatalf("logout = %+v, want logout/interactive with a url", lo)
		}
		// The MVPD logout page sends the browser back to the app.
		u, err := c.ResolveURL(a.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := browser(t).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Request.URL.String() != back {
			t.Errorf("browser ended on %s after MVPD logout, want %s", resp.Request.URL, back)
		}
		ps, err := c.Profiles(ctx, sp, aliceTV...)
		if err != nil || len(ps.Profiles) != 0 {
			t.Errorf("profiles after logout = %+v, %v; want none", ps, err)
		}
		ds, err := c.Authorize(ctx, sp, acme, []string{"news"}, aliceTV...)
		if err != nil {
			t.Fatal(err)
		}
		if d := ds.Decisions[0]; d.Authorized || d.Error == nil || d.Error.Code != sandbox.CodeProfileMissing {
			t.Errorf("authorize after logout = %+v, want authenticated_profile_missing", d)
		}
	})

	if un := sb.UnhandledRequests(); len(un) > 0 {
		t.Errorf("the sandbox got requests it does not serve: %+v", un)
	}
	// The whole journey ran on one registration and one access token.
	dcrCalls := map[string]int{}
	for _, r := range sb.Requests() {
		if strings.HasPrefix(r.Path, "/o/") {
			dcrCalls[r.Path]++
		}
	}
	if dcrCalls["/o/client/register"] != 1 || dcrCalls["/o/client/token"] != 1 {
		t.Errorf("DCR calls = %v, want one register and one token", dcrCalls)
	}
}

// wantTopLevel checks err is a top-level Enhanced Error with status and code.
func wantTopLevel(t *testing.T, err error, status int, code string) {
	t.Helper()
	var he *v2client.HTTPError
	var ee *v2client.Error
	if !errors.As(err, &he) || !errors.As(err, &ee) {
		t.Fatalf("error %v, want an *HTTPError wrapping an Enhanced Error", err)
	}
	if he.StatusCode != status || ee.Status != status || ee.Code != code {
		t.Errorf("error = HTTP %d %+v, want %d %s", he.StatusCode, ee, status, code)
	}
}
