package translate

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// Preauthorize implements GET /api/v1/preauthorize and the second-screen
// GET /api/v1/preauthorize/{code}. The resources go to v2 in chunks of the
// requestor's PreauthorizeChunk, in parallel, and the answers are merged in
// request order, so a device never sees too_many_resources for a long list.
func (g *Gateway) Preauthorize(ctx context.Context, req *v1model.PreauthorizeRequest) (*v1model.Preauthorization, error) {
	return forRequestor(ctx, g, "preauthorize", req.Device.Requestor, func(rq *Requestor) (*v1model.Preauthorization, error) {
		p, err := g.preauthorize(ctx, rq, req)
		if err != nil {
			return nil, err
		}
		// Item errors stay for every requestor: the v1 surface renders them
		// only in the enhanced format, and reads them to mark an answer
		// that left resources undecided.
		return p, nil
	})
}

func (g *Gateway) preauthorize(ctx context.Context, rq *Requestor, req *v1model.PreauthorizeRequest) (*v1model.Preauthorization, error) {
	resources := dedupe(req.Resources)
	if len(resources) == 0 {
		return nil, v1model.ErrRequired("resource", v1model.CodeMissingResource)
	}
	var (
		dv      *device
		a       *authn
		expired bool
		err     error
	)
	if req.Code != "" {
		var rec *regRecord
		a, rec, expired, err = g.codeAuthn(ctx, rq, req.Code, &req.Device)
		if err == nil && a != nil {
			if rec == nil {
				// v2 needs the device identifier, which only a code
				// registered through the gateway gives.
				a = nil
			} else {
				dv = g.recordDevice(rq, rec, &req.Device)
			}
		}
	} else {
		dv, err = g.deviceOf(ctx, rq, &req.Device)
		if err == nil {
			a, expired, err = g.actingAuthn(ctx, dv)
		}
	}
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, preauthnError(expired)
	}
	opts := dv.opts
	if id := g.tempPassIdentity(ctx, dv, a.MVPD); id != "" {
		opts = append(slices.Clip(opts), v2client.WithTempPassIdentity(id))
	}

	permits := g.reusablePermits(ctx, dv, a.MVPD)
	ask := resources
	if len(permits) > 0 {
		ask = make([]string, 0, len(resources))
		for _, r := range resources {
			if _, ok := permits[r]; !ok {
				ask = append(ask, r)
			}
		}
	}
	var (
		answers []v2client.Decision
		failed  map[string]*v1model.Error
	)
	if len(ask) > 0 {
		answers, failed, err = g.preauthorizeChunks(ctx, rq, a.MVPD, ask, opts)
		if err != nil {
			if c := authnProblem(err); c != "" {
				g.dropProfiles(ctx, dv)
				return nil, preauthnError(c == "authenticated_profile_expired")
			}
			return nil, err
		}
		g.keepPermits(ctx, dv, a.MVPD, permits, answers)
	}
	decisions := newDecisionIndex(answers)
	out := &v1model.Preauthorization{Resources: make([]v1model.ResourceDecision, 0, len(resources))}
	for _, r := range resources {
		if _, ok := permits[r]; ok {
			out.Resources = append(out.Resources, v1model.ResourceDecision{ID: r, Authorized: true})
			continue
		}
		if e, ok := failed[r]; ok {
			// The resource's chunk failed while others answered: not
			// authorized, with the failure as the item's error, as v1
			// answered item errors.
			out.Resources = append(out.Resources, v1model.ResourceDecision{ID: r, Error: e})
			continue
		}
		d, ok := decisions.find(r)
		rd := v1model.ResourceDecision{ID: r, Authorized: ok && d.Authorized}
		if ok && !d.Authorized && d.Error != nil {
			e := fromV2(d.Error)
			switch authnProblem(d.Error) {
			case "authenticated_profile_missing", "authenticated_profile_invalidated":
				e = v1model.NewError(412, v1model.MsgNotAuthenticated, v1model.CodePreauthorizationAuthenticationSessionMissing)
			case "authenticated_profile_expired":
				e = v1model.NewError(412, v1model.MsgNotAuthenticated, v1model.CodePreauthorizationAuthenticationSessionExpired)
			}
			if e.Code == v1model.CodeAuthorizationDeniedByMVPD {
				e.Code = v1model.CodePreauthorizationDeniedByMVPD
			}
			rd.Error = e
		}
		out.Resources = append(out.Resources, rd)
	}
	return out, nil
}

