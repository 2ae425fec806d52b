package translate

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// tempPassMemory is how long the gateway remembers a device's free preview.
// TempPass passes last minutes to hours; v2 ends them, this only bounds the
// memory.
const tempPassMemory = 7 * 24 * time.Hour

// FreePreview implements POST /api/v1/authenticate/freepreview: a v2 session
// with the TempPass MVPD, which v2 answers with authorize/temporary.
func (g *Gateway) FreePreview(ctx context.Context, req *v1model.FreePreviewRequest) error {
	return doForRequestor(ctx, g, "freepreview", req.Device.Requestor, func(rq *Requestor) error {
		return g.freePreview(ctx, rq, req)
	})
}

func (g *Gateway) freePreview(ctx context.Context, rq *Requestor, req *v1model.FreePreviewRequest) error {
	mvpd := cmp.Or(req.MVPD, rq.TempPassMVPD)
	if mvpd == "" {
		return v1model.ErrRequired("mso_id", "")
	}
	domain := cmp.Or(req.DomainName, rq.DomainName)
	if !domainAllowed(rq.AllowedDomains, domain) {
		e := v1model.ErrBadRequest(v1model.CodeInvalidRequestor)
		e.Cause = errors.New("domain_name not allowed for the requestor")
		return e
	}
	dv, err := g.deviceOf(ctx, rq, &req.Device)
	if err != nil {
		return err
	}
	s, err := g.client.CreateSession(ctx, rq.ServiceProvider, v2client.SessionParams{
		MVPD: mvpd, DomainName: domain, RedirectURL: rq.RedirectURL,
	}, dv.opts...)
	if err != nil {
		return err
	}
	if s.ActionName != v2client.ActionNameAuthorize {
		// Not a TempPass MVPD: it wants a real login.
		return v1model.ErrBadRequest(v1model.CodeUnknownIntegration)
	}
	tp := tempPass{MVPD: mvpd, Identity: req.Device.GenericData, Until: g.now().Add(tempPassMemory)}
	if err := setState(ctx, g, dv, dv.key("temppass"), tp, tempPassMemory); err != nil {
		return v1model.ErrInternal(err)
	}
	g.dropProfiles(ctx, dv)
	g.startTempPass(ctx, dv, mvpd)
	return nil
}

// startTempPass starts the trial's clock at once. v1 authenticated the
// device from the free preview on, with the trial's own user id and end;
// v2 has no TempPass profile until the first authorization starts the
// clock (testdata/spec/v2.md §7). Authorizing the requestor's own resource id (the
// channel-level resource of Adobe's integrations) now makes the trial's
// profile, and so checkauthn and tokens/authn answer the same user id and
// expiry from the first call as after the device's own first
// authorization. The decision is not kept: its media token is never handed
// out. When the authorization fails, the free preview still stands and the
// clock starts at the device's first authorization, as before.
func (g *Gateway) startTempPass(ctx context.Context, dv *device, mvpd string) {
	opts := dv.opts
	if dv.tempPassIdentity != "" {
		opts = append(slices.Clip(opts), v2client.WithTempPassIdentity(dv.tempPassIdentity))
	}
	ds, err := g.client.Authorize(ctx, dv.rq.ServiceProvider, mvpd, []string{dv.rq.ID}, opts...)
	if err == nil && (len(ds.Decisions) == 0 || !ds.Decisions[0].Authorized) {
		err = errors.New("the trial's first authorization was denied")
	}
	if err != nil {
		g.log.WarnContext(ctx, "free preview: starting the TempPass trial", "mvpd", mvpd, "error", err)
	}
}
