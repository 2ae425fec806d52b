package v2client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorded is what the fake upstream saw of one request.
type recorded struct {
	method, path, rawPath, query string
	header                       http.Header
	body                         []byte
}

// recorder is an upstream that records every request and answers a body
// good enough for the endpoint's type.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Clone(), body})
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	switch r.URL.Path {
	case "/o/client/token":
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"access_token":"at","created_at":1752148106221,"expires_in":21600,"token_type":"bearer"}`)
	case "/o/client/register":
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"client_id":"id","client_secret":"secret"}`)
	default:
		io.WriteString(w, `{}`)
	}
}

func (rc *recorder) last(t *testing.T) recorded {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) == 0 {
		t.Fatal("no request reached the upstream")
	}
	return rc.reqs[len(rc.reqs)-1]
}

const (
	deviceID          = "ba23d141-d715-561c-94f4-e9e4c966b1eb"
	deviceFingerprint = "fingerprint YmEyM2QxNDEtZDcxNS01NjFjLTk0ZjQtZTllNGM5NjZiMWVi" // the docs' example
	tempPassIdentity  = `{"email":"foo@bar.com"}`
	tempPassHeader    = "eyJlbWFpbCI6ImZvb0BiYXIuY29tIn0=" // the docs' example
)

// allOptions sets every header option; each endpoint must send exactly the
// ones it lists.
func allOptions() []Option {
	return []Option{
		WithDeviceID(deviceID),
		WithDeviceInfo("ZGV2aWNlLWluZm8="),
		WithForwardedFor("203.0.113.7"),
		WithTempPassIdentity(tempPassIdentity),
		WithVisitorIdentifier("ecid-1"),
		WithSubjectToken("subject-jws"),
		WithRokuToken("roku-token"),
		WithServiceToken("service-jws"),
		WithPartnerFrameworkStatus("cGZz"),
		WithUserAgent("AppleTV6,2/11.1"),
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// routeFits reports whether route, "METHOD /template", names a request with
// method and path: literal segments equal, a {variable} any non-empty one.
func routeFits(route, method, path string) bool {
	m, tpl, ok := strings.Cut(route, " ")
	if !ok || m != method {
		return false
	}
	ts, ps := strings.Split(tpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, seg := range ts {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if ps[i] == "" {
				return false
			}
		} else if seg != ps[i] {
			return false
		}
	}
	return true
}

func allHeaderValues() map[string]string {
	return map[string]string{
		HeaderDeviceIdentifier:       deviceFingerprint,
		HeaderDeviceInfo:             "ZGV2aWNlLWluZm8=",
		HeaderForwardedFor:           "203.0.113.7",
		HeaderTempPassIdentity:       tempPassHeader,
		HeaderVisitorIdentifier:      "ecid-1",
		HeaderSubjectToken:           "subject-jws",
		HeaderRokuToken:              "roku-token",
		HeaderServiceToken:           "service-jws",
		HeaderPartnerFrameworkStatus: "cGZz",
		HeaderUserAgent:              "AppleTV6,2/11.1",
	}
}

func TestRequestShape(t *testing.T) {
	v2Base := []string{HeaderDeviceIdentifier, HeaderDeviceInfo, HeaderForwardedFor, HeaderVisitorIdentifier, HeaderUserAgent}
	sso := []string{HeaderSubjectToken, HeaderRokuToken, HeaderServiceToken}
	with := func(extra ...[]string) []string {
		out := append([]string(nil), v2Base...)
		for _, e := range extra {
			out = append(out, e...)
		}
		return out
	}
	pfs := []string{HeaderPartnerFrameworkStatus}
	tp := []string{HeaderTempPassIdentity}
	session := SessionParams{MVPD: "AcmeCable", DomainName: "example.com", RedirectURL: "https://example.com/done?x=1"}
	sessionForm := url.Values{"mvpd": {"AcmeCable"}, "domainName": {"example.com"}, "redirectUrl": {"https://example.com/done?x=1"}}

	tests := []struct {
		name        string
		call        func(ctx context.Context, c *Client, opts []Option) error
		method      string
		path        string
		query       url.Values
		contentType string
		form        url.Values // expected form body
		json        string     // expected JSON body
		auth        bool
		headers     []string // option headers the endpoint must send
	}{
		{
			name: "configuration",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Configuration(ctx, "REF30", o...)
				return err
			},
			method: "GET", path: "/api/v2/REF30/configuration", auth: true, headers: with(),
		},
		{
			name: "create session",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.CreateSession(ctx, "REF30", session, o...)
				return err
			},
			method: "POST", path: "/api/v2/REF30/sessions", contentType: ContentTypeForm, form: sessionForm,
			auth: true, headers: with(sso),
		},
		{
			name: "create session with missing parameters sends none of them",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.CreateSession(ctx, "REF30", SessionParams{}, o...)
				return err
			},
			method: "POST", path: "/api/v2/REF30/sessions", contentType: ContentTypeForm, form: url.Values{},
			auth: true, headers: with(sso),
		},
		{
			name: "resume session",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.ResumeSession(ctx, "REF30", "8ER640M", session, o...)
				return err
			},
			method: "POST", path: "/api/v2/REF30/sessions/8ER640M", contentType: ContentTypeForm, form: sessionForm,
			auth: true, headers: with(),
		},
		{
			name: "retrieve session",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.RetrieveSession(ctx, "REF30", "8ER640M", o...)
				return err
			},
			method: "GET", path: "/api/v2/REF30/sessions/8ER640M", auth: true, headers: with(),
		},
		{
			name: "profiles",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Profiles(ctx, "REF30", o...)
				return err
			},
			method: "GET", path: "/api/v2/REF30/profiles", auth: true, headers: with(sso, pfs),
		},
		{
			name: "profile for mvpd",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Profile(ctx, "REF30", "TempPass_REF30", o...)
				return err
			},
			method: "GET", path: "/api/v2/REF30/profiles/TempPass_REF30", auth: true, headers: with(sso, pfs, tp),
		},
		{
			name: "profile by code",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.ProfileByCode(ctx, "REF30", "8ER640M", o...)
				return err
			},
			method: "GET", path: "/api/v2/REF30/profiles/code/8ER640M", auth: true, headers: with(tp),
		},
		{
			name: "partner session",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.PartnerSession(ctx, "REF30", "Apple", session, o...)
				return err
			},
			method: "POST", path: "/api/v2/REF30/sessions/sso/Apple", contentType: ContentTypeForm,
			form: url.Values{"domainName": {"example.com"}, "redirectUrl": {"https://example.com/done?x=1"}},
			auth: true, headers: with(pfs),
		},
		{
			name: "partner profile",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.PartnerProfile(ctx, "REF30", "Apple", "PHNhbWw+/+=", o...)
				return err
			},
			method: "POST", path: "/api/v2/REF30/profiles/sso/Apple", contentType: ContentTypeForm,
			form: url.Values{"SAMLResponse": {"PHNhbWw+/+="}}, auth: true, headers: with(pfs),
		},
		{
			name: "authorize",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Authorize(ctx, "REF30", "AcmeCable", []string{`<rss version="2.0"><channel><title>REF30</title></channel></rss>`}, o...)
				return err
			},
			method: "POST", path: "/api/v2/REF30/decisions/authorize/AcmeCable", contentType: ContentTypeJSON,
			json: `{"resources":["<rss version=\"2.0\"><channel><title>REF30</title></channel></rss>"]}`,
			auth: true, headers: with(sso, pfs, tp),
		},
		{
			name: "preauthorize",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Preauthorize(ctx, "REF30", "AcmeCable", []string{"resource1 ", "news"}, o...)
				return err
			},
			method: "POST", path: "/api/v2/REF30/decisions/preauthorize/AcmeCable", contentType: ContentTypeJSON,
			json: `{"resources":["resource1 ","news"]}`, auth: true, headers: with(sso, pfs, tp),
		},
		{
			name: "logout",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Logout(ctx, "REF30", "AcmeCable", "https://example.com/bye", o...)
				return err
			},
			method: "GET", path: "/api/v2/REF30/logout/AcmeCable", query: url.Values{"redirectUrl": {"https://example.com/bye"}},
			auth: true, headers: with(sso),
		},
		{
			name: "logout sends an empty redirectUrl",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Logout(ctx, "REF30", "AcmeCable", "", o...)
				return err
			},
			method: "GET", path: "/api/v2/REF30/logout/AcmeCable", query: url.Values{"redirectUrl": {""}},
			auth: true, headers: with(sso),
		},
		{
			name: "dcr register",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Register(ctx, RegisterRequest{SoftwareStatement: "jwt", RedirectURI: "app://x"}, o...)
				return err
			},
			method: "POST", path: "/o/client/register", contentType: ContentTypeJSON,
			json:    `{"software_statement":"jwt","redirect_uri":"app://x"}`,
			headers: []string{HeaderDeviceInfo, HeaderUserAgent},
		},
		{
			name: "dcr register without redirect uri",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Register(ctx, RegisterRequest{SoftwareStatement: "jwt"}, o...)
				return err
			},
			method: "POST", path: "/o/client/register", contentType: ContentTypeJSON,
			json: `{"software_statement":"jwt"}`, headers: []string{HeaderDeviceInfo, HeaderUserAgent},
		},
		{
			name: "dcr token",
			call: func(ctx context.Context, c *Client, o []Option) error {
				_, err := c.Token(ctx, ClientCredentials{ClientID: "s6BhdRkqt3", ClientSecret: "t7AkePiru4"}, o...)
				return err
			},
			method: "POST", path: "/o/client/token", contentType: ContentTypeForm,
			form:    url.Values{"client_id": {"s6BhdRkqt3"}, "client_secret": {"t7AkePiru4"}, "grant_type": {"client_credentials"}},
			headers: []string{HeaderDeviceInfo, HeaderUserAgent},
		},
	}
	routesSeen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			var route string
			transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				route = RouteOf(r)
				return http.DefaultTransport.RoundTrip(r)
			})
			c := &Client{BaseURL: srv.URL, Tokens: StaticToken("bearer-1"), HTTPClient: &http.Client{Transport: transport}}
			if err := tt.call(t.Context(), c, allOptions()); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := rc.last(t)
			if got.method != tt.method || got.path != tt.path {
				t.Errorf("request = %s %s, want %s %s", got.method, got.path, tt.method, tt.path)
			}
			if !routeFits(route, got.method, got.path) {
				t.Errorf("request %s %s carries route %q", got.method, got.path, route)
			}
			routesSeen[route] = true
			wantQuery := tt.query
			if wantQuery == nil {
				wantQuery = url.Values{}
			}
			gotQuery, _ := url.ParseQuery(got.query)
			if diff := cmp.Diff(wantQuery, gotQuery); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			if ct := got.header.Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", ct, tt.contentType)
			}
			if a := got.header.Get("Accept"); a != ContentTypeJSON {
				t.Errorf("Accept = %q", a)
			}
			switch {
			case tt.form != nil:
				gotForm, err := url.ParseQuery(string(got.body))
				if err != nil {
					t.Fatalf("form body %q: %v", got.body, err)
				}
				if diff := cmp.Diff(tt.form, gotForm); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
			case tt.json != "":
				var want, have any
				json.Unmarshal([]byte(tt.json), &want)
				if err := json.Unmarshal(got.body, &have); err != nil {
					t.Fatalf("JSON body %q: %v", got.body, err)
				}
				if diff := cmp.Diff(want, have); diff != "" {
					t.Errorf("JSON body (-want +got):\n%s", diff)
				}
			default:
				if len(got.body) != 0 {
					t.Errorf("unexpected body %q", got.body)
				}
			}
			wantAuth := ""
			if tt.auth {
				wantAuth = "Bearer bearer-1"
			}
			if a := got.header.Get("Authorization"); a != wantAuth {
				t.Errorf("Authorization = %q, want %q", a, wantAuth)
			}
			want := map[string]bool{}
			for _, h := range tt.headers {
				want[h] = true
			}
			for name, value := range allHeaderValues() {
				switch gotValue := got.header.Get(name); {
				case want[name] && gotValue != value:
					t.Errorf("%s = %q, want %q", name, gotValue, value)
				case !want[name] && gotValue != "":
					t.Errorf("%s sent (%q) but the endpoint does not list it", name, gotValue)
				}
			}
		})
	}
	// Every endpoint of the client names its route.
	for _, r := range Routes() {
		if !routesSeen[r] {
			t.Errorf("no call carried route %q", r)
		}
	}
}

