package callerauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// StoreNonces is a NonceStore on the gateway's store. Remembering a nonce is
// one SetNX, so with a store shared by several gateway instances a nonce is
// accepted once across all of them.
type StoreNonces struct {
	Store store.Store
}

// nonceKeyPrefix names nonce marks in the store. The nonce itself comes from
// the device, of any length and alphabet, so it is hashed into the key.
const nonceKeyPrefix = "callerauth:nonce"

// SetIfAbsent implements NonceStore.
func (n StoreNonces) SetIfAbsent(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	fresh, err := store.Marks{Store: n.Store}.TakeOnce(ctx, store.Key(nonceKeyPrefix, key), ttl)
	if err != nil {
		return false, fmt.Errorf("callerauth: remembering nonce: %w", err)
	}
	return fresh, nil
}

// SharedKeyID is the id of the DCR signing key SharedKey generates.
const SharedKeyID = "stored"

// sharedKeyName is where SharedKey keeps the key.
const sharedKeyName = "callerauth:dcr-key"

// SharedKey returns the DCR signing key kept in st, generating it from
// random (crypto/rand when nil) and keeping it there forever when st holds
// none. The first writer wins (SetNX), so gateway instances starting
// together on one store all end up with the same key and accept each
// other's device credentials. The key is the operator's fallback when no
// keys are configured; configured keys are the way to rotate.
func SharedKey(ctx context.Context, st store.Store, random io.Reader) (Key, error) {
	// A key deleted between a lost SetNX and the Get is generated again;
	// a few rounds cover any sane interleaving.
	for range 3 {
		fresh, err := GenerateKey(SharedKeyID, random)
		if err != nil {
			return Key{}, err
		}
		stored, err := st.SetNX(ctx, sharedKeyName, []byte(encodeKey(fresh)), 0)
		if err != nil {
			return Key{}, fmt.Errorf("callerauth: keeping the DCR key: %w", err)
		}
		if stored {
			return fresh, nil
		}
		if k, found, err := storedKey(ctx, st); err != nil || found {
			return k, err
		}
	}
	return Key{}, errors.New("callerauth: the DCR key in the store keeps disappearing")
}

// storedKey reads the DCR key st holds; found is false when it holds none.
func storedKey(ctx context.Context, st store.Store) (k Key, found bool, err error) {
	b, err := st.Get(ctx, sharedKeyName)
	if errors.Is(err, store.ErrNotFound) {
		return Key{}, false, nil
	}
	if err != nil {
		return Key{}, false, fmt.Errorf("callerauth: reading the DCR key: %w", err)
	}
	k, err = ParseKey(string(b))
	if err != nil {
		// ParseKey's errors never quote the secret.
		return Key{}, false, fmt.Errorf("callerauth: the DCR key in the store: %w", err)
	}
	return k, true, nil
}

// encodeKey writes k the way ParseKey reads it.
func encodeKey(k Key) string {
	return k.ID + ":" + base64.RawURLEncoding.EncodeToString(k.Secret)
}

// AdoptSharedKey is SharedKey for an instance starting among others on a
// shared store: when the store holds no key (flushed, restarted empty,
// evicted), it first waits up to wait, reading every poll, for a running
// instance to write its key back (WriteBackSharedKey), so that instances
// keep one key and the device credentials they issued stay valid. Only
// when none appears does it generate one.
func AdoptSharedKey(ctx context.Context, st store.Store, random io.Reader, wait, poll time.Duration) (Key, error) {
	deadline := time.Now().Add(wait)
	for {
		if k, found, err := storedKey(ctx, st); err != nil || found {
			return k, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return SharedKey(ctx, st, random)
		}
		t := time.NewTimer(min(poll, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return Key{}, fmt.Errorf("callerauth: waiting for the DCR key: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// WriteBackSharedKey makes st hold k, the DCR key in use, when it holds
// none, and reports whether it wrote it; differs reports that st holds
// another key (an instance that started on an emptied store before the
// write-back generated it), whose device credentials and k's are not
// accepted by each other's instances.
func WriteBackSharedKey(ctx context.Context, st store.Store, k Key) (written, differs bool, err error) {
	enc := encodeKey(k)
	written, err = st.SetNX(ctx, sharedKeyName, []byte(enc), 0)
	if err != nil || written {
		return written, false, err
	}
	b, err := st.Get(ctx, sharedKeyName)
	if errors.Is(err, store.ErrNotFound) {
		return false, false, nil // deleted again meanwhile: written next round
	}
	if err != nil {
		return false, false, fmt.Errorf("callerauth: reading the DCR key: %w", err)
	}
	return false, string(b) != enc, nil
}
