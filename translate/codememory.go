package translate

import (
	"context"
	"errors"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
)

// codeMemKey names the gateway's memory of a registration code: the record,
// without its v1 info, kept past the record's own expiry for as long as the
// login made with the code can be asked about (see rememberCodeLogin). Only
// with it can a code whose login expired answer "expired" (410) rather than
// "unknown" (404), once both the record and the v2 session are gone.
func codeMemKey(code string) string { return store.Key("regmem", code) }

// pendingCodeKind names, per device, the latest code it registered whose
// login the gateway has not yet seen; the first profile seen for the device
// settles how long the code is remembered.
const pendingCodeKind = "regpending"

func (g *Gateway) codeMemory() store.Values[regRecord] {
	return store.Values[regRecord]{Store: g.store, Format: g.recordFormat}
}

// rememberRegistration starts the memory of a new code: until the record
// expires plus ExpiredMemory, long enough for the device to report the
// login, which then extends it.
func (g *Gateway) rememberRegistration(ctx context.Context, dv *device, rec regRecord, ttl time.Duration) {
	code := rec.Registration.Code
	rec.Registration.Info = v1model.RegistrationInfo{}
	ttl += g.expiredMem
	err := g.codeMemory().Set(ctx, codeMemKey(code), rec, ttl)
	if err == nil {
		err = g.stateSet(ctx, dv, dv.key(pendingCodeKind), []byte(code), ttl)
	}
	if err != nil {
		// The code works without it; only its answer once the login has
		// expired degrades from 410 to 404.
		g.log.WarnContext(ctx, "remembering a registration code", "error", err)
	}
}

// rememberCodeLogin keeps the memory of code until the login made with it,
// valid until notAfter, has been expired for ExpiredMemory.
func (g *Gateway) rememberCodeLogin(ctx context.Context, code string, notAfter time.Time) {
	mem, err := g.codeMemory().Get(ctx, codeMemKey(code))
	if err == nil {
		err = g.codeMemory().Set(ctx, codeMemKey(code), mem, keepFor(g.now(), notAfter, g.expiredMem))
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		g.log.WarnContext(ctx, "remembering the login of a registration code", "error", err)
	}
}

// noteDeviceLogin settles the memory of the device's pending code with the
// profile the device now acts with.
func (g *Gateway) noteDeviceLogin(ctx context.Context, dv *device, a *authn) {
	code, err := g.stateTake(ctx, dv, dv.key(pendingCodeKind))
	switch {
	case err == nil:
		g.rememberCodeLogin(ctx, string(code), a.Profile.NotAfter.Time())
	case !errors.Is(err, store.ErrNotFound):
		g.log.WarnContext(ctx, "reading the pending registration code", "error", err)
	}
}

// forgetCode drops the memory of a deleted code, so that it stays unknown
// once its tombstone expires. A device's pending code left pointing at it
// then settles nothing.
func (g *Gateway) forgetCode(ctx context.Context, code string) {
	if err := g.codeMemory().Delete(ctx, codeMemKey(code)); err != nil {
		g.log.WarnContext(ctx, "forgetting a deleted registration code", "error", err)
	}
}

// rememberedRegistration returns the record of code, or once it has expired
// the gateway's memory of it; errors wrap store.ErrNotFound (and
// store.ErrDeleted for a deleted code).
func (g *Gateway) rememberedRegistration(ctx context.Context, code string) (*regRecord, error) {
	rec, err := g.registration(ctx, code)
	if !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDeleted) {
		return rec, err
	}
	mem, err := g.codeMemory().Get(ctx, codeMemKey(code))
	if err != nil {
		return nil, err
	}
	return &mem, nil
}
