package v2client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// lockingStore is a CredentialStore shared by several TokenSources, as by
// gateway instances, with the cross-instance lock they take from it.
type lockingStore struct {
	MemoryStore
	lock chan struct{} // holds a value while locked
	// contended is signalled (without blocking) when a caller finds the
	// lock held and starts waiting.
	contended chan struct{}
	// broken, when set, is the error of every LockCredentials.
	broken error
}

func newLockingStore() *lockingStore {
	return &lockingStore{lock: make(chan struct{}, 1), contended: make(chan struct{}, 1)}
}

func (s *lockingStore) LockCredentials(ctx context.Context, _ string) (func(), error) {
	if s.broken != nil {
		return nil, s.broken
	}
	select {
	case s.lock <- struct{}{}:
		return func() { <-s.lock }, nil
	default:
	}
	select {
	case s.contended <- struct{}{}:
	default:
	}
	select {
	case s.lock <- struct{}{}:
		return func() { <-s.lock }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// source returns a TokenSource of its own (its own per-process lock and
// caches) on st, as another gateway instance would have.
func (e *tokenEnv) source(st CredentialStore) *TokenSource {
	return &TokenSource{
		Client:    e.client,
		Statement: StaticStatements(map[string]RegisterRequest{"REF30": {SoftwareStatement: statement}}),
		Store:     st,
		Now:       e.clock.Now,
		Sleep:     e.ts.Sleep,
	}
}

// TestTokenSourcesShareOneRegistration: two instances starting at the same
// moment on an empty shared store register once and use one token.
func TestTokenSourcesShareOneRegistration(t *testing.T) {
	e := newTokenEnv(t)
	st := newLockingStore()
	gate, entered := make(chan struct{}), make(chan struct{}, 2)
	e.adobe.mu.Lock()
	e.adobe.registerGate, e.adobe.registerEnter = gate, entered
	e.adobe.mu.Unlock()

	sources := []*TokenSource{e.source(st), e.source(st)}
	tokens := make([]string, len(sources))
	errs := make([]error, len(sources))
	var wg sync.WaitGroup
	for i, ts := range sources {
		wg.Go(func() { tokens[i], errs[i] = ts.AccessToken(t.Context(), "REF30") })
	}
	<-entered // one instance registers, held at Adobe
	select {
	case <-st.contended: // the other waits for the lock
	case <-entered: // the other registers too: counted below
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("source %d: %v", i, err)
		}
	}
	if tokens[0] != tokens[1] {
		t.Errorf("tokens %q and %q differ", tokens[0], tokens[1])
	}
	e.wantCounts(t, 1, 1, 0)
}

// TestTokenSourcesShareReRegistration: when v2 refuses the shared client
// credentials, the instance that finds them refused after another has
// registered again uses the new ones instead of registering a third time.
func TestTokenSourcesShareReRegistration(t *testing.T) {
	e := newTokenEnv(t)
	st := newLockingStore()
	a, b := e.source(st), e.source(st)
	ctx := t.Context()
	// Both instances come to use client-1: a registers it, b later fetches
	// a token with it.
	if _, err := a.AccessToken(ctx, "REF30"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if _, err := b.AccessToken(ctx, "REF30"); err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, 1, 2, 0)

	e.adobe.revokeClients()
	e.clock.Advance(time.Hour)
	if _, err := a.AccessToken(ctx, "REF30"); err != nil { // refused twice, registers client-2
		t.Fatal(err)
	}
	e.wantCounts(t, 2, 5, 0)
	e.clock.Advance(time.Hour)
	if _, err := b.AccessToken(ctx, "REF30"); err != nil { // refused, finds client-2 without pausing
		t.Fatal(err)
	}
	e.wantCounts(t, 2, 7, 0)
	if len(e.slept) != 1 {
		t.Errorf("pauses %v, want only a's", e.slept)
	}
	if cred, _, _ := st.LoadCredentials(ctx, "REF30"); cred.ClientID != "client-2" {
		t.Errorf("stored credentials = %v, want client-2", cred)
	}
}

func TestTokenSourceCredentialLockUnavailable(t *testing.T) {
	broken := errors.New("store unreachable")
	t.Run("no registration without the lock", func(t *testing.T) {
		e := newTokenEnv(t)
		st := newLockingStore()
		st.broken = broken
		_, err := e.source(st).AccessToken(t.Context(), "REF30")
		if !errors.Is(err, broken) {
			t.Fatalf("err = %v, want the lock's error", err)
		}
		e.wantCounts(t, 0, 0, 0)
	})
	t.Run("tokens still refreshed", func(t *testing.T) {
		e := newTokenEnv(t)
		st := newLockingStore()
		ts := e.source(st)
		if _, err := ts.AccessToken(t.Context(), "REF30"); err != nil {
			t.Fatal(err)
		}
		st.broken = broken
		e.clock.Advance(time.Hour)
		if got, err := ts.AccessToken(t.Context(), "REF30"); err != nil || got != "access-token-2" {
			t.Fatalf("refresh with the lock unavailable = %q, %v", got, err)
		}
		e.wantCounts(t, 1, 2, 0)
	})
	t.Run("waiting ends with the caller", func(t *testing.T) {
		e := newTokenEnv(t)
		st := newLockingStore()
		st.lock <- struct{}{} // another instance holds it
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-st.contended
			cancel()
		}()
		_, err := e.source(st).AccessToken(ctx, "REF30")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		e.wantCounts(t, 0, 0, 0)
	})
}
