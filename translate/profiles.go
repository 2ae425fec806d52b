package translate

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// authn is the profile chosen to act for a device.
type authn struct {
	MVPD    string
	Profile v2client.Profile
}

func (a *authn) userID() string {
	if attr, ok := a.Profile.Attributes["userID"]; ok {
		return attr.String()
	}
	return ""
}

func (a *authn) token(rq *Requestor) *v1model.AuthnToken {
	return &v1model.AuthnToken{Requestor: rq.ID, MVPD: a.MVPD, UserID: a.userID(), Expires: a.Profile.NotAfter.Time()}
}

// chooseProfile picks the profile to act with when v2 returns several: the
// one obtained most recently (largest notBefore), ties to the longest
// notAfter, then to the smallest MVPD id so the choice is stable. A
// temporary (TempPass) profile counts like any other. Profiles already past
// their notAfter are skipped.
func chooseProfile(profiles map[string]v2client.Profile, now time.Time) (*authn, bool) {
	var best *authn
	for mvpd, p := range profiles {
		if !p.NotAfter.IsZero() && !now.Before(p.NotAfter.Time()) {
			continue
		}
		c := &authn{MVPD: mvpd, Profile: p}
		if best == nil || better(c, best) {
			best = c
		}
	}
	return best, best != nil
}

func better(a, b *authn) bool {
	if c := cmp.Compare(a.Profile.NotBefore.Int64(), b.Profile.NotBefore.Int64()); c != 0 {
		return c > 0
	}
	if c := cmp.Compare(a.Profile.NotAfter.Int64(), b.Profile.NotAfter.Int64()); c != 0 {
		return c > 0
	}
	return a.MVPD < b.MVPD
}

// seenBy reports whether s records a as seen.
func seenBy(s *seenProfile, a *authn) bool {
	return s != nil && s.MVPD == a.MVPD && s.NotAfter.Equal(a.Profile.NotAfter.Time())
}

// freePreviewAuthn is the authentication a free preview gives before its
// trial starts. v2 has no profile yet (the TempPass clock starts at the first
// authorization), yet v1 devices were authenticated from the free preview
// on: the TempPass MVPD acts, without a user id, until the gateway would
// forget the free preview.
func freePreviewAuthn(tp *tempPass) *authn {
	return &authn{MVPD: tp.MVPD, Profile: v2client.Profile{
		NotAfter: v2client.MillisOf(tp.Until),
		Issuer:   "Adobe",
		Type:     "temporary",
	}}
}

