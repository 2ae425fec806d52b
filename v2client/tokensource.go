package v2client

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/passgw/passgw/internal/wait"
)

// DefaultSkew is how long before its expiry a cached access token is
// replaced.
const DefaultSkew = 60 * time.Second

// DefaultConfirmRefusal is the default TokenSource.ConfirmRefusal.
const DefaultConfirmRefusal = 2 * time.Second

// DefaultKeepInterval is how often KeepStored checks the store by default:
// the longest the shared credentials stay missing after the store lost them
// while an instance holding them runs.
const DefaultKeepInterval = 500 * time.Millisecond

// DefaultAdoptWait is the TokenSource.AdoptWait a gateway sharing its store
// uses: four times DefaultKeepInterval, so that a running instance has
// written its credentials back well before a new one would register.
const DefaultAdoptWait = 4 * DefaultKeepInterval

// adoptPolls is how many times a source reads the store during AdoptWait.
const adoptPolls = 30

// serverDeviceInfo is the X-Device-Info sent on the gateway's own DCR calls
// unless TokenSource.Options override it: valid JSON with the five required
// keys, describing the gateway host.
func serverDeviceInfo() string {
	return base64.StdEncoding.EncodeToString([]byte(
		`{"primaryHardwareType":"Unknown","model":"passgw","version":"1","osName":"Linux","osVersion":"unknown","connectionType":"LAN"}`))
}

// TokenSource obtains and caches the gateway's access token per service
// provider with Dynamic Client Registration (§5.3, §13):
//
//   - it registers once per service provider and keeps the credentials in
//     Store forever; it registers again only when /o/client/token answers
//     invalid_client, twice (see ConfirmRefusal), and never for Pinned
//     credentials;
//   - finding no credentials in Store, it waits AdoptWait for an instance
//     still holding some to write them back (KeepStored) before registering,
//     so that a store that lost its data does not split the instances
//     between two registrations;
//   - it reuses an access token until created_at + expires_in - Skew;
//   - after a v2 401 it fetches one new token (RefreshToken);
//   - concurrent callers for one service provider share a single refresh;
//     when Store is a CredentialLocker, so do gateway instances sharing it.
//
// Set Client and Statement; the other fields have working zero values. A
// TokenSource must not be copied after first use.
type TokenSource struct {
	// Client sends the DCR calls (its BaseURL serves /o). Required.
	Client *Client

	// Statement returns the software statement (and optional redirect URI)
	// registered for the service provider; see StaticStatements. Nil, or an
	// answer wrapping ErrUnknownServiceProvider, fails the call.
	Statement func(ctx context.Context, sp string) (RegisterRequest, error)

	// Store persists credentials and tokens. Nil means a private MemoryStore,
	// which loses the registration on restart.
	Store CredentialStore

	// Skew is subtracted from a token's expiry; never more than half the
	// token's lifetime is taken. Zero means DefaultSkew; negative means none.
	Skew time.Duration

	// Now is the clock. Nil means time.Now.
	Now func() time.Time

	// ConfirmRefusal is how long the source waits, after /o/client/token
	// first answers invalid_client, before asking again with the same
	// credentials; only a second refusal makes it register again. v2 binds
	// every profile to the client that created it, so registering again
	// signs every device of the service provider out: one spurious refusal
	// must not do that. Credentials just registered are not confirmed.
	// Zero means DefaultConfirmRefusal; negative registers at the first
	// refusal.
	ConfirmRefusal time.Duration

	// Sleep waits d or until ctx ends (ConfirmRefusal's pause). Nil uses a
	// timer.
	Sleep func(ctx context.Context, d time.Duration) error

	// Pinned are client credentials the operator obtained outside the
	// gateway (Adobe's TVE dashboard), by service provider. For those the
	// source never registers and never stores the credentials (only the
	// access tokens): a refusal of them fails the call, for the operator to
	// replace them. Read-only once the source is in use.
	Pinned map[string]ClientCredentials

	// AdoptWait is how long a source that finds no credentials in Store
	// waits, reading it again and again, before it registers: time for a
	// running instance sharing the store to write back the credentials it
	// holds (KeepStored) after the store lost them. Zero or negative: no
	// wait, for a store only this process uses. Set it with KeepStored
	// running on every instance; DefaultAdoptWait suits DefaultKeepInterval.
	AdoptWait time.Duration

	// Options are sent on DCR calls after a default X-Device-Info describing
	// the gateway, which WithDeviceInfo here replaces.
	Options []Option

	// Logger receives registration and refresh events (ids and expiry times,
	// never secrets). Nil discards.
	Logger *slog.Logger

	once  sync.Once
	mem   MemoryStore
	mu    sync.Mutex
	locks map[string]chan struct{}
	creds map[string]ClientCredentials
	cache map[string]AccessToken
}

