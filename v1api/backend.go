package v1api

import (
	"context"

	"github.com/passgw/passgw/v1model"
)

// Backend answers the v1 operations. Each method takes the typed request
// the HTTP surface parsed and returns the typed answer, or an error: a
// *v1model.Error is rendered as the v1 error it describes, any other
// error as 500 Internal Server Error (and logged).
type Backend interface {
	CreateRegcode(ctx context.Context, req *v1model.CreateRegcodeRequest) (*v1model.Registration, error)
	GetRegcode(ctx context.Context, req *v1model.GetRegcodeRequest) (*v1model.Registration, error)
	DeleteRegcode(ctx context.Context, req *v1model.DeleteRegcodeRequest) error
	Config(ctx context.Context, req *v1model.ConfigRequest) (*v1model.Config, error)
	Authenticate(ctx context.Context, req *v1model.AuthenticateRequest) (*v1model.AuthenticateRedirect, error)
	CheckAuthn(ctx context.Context, req *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error)
	AuthnToken(ctx context.Context, req *v1model.AuthnTokenRequest) (*v1model.AuthnToken, error)
	Authorize(ctx context.Context, req *v1model.AuthorizeRequest) (*v1model.AuthzToken, error)
	AuthzToken(ctx context.Context, req *v1model.AuthzTokenRequest) (*v1model.AuthzToken, error)
	MediaToken(ctx context.Context, req *v1model.MediaTokenRequest) (*v1model.MediaToken, error)
	Preauthorize(ctx context.Context, req *v1model.PreauthorizeRequest) (*v1model.Preauthorization, error)
	UserMetadata(ctx context.Context, req *v1model.UserMetadataRequest) (*v1model.UserMetadata, error)
	Logout(ctx context.Context, req *v1model.LogoutRequest) error
	FreePreview(ctx context.Context, req *v1model.FreePreviewRequest) error
	ProfileRequest(ctx context.Context, req *v1model.ProfileRequest) (*v1model.ProfileRequestPayload, error)
	TokenExchange(ctx context.Context, req *v1model.TokenExchangeRequest) error
}
