package v1api

import (
	"context"
	"sync"
	"time"

	"github.com/passgw/passgw/v1model"
)

// recordingBackend is a Backend that records the last typed request it got
// and answers with the configured values (sample-like defaults) or err.
type recordingBackend struct {
	mu  sync.Mutex
	op  string
	req any

	err      error
	reg      *v1model.Registration
	cfg      *v1model.Config
	authn    *v1model.AuthnToken
	authz    *v1model.AuthzToken
	media    *v1model.MediaToken
	pre      *v1model.Preauthorization
	md       *v1model.UserMetadata
	redirect *v1model.AuthenticateRedirect
	profile  *v1model.ProfileRequestPayload
}

var _ Backend = (*recordingBackend)(nil)

func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

func newRecordingBackend() *recordingBackend {
	return &recordingBackend{
		reg: &v1model.Registration{
			ID: "678f9fea-a1cafec8-1ff0-4a26-8564-f6cd020acf13", Code: "TJJCFK", Requestor: "sampleRequestorId",
			MVPD: "sampleMvpdId", Generated: ms(1348039846647), Expires: ms(1348043446647),
			Info: v1model.RegistrationInfo{
				DeviceID: []byte("thisIdADummyDeviceId"), DeviceType: "xbox", DeviceUser: "JD",
				AppID: "2345", AppVersion: "2.0", RegistrationURL: "http://loginwebapp.com",
			},
		},
		cfg: &v1model.Config{Requestor: v1model.RequestorConfig{ID: "sampleRequestorId", Name: "Sample", MVPDs: []v1model.MVPD{
			{ID: "AcmeCable", DisplayName: "Acme Cable", LogoURL: "https://example.com/acme.png"},
			{ID: "BetaFiber", DisplayName: "Beta Fiber", LogoURL: "https://example.com/beta.png", IFrameRequired: true,
				IFrameWidth: 500, IFrameHeight: 300, EnablePlatformServices: ptr(true), DisplayInPlatformPicker: ptr(false),
				BoardingStatus: "SUPPORTED", PlatformMappingID: "Beta", RequiredMetadataFields: []string{"upstreamUserID", "zip"}},
		}}},
		authn: &v1model.AuthnToken{Requestor: "sampleRequestor", MVPD: "sampleMvpdId", UserID: "sampleUserId", Expires: ms(1601114932000)},
		authz: &v1model.AuthzToken{Requestor: "sampleRequestorId", MVPD: "sampleMvpdId", Resource: "sampleResourceId", Expires: ms(1348148289000)},
		media: &v1model.MediaToken{Requestor: "sampleRequestorId", Resource: "sampleResourceId", Expires: ms(1348649569000),
			MVPDID: "sampleMvpdId", SerializedToken: "PHNpZ25hdH[...]", UserID: "sampleScrambledUserId"},
		pre: &v1model.Preauthorization{Resources: []v1model.ResourceDecision{
			{ID: "TestStream1", Authorized: true},
			{ID: "TestStream2", Error: &v1model.Error{Status: 403, Code: v1model.CodeAuthorizationDeniedByMVPD,
				Message: v1model.MsgNotAuthorized, Details: `Your subscription package does not include the "TestStream3" channel.`}},
		}},
		md: &v1model.UserMetadata{Updated: time.Unix(1334243471, 0), Encrypted: []string{"encryptedProp"}, Data: []v1model.MetadataField{
			{Name: "zip", Value: []any{"12345", "34567"}},
			{Name: "maxRating", Value: []v1model.MetadataField{{Name: "MPAA", Value: "PG-13"}, {Name: "VCHIP", Value: "TV-Y"}, {Name: "URL", Value: "http://exam.pl/e/manage/ratings"}}},
			{Name: "householdID", Value: "3456"},
			{Name: "userID", Value: "BgSdasfsdk23/dsaf3+saASesadgfsShggssd="},
			{Name: "channelID", Value: []any{"channel-1", "channel-2"}},
		}},
		redirect: &v1model.AuthenticateRedirect{URL: "https://sandbox.example/api/v2/authenticate/REF30/TJJCFK"},
		profile:  &v1model.ProfileRequestPayload{Body: []byte("opaque\x00payload")},
	}
}

func ptr[T any](v T) *T { return &v }

func (b *recordingBackend) record(op string, req any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.op, b.req = op, req
	return b.err
}

func (b *recordingBackend) last() (string, any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.op, b.req
}

func (b *recordingBackend) CreateRegcode(_ context.Context, r *v1model.CreateRegcodeRequest) (*v1model.Registration, error) {
	return b.reg, b.record("CreateRegcode", r)
}
func (b *recordingBackend) GetRegcode(_ context.Context, r *v1model.GetRegcodeRequest) (*v1model.Registration, error) {
	return b.reg, b.record("GetRegcode", r)
}
func (b *recordingBackend) DeleteRegcode(_ context.Context, r *v1model.DeleteRegcodeRequest) error {
	return b.record("DeleteRegcode", r)
}
func (b *recordingBackend) Config(_ context.Context, r *v1model.ConfigRequest) (*v1model.Config, error) {
	return b.cfg, b.record("Config", r)
}
func (b *recordingBackend) Authenticate(_ context.Context, r *v1model.AuthenticateRequest) (*v1model.AuthenticateRedirect, error) {
	return b.redirect, b.record("Authenticate", r)
}
func (b *recordingBackend) CheckAuthn(_ context.Context, r *v1model.CheckAuthnRequest) (*v1model.AuthnToken, error) {
	return b.authn, b.record("CheckAuthn", r)
}
func (b *recordingBackend) AuthnToken(_ context.Context, r *v1model.AuthnTokenRequest) (*v1model.AuthnToken, error) {
	return b.authn, b.record("AuthnToken", r)
}
func (b *recordingBackend) Authorize(_ context.Context, r *v1model.AuthorizeRequest) (*v1model.AuthzToken, error) {
	return b.authz, b.record("Authorize", r)
}
func (b *recordingBackend) AuthzToken(_ context.Context, r *v1model.AuthzTokenRequest) (*v1model.AuthzToken, error) {
	return b.authz, b.record("AuthzToken", r)
}
func (b *recordingBackend) MediaToken(_ context.Context, r *v1model.MediaTokenRequest) (*v1model.MediaToken, error) {
	return b.media, b.record("MediaToken", r)
}
func (b *recordingBackend) Preauthorize(_ context.Context, r *v1model.PreauthorizeRequest) (*v1model.Preauthorization, error) {
	return b.pre, b.record("Preauthorize", r)
}
func (b *recordingBackend) UserMetadata(_ context.Context, r *v1model.UserMetadataRequest) (*v1model.UserMetadata, error) {
	return b.md, b.record("UserMetadata", r)
}
func (b *recordingBackend) Logout(_ context.Context, r *v1model.LogoutRequest) error {
	return b.record("Logout", r)
}
func (b *recordingBackend) FreePreview(_ context.Context, r *v1model.FreePreviewRequest) error {
	return b.record("FreePreview", r)
}
func (b *recordingBackend) ProfileRequest(_ context.Context, r *v1model.ProfileRequest) (*v1model.ProfileRequestPayload, error) {
	return b.profile, b.record("ProfileRequest", r)
}
func (b *recordingBackend) TokenExchange(_ context.Context, r *v1model.TokenExchangeRequest) error {
	return b.record("TokenExchange", r)
}
