package translate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client"
)

// Credentials keeps the gateway's own v2 client credentials (for ever) and
// access tokens (until they expire) in a store.Store, so that every gateway
// instance sharing the store uses one DCR registration. It implements
// v2client.CredentialStore. Values are secrets: they are stored, never put
// in errors or logs.
type Credentials struct {
	Store store.Store
	// Now is the clock against which a token's expiry (created_at +
	// expires_in) is turned into a time to live. Nil means time.Now.
	Now func() time.Time
}

var _ v2client.CredentialStore = Credentials{}

func credKey(sp string) string  { return "v2cred:" + sp }
func tokenKey(sp string) string { return "v2token:" + sp }

// LoadCredentials implements v2client.CredentialStore.
func (c Credentials) LoadCredentials(ctx context.Context, sp string) (v2client.ClientCredentials, bool, error) {
	return load[v2client.ClientCredentials](ctx, c.Store, credKey(sp))
}

// SaveCredentials implements v2client.CredentialStore.
func (c Credentials) SaveCredentials(ctx context.Context, sp string, cred v2client.ClientCredentials) error {
	if err := (store.JSON[v2client.ClientCredentials]{Store: c.Store}).Set(ctx, credKey(sp), cred, 0); err != nil {
		return fmt.Errorf("translate: saving v2 credentials of %q: %w", sp, err)
	}
	return nil
}

// LoadToken implements v2client.CredentialStore.
func (c Credentials) LoadToken(ctx context.Context, sp string) (v2client.AccessToken, bool, error) {
	return load[v2client.AccessToken](ctx, c.Store, tokenKey(sp))
}

// SaveToken implements v2client.CredentialStore. The token is kept for its
// remaining lifetime; an already expired token is not kept.
func (c Credentials) SaveToken(ctx context.Context, sp string, tok v2client.AccessToken) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ttl := tok.ExpiresAt().Sub(now())
	if ttl <= 0 {
		return c.Store.Delete(ctx, tokenKey(sp))
	}
	if err := (store.JSON[v2client.AccessToken]{Store: c.Store}).Set(ctx, tokenKey(sp), tok, ttl); err != nil {
		return fmt.Errorf("translate: saving v2 access token of %q: %w", sp, err)
	}
	return nil
}

func load[T any](ctx context.Context, s store.Store, key string) (T, bool, error) {
	v, err := store.JSON[T]{Store: s}.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return v, false, nil
	case err != nil:
		var zero T
		return zero, false, fmt.Errorf("translate: loading %s: %w", key, err)
	}
	return v, true, nil
}