// StaticStatements returns a TokenSource.Statement backed by a map from
// service provider to software statement.
func StaticStatements(m map[string]RegisterRequest) func(context.Context, string) (RegisterRequest, error) {
	return func(_ context.Context, sp string) (RegisterRequest, error) {
		r, ok := m[sp]
		if !ok || r.SoftwareStatement == "" {
			return RegisterRequest{}, fmt.Errorf("%w %q", ErrUnknownServiceProvider, sp)
		}
		return r, nil
	}
}

func (ts *TokenSource) init() {
	ts.once.Do(func() {
		ts.locks = map[string]chan struct{}{}
		ts.creds = map[string]ClientCredentials{}
		ts.cache = map[string]AccessToken{}
	})
}

func (ts *TokenSource) store() CredentialStore {
	if ts.Store == nil {
		return &ts.mem
	}
	return ts.Store
}

func (ts *TokenSource) now() time.Time {
	if ts.Now == nil {
		return time.Now()
	}
	return ts.Now()
}

func (ts *TokenSource) confirmRefusal() time.Duration {
	if ts.ConfirmRefusal == 0 {
		return DefaultConfirmRefusal
	}
	return ts.ConfirmRefusal
}

func (ts *TokenSource) sleep(ctx context.Context, d time.Duration) error {
	if ts.Sleep != nil {
		return ts.Sleep(ctx, d)
	}
	return wait.For(ctx, d)
}

func (ts *TokenSource) logger() *slog.Logger {
	if ts.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return ts.Logger
}

func (ts *TokenSource) dcrOptions() []Option {
	return append([]Option{WithDeviceInfo(serverDeviceInfo())}, ts.Options...)
}

// fresh reports whether t can still be used.
func (ts *TokenSource) fresh(t AccessToken) bool {
	if t.AccessToken == "" {
		return false
	}
	skew := ts.Skew
	switch {
	case skew == 0:
		skew = DefaultSkew
	case skew < 0:
		skew = 0
	}
	if half := t.Lifetime() / 2; skew > half {
		skew = half
	}
	return ts.now().Before(t.ExpiresAt().Add(-skew))
}

func (ts *TokenSource) cached(sp string) (AccessToken, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.cache[sp]
	return t, ok && ts.fresh(t)
}

// AccessToken implements TokenProvider.
func (ts *TokenSource) AccessToken(ctx context.Context, sp string) (string, error) {
	ts.init()
	if t, ok := ts.cached(sp); ok {
		return t.AccessToken, nil
	}
	return ts.obtain(ctx, sp, "")
}

// RefreshToken implements TokenProvider: it returns a token other than
// rejected, fetching a new one unless a concurrent caller already did.
func (ts *TokenSource) RefreshToken(ctx context.Context, sp, rejected string) (string, error) {
	ts.init()
	return ts.obtain(ctx, sp, rejected)
}

