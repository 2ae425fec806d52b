package translate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client"
)

func TestCredentials(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	c := Credentials{Store: store.NewMemory(clock.Now), Now: clock.Now}
	if _, ok, err := c.LoadCredentials(ctx, "REF30"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	cred := v2client.ClientCredentials{ClientID: "id", ClientSecret: "secret"}
	if err := c.SaveCredentials(ctx, "REF30", cred); err != nil {
		t.Fatal(err)
	}
	tok := v2client.AccessToken{AccessToken: "tok", CreatedAt: clock.Now().UnixMilli(), ExpiresIn: 3600}
	if err := c.SaveToken(ctx, "REF30", tok); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Minute)
	if got, ok, err := c.LoadToken(ctx, "REF30"); !ok || err != nil || got.AccessToken != "tok" {
		t.Fatalf("LoadToken = %+v, %v, %v", got, ok, err)
	}
	clock.Advance(time.Minute)
	if _, ok, _ := c.LoadToken(ctx, "REF30"); ok {
		t.Error("an expired access token is still served")
	}
	clock.Advance(1000 * time.Hour)
	if got, ok, err := c.LoadCredentials(ctx, "REF30"); !ok || err != nil || got.ClientSecret != "secret" {
		t.Fatalf("credentials must be kept for ever: %+v, %v, %v", got, ok, err)
	}
	if _, ok, _ := c.LoadCredentials(ctx, "OTHER"); ok {
		t.Error("credentials leaked across service providers")
	}
}

func testSealer(t *testing.T, current string, previous ...string) *Sealer {
	t.Helper()
	key := func(id string) SealKey { return SealKey{ID: id, Secret: []byte("secret-of-key-" + id + "-0123456789")} }
	var prev []SealKey
	for _, id := range previous {
		prev = append(prev, key(id))
	}
	s, err := NewSealer(key(current), prev...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCredentialsSealed: with a Sealer the client secret and access token
// never sit in clear in the store; a value sealed with a key not configured,
// or moved under another key, is an error rather than a reason to register
// again; rotating keys, and configuring one over values kept in clear,
// seals what is stored with the new key at its next read.
func TestCredentialsSealed(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	st := store.NewMemory(clock.Now)
	c := Credentials{Store: st, Now: clock.Now, Seal: testSealer(t, "k1")}
	cred := v2client.ClientCredentials{ClientID: "client-id", ClientSecret: "very-secret-client-secret"}
	tok := v2client.AccessToken{AccessToken: "very-secret-access-token", CreatedAt: clock.Now().UnixMilli(), ExpiresIn: 3600}
	if err := c.SaveCredentials(ctx, "REF30", cred); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveToken(ctx, "REF30", tok); err != nil {
		t.Fatal(err)
	}
	raw := func(key string) string {
		b, err := st.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, key := range []string{credKey("REF30"), tokenKey("REF30")} {
		v := raw(key)
		if !strings.HasPrefix(v, "sealed:v1:k1:") || strings.Contains(v, "very-secret") || strings.Contains(v, "client-id") {
			t.Errorf("%s stored as %q, want it sealed with k1", key, v)
		}
	}
	if got, ok, err := c.LoadCredentials(ctx, "REF30"); !ok || err != nil || got.ClientID != cred.ClientID || got.ClientSecret != cred.ClientSecret {
		t.Fatalf("LoadCredentials = %v, %v, %v", got, ok, err)
	}
	if got, ok, err := c.LoadToken(ctx, "REF30"); !ok || err != nil || got.AccessToken != tok.AccessToken {
		t.Fatalf("LoadToken = %v, %v, %v", got, ok, err)
	}

	// Other keys, or none, cannot open it: an error, never "not stored".
	for name, other := range map[string]Credentials{
		"another key": {Store: st, Now: clock.Now, Seal: testSealer(t, "k2")},
		"no key":      {Store: st, Now: clock.Now},
	} {
		if _, ok, err := other.LoadCredentials(ctx, "REF30"); ok || !errors.Is(err, ErrUnsealable) {
			t.Errorf("%s: LoadCredentials = ok %v, %v; want ErrUnsealable", name, ok, err)
		}
	}
	// A sealed value moved under another service provider's key.
	if err := st.Set(ctx, credKey("OTHER"), []byte(raw(credKey("REF30"))), 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.LoadCredentials(ctx, "OTHER"); !errors.Is(err, ErrUnsealable) {
		t.Errorf("a sealed value moved to another key opened: %v", err)
	}

	// Rotation: k2 seals, k1 still opens; the read seals again with k2.
	rotated := Credentials{Store: st, Now: clock.Now, Seal: testSealer(t, "k2", "k1")}
	if got, ok, err := rotated.LoadCredentials(ctx, "REF30"); !ok || err != nil || got.ClientID != cred.ClientID || got.ClientSecret != cred.ClientSecret {
		t.Fatalf("after rotation LoadCredentials = %v, %v, %v", got, ok, err)
	}
	if v := raw(credKey("REF30")); !strings.HasPrefix(v, "sealed:v1:k2:") {
		t.Errorf("after a read under the rotated keys the credentials are stored as %q, want sealed with k2", v)
	}

	// Values kept in clear before a key was configured are sealed at their
	// next read.
	inClear := Credentials{Store: st, Now: clock.Now}
	if err := inClear.SaveCredentials(ctx, "LEGACY", cred); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := c.LoadCredentials(ctx, "LEGACY"); !ok || err != nil || got.ClientID != cred.ClientID || got.ClientSecret != cred.ClientSecret {
		t.Fatalf("clear value: LoadCredentials = %v, %v, %v", got, ok, err)
	}
	if v := raw(credKey("LEGACY")); !strings.HasPrefix(v, "sealed:v1:k1:") {
		t.Errorf("a value kept in clear is still stored as %q after a read with a key", v)
	}
}

// TestAddCredentials: a write-back stores credentials only where none are.
func TestAddCredentials(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	c := Credentials{Store: store.NewMemory(clock.Now), Now: clock.Now, Seal: testSealer(t, "k1")}
	first := v2client.ClientCredentials{ClientID: "first", ClientSecret: "s1"}
	if added, err := c.AddCredentials(ctx, "REF30", first); !added || err != nil {
		t.Fatalf("AddCredentials on an empty store = %v, %v", added, err)
	}
	if added, err := c.AddCredentials(ctx, "REF30", v2client.ClientCredentials{ClientID: "second", ClientSecret: "s2"}); added || err != nil {
		t.Fatalf("AddCredentials over stored credentials = %v, %v; want not added", added, err)
	}
	if got, _, _ := c.LoadCredentials(ctx, "REF30"); got.ClientID != first.ClientID || got.ClientSecret != first.ClientSecret {
		t.Fatalf("stored %v, want %v", got, first)
	}
}

func TestNewSealerRejects(t *testing.T) {
	good := SealKey{ID: "k1", Secret: make([]byte, MinSealKeyBytes)}
	for name, keys := range map[string][]SealKey{
		"short secret": {{ID: "k1", Secret: make([]byte, MinSealKeyBytes-1)}},
		"empty id":     {{ID: "", Secret: good.Secret}},
		"colon in id":  {{ID: "k:1", Secret: good.Secret}},
		"duplicate id": {good, good},
	} {
		if _, err := NewSealer(keys[0], keys[1:]...); err == nil {
			t.Errorf("%s: NewSealer accepted it", name)
		}
	}
}
