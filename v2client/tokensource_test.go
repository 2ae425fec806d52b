package v2client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const statement = "software-statement-jwt-REF30"

// fakeClock is the TokenSource clock; it counts reads so tests can tell when
// callers have looked at the cached token.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	reads int
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	return c.now
}

// peek reads the time without counting it as a TokenSource read.
func (c *fakeClock) peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// fakeAdobe implements the DCR endpoints and one v2 endpoint, checking
// everything it receives.
type fakeAdobe struct {
	t     *testing.T
	clock *fakeClock

	mu            sync.Mutex
	registrations int
	tokenCalls    int
	v2Calls       int
	clients       map[string]string // client id -> secret still valid
	tokens        map[string]bool   // access tokens still valid
	refuseTokens  bool              // every v2 call answers 401
	refuseClients bool              // every token call answers invalid_client
	refuseNext    int               // so do the next refuseNext token calls
	expiresIn     int64
	tokenGate     chan struct{} // when set, token calls wait for it to close
	tokenEntered  chan struct{} // when set, signalled (without blocking) as a token call starts waiting
	registerGate  chan struct{} // when set, registrations wait for it to close
	registerEnter chan struct{} // when set, signalled (without blocking) as a registration starts waiting
	v2Bearers     []string
}

func newFakeAdobe(t *testing.T, clock *fakeClock) *fakeAdobe {
	return &fakeAdobe{t: t, clock: clock, clients: map[string]string{}, tokens: map[string]bool{}, expiresIn: 3600}
}

func (f *fakeAdobe) counts() (registrations, tokenCalls, v2Calls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.registrations, f.tokenCalls, f.v2Calls
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeAdobe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == "POST" && r.URL.Path == "/o/client/register":
		f.register(w, r)
	case r.Method == "POST" && r.URL.Path == "/o/client/token":
		f.token(w, r)
	case r.Method == "GET" && r.URL.Path == "/api/v2/REF30/configuration":
		f.configuration(w, r)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	}
}