// lock serialises refreshes per service provider; waiting honours ctx.
func (ts *TokenSource) lock(ctx context.Context, sp string) (unlock func(), err error) {
	ts.mu.Lock()
	ch, ok := ts.locks[sp]
	if !ok {
		ch = make(chan struct{}, 1)
		ts.locks[sp] = ch
	}
	ts.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (ts *TokenSource) obtain(ctx context.Context, sp, rejected string) (string, error) {
	unlock, err := ts.lock(ctx, sp)
	if err != nil {
		return "", fmt.Errorf("v2client: access token for %s: %w", sp, err)
	}
	defer unlock()

	// Whoever held the lock before us may have done the work already.
	if t, ok := ts.cached(sp); ok && t.AccessToken != rejected {
		return t.AccessToken, nil
	}
	// So may another gateway instance sharing the store.
	if t, ok := ts.stored(ctx, sp, rejected); ok {
		return t.AccessToken, nil
	}
	// lockErr, when set, is why the instances' shared lock is not held.
	var lockErr error
	if l, ok := ts.store().(CredentialLocker); ok {
		release, err := l.LockCredentials(ctx, sp)
		switch {
		case err == nil:
			defer release()
			// The holder before us may have stored a token meanwhile.
			if t, ok := ts.stored(ctx, sp, rejected); ok {
				return t.AccessToken, nil
			}
		case ctx.Err() != nil:
			return "", fmt.Errorf("v2client: access token for %s: %w", sp, err)
		default:
			// Two instances fetching a token each is harmless, so a broken
			// lock stops only registration (see register).
			lockErr = err
			ts.logger().WarnContext(ctx, "credential lock unavailable", "service_provider", sp, "error", err)
		}
	}

	cred, registered, err := ts.credentials(ctx, sp, lockErr)
	if err != nil {
		return "", err
	}
	tok, err := ts.Client.Token(ctx, cred, ts.dcrOptions()...)
	_, pinned := ts.Pinned[sp]
	if IsInvalidClient(err) && !registered {
		if c, ok := ts.replaced(ctx, sp, cred); ok && !pinned {
			// Another instance has registered again already.
			cred, registered = c, true
			tok, err = ts.Client.Token(ctx, cred, ts.dcrOptions()...)
		} else if d := ts.confirmRefusal(); d > 0 {
			ts.logger().WarnContext(ctx, "client credentials refused, asking again before registering again",
				"service_provider", sp, "client_id", cred.ClientID, "wait_ms", durationMS(d))
			if err := ts.sleep(ctx, d); err != nil {
				return "", fmt.Errorf("v2client: access token for %s: %w", sp, err)
			}
			tok, err = ts.Client.Token(ctx, cred, ts.dcrOptions()...)
		}
	}
	if pinned && IsInvalidClient(err) {
		ts.logger().ErrorContext(ctx, "pinned client credentials refused; replace them in the configuration",
			"service_provider", sp, "client_id", cred.ClientID)
		return "", fmt.Errorf("v2client: access token for %s: pinned client credentials refused: %w", sp, err)
	}
	if IsInvalidClient(err) && !registered {
		ts.logger().WarnContext(ctx, "client credentials refused, registering again",
			"service_provider", sp, "client_id", cred.ClientID)
		if cred, err = ts.renewCredentials(ctx, sp, cred, lockErr); err != nil {
			return "", err
		}
		tok, err = ts.Client.Token(ctx, cred, ts.dcrOptions()...)
	}
	if err != nil {
		return "", fmt.Errorf("v2client: access token for %s: %w", sp, err)
	}
	if tok.CreatedAt == 0 {
		// Without created_at the lifetime counts from now.
		tok.CreatedAt = ts.now().UnixMilli()
	}
	if err := ts.store().SaveToken(ctx, sp, *tok); err != nil {
		ts.logger().WarnContext(ctx, "storing access token failed", "service_provider", sp, "error", err)
	}
	ts.remember(sp, *tok)
	ts.logger().InfoContext(ctx, "access token obtained", "service_provider", sp, "token", *tok)
	return tok.AccessToken, nil
}

// stored returns the stored token of sp when it is fresh and not rejected,
// and keeps it in this process.
func (ts *TokenSource) stored(ctx context.Context, sp, rejected string) (AccessToken, bool) {
	t, ok, err := ts.store().LoadToken(ctx, sp)
	if err != nil {
		ts.logger().WarnContext(ctx, "loading stored access token failed", "service_provider", sp, "error", err)
		return AccessToken{}, false
	}
	if !ok || t.AccessToken == rejected || !ts.fresh(t) {
		return AccessToken{}, false
	}
	ts.remember(sp, t)
	ts.holdStored(ctx, sp)
	return t, true
}

// holdStored keeps the stored credentials of sp in this process unless it
// holds some already: a source that took a stored token must hold the
// credentials behind it too, to write them back should the store lose them.
func (ts *TokenSource) holdStored(ctx context.Context, sp string) {
	if _, pinned := ts.Pinned[sp]; pinned {
		return
	}
	ts.mu.Lock()
	_, held := ts.creds[sp]
	ts.mu.Unlock()
	if held {
		return
	}
	c, ok, err := ts.store().LoadCredentials(ctx, sp)
	if err != nil {
		ts.logger().WarnContext(ctx, "loading client credentials failed", "service_provider", sp, "error", err)
		return
	}
	if ok {
		ts.keep(sp, c)
	}
}

func (ts *TokenSource) remember(sp string, t AccessToken) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.cache[sp] = t
}

