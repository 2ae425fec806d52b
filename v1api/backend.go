package v1api

import (
	"context"

	"github.com/passgw/passgw/translate"
)

// Backend answers the v1 operations. Each method takes the typed request
// the HTTP surface parsed and returns the typed answer, or an error: a
// *translate.Error is rendered as the v1 error it describes, any other
// error as 500 Internal Server Error (and logged).
type Backend interface {
	CreateRegcode(ctx context.Context, req *translate.CreateRegcodeRequest) (*translate.Registration, error)
	GetRegcode(ctx context.Context, req *translate.GetRegcodeRequest) (*translate.Registration, error)
	DeleteRegcode(ctx context.Context, req *translate.DeleteRegcodeRequest) error
	Config(ctx context.Context, req *translate.ConfigRequest) (*translate.Config, error)
	Authenticate(ctx context.Context, req *translate.AuthenticateRequest) (*translate.AuthenticateRedirect, error)
	CheckAuthn(ctx context.Context, req *translate.CheckAuthnRequest) (*translate.AuthnToken, error)
	AuthnToken(ctx context.Context, req *translate.AuthnTokenRequest) (*translate.AuthnToken, error)
	Authorize(ctx context.Context, req *translate.AuthorizeRequest) (*translate.AuthzToken, error)
	AuthzToken(ctx context.Context, req *translate.AuthzTokenRequest) (*translate.AuthzToken, error)
	MediaToken(ctx context.Context, req *translate.MediaTokenRequest) (*translate.MediaToken, error)
	Preauthorize(ctx context.Context, req *translate.PreauthorizeRequest) (*translate.Preauthorization, error)
	UserMetadata(ctx context.Context, req *translate.UserMetadataRequest) (*translate.UserMetadata, error)
	Logout(ctx context.Context, req *translate.LogoutRequest) error
	FreePreview(ctx context.Context, req *translate.FreePreviewRequest) error
	ProfileRequest(ctx context.Context, req *translate.ProfileRequest) (*translate.ProfileRequestPayload, error)
	TokenExchange(ctx context.Context, req *translate.TokenExchangeRequest) error
}