// TestOptionalHeadersOnlyWhenSet checks that unset or empty options send
// nothing.
func TestOptionalHeadersOnlyWhenSet(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	c := &Client{BaseURL: srv.URL}
	opts := []Option{WithDeviceID(""), WithTempPassIdentity(""), WithSubjectToken(""), WithForwardedFor(""), {}}
	if _, err := c.Authorize(t.Context(), "REF30", "AcmeCable", []string{"news"}, opts...); err != nil {
		t.Fatal(err)
	}
	got := rc.last(t)
	for name := range allHeaderValues() {
		if v := got.header.Get(name); v != "" && name != HeaderUserAgent {
			t.Errorf("%s = %q sent without being set", name, v)
		}
	}
	if a := got.header.Get("Authorization"); a != "" {
		t.Errorf("Authorization = %q without a token provider", a)
	}
}

func TestPathSegmentsEscaped(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	c := &Client{BaseURL: srv.URL + "/"}
	if _, err := c.Profile(t.Context(), "REF30", "a/b c", WithDeviceID("x")); err != nil {
		t.Fatal(err)
	}
	if got := rc.last(t); got.path != "/api/v2/REF30/profiles/a/b c" || got.rawPath != "/api/v2/REF30/profiles/a%2Fb%20c" {
		t.Errorf("path = %q raw %q", got.path, got.rawPath)
	}
}