func (f *fakeAdobe) register(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-Device-Info") == "" {
		f.t.Errorf("register headers: %v", r.Header)
	}
	var req RegisterRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("Content-Type") != ContentTypeJSON {
		writeJSON(w, 400, `{"error":"invalid_request"}`)
		return
	}
	if req.SoftwareStatement != statement {
		writeJSON(w, 400, `{"error":"invalid_software_statement"}`)
		return
	}
	f.mu.Lock()
	gate, entered := f.registerGate, f.registerEnter
	f.mu.Unlock()
	if gate != nil {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
	}
	f.mu.Lock()
	f.registrations++
	id, secret := fmt.Sprintf("client-%d", f.registrations), fmt.Sprintf("client-secret-%d", f.registrations)
	f.clients[id] = secret
	f.mu.Unlock()
	writeJSON(w, 201, fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"client_id_issued_at":1723227212,
		"redirect_uris":[],"grant_types":["client_credentials"],"scopes":["api:client:v2"]}`, id, secret))
}

func (f *fakeAdobe) token(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != ContentTypeForm || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, 400, `{"error":"invalid_request"}`)
		return
	}
	f.mu.Lock()
	f.tokenCalls++
	gate, entered := f.tokenGate, f.tokenEntered
	f.mu.Unlock()
	if gate != nil {
		select {
		case entered <- struct{}{}:
		default: // a second concurrent refresh: the test will count it
		}
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PostForm.Get("client_id")
	if secret, ok := f.clients[id]; !ok || secret != r.PostForm.Get("client_secret") || f.refuseClients || f.refuseNext > 0 {
		f.refuseNext = max(f.refuseNext-1, 0)
		writeJSON(w, 400, `{"error":"invalid_client"}`)
		return
	}
	tok := fmt.Sprintf("access-token-%d", f.tokenCalls)
	f.tokens[tok] = true
	writeJSON(w, 201, fmt.Sprintf(`{"id":"t%d","access_token":%q,"created_at":%d,"expires_in":%d,"token_type":"bearer"}`,
		f.tokenCalls, tok, f.clock.peek().UnixMilli(), f.expiresIn))
}

func (f *fakeAdobe) configuration(w http.ResponseWriter, r *http.Request) {
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	f.v2Calls++
	f.v2Bearers = append(f.v2Bearers, bearer)
	ok := f.tokens[bearer] && !f.refuseTokens
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 401, `{"status":401,"code":"invalid_access_token_client_application","action":"application-registration",
			"message":"The access token is invalid."}`)
		return
	}
	writeJSON(w, 200, `{"requestor":{"id":"REF30","mvpds":[]}}`)
}

func (f *fakeAdobe) revokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func (f *fakeAdobe) revokeClients() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.clients)
}

// tokenEnv is a Client whose TokenSource talks to a fakeAdobe.
type tokenEnv struct {
	adobe  *fakeAdobe
	clock  *fakeClock
	client *Client
	ts     *TokenSource
	store  *MemoryStore
	logs   *bytes.Buffer
	slept  []time.Duration // the TokenSource's pauses (the clock advances instead)
}

func newTokenEnv(t *testing.T) *tokenEnv {
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	adobe := newFakeAdobe(t, clock)
	srv := httptest.NewServer(adobe)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := &MemoryStore{}
	c := &Client{BaseURL: srv.URL, Logger: logger}
	ts := &TokenSource{
		Client:    c,
		Statement: StaticStatements(map[string]RegisterRequest{"REF30": {SoftwareStatement: statement}}),
		Store:     store,
		Now:       clock.Now,
		Logger:    logger,
	}
	c.Tokens = ts
	e := &tokenEnv{adobe: adobe, clock: clock, client: c, ts: ts, store: store, logs: &logs}
	ts.Sleep = func(ctx context.Context, d time.Duration) error {
		e.slept = append(e.slept, d)
		clock.Advance(d)
		return ctx.Err()
	}
	return e
}

func (e *tokenEnv) call(t *testing.T) error {
	t.Helper()
	_, err := e.client.Configuration(t.Context(), "REF30")
	return err
}

func (e *tokenEnv) wantCounts(t *testing.T, registrations, tokenCalls, v2Calls int) {
	t.Helper()
	r, tc, v := e.adobe.counts()
	if r != registrations || tc != tokenCalls || v != v2Calls {
		t.Errorf("registrations/token calls/v2 calls = %d/%d/%d, want %d/%d/%d", r, tc, v, registrations, tokenCalls, v2Calls)
	}
}

func TestTokenSourceRegistersOnceAndReusesToken(t *testing.T) {
	e := newTokenEnv(t)
	for range 5 {
		if err := e.call(t); err != nil {
			t.Fatal(err)
		}
	}
	e.wantCounts(t, 1, 1, 5)
	for i, b := range e.adobe.v2Bearers {
		if b != "access-token-1" {
			t.Errorf("call %d used bearer %q", i, b)
		}
	}
	cred, ok, _ := e.store.LoadCredentials(t.Context(), "REF30")
	tok, tokOK, _ := e.store.LoadToken(t.Context(), "REF30")
	if !ok || cred.ClientID != "client-1" || !tokOK || tok.AccessToken != "access-token-1" {
		t.Errorf("store holds %v %v, %v %v", cred, ok, tok, tokOK)
	}

	// A new process sharing the store neither registers nor fetches a token.
	again := &TokenSource{Client: e.client, Store: e.store, Now: e.clock.Now,
		Statement: func(context.Context, string) (RegisterRequest, error) {
			t.Error("a stored registration was not reused")
			return RegisterRequest{}, errors.New("no")
		}}
	if got, err := again.AccessToken(t.Context(), "REF30"); err != nil || got != "access-token-1" {
		t.Errorf("second source: %q, %v", got, err)
	}
	e.wantCounts(t, 1, 1, 5)
	// Once the token expires it gets a new one with the stored credentials.
	e.clock.Advance(time.Hour)
	if got, err := again.AccessToken(t.Context(), "REF30"); err != nil || got != "access-token-2" {
		t.Errorf("second source after expiry: %q, %v", got, err)
	}
	e.wantCounts(t, 1, 2, 5)
}

func TestTokenSourceConcurrentFirstUse(t *testing.T) {
	e := newTokenEnv(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- e.call(t) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	e.wantCounts(t, 1, 1, n)
}

func TestTokenSourceRefreshesOnExpiry(t *testing.T) {
	e := newTokenEnv(t) // tokens live 3600 s; default skew 60 s
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3600*time.Second - DefaultSkew - time.Millisecond)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, 1, 1, 2)

	e.clock.Advance(time.Millisecond) // now inside the skew window
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, 1, 2, 3)
	if last := e.adobe.v2Bearers[2]; last != "access-token-2" {
		t.Errorf("bearer after expiry = %q", last)
	}
}

func TestTokenSourceShortLivedTokenKeepsHalfItsLife(t *testing.T) {
	e := newTokenEnv(t)
	e.adobe.expiresIn = 60 // no longer than the skew
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(29 * time.Second)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, 1, 1, 2)
}

func TestTokenSourceRefreshOn401RetriesOnce(t *testing.T) {
	e := newTokenEnv(t)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.adobe.revokeTokens() // Adobe stops honouring access-token-1 early
	if err := e.call(t); err != nil {
		t.Fatalf("call after revocation: %v", err)
	}
	e.wantCounts(t, 1, 2, 3)
	if got := e.adobe.v2Bearers; got[1] != "access-token-1" || got[2] != "access-token-2" {
		t.Errorf("bearers = %v", got)
	}
	// The refreshed token is kept.
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, 1, 2, 4)
}

func TestTokenSourceSecond401Surfaced(t *testing.T) {
	e := newTokenEnv(t)
	e.adobe.refuseTokens = true
	err := e.call(t)
	if !errors.Is(err, ErrUnauthorized) || StatusCode(err) != 401 || Code(err) != "invalid_access_token_client_application" {
		t.Fatalf("err = %v", err)
	}
	// One token, one v2 call, one refresh, one retry; never a re-registration.
	e.wantCounts(t, 1, 2, 2)
}

func TestTokenSourceConcurrentRefreshAfterExpiry(t *testing.T) {
	e := newTokenEnv(t)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)

	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	e.adobe.mu.Lock()
	e.adobe.tokenGate, e.adobe.tokenEntered = gate, entered
	e.adobe.mu.Unlock()

	const n = 25
	readsBefore := e.clock.Reads()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- e.call(t) })
	}
	<-entered // one refresh is at Adobe and held there
	// Every caller has found the cached token stale (one clock read each; the
	// refreshing one reads twice more) before the refresh may finish.
	deadline := time.Now().Add(10 * time.Second)
	for e.clock.Reads()-readsBefore < n+2 {
		if time.Now().After(deadline) {
			t.Fatalf("callers never reached the token check (%d reads)", e.clock.Reads()-readsBefore)
		}
		time.Sleep(time.Millisecond)
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	e.wantCounts(t, 1, 2, n+1)
}

func TestTokenSourceReRegistersOnInvalidClient(t *testing.T) {
	e := newTokenEnv(t)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.adobe.revokeClients() // the statement was rotated; client-1 is gone
	e.clock.Advance(time.Hour)
	if err := e.call(t); err != nil {
		t.Fatalf("call after credential revocation: %v", err)
	}
	// token(client-1) -> invalid_client -> pause -> token(client-1) ->
	// invalid_client -> register -> token(client-2)
	e.wantCounts(t, 2, 4, 2)
	if !slices.Equal(e.slept, []time.Duration{DefaultConfirmRefusal}) {
		t.Errorf("pauses %v, want one of %v before registering again", e.slept, DefaultConfirmRefusal)
	}
	cred, _, _ := e.store.LoadCredentials(t.Context(), "REF30")
	if cred.ClientID != "client-2" {
		t.Errorf("stored credentials = %v", cred)
	}
	e.clock.Advance(time.Hour)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, 2, 5, 3)
}

// A single invalid_client is not taken as final: registering again would
// orphan every profile bound to the client.
func TestTokenSourceSingleRefusalKeepsClient(t *testing.T) {
	tests := []struct {
		name    string
		confirm time.Duration
		// registrations and token calls after the refused refresh
		registrations, tokenCalls int
		client                    string
		pauses                    []time.Duration
	}{
		{"default pause", 0, 1, 3, "client-1", []time.Duration{DefaultConfirmRefusal}},
		{"own pause", 5 * time.Second, 1, 3, "client-1", []time.Duration{5 * time.Second}},
		{"no confirmation", -1, 2, 3, "client-2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTokenEnv(t)
			e.ts.ConfirmRefusal = tt.confirm
			if err := e.call(t); err != nil {
				t.Fatal(err)
			}
			e.adobe.mu.Lock()
			e.adobe.refuseNext = 1 // a glitch: the credentials are still good
			e.adobe.mu.Unlock()
			e.clock.Advance(time.Hour)
			if err := e.call(t); err != nil {
				t.Fatalf("call after one refusal: %v", err)
			}
			e.wantCounts(t, tt.registrations, tt.tokenCalls, 2)
			if !slices.Equal(e.slept, tt.pauses) {
				t.Errorf("pauses %v, want %v", e.slept, tt.pauses)
			}
			if cred, _, _ := e.store.LoadCredentials(t.Context(), "REF30"); cred.ClientID != tt.client {
				t.Errorf("stored credentials = %v, want %s", cred, tt.client)
			}
		})
	}
}

// A caller that gives up during the pause registers nothing.
func TestTokenSourceRefusalPauseCancelled(t *testing.T) {
	e := newTokenEnv(t)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.adobe.revokeClients()
	e.clock.Advance(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	e.ts.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	if _, err := e.ts.AccessToken(ctx, "REF30"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	e.wantCounts(t, 1, 2, 1)
	if cred, _, _ := e.store.LoadCredentials(t.Context(), "REF30"); cred.ClientID != "client-1" {
		t.Errorf("stored credentials = %v, want client-1 kept", cred)
	}
}

func TestTokenSourceInvalidClientAfterReRegistrationSurfaced(t *testing.T) {
	t.Run("credentials just registered", func(t *testing.T) {
		e := newTokenEnv(t)
		e.adobe.refuseClients = true
		_, err := e.ts.AccessToken(t.Context(), "REF30")
		if !IsInvalidClient(err) {
			t.Fatalf("err = %v, want invalid_client", err)
		}
		// Fresh credentials refused: registering again cannot help.
		e.wantCounts(t, 1, 1, 0)
		if len(e.slept) != 0 {
			t.Errorf("paused %v for credentials just registered", e.slept)
		}
	})
	t.Run("stored credentials", func(t *testing.T) {
		e := newTokenEnv(t)
		if err := e.call(t); err != nil {
			t.Fatal(err)
		}
		e.adobe.refuseClients = true
		e.clock.Advance(time.Hour)
		_, err := e.ts.AccessToken(t.Context(), "REF30")
		if !IsInvalidClient(err) {
			t.Fatalf("err = %v, want invalid_client", err)
		}
		// token, its confirmation, register, token again: then give up.
		e.wantCounts(t, 2, 4, 1)
	})
}

// TestSecretsNeverInErrorsOrLogs drives every failure path and checks that
// no error string and no log line carries a credential.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	secrets := []string{statement, "client-secret-", "access-token-", "bad-statement-"}
	tests := []struct {
		name  string
		setup func(e *tokenEnv)
	}{
		{"registration refused", func(e *tokenEnv) {
			e.ts.Statement = StaticStatements(map[string]RegisterRequest{"REF30": {SoftwareStatement: "bad-statement-XYZ"}})
		}},
		{"credentials refused", func(e *tokenEnv) { e.adobe.refuseClients = true }},
		{"access token refused twice", func(e *tokenEnv) { e.adobe.refuseTokens = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTokenEnv(t)
			tt.setup(e)
			err := e.call(t)
			if err == nil {
				t.Fatal("the call succeeded")
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
				if strings.Contains(e.logs.String(), s) {
					t.Errorf("logs contain %q:\n%s", s, e.logs)
				}
			}
		})
	}
	// Values that hold secrets redact themselves when formatted or logged.
	cred := ClientCredentials{ClientID: "id", ClientSecret: "client-secret-9"}
	tok := AccessToken{ID: "t", AccessToken: "access-token-9"}
	reg := RegisterRequest{SoftwareStatement: statement}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "cred", cred, "tok", tok, "reg", reg)
	for _, text := range []string{fmt.Sprint(cred, tok, reg), fmt.Sprintf("%+v %#v %v", cred, tok, &reg), buf.String()} {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%q contains %q", text, s)
			}
		}
	}
}

func TestTokenSourceUnknownServiceProvider(t *testing.T) {
	e := newTokenEnv(t)
	_, err := e.ts.AccessToken(t.Context(), "OTHER")
	if !errors.Is(err, ErrUnknownServiceProvider) {
		t.Fatalf("err = %v", err)
	}
	e.wantCounts(t, 0, 0, 0)
}
