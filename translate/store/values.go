package store

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"time"
)

// Values stores values of type T in a Store, each in its own compact binary
// form when T implements encoding.BinaryAppender and *T implements
// encoding.BinaryUnmarshaler, as JSON otherwise. Records kept in large
// numbers or read on every call (registrations, cached profiles, kept
// decisions) use the binary form: it is several times smaller than JSON and
// decodes without reflection.
type Values[T any] struct {
	Store Store
	// Format is the format version T is written in when its binary form
	// has versions; the zero Format writes the newest.
	Format Format
}

// Versioned is implemented by values whose binary form has format versions
// (translate/record's records): the version a Format names is written
// through it.
type Versioned interface {
	AppendVersion(b []byte, version int) ([]byte, error)
}

// Format chooses the format version of Versioned values. The zero Format
// writes each value's newest form (its AppendBinary); FormatVersion pins
// one, such as the version instances not yet upgraded read while several
// share the store.
type Format struct {
	version int
	pinned  bool
}

// FormatVersion is the Format writing Versioned values in version.
func FormatVersion(version int) Format { return Format{version: version, pinned: true} }

// Get decodes the value under key, or returns an error wrapping ErrNotFound.
func (s Values[T]) Get(ctx context.Context, key string) (T, error) {
	var v T
	b, err := s.Store.Get(ctx, key)
	if err != nil {
		return v, err
	}
	if err := decodeValue(b, &v); err != nil {
		return v, fmt.Errorf("store: decode %q: %w", key, err)
	}
	return v, nil
}

// Set encodes v and stores it under key for ttl (0: no expiry).
func (s Values[T]) Set(ctx context.Context, key string, v T, ttl time.Duration) error {
	b, err := appendValue(nil, v, s.Format)
	if err != nil {
		return fmt.Errorf("store: encode %q: %w", key, err)
	}
	return s.Store.Set(ctx, key, b, ttl)
}

// Delete removes key.
func (s Values[T]) Delete(ctx context.Context, key string) error {
	return s.Store.Delete(ctx, key)
}

// appendValue appends the encoding of v to b: its own binary form if it has
// one, in the version f pins if it has versions, else JSON.
func appendValue[T any](b []byte, v T, f Format) ([]byte, error) {
	if f.pinned {
		if a, ok := any(v).(Versioned); ok {
			return a.AppendVersion(b, f.version)
		}
	}
	if a, ok := any(v).(encoding.BinaryAppender); ok {
		return a.AppendBinary(b)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// decodeValue is the inverse of appendValue.
func decodeValue[T any](b []byte, v *T) error {
	if u, ok := any(v).(encoding.BinaryUnmarshaler); ok {
		return u.UnmarshalBinary(b)
	}
	return json.Unmarshal(b, v)
}
