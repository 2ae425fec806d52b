package translate

import (
	"context"
	"slices"

	"golang.org/x/sync/errgroup"

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
		if !rq.EnhancedErrors {
			for i := range p.Resources {
				p.Resources[i].Error = nil
			}
		}
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

	answers, err := g.preauthorizeChunks(ctx, rq, a.MVPD, resources, opts)
	if err != nil {
		if c := authnProblem(err); c != "" {
			g.dropProfiles(ctx, dv)
			return nil, preauthnError(c == "authenticated_profile_expired")
		}
		return nil, err
	}
	decisions := newDecisionIndex(answers)
	out := &v1model.Preauthorization{Resources: make([]v1model.ResourceDecision, 0, len(resources))}
	for _, r := range resources {
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
// the requestor's PreauthorizeChunk sent in parallel, and returns the
// answers in chunk order. A single chunk, the usual case, is asked for
// directly.
func (g *Gateway) preauthorizeChunks(ctx context.Context, rq *Requestor, mvpd string, resources []string, opts []v2client.Option) ([]v2client.Decision, error) {
	if len(resources) <= rq.PreauthorizeChunk {
		ds, err := g.client.Preauthorize(ctx, rq.ServiceProvider, mvpd, resources, opts...)
		if err != nil {
			return nil, err
		}
		return ds.Decisions, nil
	}
	chunks := slices.Collect(slices.Chunk(resources, rq.PreauthorizeChunk))
	answers := make([][]v2client.Decision, len(chunks))
	eg, ectx := errgroup.WithContext(ctx)
	for i, chunk := range chunks {
		eg.Go(func() error {
			ds, err := g.client.Preauthorize(ectx, rq.ServiceProvider, mvpd, chunk, opts...)
			if err != nil {
				return err
			}
			answers[i] = ds.Decisions
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(answers...), nil
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
