package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// JSON stores values of type T as JSON in a Store.
type JSON[T any] struct {
	Store Store
}

// Get decodes the value under key, or returns an error wrapping ErrNotFound.
func (j JSON[T]) Get(ctx context.Context, key string) (T, error) {
	var v T
	b, err := j.Store.Get(ctx, key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("store: decode %q: %w", key, err)
	}
	return v, nil
}

// Set encodes v and stores it under key for ttl (0: no expiry).
func (j JSON[T]) Set(ctx context.Context, key string, v T, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %q: %w", key, err)
	}
	return j.Store.Set(ctx, key, b, ttl)
}

// SetNX stores v under key only if key holds no live value, and reports
// whether it stored.
func (j JSON[T]) SetNX(ctx context.Context, key string, v T, ttl time.Duration) (bool, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("store: encode %q: %w", key, err)
	}
	return j.Store.SetNX(ctx, key, b, ttl)
}

// Take removes the value under key and decodes it; of concurrent callers,
// exactly one gets it.
func (j JSON[T]) Take(ctx context.Context, key string) (T, error) {
	var v T
	b, err := j.Store.Take(ctx, key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("store: decode %q: %w", key, err)
	}
	return v, nil
}

// Delete removes key.
func (j JSON[T]) Delete(ctx context.Context, key string) error {
	return j.Store.Delete(ctx, key)
}
