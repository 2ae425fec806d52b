package translate

import (
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

// DefaultAuthorizationTTL is the lifetime given to a permit v2 sent without
// timestamps (degraded AuthZAll answers carry none).
const DefaultAuthorizationTTL = time.Hour

// authzToken is the v1 authorization token of a kept decision.
func authzToken(k *keptDecision, rq *Requestor) *v1model.AuthzToken {
	return &v1model.AuthzToken{Requestor: rq.ID, MVPD: k.MVPD, Resource: k.Resource, Expires: k.NotAfter}
}

// Authorize implements GET /api/v1/authorize: a v2 authorization decision
// for the resource, exactly as sent, with the device's profile.
func (g *Gateway) Authorize(ctx context.Context, req *v1model.AuthorizeRequest) (*v1model.AuthzToken, error) {
	return forRequestor(ctx, g, "authorize", req.Device.Requestor, func(rq *Requestor) (*v1model.AuthzToken, error) {
		k, err := g.authorize(ctx, rq, &req.Device, req.Resource)
		if err != nil {
			return nil, err
		}
		return authzToken(k, rq), nil
	})
}

// authorize asks v2 for a decision and keeps a permit.
func (g *Gateway) authorize(ctx context.Context, rq *Requestor, d *v1model.Device, resource string) (*keptDecision, error) {
	if resource == "" {
		return nil, v1model.ErrRequired("resource", v1model.CodeMissingResource)
	}
	dv, err := g.deviceOf(ctx, rq, d)
	if err != nil {
		return nil, err
	}
	return g.authorizeDevice(ctx, dv, resource, true)
}

// authorizeDevice asks v2 for a decision and keeps the permit; with
// keepMediaToken false the kept permit leaves out its media token.
func (g *Gateway) authorizeDevice(ctx context.Context, dv *device, resource string, keepMediaToken bool) (*keptDecision, error) {
	a, expired, err := g.actingAuthn(ctx, dv)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, notAuthenticated(403, expired)
	}
	opts := dv.opts
	if id := g.tempPassIdentity(ctx, dv, a.MVPD); id != "" {
		opts = append(slices.Clip(opts), v2client.WithTempPassIdentity(id))
	}
	ds, err := g.client.Authorize(ctx, dv.rq.ServiceProvider, a.MVPD, []string{resource}, opts...)
	if err != nil {
		if authnProblem(err) != "" {
			g.dropProfiles(ctx, dv)
		}
		return nil, err
	}
	dec, ok := findDecision(ds.Decisions, resource)
	if !ok {
		return nil, v1model.ErrInternal(fmt.Errorf("v2 authorize answered no decision for the resource"))
	}
	if !dec.Authorized {
		if dec.Error == nil {
			return nil, v1model.ErrNotAuthorized(v1model.CodeAuthorizationDeniedByMVPD, "")
		}
		if authnProblem(dec.Error) != "" {
			g.dropProfiles(ctx, dv)
		}
		e := fromV2(dec.Error)
		e.Cause = dec.Error
		return nil, e
	}
	if set := dv.profiles; set != nil && set.Pending != nil && set.Pending.MVPD == a.MVPD {
		// This permit started the free preview's trial: the kept answer
		// saying it had not started no longer holds.
		g.dropProfiles(ctx, dv)
	}
	now := g.now()
	k := &keptDecision{Resource: resource, MVPD: cmp.Or(dec.MVPD, a.MVPD), UserID: a.userID(), NotAfter: dec.NotAfter.Time()}
	if dec.Token != nil {
		k.MediaToken = dec.Token.SerializedToken
		k.MediaNotAfter = dec.Token.NotAfter.Time()
	}
	if k.NotAfter.IsZero() {
		k.NotAfter = now.Add(DefaultAuthorizationTTL)
	}
	kept := *k
	if !keepMediaToken {
		kept.MediaToken, kept.MediaNotAfter = "", time.Time{}
	}
	if err := setState(ctx, g, dv, dv.key("decision", resource), kept, keepFor(now, k.NotAfter, g.expiredMem)); err != nil {
		return nil, v1model.ErrInternal(err)
	}
	return k, nil
}

// findDecision returns the decision for resource; v2 echoes resources
// byte for byte.
func findDecision(ds []v2client.Decision, resource string) (v2client.Decision, bool) {
	for _, d := range ds {
		if d.Resource == resource {
			return d, true
		}
	}
	if len(ds) == 1 {
		return ds[0], true
	}
	return v2client.Decision{}, false
}

// tempPassIdentity returns the promotional TempPass identity to send when the
// device acts with its free preview: the one sent now, else the one given at
// free preview.
func (g *Gateway) tempPassIdentity(ctx context.Context, dv *device, mvpd string) string {
	if dv.tempPassIdentity != "" {
		return dv.tempPassIdentity
	}
	if set := dv.profiles; set != nil {
		// The profiles read in this call carry the free preview.
		if set.TempPass == nil || set.TempPass.MVPD != mvpd {
			return ""
		}
		return set.TempPass.Identity
	}
	tp, err := getState[tempPass](ctx, g, dv, dv.key("temppass"))
	if err != nil || tp.MVPD != mvpd {
		return ""
	}
	return tp.Identity
}

