package v2client

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// forget empties the store, as a Redis flushed or restarted empty would be.
func (m *MemoryStore) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.creds)
	clear(m.tokens)
}

func stored(t *testing.T, st CredentialStore) (ClientCredentials, AccessToken) {
	t.Helper()
	c, okC, err := st.LoadCredentials(t.Context(), "REF30")
	if err != nil {
		t.Fatal(err)
	}
	tok, okT, err := st.LoadToken(t.Context(), "REF30")
	if err != nil {
		t.Fatal(err)
	}
	if !okC {
		c = ClientCredentials{}
	}
	if !okT {
		tok = AccessToken{}
	}
	return c, tok
}

// TestWriteBackRestoresLostCredentials: credentials and token a running
// source holds are written back to a store that lost them, and a new
// source on that store then uses them instead of registering.
func TestWriteBackRestoresLostCredentials(t *testing.T) {
	e := newTokenEnv(t)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.store.forget()
	e.ts.WriteBack(t.Context())
	c, tok := stored(t, e.store)
	if c.ClientID != "client-1" || tok.AccessToken != "access-token-1" {
		t.Fatalf("after write-back the store holds %v and token %q, want client-1 and access-token-1", c, tok.AccessToken)
	}
	if !strings.Contains(e.logs.String(), "client credentials missing from the store; wrote back those in use") {
		t.Errorf("the write-back was not logged:\n%s", e.logs)
	}

	other := e.source(e.store)
	other.AdoptWait = time.Second
	if _, err := other.AccessToken(t.Context(), "REF30"); err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, 1, 1, 1)
	// Nothing left to write back: a second round changes nothing.
	e.ts.WriteBack(t.Context())
	if c, _ := stored(t, e.store); c.ClientID != "client-1" {
		t.Fatalf("stored %v", c)
	}
}

// TestAdoptWaitTakesCredentialsWrittenBack: a new source finding the store
// empty waits; a running source writes its credentials back meanwhile, and
// the new one adopts them: one registration in all.
func TestAdoptWaitTakesCredentialsWrittenBack(t *testing.T) {
	e := newTokenEnv(t)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.store.forget()
	e.clock.Advance(2 * time.Hour) // the running source's token is stale too

	fresh := e.source(e.store)
	fresh.AdoptWait = 2 * time.Second
	var pauses []time.Duration
	fresh.Sleep = func(ctx context.Context, d time.Duration) error {
		pauses = append(pauses, d)
		if len(pauses) == 3 {
			e.ts.WriteBack(ctx) // the running instance's KeepStored
		}
		return ctx.Err()
	}
	if _, err := fresh.AccessToken(t.Context(), "REF30"); err != nil {
		t.Fatal(err)
	}
	if len(pauses) != 3 {
		t.Errorf("paused %d times, want 3 (until the credentials were back)", len(pauses))
	}
	// One registration, and the fresh source's token was fetched with it.
	e.wantCounts(t, 1, 2, 1)
	if c, _ := stored(t, e.store); c.ClientID != "client-1" {
		t.Errorf("stored %v, want client-1", c)
	}
}

// TestAdoptWaitThenRegisters: with nobody to write credentials back (the
// first start of the first instance), a source registers once AdoptWait
// has passed.
func TestAdoptWaitThenRegisters(t *testing.T) {
	e := newTokenEnv(t)
	e.ts.AdoptWait = 2 * time.Second
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for _, d := range e.slept {
		total += d
	}
	if total != 2*time.Second || len(e.slept) != adoptPolls {
		t.Errorf("paused %v in %d pauses, want 2s in %d", total, len(e.slept), adoptPolls)
	}
	e.wantCounts(t, 1, 1, 1)
}

// TestWriteBackAdoptsOtherStoredCredentials: when the store holds other
// credentials than a source's (another instance registered again after
// invalid_client), the source switches to them at its next write-back
// round rather than overwriting them.
func TestWriteBackAdoptsOtherStoredCredentials(t *testing.T) {
	e := newTokenEnv(t)
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	other := e.source(e.store)
	other.init()
	// Another instance registers again, as after a confirmed refusal.
	if _, err := other.register(t.Context(), "REF30", nil); err != nil {
		t.Fatal(err)
	}
	e.ts.WriteBack(t.Context())
	if c, _ := stored(t, e.store); c.ClientID != "client-2" {
		t.Fatalf("the write-back replaced the newer credentials: stored %v", c)
	}
	e.ts.mu.Lock()
	held, cached := e.ts.creds["REF30"], e.ts.cache["REF30"]
	e.ts.mu.Unlock()
	if held.ClientID != "client-2" || cached.AccessToken != "" {
		t.Errorf("after the write-back round the source holds %v and token %q, want client-2 and no token of client-1", held, cached.AccessToken)
	}
	if !strings.Contains(e.logs.String(), "the store holds other client credentials than those in use; adopted them") {
		t.Errorf("the adoption was not logged:\n%s", e.logs)
	}
}

// TestPinnedCredentialsNeverRegister: with pinned credentials the source
// never registers nor stores them, and their refusal fails the call
// instead of registering.
func TestPinnedCredentialsNeverRegister(t *testing.T) {
	e := newTokenEnv(t)
	e.adobe.mu.Lock()
	e.adobe.clients["dashboard-client"] = "dashboard-secret"
	e.adobe.mu.Unlock()
	e.ts.Pinned = map[string]ClientCredentials{"REF30": {ClientID: "dashboard-client", ClientSecret: "dashboard-secret"}}
	if err := e.call(t); err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, 0, 1, 1)
	if c, _ := stored(t, e.store); c.ClientID != "" {
		t.Errorf("pinned credentials were stored: %v", c)
	}
	e.ts.WriteBack(t.Context())
	if c, _ := stored(t, e.store); c.ClientID != "" {
		t.Errorf("pinned credentials were written back: %v", c)
	}

	e.adobe.revokeClients()
	e.clock.Advance(2 * time.Hour)
	err := e.call(t)
	if err == nil || !IsInvalidClient(err) || !strings.Contains(err.Error(), "pinned") {
		t.Fatalf("call with refused pinned credentials: %v, want an invalid_client error naming them pinned", err)
	}
	r, _, _ := e.adobe.counts()
	if r != 0 {
		t.Errorf("registered %d times with pinned credentials, want never", r)
	}
	if !slices.Equal(e.slept, []time.Duration{DefaultConfirmRefusal}) {
		t.Errorf("pauses %v: the refusal should be confirmed once, as for registered credentials", e.slept)
	}
	if strings.Contains(e.logs.String(), "dashboard-secret") || strings.Contains(err.Error(), "dashboard-secret") {
		t.Error("the pinned secret reached a log or an error")
	}
}
