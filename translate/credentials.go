package translate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client"
)

// Credentials keeps the gateway's own v2 client credentials (for ever) and
// access tokens (until they expire) in a store.Store, so that every gateway
// instance sharing the store uses one DCR registration. It implements
// v2client.CredentialStore, and v2client.CredentialLocker with a lease in the
// store, so that those instances also register and refresh one at a time.
// Values are secrets: they are stored, never put in errors or logs.
type Credentials struct {
	Store store.Store
	// Seal, when set, seals every value before it is stored (see Sealer).
	// Nil keeps them in clear, which only suits a store nobody else reads.
	Seal *Sealer
	// Now is the clock against which a token's expiry (created_at +
	// expires_in) is turned into a time to live. Nil means time.Now.
	Now func() time.Time
	// LockLease is how long a credential lock lasts unless released: the
	// most a registration and token fetch may take, and the longest other
	// instances wait for a holder that died. Zero means DefaultLockLease.
	LockLease time.Duration
}

// DefaultLockLease is the credential lock lease: a few seconds, well above
// what registering and fetching a token take.
const DefaultLockLease = 10 * time.Second

// Bounds of the pause between two attempts to take a held credential lock.
const (
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 250 * time.Millisecond
)

var (
	_ v2client.CredentialStore  = Credentials{}
	_ v2client.CredentialLocker = Credentials{}
	_ v2client.CredentialAdder  = Credentials{}
)

func credKey(sp string) string  { return "v2cred:" + sp }
func tokenKey(sp string) string { return "v2token:" + sp }
func lockKey(sp string) string  { return "v2lock:" + sp }

// LockCredentials implements v2client.CredentialLocker: the lock is a lease
// taken with SetNX under a random value, polled for with a growing pause
// while another holder has it.
//
// unlock removes the lease only while it still holds this caller's value.
// The store has no compare-and-delete, so it takes the lease and puts back a
// value not its own: that happens only when this holder overran its lease
// and another took the lock, and gives the new holder a full lease again. A
// lease not removed (a crash, the store unreachable) expires by itself.
func (c Credentials) LockCredentials(ctx context.Context, sp string) (unlock func(), err error) {
	lease := c.LockLease
	if lease <= 0 {
		lease = DefaultLockLease
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand contract since Go 1.24)
	mine := []byte(hex.EncodeToString(b[:]))
	key := lockKey(sp)
	pause := lockPollMin
	for {
		ok, err := c.Store.SetNX(ctx, key, mine, lease)
		if err != nil {
			return nil, fmt.Errorf("translate: locking v2 credentials of %q: %w", sp, err)
		}
		if ok {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("translate: waiting for the v2 credential lock of %q: %w", sp, ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, lockPollMax)
	}
	return func() {
		// Released even when the caller's request is over, but never
		// waited on for longer than the lease would last anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lease)
		defer cancel()
		held, err := c.Store.Take(uctx, key)
		if err == nil && !bytes.Equal(held, mine) {
			_, _ = c.Store.SetNX(uctx, key, held, lease)
		}
	}, nil
}

// LoadCredentials implements v2client.CredentialStore.
func (c Credentials) LoadCredentials(ctx context.Context, sp string) (v2client.ClientCredentials, bool, error) {
	return load[v2client.ClientCredentials](ctx, c, credKey(sp))
}

// SaveCredentials implements v2client.CredentialStore.
func (c Credentials) SaveCredentials(ctx context.Context, sp string, cred v2client.ClientCredentials) error {
	b, err := c.encode(credKey(sp), cred)
	if err == nil {
		err = c.Store.Set(ctx, credKey(sp), b, 0)
	}
	if err != nil {
		return fmt.Errorf("translate: saving v2 credentials of %q: %w", sp, err)
	}
	return nil
}

// AddCredentials implements v2client.CredentialAdder with SetNX, so that
// an instance writing back the credentials it holds never overwrites those
// another instance registered meanwhile.
func (c Credentials) AddCredentials(ctx context.Context, sp string, cred v2client.ClientCredentials) (bool, error) {
	b, err := c.encode(credKey(sp), cred)
	if err != nil {
		return false, fmt.Errorf("translate: adding v2 credentials of %q: %w", sp, err)
	}
	added, err := c.Store.SetNX(ctx, credKey(sp), b, 0)
	if err != nil {
		return false, fmt.Errorf("translate: adding v2 credentials of %q: %w", sp, err)
	}
	return added, nil
}

// LoadToken implements v2client.CredentialStore.
func (c Credentials) LoadToken(ctx context.Context, sp string) (v2client.AccessToken, bool, error) {
	return load[v2client.AccessToken](ctx, c, tokenKey(sp))
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
	b, err := c.encode(tokenKey(sp), tok)
	if err == nil {
		err = c.Store.Set(ctx, tokenKey(sp), b, ttl)
	}
	if err != nil {
		return fmt.Errorf("translate: saving v2 access token of %q: %w", sp, err)
	}
	return nil
}

// encode is v as JSON, sealed when a Sealer is configured.
func (c Credentials) encode(key string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return c.Seal.seal(key, b), nil
}

// load reads the value under key. A value in clear, or sealed with a key
// other than the current one, is sealed again with the current key (kept
// with its expiry), so that configuring or rotating the store key reaches
// what is already stored.
func load[T any](ctx context.Context, c Credentials, key string) (T, bool, error) {
	var v T
	b, err := c.Store.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return v, false, nil
	case err != nil:
		return v, false, fmt.Errorf("translate: loading %s: %w", key, err)
	}
	plain, current, err := c.Seal.open(key, b)
	if err != nil {
		return v, false, fmt.Errorf("translate: loading %s: %w", key, err)
	}
	if err := json.Unmarshal(plain, &v); err != nil {
		// The decoder's error never quotes the value.
		return v, false, fmt.Errorf("translate: loading %s: malformed value: %w", key, err)
	}
	if !current {
		if err := c.Store.Replace(ctx, key, c.Seal.seal(key, plain)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return v, false, fmt.Errorf("translate: sealing %s again: %w", key, err)
		}
	}
	return v, true, nil
}
