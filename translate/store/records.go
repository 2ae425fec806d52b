package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrExists reports that a record key is taken, by a live record or by the
// tombstone of a deleted one.
var ErrExists = errors.New("store: record exists")

// ErrDeleted accompanies ErrNotFound when a record was deleted rather than
// never created or expired.
var ErrDeleted = errors.New("store: record deleted")

// Stored record encodings: a one-byte tag, then for live records the value
// as Values encodes it (its own binary form, or JSON).
const (
	recordLive      byte = 'r'
	recordTombstone byte = 't'
)

// Records keeps create-once records of type T, encoded as Values encodes
// them, that cannot be resurrected:
// deleting a record leaves a tombstone under its key until the record's
// original expiry, so the key can be neither read nor created again before
// then. Registration codes use it: a code the device deleted must stay dead.
type Records[T any] struct {
	Store Store
	// Format is as Values'.
	Format Format
}

// Create stores v under key for ttl, or returns an error wrapping ErrExists
// if the key holds a live record or a tombstone.
func (r Records[T]) Create(ctx context.Context, key string, v T, ttl time.Duration) error {
	b, err := appendValue([]byte{recordLive}, v, r.Format)
	if err != nil {
		return fmt.Errorf("store: encode record %q: %w", key, err)
	}
	ok, err := r.Store.SetNX(ctx, key, b, ttl)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("store: create record %q: %w", key, ErrExists)
	}
	return nil
}

// Get returns the record under key. An absent, expired or deleted record is an
// error wrapping ErrNotFound; a deleted one also wraps ErrDeleted.
func (r Records[T]) Get(ctx context.Context, key string) (T, error) {
	var v T
	b, err := r.Store.Get(ctx, key)
	if err != nil {
		return v, err
	}
	switch {
	case len(b) == 1 && b[0] == recordTombstone:
		return v, fmt.Errorf("store: record %q: %w: %w", key, ErrNotFound, ErrDeleted)
	case len(b) > 0 && b[0] == recordLive:
		if err := decodeValue(b[1:], &v); err != nil {
			return v, fmt.Errorf("store: decode record %q: %w", key, err)
		}
		return v, nil
	default:
		return v, fmt.Errorf("store: record %q: unknown encoding", key)
	}
}

// Delete replaces the record under key by a tombstone that keeps the record's
// expiry. Deleting an absent, expired or already deleted record returns an
// error wrapping ErrNotFound.
func (r Records[T]) Delete(ctx context.Context, key string) error {
	if _, err := r.Get(ctx, key); err != nil {
		return err
	}
	if err := r.Store.Replace(ctx, key, []byte{recordTombstone}); err != nil {
		return fmt.Errorf("store: delete record %q: %w", key, err)
	}
	return nil
}
