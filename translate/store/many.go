package store

import (
	"context"
	"errors"
)

// ManyGetter is implemented by stores that read several keys in one step,
// such as one round trip to a remote store. It is optional: GetMany falls
// back to one Get per key.
type ManyGetter interface {
	// GetMany returns the values under keys, in order, with nil for a key
	// that is absent or expired. A value that is present but empty is a
	// non-nil empty slice.
	GetMany(ctx context.Context, keys ...string) ([][]byte, error)
}

// GetMany reads keys from s, in one step when s is a ManyGetter. Absent keys
// give nil values, not an error.
func GetMany(ctx context.Context, s Store, keys ...string) ([][]byte, error) {
	if m, ok := s.(ManyGetter); ok {
		return m.GetMany(ctx, keys...)
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, err := s.Get(ctx, k)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, err
		case v == nil:
			out[i] = []byte{}
		default:
			out[i] = v
		}
	}
	return out, nil
}

// Encode returns v encoded as Values stores it: its own binary form when it
// has one, JSON otherwise.
func Encode[T any](v T) ([]byte, error) { return appendValue(nil, v, Format{}) }

// AppendEncoded appends v, encoded as Values with Format f stores it, to b.
func AppendEncoded[T any](b []byte, v T, f Format) ([]byte, error) { return appendValue(b, v, f) }

// Decode is the inverse of Encode.
func Decode[T any](b []byte) (T, error) {
	var v T
	err := decodeValue(b, &v)
	return v, err
}