// credentials returns the client credentials of sp: the pinned ones, else
// those this process uses, else the stored ones (waiting AdoptWait for them
// to be written back), else new ones from registering (registered is then
// true). Called with sp's locks held; lockErr as for register.
func (ts *TokenSource) credentials(ctx context.Context, sp string, lockErr error) (c ClientCredentials, registered bool, err error) {
	if c, ok := ts.Pinned[sp]; ok {
		return c, false, nil
	}
	ts.mu.Lock()
	c, ok := ts.creds[sp]
	ts.mu.Unlock()
	if ok {
		return c, false, nil
	}
	c, ok, err = ts.awaitStored(ctx, sp)
	if err != nil {
		// Registering now would orphan the stored credentials and every
		// profile bound to them.
		return ClientCredentials{}, false, fmt.Errorf("v2client: loading client credentials for %s: %w", sp, err)
	}
	if ok {
		ts.keep(sp, c)
		return c, false, nil
	}
	c, err = ts.register(ctx, sp, lockErr)
	return c, err == nil, err
}

// awaitStored loads the stored credentials of sp, reading the store again
// for up to AdoptWait while it holds none: a store that lost its data is
// written back to by the instances still running (KeepStored), and
// registering before they do would leave the instances on two
// registrations, each signing out the devices of the other.
func (ts *TokenSource) awaitStored(ctx context.Context, sp string) (ClientCredentials, bool, error) {
	c, ok, err := ts.store().LoadCredentials(ctx, sp)
	if ok || err != nil || ts.AdoptWait <= 0 {
		return c, ok, err
	}
	ts.logger().InfoContext(ctx, "no client credentials stored; waiting for a running instance to write its own back before registering",
		"service_provider", sp, "wait_ms", durationMS(ts.AdoptWait))
	pause := ts.AdoptWait / adoptPolls
	for i := range adoptPolls {
		d := pause
		if i == adoptPolls-1 {
			d = ts.AdoptWait - pause*(adoptPolls-1)
		}
		if err := ts.sleep(ctx, d); err != nil {
			return ClientCredentials{}, false, err
		}
		if c, ok, err = ts.store().LoadCredentials(ctx, sp); ok || err != nil {
			if ok {
				ts.logger().InfoContext(ctx, "adopted the client credentials another instance wrote back",
					"service_provider", sp, "client_id", c.ClientID)
			}
			return c, ok, err
		}
	}
	return ClientCredentials{}, false, nil
}

// KeepStored makes the store hold what this source uses, every interval
// until ctx ends (DefaultKeepInterval when interval is not positive): for
// each service provider whose credentials the source holds, credentials
// missing from the store (flushed, restarted empty, evicted) are written
// back, with the current access token; credentials in the store other than
// the source's (another instance registered again after invalid_client) are
// adopted, so that the instances converge on one registration. Run it on
// every instance of a shared store, with AdoptWait set.
func (ts *TokenSource) KeepStored(ctx context.Context, interval time.Duration) {
	ts.init()
	if interval <= 0 {
		interval = DefaultKeepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ts.WriteBack(ctx)
		}
	}
}

// WriteBack is one round of KeepStored.
func (ts *TokenSource) WriteBack(ctx context.Context) {
	ts.init()
	ts.mu.Lock()
	held := make(map[string]ClientCredentials, len(ts.creds)+len(ts.Pinned))
	for sp, c := range ts.creds {
		held[sp] = c
	}
	tokens := make(map[string]AccessToken, len(ts.cache))
	for sp, t := range ts.cache {
		if ts.fresh(t) {
			tokens[sp] = t
		}
	}
	ts.mu.Unlock()
	for sp, c := range held {
		if _, pinned := ts.Pinned[sp]; pinned {
			continue
		}
		if !ts.writeBackCredentials(ctx, sp, c) {
			delete(tokens, sp)
		}
	}
	for sp, t := range tokens {
		if _, ok, err := ts.store().LoadToken(ctx, sp); err != nil || ok {
			continue
		}
		if err := ts.store().SaveToken(ctx, sp, t); err != nil {
			ts.logger().WarnContext(ctx, "writing back the access token failed", "service_provider", sp, "error", err)
		}
	}
}

