package translate

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// partnerApple is the v2 partner name of Apple single sign-on.
const partnerApple = "Apple"

// partnerStatusLifetime is the provider-info lifetime claimed in the partner
// framework status the gateway builds for v1 Apple SSO devices.
const partnerStatusLifetime = 24 * time.Hour

// ProfileRequest implements the Apple SSO call GET
// /api/v1/{requestor}/profile-requests/{mvpd}: v2's partner session, whose
// SAML request is the payload the device hands to Apple.
func (g *Gateway) ProfileRequest(ctx context.Context, req *v1model.ProfileRequest) (*v1model.ProfileRequestPayload, error) {
	return forRequestor(ctx, g, "profile-requests", req.Device.Requestor, func(rq *Requestor) (*v1model.ProfileRequestPayload, error) {
		return g.profileRequest(ctx, rq, req)
	})
}

func (g *Gateway) profileRequest(ctx context.Context, rq *Requestor, req *v1model.ProfileRequest) (*v1model.ProfileRequestPayload, error) {
	d := req.Device
	if d.DeviceID == "" {
		// Adobe's page lists no deviceId for this call (requestor, mvpd,
		// deviceType), but v2's partner session needs a device identifier:
		// the caller's address and User-Agent stand for the device.
		d.DeviceID = callerDeviceID(&d)
	}
	opts, _, err := g.partnerOptions(ctx, rq, &d, req.MVPD)
	if err != nil {
		return nil, err
	}
	s, err := g.client.PartnerSession(ctx, rq.ServiceProvider, partnerApple, v2client.SessionParams{
		DomainName: rq.DomainName, RedirectURL: rq.RedirectURL,
	}, opts...)
	if err != nil {
		return nil, err
	}
	if s.ActionName != v2client.ActionNamePartnerProfile || s.AuthenticationRequest == nil {
		return nil, v1model.ErrBadRequest(v1model.CodeUnknownIntegration)
	}
	return &v1model.ProfileRequestPayload{Body: []byte(s.AuthenticationRequest.Request)}, nil
}

// callerDeviceID is the device identifier of a call that names none: a
// digest of its requestor, address and User-Agent, stable for one device.
func callerDeviceID(d *v1model.Device) string {
	sum := sha256.Sum256([]byte(d.Requestor + "\x00" + d.IP.String() + "\x00" + d.UserAgent))
	return "passgw-caller-" + hex.EncodeToString(sum[:16])
}

// TokenExchange implements the Apple SSO call POST /api/v1/tokens/authn:
// Apple's SAML response becomes a v2 profile.
func (g *Gateway) TokenExchange(ctx context.Context, req *v1model.TokenExchangeRequest) error {
	return doForRequestor(ctx, g, "token exchange", req.Device.Requestor, func(rq *Requestor) error {
		return g.tokenExchange(ctx, rq, req)
	})
}

func (g *Gateway) tokenExchange(ctx context.Context, rq *Requestor, req *v1model.TokenExchangeRequest) error {
	if req.SAMLResponse == "" {
		return v1model.ErrRequired("SAMLResponse", "")
	}
	opts, dv, err := g.partnerOptions(ctx, rq, &req.Device, req.MVPD)
	if err != nil {
		return err
	}
	if _, err := g.client.PartnerProfile(ctx, rq.ServiceProvider, partnerApple, req.SAMLResponse, opts...); err != nil {
		return err
	}
	if dv != nil {
		g.dropProfiles(ctx, dv)
	}
	return nil
}

// partnerOptions returns the device headers plus the partner framework
// status v2 requires. A v1 device reached this call only after the user
// granted TV-provider access in the system settings and Apple named the
// MVPD, so the status says "granted" for the MVPD's platform mapping id.
func (g *Gateway) partnerOptions(ctx context.Context, rq *Requestor, d *v1model.Device, mvpd string) ([]v2client.Option, *device, error) {
	if mvpd == "" {
		return nil, nil, v1model.ErrRequired("mvpd", "")
	}
	c, err := g.configuration(ctx, rq, d)
	if err != nil {
		return nil, nil, err
	}
	m, ok := c.MVPD(mvpd)
	if !ok || m.PlatformMappingID == "" {
		e := v1model.ErrBadRequest(v1model.CodeUnknownIntegration)
		e.Cause = errors.New("MVPD unknown or without Apple platform mapping")
		return nil, nil, e
	}
	status, err := json.Marshal(map[string]any{
		"frameworkPermissionInfo": map[string]any{"accessStatus": "granted"},
		"frameworkProviderInfo": map[string]any{
			"id":             m.PlatformMappingID,
			"expirationDate": strconv.FormatInt(g.now().Add(partnerStatusLifetime).UnixMilli(), 10),
		},
	})
	if err != nil {
		return nil, nil, v1model.ErrInternal(err)
	}
	pfs := v2client.WithPartnerFrameworkStatus(base64.StdEncoding.EncodeToString(status))
	if d.DeviceID == "" {
		return append(browserOptions(d), pfs), nil, nil
	}
	dv, err := g.deviceOf(ctx, rq, d)
	if err != nil {
		return nil, nil, err
	}
	return append(slices.Clip(dv.opts), pfs), dv, nil
}