func TestURLs(t *testing.T) {
	c := &Client{BaseURL: "https://sp.auth-staging.adobe.com/"}
	if got := c.AuthenticateURL("REF30", "8ER640M"); got != "https://sp.auth-staging.adobe.com/api/v2/authenticate/REF30/8ER640M" {
		t.Errorf("AuthenticateURL = %q", got)
	}
	if got := (&Client{}).AuthenticateURL("REF30", "X"); got != ProductionURL+"/api/v2/authenticate/REF30/X" {
		t.Errorf("zero Client AuthenticateURL = %q", got)
	}
	tests := []struct{ ref, want string }{
		{"/api/v2/authenticate/REF30/8ER640M", "https://sp.auth-staging.adobe.com/api/v2/authenticate/REF30/8ER640M"},
		{"/adobe-services/logout?requestor_id=REF30&mso_id=Spectrum", "https://sp.auth-staging.adobe.com/adobe-services/logout?requestor_id=REF30&mso_id=Spectrum"},
		{"https://sp.auth.adobe.com/adobe-services/logout?noflash=true", "https://sp.auth.adobe.com/adobe-services/logout?noflash=true"},
	}
	for _, tt := range tests {
		got, err := c.ResolveURL(tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("ResolveURL(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
}

// TestOptionHeaderKeys: each option sets its header under the canonical
// form of the exported name, so the header map needs no canonicalising and
// http.Header.Get finds it.
func TestOptionHeaderKeys(t *testing.T) {
	names := map[optionHeader]string{
		optDeviceIdentifier: HeaderDeviceIdentifier, optDeviceInfo: HeaderDeviceInfo, optForwardedFor: HeaderForwardedFor,
		optTempPassIdentity: HeaderTempPassIdentity, optVisitorIdentifier: HeaderVisitorIdentifier,
		optSubjectToken: HeaderSubjectToken, optRokuToken: HeaderRokuToken, optServiceToken: HeaderServiceToken,
		optPartnerFrameworkStatus: HeaderPartnerFrameworkStatus, optUserAgent: HeaderUserAgent,
	}
	for _, o := range allOptions() {
		name, ok := names[o.header]
		if !ok {
			t.Fatalf("option %+v sets no known header", o)
		}
		if got, want := o.header.key(), http.CanonicalHeaderKey(name); got != want {
			t.Errorf("%s is set as %q, want %q", name, got, want)
		}
		delete(names, o.header)
	}
	if len(names) != 0 {
		t.Errorf("headers without an option in allOptions: %v", names)
	}
}