// AuthzToken implements GET /api/v1/tokens/authz from the kept decision,
// without calling v2.
func (g *Gateway) AuthzToken(ctx context.Context, req *v1model.AuthzTokenRequest) (*v1model.AuthzToken, error) {
	rq, err := g.requestor(req.Device.Requestor)
	if err != nil {
		return nil, g.fail(ctx, nil, "tokens/authz", err)
	}
	t, err := g.authzToken(ctx, rq, req)
	if err != nil {
		err = g.fail(ctx, rq, "tokens/authz", err)
		if e := (*v1model.Error)(nil); errors.As(err, &e) && e.Status != 429 && e.Status < 500 && e.Details == "" {
			e.NullDetails = true // as v1's tokens/authz JSON did
		}
		return nil, err
	}
	return t, nil
}

func (g *Gateway) authzToken(ctx context.Context, rq *Requestor, req *v1model.AuthzTokenRequest) (*v1model.AuthzToken, error) {
	if req.Resource == "" {
		return nil, v1model.ErrRequired("resource", v1model.CodeMissingResource)
	}
	dv, err := g.deviceOf(ctx, rq, &req.Device)
	if err != nil {
		return nil, err
	}
	k, err := getState[keptDecision](ctx, g, dv, dv.key("decision", req.Resource))
	switch {
	case err == nil && expired(g.now(), k.NotAfter):
		return nil, v1model.ErrGone(v1model.CodeAuthorizationExpired)
	case err == nil:
		return authzToken(&k, rq), nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, v1model.ErrInternal(err)
	}
	a, expiredAuthn, err := g.deviceAuthn(ctx, dv)
	switch {
	case err != nil:
		return nil, err
	case a == nil:
		return nil, notAuthenticated(412, expiredAuthn)
	}
	return nil, v1model.ErrNotFound(v1model.CodeAuthorizationNotFound)
}

// MediaToken implements GET /api/v1/tokens/media and /api/v1/mediatoken: the
// kept decision's media token if nobody has had it yet, otherwise the token
// of a fresh authorization. A media token is never handed out twice, even to
// concurrent callers on different gateway instances.
func (g *Gateway) MediaToken(ctx context.Context, req *v1model.MediaTokenRequest) (*v1model.MediaToken, error) {
	return forRequestor(ctx, g, "tokens/media", req.Device.Requestor, func(rq *Requestor) (*v1model.MediaToken, error) {
		return g.mediaToken(ctx, rq, req)
	})
}

func (g *Gateway) mediaToken(ctx context.Context, rq *Requestor, req *v1model.MediaTokenRequest) (*v1model.MediaToken, error) {
	if req.Resource == "" {
		return nil, v1model.ErrRequired("resource", v1model.CodeMissingResource)
	}
	dv, err := g.deviceOf(ctx, rq, &req.Device)
	if err != nil {
		return nil, err
	}
	k, err := getState[keptDecision](ctx, g, dv, dv.key("decision", req.Resource))
	switch {
	case err == nil:
		if t, err := g.handOut(ctx, rq, &k); t != nil || err != nil {
			return t, err
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, v1model.ErrInternal(err)
	}
	for range 3 {
		// The fresh media token goes to this caller at once, so the
		// kept permit does without it: the next call then finds no token
		// to try to claim.
		fresh, err := g.authorizeDevice(ctx, dv, req.Resource, false)
		if err != nil {
			return nil, err
		}
		if fresh.MediaToken == "" {
			return nil, v1model.ErrInternal(errors.New("v2 permit without a media token"))
		}
		if t, err := g.handOut(ctx, rq, fresh); t != nil || err != nil {
			return t, err
		}
		// A concurrent caller took the fresh token first (possible only
		// when v2 repeats a token): ask again.
	}
	return nil, v1model.ErrInternal(errors.New("no unused media token after three authorizations"))
}

// handOut claims k's media token for this caller. It returns nil, nil when
// the token is absent, expired or already handed out.
func (g *Gateway) handOut(ctx context.Context, rq *Requestor, k *keptDecision) (*v1model.MediaToken, error) {
	now := g.now()
	if k.MediaToken == "" || expired(now, k.MediaNotAfter) || expired(now, k.NotAfter) {
		return nil, nil
	}
	until := cmp.Or(k.MediaNotAfter, k.NotAfter)
	won, err := store.Marks{Store: g.store}.TakeOnce(ctx, store.Key("media", k.MediaToken), keepFor(now, until, time.Minute))
	if err != nil {
		return nil, v1model.ErrInternal(err)
	}
	if !won {
		return nil, nil
	}
	return &v1model.MediaToken{
		Requestor:       rq.ID,
		Resource:        k.Resource,
		Expires:         until,
		MVPDID:          k.MVPD,
		SerializedToken: k.MediaToken,
		UserID:          k.UserID,
	}, nil
}
