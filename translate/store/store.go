// Package store holds the state behind the v1 gateway: registration records,
// kept authorization decisions, media-token hand-out marks, nonces, short
// profile and configuration caches, and the gateway's own v2 credentials.
//
// Everything sits on one small key-value interface, [Store], whose values are
// opaque bytes with an optional time to live. The typed helpers in this
// package ([JSON], [Records], [Marks]) encode values and give the higher-level
// guarantees (tombstones, hand-out-once) using only the atomic primitives of
// the interface, so any implementation of Store — in memory or Redis — offers
// them alike. The conformance suite in package storetest pins the contract.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound reports that a key is absent, expired or deleted.
var ErrNotFound = errors.New("store: not found")

// ErrInvalidTTL reports a negative time to live. A negative TTL usually comes
// from computing "notAfter - now" for something already expired; storing it
// for ever would be wrong and storing nothing silently would hide the bug.
var ErrInvalidTTL = errors.New("store: negative ttl")

// Store is a key-value store of opaque byte values with per-key expiry.
//
// A ttl of 0 means the value never expires. Values are copied in and out:
// callers may reuse the slices they pass and receive. Every method honours
// context cancellation and returns an error wrapping ctx.Err() without
// changing anything when the context is already done.
//
// Implementations must make SetNX, Replace and Take atomic with respect to
// every other operation on the same key, across all processes that share the
// store: the gateway's hand-out-once and no-resurrection guarantees rest on
// them.
type Store interface {
	// Get returns the value under key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl, replacing any previous value and expiry.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX stores value under key for ttl only if key holds no live value,
	// and reports whether it stored.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Replace overwrites the value of an existing key, keeping its expiry, or
	// returns an error wrapping ErrNotFound when key holds no live value.
	Replace(ctx context.Context, key string, value []byte) error
	// Take returns the value under key and removes it in one step, or an error
	// wrapping ErrNotFound. Of several concurrent Takes, exactly one gets it.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}
