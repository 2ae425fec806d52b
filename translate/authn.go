package translate

import (
	"cmp"
	"context"
	"errors"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// Authenticate implements the second-screen browser call GET
// /api/v1/authenticate: it resumes the v2 session of the code with the
// chosen MVPD and sends the browser to v2's authenticate URL.
func (g *Gateway) Authenticate(ctx context.Context, req *v1model.AuthenticateRequest) (*v1model.AuthenticateRedirect, error) {
	return forRequestor(ctx, g, "authenticate", req.Device.Requestor, func(rq *Requestor) (*v1model.AuthenticateRedirect, error) {
		return g.authenticate(ctx, rq, req)
	})
}

func (g *Gateway) authenticate(ctx context.Context, rq *Requestor, req *v1model.AuthenticateRequest) (*v1model.AuthenticateRedirect, error) {
	for _, p := range []struct{ name, value string }{
		{"reg_code", req.Code}, {"mso_id", req.MVPD}, {"domain_name", req.DomainName}, {"redirect_url", req.RedirectURL},
	} {
		if p.value == "" {
			return nil, v1model.ErrRequired(p.name, "")
		}
	}
	if !domainAllowed(rq.AllowedDomains, req.DomainName) || !redirectAllowed(rq.AllowedRedirectURLs, req.RedirectURL) {
		e := v1model.ErrBadRequest(v1model.CodeInvalidRequestor)
		e.Cause = errors.New("domain_name or redirect_url not allowed for the requestor")
		return nil, e
	}
	rec, err := g.registration(ctx, req.Code)
	switch {
	case errors.Is(err, store.ErrDeleted):
		return nil, v1model.ErrBadRequest("")
	case errors.Is(err, store.ErrNotFound):
		// A code past its ttl is refused (Adobe's technical note on
		// registration codes); a code the gateway never issued comes from
		// a v2 device app: v2 decides.
		outlived, err := g.codeOutlived(ctx, req.Code)
		if err != nil {
			return nil, err
		}
		if outlived {
			return nil, v1model.ErrBadRequest("")
		}
		rec = nil
	case err != nil:
		return nil, v1model.ErrInternal(err)
	case rec.Registration.Requestor != rq.ID:
		return nil, v1model.ErrBadRequest("")
	case rec.Local:
		// The device was signed in when it asked for the code.
		return &v1model.AuthenticateRedirect{URL: req.RedirectURL}, nil
	}
	code := req.Code
	// The resume acts for the device that registered the code: its
	// AP-Device-Identifier and X-Device-Info, kept with the code, as on
	// every v2 call (REST API v2 checklist), with the browser's address.
	// A code of a v2 device app, of which the gateway knows no device,
	// goes with the browser's headers only.
	opts := browserOptions(&req.Device)
	if rec != nil {
		code = g.sessionCode(ctx, req.Code)
		opts = g.recordDevice(rq, rec, &req.Device).opts
	}
	// A login starts: the next poll of the code asks v2 again.
	g.forgetCodePoll(ctx, rq, code)
	s, err := g.client.ResumeSession(ctx, rq.ServiceProvider, code, v2client.SessionParams{
		MVPD: req.MVPD, DomainName: req.DomainName, RedirectURL: req.RedirectURL,
	}, opts...)
	switch {
	case invalidSession(err) && rec != nil:
		// The v2 session ended before the code's ttl: a new one for the
		// same device.
		if s, err = g.renewSession(ctx, rq, rec, req); err != nil {
			return nil, err
		}
		code = cmp.Or(s.Code, code)
	case invalidSession(err):
		return nil, v1model.ErrBadRequest("")
	case err != nil:
		return nil, err
	}
	switch s.ActionName {
	case v2client.ActionNameAuthenticate:
		u := g.client.AuthenticateURL(rq.ServiceProvider, code)
		if s.URL != "" {
			if u, err = g.client.ResolveURL(s.URL); err != nil {
				return nil, v1model.ErrInternal(err)
			}
		}
		return &v1model.AuthenticateRedirect{URL: u}, nil
	case v2client.ActionNameAuthorize:
		return &v1model.AuthenticateRedirect{URL: req.RedirectURL}, nil
	}
	return nil, v1model.ErrBadRequest(v1model.CodeUnknownIntegration)
}

// CheckAuthn implements GET /api/v1/checkauthn and /api/v1/checkauthn/{code}.
func (g *Gateway) CheckAuthn(ctx context.Context, req *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error) {
	return forRequestor(ctx, g, "checkauthn", req.Device.Requestor, func(rq *Requestor) (*v1model.AuthnToken, error) {
		return g.checkAuthn(ctx, rq, req)
	})
}

func (g *Gateway) checkAuthn(ctx context.Context, rq *Requestor, req *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error) {
	if req.Code != "" {
		a, _, _, err := g.codeAuthn(ctx, rq, req.Code, &req.Device)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return nil, v1model.ErrForbidden(v1model.CodeAuthenticationSessionMissing)
		}
		return a.token(rq), nil
	}
	dv, err := g.deviceOf(ctx, rq, &req.Device)
	if err != nil {
		return nil, err
	}
	a, expired, err := g.deviceAuthn(ctx, dv)
	switch {
	case err != nil:
		return nil, err
	case a != nil:
		return a.token(rq), nil
	case expired:
		return nil, v1model.ErrAuthnTokenExpired(v1model.CodeAuthenticationSessionExpired)
	}
	return nil, v1model.ErrAuthnTokenExpired(v1model.CodeAuthenticationSessionMissing)
}

// AuthnToken implements GET /api/v1/tokens/authn and the deployed clients'
// GET /api/v1/authenticate/{code}.
func (g *Gateway) AuthnToken(ctx context.Context, req *v1model.AuthnTokenRequest) (*v1model.AuthnToken, error) {
	return forRequestor(ctx, g, "tokens/authn", req.Device.Requestor, func(rq *Requestor) (*v1model.AuthnToken, error) {
		return g.authnToken(ctx, rq, req)
	})
}

func (g *Gateway) authnToken(ctx context.Context, rq *Requestor, req *v1model.AuthnTokenRequest) (*v1model.AuthnToken, error) {
	var (
		a       *authn
		expired bool
		err     error
	)
	if req.Code != "" {
		a, _, expired, err = g.codeAuthn(ctx, rq, req.Code, &req.Device)
	} else {
		var dv *device
		if dv, err = g.deviceOf(ctx, rq, &req.Device); err != nil {
			return nil, err
		}
		a, expired, err = g.deviceAuthn(ctx, dv)
	}
	switch {
	case err != nil:
		return nil, err
	case a != nil:
		return a.token(rq), nil
	case expired:
		return nil, v1model.ErrGone(v1model.CodeAuthenticationSessionExpired)
	}
	return nil, v1model.ErrNotFound(v1model.CodeAuthenticationSessionMissing)
}

// notAuthenticated is the error of a device call that needs a profile and
// has none.
func notAuthenticated(status int, expired bool) *v1model.Error {
	code := v1model.CodeAuthenticationSessionMissing
	if expired {
		code = v1model.CodeAuthenticationSessionExpired
	}
	return v1model.NewError(status, v1model.MsgNotAuthenticated, code)
}
