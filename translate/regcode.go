package translate

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

func regKey(code string) string { return store.Key("reg", code) }

func (g *Gateway) registrations() store.Records[regRecord] {
	return store.Records[regRecord]{Store: g.store, Format: g.recordFormat}
}

// registration returns the record of code; errors wrap store.ErrNotFound
// (and store.ErrDeleted for a deleted code).
func (g *Gateway) registration(ctx context.Context, code string) (*regRecord, error) {
	rec, err := g.registrations().Get(ctx, regKey(code))
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// CreateRegcode implements POST /reggie/v1/{requestor}/regcode: a v2 session
// whose code becomes the registration code.
func (g *Gateway) CreateRegcode(ctx context.Context, req *v1model.CreateRegcodeRequest) (*v1model.Registration, error) {
	return forRequestor(ctx, g, "regcode", req.Device.Requestor, func(rq *Requestor) (*v1model.Registration, error) {
		return g.createRegcode(ctx, rq, req)
	})
}

func (g *Gateway) createRegcode(ctx context.Context, rq *Requestor, req *v1model.CreateRegcodeRequest) (*v1model.Registration, error) {
	dv, err := g.deviceOf(ctx, rq, &req.Device)
	if err != nil {
		return nil, err
	}
	ttl := cmp.Or(req.TTL, v1model.DefaultRegcodeTTL)
	if ttl < 0 || ttl > v1model.MaxRegcodeTTL {
		return nil, v1model.ErrBadRequest(v1model.CodeInternalError)
	}
	if store.Full(g.store) {
		// Checked before the v2 session is made: a flood of new devices
		// costs neither Adobe calls nor memory.
		return nil, g.storeFull(ctx)
	}
	s, err := g.client.CreateSession(ctx, rq.ServiceProvider, v2client.SessionParams{
		MVPD: req.MVPD, DomainName: rq.DomainName, RedirectURL: rq.RedirectURL,
	}, dv.opts...)
	if err != nil {
		return nil, err
	}
	// The code lives its whole ttl, though the v2 session ends sooner: the
	// second screen's authenticate renews it (see regcodelife.go).
	now := g.now()
	expires := now.Add(ttl)
	d := &req.Device
	rec := regRecord{
		Registration: v1model.Registration{
			ID:        g.newID(),
			Code:      s.Code,
			Requestor: rq.ID,
			MVPD:      req.MVPD,
			Generated: now,
			Expires:   expires,
			Info: v1model.RegistrationInfo{
				DeviceID:          []byte(d.DeviceID),
				DeviceType:        d.DeviceType,
				DeviceUser:        d.DeviceUser,
				AppID:             d.AppID,
				AppVersion:        d.AppVersion,
				RegistrationURL:   cmp.Or(req.RegistrationURL, rq.RegistrationURL),
				DeviceInfo:        dv.info,
				UserAgent:         d.UserAgent,
				OriginalUserAgent: d.UserAgent,
				AuthorizationType: d.Caller.AuthorizationType,
				SourceApplication: d.Caller.Application,
			},
		},
		ServiceProvider: rq.ServiceProvider,
		SessionID:       s.SessionID,
		DeviceID:        d.DeviceID,
		DeviceInfo:      dv.info,
		UserAgent:       d.UserAgent,
	}
	if d.IP.IsValid() {
		rec.IP = d.IP.String()
	}
	rec.FilledIP, rec.FilledPort = connectionFilled(d)
	if s.ActionName == v2client.ActionNameAuthorize {
		// Already signed in: v2 gives no code, so the gateway issues one the
		// second screen will report as done.
		rec.Local = true
		rec.Registration.MVPD = cmp.Or(req.MVPD, s.MVPD)
	}
	for range 3 {
		if rec.Registration.Code == "" || rec.Local {
			rec.Registration.Code = g.newCode()
		}
		err = g.registrations().Create(ctx, regKey(rec.Registration.Code), rec, expires.Sub(now))
		if !errors.Is(err, store.ErrExists) || !rec.Local {
			break
		}
	}
	if errors.Is(err, store.ErrFull) {
		return nil, g.storeFull(ctx)
	}
	if err != nil {
		return nil, v1model.ErrInternal(err)
	}
	g.rememberRegistration(ctx, dv, rec, expires.Sub(now))
	reg := rec.Registration
	return &reg, nil
}

// GetRegcode implements GET /reggie/v1/{requestor}/regcode/{code}.
func (g *Gateway) GetRegcode(ctx context.Context, req *v1model.GetRegcodeRequest) (*v1model.Registration, error) {
	rec, rq, err := g.lookupRegcode(ctx, &req.Device, req.Code)
	if err != nil {
		return nil, g.fail(ctx, rq, "regcode get", err)
	}
	// The record, not the v2 session (which ends sooner and is renewed when
	// the code is used), says whether the code lives.
	reg := rec.Registration
	return &reg, nil
}

// DeleteRegcode implements DELETE /reggie/v1/{requestor}/regcode/{code}. The
// code stays refused until it would have expired.
func (g *Gateway) DeleteRegcode(ctx context.Context, req *v1model.DeleteRegcodeRequest) error {
	_, rq, err := g.lookupRegcode(ctx, &req.Device, req.Code)
	if err != nil {
		return g.fail(ctx, rq, "regcode delete", err)
	}
	err = g.registrations().Delete(ctx, regKey(req.Code))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return g.fail(ctx, rq, "regcode delete", v1model.ErrNotFound(""))
	case err != nil:
		return g.fail(ctx, rq, "regcode delete", v1model.ErrInternal(err))
	}
	g.forgetCode(ctx, req.Code)
	return nil
}

// lookupRegcode finds the live record of code for the device's requestor,
// or for the record's own requestor when the call named none.
func (g *Gateway) lookupRegcode(ctx context.Context, d *v1model.Device, code string) (*regRecord, *Requestor, error) {
	var rq *Requestor
	if d.Requestor != "" {
		r, err := g.requestor(d.Requestor)
		if err != nil {
			return nil, nil, err
		}
		rq = r
	}
	if code == "" {
		return nil, rq, v1model.ErrRequired("code", "")
	}
	rec, err := g.registration(ctx, code)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, rq, v1model.ErrNotFound("")
	case err != nil:
		return nil, rq, v1model.ErrInternal(err)
	}
	if rq == nil {
		r, err := g.requestor(rec.Registration.Requestor)
		if err != nil {
			return nil, nil, v1model.ErrNotFound("") // the requestor left the configuration
		}
		rq = r
	}
	if rec.Registration.Requestor != rq.ID {
		return nil, rq, v1model.ErrNotFound("")
	}
	return rec, rq, nil
}

// expired reports whether notAfter (the zero time: never) has passed.
func expired(now time.Time, notAfter time.Time) bool {
	return !notAfter.IsZero() && !now.Before(notAfter)
}

// storeFull is the answer to a new registration while the store is full
// (store.ErrFull, store.Full): v1's 429, which device apps already take as
// "ask again later", and a warning for the operator.
func (g *Gateway) storeFull(ctx context.Context) error {
	g.log.WarnContext(ctx, "store full: new registrations refused with 429 until entries expire (memory_store.max_entries)")
	return v1model.ErrTooManyRequests()
}