// writeBackCredentials makes the store hold c for sp, or adopts the other
// credentials it holds, and reports whether c is still this source's.
func (ts *TokenSource) writeBackCredentials(ctx context.Context, sp string, c ClientCredentials) bool {
	log := ts.logger()
	stored, ok, err := ts.store().LoadCredentials(ctx, sp)
	if err != nil {
		log.WarnContext(ctx, "checking the stored client credentials failed", "service_provider", sp, "error", err)
		return true
	}
	if !ok {
		added := true
		if a, isAdder := ts.store().(CredentialAdder); isAdder {
			added, err = a.AddCredentials(ctx, sp, c)
		} else {
			err = ts.store().SaveCredentials(ctx, sp, c)
		}
		switch {
		case err != nil:
			log.ErrorContext(ctx, "client credentials missing from the store; writing them back failed",
				"service_provider", sp, "error", err)
		case added:
			log.WarnContext(ctx, "client credentials missing from the store; wrote back those in use",
				"service_provider", sp, "client_id", c.ClientID)
		}
		return true // whatever was added meanwhile is adopted next round
	}
	if stored.ClientID == c.ClientID {
		return true
	}
	ts.mu.Lock()
	if cur, ok := ts.creds[sp]; ok && cur.ClientID == c.ClientID {
		ts.creds[sp] = stored
		delete(ts.cache, sp)
	}
	ts.mu.Unlock()
	log.WarnContext(ctx, "the store holds other client credentials than those in use; adopted them",
		"service_provider", sp, "client_id", stored.ClientID, "replaced_client_id", c.ClientID)
	return false
}

// renewCredentials replaces credentials v2 refused: by those another
// instance stored since it registered again, else by registering. Called
// with sp's locks held; lockErr as for register.
func (ts *TokenSource) renewCredentials(ctx context.Context, sp string, refused ClientCredentials, lockErr error) (ClientCredentials, error) {
	if c, ok := ts.replaced(ctx, sp, refused); ok {
		return c, nil
	}
	return ts.register(ctx, sp, lockErr)
}

// replaced returns the credentials of sp in the store when they are not
// the refused ones: another instance registered again.
func (ts *TokenSource) replaced(ctx context.Context, sp string, refused ClientCredentials) (ClientCredentials, bool) {
	c, ok, err := ts.store().LoadCredentials(ctx, sp)
	if err != nil {
		// The refused credentials are dead whatever the store holds.
		ts.logger().WarnContext(ctx, "loading client credentials failed", "service_provider", sp, "error", err)
		return ClientCredentials{}, false
	}
	if !ok || c.ClientID == refused.ClientID {
		return ClientCredentials{}, false
	}
	ts.keep(sp, c)
	return c, true
}

// register obtains and stores new client credentials for sp. lockErr is why
// the instances' shared lock is not held; registering without it could
// leave instances with different registrations, so it fails instead.
func (ts *TokenSource) register(ctx context.Context, sp string, lockErr error) (ClientCredentials, error) {
	if lockErr != nil {
		return ClientCredentials{}, fmt.Errorf("v2client: registering client for %s without the credential lock: %w", sp, lockErr)
	}
	if ts.Statement == nil {
		return ClientCredentials{}, fmt.Errorf("%w %q", ErrUnknownServiceProvider, sp)
	}
	req, err := ts.Statement(ctx, sp)
	if err != nil {
		return ClientCredentials{}, fmt.Errorf("v2client: software statement for %s: %w", sp, err)
	}
	c, err := ts.Client.Register(ctx, req, ts.dcrOptions()...)
	if err != nil {
		return ClientCredentials{}, fmt.Errorf("v2client: registering client for %s: %w", sp, err)
	}
	if err := ts.store().SaveCredentials(ctx, sp, *c); err != nil {
		// Keep using them in this process; the operator must fix the store
		// before a restart forces another registration.
		ts.logger().ErrorContext(ctx, "storing client credentials failed", "service_provider", sp, "error", err)
	}
	ts.keep(sp, *c)
	ts.logger().InfoContext(ctx, "client registered", "service_provider", sp, "credentials", *c)
	return *c, nil
}

func (ts *TokenSource) keep(sp string, c ClientCredentials) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.creds[sp] = c
}

// StaticToken is a TokenProvider that always answers the same token, for
// tests and tools.
type StaticToken string

// AccessToken implements TokenProvider.
func (t StaticToken) AccessToken(context.Context, string) (string, error) { return string(t), nil }

// RefreshToken implements TokenProvider; a static token cannot be renewed.
func (t StaticToken) RefreshToken(context.Context, string, string) (string, error) {
	return "", fmt.Errorf("v2client: static token cannot be refreshed")
}
