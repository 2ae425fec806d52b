package translate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
)

// Device state — cached profiles, the last profile seen, the free preview,
// kept decisions, the pending registration code — lives under keys of the
// device (dv.key), not of its generation. Each value starts with the
// generation it was written in (uvarint length, then the generation), and a
// value of any other generation reads as absent: a logout starts a new
// generation and so drops everything kept before at once, on every
// instance sharing the store.
//
// Keeping the generation out of the key lets the first state read of a call
// fetch the generation and the value in one store step (store.GetMany): one
// round trip instead of two on a remote store.

func genKey(rq *Requestor, deviceID string) string {
	if rq.clusterKeys {
		return store.DeviceKey("gen", rq.ID, deviceID)
	}
	return store.Key("gen", rq.ID, deviceID)
}

// setGeneration records the generation read from the store (nil: none yet).
func (dv *device) setGeneration(b []byte) {
	dv.gen, dv.genKnown = "0", true
	if b != nil {
		dv.gen = string(b)
	}
}

// generation returns the device's current state generation, "0" until its
// first logout, reading it once per call.
func (g *Gateway) generation(ctx context.Context, dv *device) (string, error) {
	if dv.genKnown {
		return dv.gen, nil
	}
	vals, err := store.GetMany(ctx, g.store, genKey(dv.rq, dv.id))
	if err != nil {
		return "", v1model.ErrInternal(err)
	}
	dv.setGeneration(vals[0])
	return dv.gen, nil
}

// newGeneration starts a new state generation for the device, dropping
// everything kept for it.
func (g *Gateway) newGeneration(ctx context.Context, dv *device) error {
	gen := g.newID()
	if err := g.store.Set(ctx, genKey(dv.rq, dv.id), []byte(gen), maxDeviceState); err != nil {
		return v1model.ErrInternal(err)
	}
	dv.gen, dv.genKnown = gen, true
	return nil
}

// key builds a store key for state kept for the device; parts name one item
// of that kind (a decision's resource). The usual counts of parts are passed
// on without building a slice.
func (dv *device) key(kind string, parts ...string) string {
	if dv.rq.clusterKeys {
		return store.DeviceKey(kind, dv.rq.ID, dv.id, parts...)
	}
	switch len(parts) {
	case 0:
		return store.Key(kind, dv.rq.ID, dv.id)
	case 1:
		return store.Key(kind, dv.rq.ID, dv.id, parts[0])
	}
	return store.Key(kind, append([]string{dv.rq.ID, dv.id}, parts...)...)
}

// stateGet returns the value under key in the device's current generation.
// Errors wrap store.ErrNotFound for an absent value or one of another
// generation; other errors are the store's.
func (g *Gateway) stateGet(ctx context.Context, dv *device, key string) ([]byte, error) {
	var raw []byte
	if dv.genKnown {
		b, err := g.store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		raw = b
	} else {
		vals, err := store.GetMany(ctx, g.store, genKey(dv.rq, dv.id), key)
		if err != nil {
			return nil, err
		}
		dv.setGeneration(vals[0])
		if vals[1] == nil {
			return nil, fmt.Errorf("store: get %q: %w", key, store.ErrNotFound)
		}
		raw = vals[1]
	}
	return untagGeneration(dv.gen, key, raw)
}

// stateTake removes the value under key and returns it if it belongs to the
// device's current generation.
func (g *Gateway) stateTake(ctx context.Context, dv *device, key string) ([]byte, error) {
	gen, err := g.generation(ctx, dv)
	if err != nil {
		return nil, err
	}
	raw, err := g.store.Take(ctx, key)
	if err != nil {
		return nil, err
	}
	return untagGeneration(gen, key, raw)
}

// stateSet stores value under key in the device's current generation.
func (g *Gateway) stateSet(ctx context.Context, dv *device, key string, value []byte, ttl time.Duration) error {
	gen, err := g.generation(ctx, dv)
	if err != nil {
		return err
	}
	return g.store.Set(ctx, key, append(tagGeneration(gen, len(value)), value...), ttl)
}

// errMalformedState is returned for a device state value without its
// generation tag.
var errMalformedState = errors.New("translate: malformed device state value")

// tagGeneration starts a device state value with the device's generation,
// a uvarint-length-prefixed string, with room for the value after it.
func tagGeneration(gen string, room int) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(gen)+room)
	b = binary.AppendUvarint(b, uint64(len(gen)))
	return append(b, gen...)
}

func untagGeneration(gen, key string, b []byte) ([]byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return nil, fmt.Errorf("store: get %q: %w", key, errMalformedState)
	}
	tag, value := b[w:w+int(n)], b[w+int(n):]
	if string(tag) != gen {
		return nil, fmt.Errorf("store: get %q: earlier generation: %w", key, store.ErrNotFound)
	}
	return value, nil
}

// getState decodes the device's value under key (see stateGet).
func getState[T any](ctx context.Context, g *Gateway, dv *device, key string) (T, error) {
	var v T
	b, err := g.stateGet(ctx, dv, key)
	if err != nil {
		return v, err
	}
	if v, err = store.Decode[T](b); err != nil {
		return v, fmt.Errorf("store: decode %q: %w", key, err)
	}
	return v, nil
}

// setState encodes v and stores it as the device's value under key.
func setState[T any](ctx context.Context, g *Gateway, dv *device, key string, v T, ttl time.Duration) error {
	gen, err := g.generation(ctx, dv)
	if err != nil {
		return err
	}
	b, err := store.AppendEncoded(tagGeneration(gen, 256), v, g.recordFormat)
	if err != nil {
		return fmt.Errorf("store: encode %q: %w", key, err)
	}
	return g.store.Set(ctx, key, b, ttl)
}
