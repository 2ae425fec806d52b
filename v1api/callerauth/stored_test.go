package callerauth

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// TestStoreNoncesShared shows that two verifiers on one store (two gateway
// instances) accept a nonce once between them, until it expires.
func TestStoreNoncesShared(t *testing.T) {
	c := newClock()
	st := store.NewMemory(c.Now)
	a, b := StoreNonces{Store: st}, StoreNonces{Store: st}
	ctx := context.Background()
	set := func(n NonceStore, key string) bool {
		t.Helper()
		ok, err := n.SetIfAbsent(ctx, key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !set(a, "callerauth:nonce:REF30:n1") {
		t.Fatal("fresh nonce refused")
	}
	if set(b, "callerauth:nonce:REF30:n1") {
		t.Fatal("nonce accepted by the second instance after the first")
	}
	if !set(b, "callerauth:nonce:REF30:n2") {
		t.Fatal("another nonce refused")
	}
	c.Advance(time.Minute)
	if !set(a, "callerauth:nonce:REF30:n1") {
		t.Fatal("expired nonce still refused")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.SetIfAbsent(cancelled, "k", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("store error = %v, want it wrapped", err)
	}
}

// TestStoreNoncesThroughVerifier replays a signed header to a second
// verifier sharing the first one's store.
func TestStoreNoncesThroughVerifier(t *testing.T) {
	c := newClock()
	st := store.NewMemory(c.Now)
	key := []byte("private-key-of-REF30")
	newVerifier := func() *Verifier {
		return NewVerifier(VerifierConfig{
			Policy:     func(string) Mode { return ModeRequired },
			SigningKey: func(string, string) ([]byte, bool) { return key, true },
			Nonces:     StoreNonces{Store: st},
			Now:        c.Now,
			Logger:     quietLogger(),
		})
	}
	first, second := newVerifier(), newVerifier()
	header := SignHeader("GET", sandboxRequestor, "nonce-1", c.Now().UnixMilli(), "/api/v1/checkauthn", "pub", key)
	call := func(v *Verifier) error {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/checkauthn?requestor=REF30", nil)
		r.Header.Set("Authorization", header)
		_, err := v.Authenticate(r, sandboxRequestor)
		return err
	}
	if err := call(first); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := call(second); err == nil {
		t.Fatal("nonce replayed to another instance accepted")
	}
}

// TestSharedKey shows that instances on one store sign with the same key,
// so a token one issues the other accepts, while an instance on another
// store does not.
func TestSharedKey(t *testing.T) {
	c := newClock()
	st := store.NewMemory(c.Now)
	ctx := context.Background()

	const racers = 16
	keys := make([]Key, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { keys[i], errs[i] = SharedKey(ctx, st, nil) })
	}
	wg.Wait()
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("racer %d: %v", i, errs[i])
		}
		if keys[i].ID != SharedKeyID || !bytes.Equal(keys[i].Secret, keys[0].Secret) {
			t.Fatalf("racer %d got a different key than racer 0", i)
		}
	}

	issuerOn := func(k Key) *Issuer { return newTestIssuer(t, c, testRing(t, k), nil) }
	a := issuerOn(keys[0])
	again, err := SharedKey(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := issuerOn(again)
	id, secret := register(t, a, sandboxStatement)
	tok := token(t, b, id, secret) // client of a, token from b
	if _, err := a.VerifyToken(tok); err != nil {
		t.Fatalf("token of one instance refused by the other: %v", err)
	}

	elsewhere, err := SharedKey(ctx, store.NewMemory(c.Now), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := issuerOn(elsewhere).VerifyToken(tok); err == nil {
		t.Fatal("token accepted by an instance on another store")
	}
}

// TestSharedKeyBrokenValue refuses a value it cannot read without quoting
// it: the store holds a secret.
func TestSharedKeyBrokenValue(t *testing.T) {
	c := newClock()
	st := store.NewMemory(c.Now)
	ctx := context.Background()
	const junk = "stored:not*base64*secret-material"
	if err := st.Set(ctx, sharedKeyName, []byte(junk), 0); err != nil {
		t.Fatal(err)
	}
	_, err := SharedKey(ctx, st, nil)
	if err == nil {
		t.Fatal("unreadable key accepted")
	}
	if strings.Contains(err.Error(), "secret-material") {
		t.Errorf("error quotes the stored value: %v", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := SharedKey(cancelled, store.NewMemory(c.Now), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("store error = %v, want it wrapped", err)
	}
}

// TestWriteBackSharedKey: the key in use is written back into a store that
// lost it, left alone in a store that holds it, and another key in the
// store is reported.
func TestWriteBackSharedKey(t *testing.T) {
	c := newClock()
	st := store.NewMemory(c.Now)
	ctx := context.Background()
	k, err := SharedKey(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateKey(SharedKeyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name             string
		before           func()
		key              Key
		written, differs bool
	}{
		{"held", func() {}, k, false, false},
		{"lost", func() { _ = st.Delete(ctx, sharedKeyName) }, k, true, false},
		{"back", func() {}, k, false, false},
		{"another in the store", func() { _ = st.Set(ctx, sharedKeyName, []byte(encodeKey(other)), 0) }, k, false, true},
	}
	for _, s := range steps {
		s.before()
		written, differs, err := WriteBackSharedKey(ctx, st, s.key)
		if err != nil || written != s.written || differs != s.differs {
			t.Errorf("%s: written %v, differs %v, %v; want %v, %v", s.name, written, differs, err, s.written, s.differs)
		}
	}
	if got, err := SharedKey(ctx, st, nil); err != nil || !bytes.Equal(got.Secret, other.Secret) {
		t.Errorf("the write-back replaced another key in the store: %v", err)
	}
}

// TestAdoptSharedKey: an instance starting on a store that lost the key
// takes the one a running instance writes back within the wait, and
// generates one only when none comes.
func TestAdoptSharedKey(t *testing.T) {
	c := newClock()
	ctx := context.Background()
	running, err := GenerateKey(SharedKeyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(c.Now)
	done := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _, err := WriteBackSharedKey(ctx, st, running)
		done <- err
	}()
	got, err := AdoptSharedKey(ctx, st, nil, 5*time.Second, 10*time.Millisecond)
	if err != nil || !bytes.Equal(got.Secret, running.Secret) {
		t.Errorf("adopted another key than the running instance's (%v)", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	empty := store.NewMemory(c.Now)
	fresh, err := AdoptSharedKey(ctx, empty, nil, 20*time.Millisecond, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if kept, err := SharedKey(ctx, empty, nil); err != nil || !bytes.Equal(kept.Secret, fresh.Secret) {
		t.Errorf("the key generated after the wait is not the one kept in the store (%v)", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := AdoptSharedKey(cancelled, store.NewMemory(c.Now), nil, time.Second, 10*time.Millisecond); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}
