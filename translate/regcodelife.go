package translate

import (
	"context"
	"errors"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// A v1 registration code lives as long as the device asked (ttl up to
// 36000 s, Adobe's "Registration code request" page), a v2 authentication
// session about 30 minutes (testdata/spec/v2.md). The code the device shows stays
// the v1 code for its whole life: when the second screen uses it after its
// v2 session has gone, the gateway creates a new v2 session for the same
// device, and keeps which v2 code stands behind the v1 code for the rest of
// the record's life.

// sessionCodeKey names the v2 code behind a v1 registration code, when it
// is not the code itself.
func sessionCodeKey(code string) string { return store.Key("regv2", code) }

// sessionCode returns the v2 code standing behind the registration code.
func (g *Gateway) sessionCode(ctx context.Context, code string) string {
	b, err := g.store.Get(ctx, sessionCodeKey(code))
	switch {
	case err == nil && len(b) > 0:
		return string(b)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		// The original session answers, or is known to have expired.
		g.log.WarnContext(ctx, "reading the v2 session of a registration code", "error", err)
	}
	return code
}

// renewSession creates a new v2 session for the device that registered
// rec, on behalf of the second screen's call req, and puts its code behind
// the registration code until the record expires.
func (g *Gateway) renewSession(ctx context.Context, rq *Requestor, rec *regRecord, req *v1model.AuthenticateRequest) (*v2client.Session, error) {
	dv := g.recordDevice(rq, rec, &req.Device)
	s, err := g.client.CreateSession(ctx, rq.ServiceProvider, v2client.SessionParams{
		MVPD: req.MVPD, DomainName: req.DomainName, RedirectURL: req.RedirectURL,
	}, dv.opts...)
	if err != nil {
		return nil, err
	}
	if s.Code != "" {
		ttl := rec.Registration.Expires.Sub(g.now())
		if ttl <= 0 {
			return nil, v1model.ErrBadRequest("")
		}
		if err := g.store.Set(ctx, sessionCodeKey(rec.Registration.Code), []byte(s.Code), ttl); err != nil {
			return nil, v1model.ErrInternal(err)
		}
	}
	return s, nil
}

// codeOutlived reports whether code is a registration code the gateway
// issued whose ttl has passed (the record is gone, its memory is not).
func (g *Gateway) codeOutlived(ctx context.Context, code string) (bool, error) {
	_, err := g.codeMemory().Get(ctx, codeMemKey(code))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, v1model.ErrInternal(err)
}
