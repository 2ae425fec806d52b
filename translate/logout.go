package translate

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/passgw/passgw/v1model"
)

// Logout implements DELETE (or GET) /api/v1/logout: v2 logout for each of the
// device's profiles, then everything kept for the device is dropped. Like
// v1, it never returns the MVPD logout URL and answers 204 even when the
// device had no profile.
func (g *Gateway) Logout(ctx context.Context, req *v1model.LogoutRequest) error {
	return doForRequestor(ctx, g, "logout", req.Device.Requestor, func(rq *Requestor) error {
		return g.logout(ctx, rq, req)
	})
}

func (g *Gateway) logout(ctx context.Context, rq *Requestor, req *v1model.LogoutRequest) error {
	dv, err := g.deviceOf(ctx, rq, &req.Device)
	if err != nil {
		return err
	}
	// Whatever v2 answers, the gateway forgets the device's state: a device
	// that asked to log out must not keep playing from kept decisions.
	defer func() {
		if err := g.newGeneration(context.WithoutCancel(ctx), dv); err != nil {
			g.log.ErrorContext(ctx, "dropping device state at logout", "error", err)
		}
	}()
	ps, err := g.client.Profiles(ctx, rq.ServiceProvider, dv.opts...)
	if err != nil {
		return err
	}
	// TempPass profiles are not listed, and so not logged out: v2 makes that
	// optional, and the free preview clock runs on regardless.
	mvpds := slices.Sorted(maps.Keys(ps.Profiles))
	var errs []error
	for _, m := range mvpds {
		if _, err := g.client.Logout(ctx, rq.ServiceProvider, m, rq.RedirectURL, dv.opts...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