// deviceAuthn returns the profile the device acts with, or ok false when it
// has none. expired reports that the last profile the gateway saw for the
// device has run out. Non-empty answers are cached for the requestor's
// ProfileCacheTTL (never past a profile's notAfter); an empty answer is never
// cached, so a device polling after its login sees the new profile at once.
func (g *Gateway) deviceAuthn(ctx context.Context, dv *device) (a *authn, expired bool, err error) {
	set, err := g.deviceProfiles(ctx, dv)
	if err != nil {
		return nil, false, err
	}
	now := g.now()
	a, ok := chooseProfile(set.Profiles, now)
	if !ok && set.Pending != nil && now.Before(set.Pending.Until) {
		a, ok = freePreviewAuthn(set.Pending), true
	}
	if ok && !a.Profile.NotAfter.IsZero() {
		if !seenBy(set.Seen, a) {
			if err := g.see(ctx, dv, a); err != nil {
				return nil, false, err
			}
		}
		return a, false, nil
	}
	if set.TempPassOver {
		// The free preview is over: the device's authentication expired,
		// whatever the gateway last saw of its still running trial.
		return nil, true, nil
	}
	seen, err := getState[seenProfile](ctx, g, dv, dv.key("seen"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, v1model.ErrInternal(err)
	}
	return nil, !now.Before(seen.NotAfter), nil
}

// see remembers a as the last profile seen for the device.
func (g *Gateway) see(ctx context.Context, dv *device, a *authn) error {
	_, err := g.seeProfile(ctx, dv, a)
	return err
}

func (g *Gateway) seeProfile(ctx context.Context, dv *device, a *authn) (*seenProfile, error) {
	seen := seenProfile{MVPD: a.MVPD, NotAfter: a.Profile.NotAfter.Time()}
	if err := setState(ctx, g, dv, dv.key("seen"), seen, keepFor(g.now(), seen.NotAfter, g.expiredMem)); err != nil {
		return nil, v1model.ErrInternal(err)
	}
	return &seen, nil
}

// actingAuthn is deviceAuthn for decisions: a device whose free preview v2
// no longer gives a profile for (used up, or an identity v2 does not know)
// still acts with the TempPass MVPD, so that v2's own decision tells the
// device why it is refused.
func (g *Gateway) actingAuthn(ctx context.Context, dv *device) (*authn, bool, error) {
	a, expired, err := g.deviceAuthn(ctx, dv)
	if a != nil || err != nil {
		return a, expired, err
	}
	tp, err := getState[tempPass](ctx, g, dv, dv.key("temppass"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, expired, nil
	case err != nil:
		return nil, false, v1model.ErrInternal(err)
	}
	return &authn{MVPD: tp.MVPD}, false, nil
}

// deviceProfiles returns the device's profiles: the v2 profile list plus the
// TempPass profile of a free preview.
// The answer is kept on dv for the rest of the call.
func (g *Gateway) deviceProfiles(ctx context.Context, dv *device) (*profileSet, error) {
	set, err := g.readProfiles(ctx, dv)
	if err == nil {
		dv.profiles = set
	}
	return set, err
}

func (g *Gateway) readProfiles(ctx context.Context, dv *device) (*profileSet, error) {
	key := dv.key("profiles")
	if dv.rq.ProfileCacheTTL > 0 {
		if set, err := g.cachedProfiles(ctx, dv, key); err == nil {
			return set, nil
		}
	}
	gen, err := g.generation(ctx, dv)
	if err != nil {
		return nil, err
	}
	v, err, _ := g.flights.Do("profiles\x00"+key+"\x00"+gen, func() (any, error) {
		// The upstream read is shared by every caller waiting on it, so it
		// must not die with the first caller's request.
		fctx := context.WithoutCancel(ctx)
		if dv.rq.ProfileCacheTTL > 0 {
			// A flight that finished just before this one began has
			// filled the cache.
			if set, err := g.cachedProfiles(fctx, dv, key); err == nil {
				return set, nil
			}
		}
		ps, err := g.client.Profiles(fctx, dv.rq.ServiceProvider, dv.opts...)
		if err != nil {
			return nil, err
		}
		set := &profileSet{Profiles: ps.Profiles}
		tp, err := getState[tempPass](fctx, g, dv, dv.key("temppass"))
		if err == nil {
			set.TempPass = &tp
			if _, ok := set.Profiles[tp.MVPD]; !ok {
				opts := append(slices.Clip(dv.opts), v2client.WithTempPassIdentity(cmp.Or(dv.tempPassIdentity, tp.Identity)))
				tps, err := g.client.Profile(fctx, dv.rq.ServiceProvider, tp.MVPD, opts...)
				switch {
				case err == nil && len(tps.Profiles) == 0:
					set.Pending = &tp
				case err == nil:
					if set.Profiles == nil {
						set.Profiles = map[string]v2client.Profile{}
					}
					for m, p := range tps.Profiles {
						set.Profiles[m] = p
					}
				case v2client.StatusCode(err) == 403:
					set.TempPassOver = true
				case v2client.StatusCode(err) == 400:
					// The promotional identity is missing or unknown: no profile.
				default:
					return nil, err
				}
			}
		}
		a, ok := chooseProfile(set.Profiles, g.now())
		if ok && !a.Profile.NotAfter.IsZero() {
			g.noteDeviceLogin(fctx, dv, a)
		}
		if ttl := g.profileCacheTTL(dv.rq, set); ttl > 0 {
			if ok && !a.Profile.NotAfter.IsZero() {
				if set.Seen, err = g.seeProfile(fctx, dv, a); err != nil {
					return nil, err
				}
			}
			if err := setState(fctx, g, dv, key, *set, ttl); err != nil {
				return nil, v1model.ErrInternal(err)
			}
		}
		return set, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*profileSet), nil
}

// decodedProfiles is a cached profiles answer as the store holds it and
// decoded.
type decodedProfiles struct {
	raw []byte
	set *profileSet // shared: never modified
}

// cachedProfiles reads the device's cached profiles answer (see stateGet).
// Its decoding is kept per device until the stored value changes: every
// call of a device reads its profiles, which change rarely, and decoding
// them is most of what a call answered from the cache costs. The decoding
// depends only on the stored bytes, so keeping it per process is safe with
// any store.
func (g *Gateway) cachedProfiles(ctx context.Context, dv *device, key string) (*profileSet, error) {
	raw, err := g.stateGet(ctx, dv, key)
	if err != nil {
		return nil, err
	}
	if d, ok := g.storedProfiles.getString(key); ok && bytes.Equal(d.raw, raw) {
		return d.set, nil
	}
	set := new(profileSet)
	if err := set.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("store: decode %q: %w", key, err)
	}
	g.storedProfiles.put(key, &decodedProfiles{raw: raw, set: set})
	return set, nil
}

// seedProfiles keeps the profiles a code poll found as the device's
// profiles answer, so that the device's next calls act with the login
// without reading its profiles again: the profile is read once per sign-in.
// A device with a free preview has its TempPass profile read the usual way.
func (g *Gateway) seedProfiles(ctx context.Context, dv *device, profiles map[string]v2client.Profile, seen *seenProfile) {
	if dv.rq.ProfileCacheTTL <= 0 {
		return
	}
	if _, err := getState[tempPass](ctx, g, dv, dv.key("temppass")); !errors.Is(err, store.ErrNotFound) {
		return
	}
	set := profileSet{Profiles: profiles, Seen: seen}
	if ttl := g.profileCacheTTL(dv.rq, &set); ttl > 0 {
		if err := setState(ctx, g, dv, dv.key("profiles"), set, ttl); err != nil {
			g.log.WarnContext(ctx, "caching the profiles of a code login", "error", err)
		}
	}
}

// profileCacheTTL is how long set may answer for the device: the
// requestor's ProfileCacheTTL, never past a profile's notAfter. An answer
// without profiles is kept only when it holds TempPass state (a free
// preview not started, or one used up), which is as stable as a profile; a
// plain "none" is never kept, so a device polling after its login sees the
// new profile at once.
func (g *Gateway) profileCacheTTL(rq *Requestor, set *profileSet) time.Duration {
	if rq.ProfileCacheTTL <= 0 || len(set.Profiles) == 0 && set.Pending == nil && !set.TempPassOver {
		return 0
	}
	ttl := rq.ProfileCacheTTL
	now := g.now()
	if set.Pending != nil {
		ttl = min(ttl, set.Pending.Until.Sub(now))
	}
	for _, p := range set.Profiles {
		if !p.NotAfter.IsZero() {
			ttl = min(ttl, p.NotAfter.Time().Sub(now))
		}
	}
	return ttl
}

// dropProfiles forgets the cached profiles of the device, after v2 said they
// no longer hold.
func (g *Gateway) dropProfiles(ctx context.Context, dv *device) {
	if err := g.store.Delete(ctx, dv.key("profiles")); err != nil {
		g.log.WarnContext(ctx, "dropping cached profiles", "error", err)
	}
}

// codeAuthn returns the profile obtained with an authentication code. For
// codes the gateway issued itself (the device was already signed in) and for
// codes v2 no longer knows (sessions live 30 minutes), it falls back to the
// profiles of the device that registered the code, which the gateway
// remembers past the registration's expiry for as long as the login lives.
//
// caller is who made the call (a login web app's browser, or the device):
// the v2 calls go upstream with its address.
func (g *Gateway) codeAuthn(ctx context.Context, rq *Requestor, code string, caller *v1model.Device) (*authn, *regRecord, bool, error) {
	a, rec, expired, err := g.codeAuthnOf(ctx, rq, code, caller)
	if a != nil && !a.Profile.NotAfter.IsZero() {
		g.rememberCodeLogin(ctx, code, a.Profile.NotAfter.Time())
	}
	return a, rec, expired, err
}

func (g *Gateway) codeAuthnOf(ctx context.Context, rq *Requestor, code string, caller *v1model.Device) (*authn, *regRecord, bool, error) {
	rec, err := g.rememberedRegistration(ctx, code)
	switch {
	case errors.Is(err, store.ErrDeleted):
		return nil, nil, false, nil
	case errors.Is(err, store.ErrNotFound):
		rec = nil
	case err != nil:
		return nil, nil, false, v1model.ErrInternal(err)
	}
	if rec != nil && rec.Registration.Requestor != rq.ID {
		return nil, nil, false, nil
	}
	if rec != nil && rec.Local {
		a, expired, err := g.recordAuthn(ctx, rq, rec, caller)
		return a, rec, expired, err
	}
	opts, sessionCode := codeCallerOptions(caller), code
	if rec != nil {
		opts, sessionCode = g.recordDevice(rq, rec, caller).opts, g.sessionCode(ctx, code)
	}
	if rec != nil && g.superseded(ctx, rq, rec, code, caller) {
		return nil, rec, false, nil
	}
	a, expired, err := g.polledCode(ctx, rq, rec, caller, sessionCode, opts)
	return a, rec, expired, err
}

// recordAuthn reads the profiles of the device that registered rec, for a
// call caller made.
func (g *Gateway) recordAuthn(ctx context.Context, rq *Requestor, rec *regRecord, caller *v1model.Device) (*authn, bool, error) {
	return g.deviceAuthn(ctx, g.recordDevice(rq, rec, caller))
}