// preauthorizeChunks asks v2 for the decisions on resources, in chunks of
// the requestor's PreauthorizeChunk sent in parallel (each within the
// device's upstream budget), and returns the answers in chunk order. A
// single chunk, the usual case, is asked for directly. When some chunks
// fail and others answer, failed maps each resource of a failed chunk to
// the v1 error of its failure; err is set only when every chunk failed, or
// when one says the device is not authenticated (which holds for all).
func (g *Gateway) preauthorizeChunks(ctx context.Context, rq *Requestor, mvpd string, resources []string, opts []v2client.Option) (answers []v2client.Decision, failed map[string]*v1model.Error, err error) {
	if len(resources) <= rq.PreauthorizeChunk {
		ds, err := g.client.Preauthorize(ctx, rq.ServiceProvider, mvpd, resources, opts...)
		if err != nil {
			return nil, nil, err
		}
		return ds.Decisions, nil, nil
	}
	chunks := slices.Collect(slices.Chunk(resources, rq.PreauthorizeChunk))
	parts := make([][]v2client.Decision, len(chunks))
	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	for i, chunk := range chunks {
		wg.Go(func() {
			ds, err := g.client.Preauthorize(ctx, rq.ServiceProvider, mvpd, chunk, opts...)
			if err != nil {
				errs[i] = err
				return
			}
			parts[i] = ds.Decisions
		})
	}
	wg.Wait()
	var first error
	for i, err := range errs {
		if err == nil {
			continue
		}
		if authnProblem(err) != "" {
			return nil, nil, err
		}
		first = cmp.Or(first, err)
		if failed == nil {
			failed = make(map[string]*v1model.Error)
		}
		e := g.upstreamError(ctx, rq, "preauthorize", err)
		for _, r := range chunks[i] {
			failed[r] = e
		}
	}
	if len(failed) == len(resources) {
		return nil, nil, first
	}
	return slices.Concat(parts...), failed, nil
}

// permitSet is the permits of a device's preauthorize answers that later
// preauthorize calls reuse: resource -> end of its reuse, for one MVPD.
type permitSet struct {
	MVPD  string               `json:"mvpd"`
	Until map[string]time.Time `json:"until"`
}

// reusablePermits returns the device's permits still reusable for mvpd
// (resource -> end of reuse), nil when there are none or reuse is off.
func (g *Gateway) reusablePermits(ctx context.Context, dv *device, mvpd string) map[string]time.Time {
	if dv.rq.PermitReuseTTL <= 0 {
		return nil
	}
	ps, err := getState[permitSet](ctx, g, dv, dv.key("permits"))
	if err != nil || ps.MVPD != mvpd {
		return nil
	}
	now := g.now()
	for r, until := range ps.Until {
		if !now.Before(until) {
			delete(ps.Until, r)
		}
	}
	return ps.Until
}

// keepPermits adds the permits among answers to the reusable ones, each
// until the earlier of its notAfter and the requestor's PermitReuseTTL. The
// set is a cache: a lost update only costs a v2 call.
func (g *Gateway) keepPermits(ctx context.Context, dv *device, mvpd string, reusable map[string]time.Time, answers []v2client.Decision) {
	ttl := dv.rq.PermitReuseTTL
	if ttl <= 0 {
		return
	}
	now := g.now()
	until := make(map[string]time.Time, len(reusable)+len(answers))
	maps.Copy(until, reusable)
	added := false
	for _, d := range answers {
		if !d.Authorized {
			delete(until, d.Resource)
			continue
		}
		end := now.Add(ttl)
		if na := d.NotAfter.Time(); !d.NotAfter.IsZero() && na.Before(end) {
			end = na
		}
		if end.After(now) {
			until[d.Resource], added = end, true
		}
	}
	if !added {
		return
	}
	if err := setState(ctx, g, dv, dv.key("permits"), permitSet{MVPD: mvpd, Until: until}, ttl); err != nil {
		g.log.WarnContext(ctx, "keeping preauthorize permits", "error", err)
	}
}

// decisionIndex finds the first decision for a resource. A handful of
// decisions is searched in place; a map would cost more than it saves.
type decisionIndex struct {
	ds         []v2client.Decision
	byResource map[string]v2client.Decision // for long lists only
}

func newDecisionIndex(ds []v2client.Decision) decisionIndex {
	x := decisionIndex{ds: ds}
	if len(ds) > 16 {
		x.byResource = make(map[string]v2client.Decision, len(ds))
		for _, d := range ds {
			if _, dup := x.byResource[d.Resource]; !dup {
				x.byResource[d.Resource] = d
			}
		}
	}
	return x
}

func (x decisionIndex) find(resource string) (v2client.Decision, bool) {
	if x.byResource != nil {
		d, ok := x.byResource[resource]
		return d, ok
	}
	for _, d := range x.ds {
		if d.Resource == resource {
			return d, true
		}
	}
	return v2client.Decision{}, false
}

func preauthnError(expired bool) *v1model.Error {
	if expired {
		return v1model.ErrNotAuthenticated(v1model.CodePreauthorizationAuthenticationSessionExpired)
	}
	return v1model.ErrNotAuthenticated(v1model.CodePreauthorizationAuthenticationSessionMissing)
}

// dedupe returns the non-empty resources in order, each once.
func dedupe(resources []string) []string {
	seen := make(map[string]bool, len(resources))
	out := make([]string, 0, len(resources))
	for _, r := range resources {
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
