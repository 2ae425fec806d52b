package v1api

import (
	"context"
	"sync"
	"time"

	"github.com/passgw/passgw/translate"
)

// recordingBackend is a Backend that records the last typed request it got
// and answers with the configured values (sample-like defaults) or err.
type recordingBackend struct {
	mu  sync.Mutex
	op  string
	req any

	err      error
	reg      *translate.Registration
	cfg      *translate.Config
	authn    *translate.AuthnToken
	authz    *translate.AuthzToken
	media    *translate.MediaToken
	pre      *translate.Preauthorization
	md       *translate.UserMetadata
	redirect *translate.AuthenticateRedirect
	profile  *translate.ProfileRequestPayload
}

var _ Backend = (*recordingBackend)(nil)

func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

func newRecordingBackend() *recordingBackend {
	return &recordingBackend{
		reg: &translate.Registration{
			ID: "678f9fea-a1cafec8-1ff0-4a26-8564-f6cd020acf13", Code: "TJJCFK", Requestor: "sampleRequestorId",
			MVPD: "sampleMvpdId", Generated: ms(1348039846647), Expires: ms(1348043446647),
			Info: translate.RegistrationInfo{
				DeviceID: []byte("thisIdADummyDeviceId"), DeviceType: "xbox", DeviceUser: "JD",
				AppID: "2345", AppVersion: "2.0", RegistrationURL: "http://loginwebapp.com",
			},
		},
		cfg: &translate.Config{Requestor: translate.RequestorConfig{ID: "sampleRequestorId", Name: "Sample", MVPDs: []translate.MVPD{
			{ID: "AcmeCable", DisplayName: "Acme Cable", LogoURL: "https://example.com/acme.png"},
			{ID: "BetaFiber", DisplayName: "Beta Fiber", LogoURL: "https://example.com/beta.png", IFrameRequired: true,
				IFrameWidth: 500, IFrameHeight: 300, EnablePlatformServices: ptr(true), DisplayInPlatformPicker: ptr(false),
				BoardingStatus: "SUPPORTED", PlatformMappingID: "Beta", RequiredMetadataFields: []string{"upstreamUserID", "zip"}},
		}}},
		authn: &translate.AuthnToken{Requestor: "sampleRequestor", MVPD: "sampleMvpdId", UserID: "sampleUserId", Expires: ms(1601114932000)},
		authz: &translate.AuthzToken{Requestor: "sampleRequestorId", MVPD: "sampleMvpdId", Resource: "sampleResourceId", Expires: ms(1348148289000)},
		media: &translate.MediaToken{Requestor: "sampleRequestorId", Resource: "sampleResourceId", Expires: ms(1348649569000),
			MVPDID: "sampleMvpdId", SerializedToken: "PHNpZ25hdH[...]", UserID: "sampleScrambledUserId"},
		pre: &translate.Preauthorization{Resources: []translate.ResourceDecision{
			{ID: "TestStream1", Authorized: true},
			{ID: "TestStream2", Error: &translate.Error{Status: 403, Code: translate.CodeAuthorizationDeniedByMVPD,
				Message: translate.MsgNotAuthorized, Details: `Your subscription package does not include the "TestStream3" channel.`}},
		}},
		md: &translate.UserMetadata{Updated: time.Unix(1334243471, 0), Encrypted: []string{"encryptedProp"}, Data: []translate.MetadataField{
			{Name: "zip", Value: []any{"12345", "34567"}},
			{Name: "maxRating", Value: []translate.MetadataField{{Name: "MPAA", Value: "PG-13"}, {Name: "VCHIP", Value: "TV-Y"}, {Name: "URL", Value: "http://exam.pl/e/manage/ratings"}}},
			{Name: "householdID", Value: "3456"},
			{Name: "userID", Value: "BgSdasfsdk23/dsaf3+saASesadgfsShggssd="},
			{Name: "channelID", Value: []any{"channel-1", "channel-2"}},
		}},
		redirect: &translate.AuthenticateRedirect{URL: "https://sandbox.example/api/v2/authenticate/REF30/TJJCFK"},
		profile:  &translate.ProfileRequestPayload{Body: []byte("opaque\x00payload")},
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

func (b *recordingBackend) CreateRegcode(_ context.Context, r *translate.CreateRegcodeRequest) (*translate.Registration, error) {
	return b.reg, b.record("CreateRegcode", r)
}
func (b *recordingBackend) GetRegcode(_ context.Context, r *translate.GetRegcodeRequest) (*translate.Registration, error) {
	return b.reg, b.record("GetRegcode", r)
}
func (b *recordingBackend) DeleteRegcode(_ context.Context, r *translate.DeleteRegcodeRequest) error {
	return b.record("DeleteRegcode", r)
}
func (b *recordingBackend) Config(_ context.Context, r *translate.ConfigRequest) (*translate.Config, error) {
	return b.cfg, b.record("Config", r)
}
func (b *recordingBackend) Authenticate(_ context.Context, r *translate.AuthenticateRequest) (*translate.AuthenticateRedirect, error) {
	return b.redirect, b.record("Authenticate", r)
}
func (b *recordingBackend) CheckAuthn(_ context.Context, r *translate.CheckAuthnRequest) (*translate.AuthnToken, error) {
	return b.authn, b.record("CheckAuthn", r)
}
func (b *recordingBackend) AuthnToken(_ context.Context, r *translate.AuthnTokenRequest) (*translate.AuthnToken, error) {
	return b.authn, b.record("AuthnToken", r)
}
func (b *recordingBackend) Authorize(_ context.Context, r *translate.AuthorizeRequest) (*translate.AuthzToken, error) {
	return b.authz, b.record("Authorize", r)
}
func (b *recordingBackend) AuthzToken(_ context.Context, r *translate.AuthzTokenRequest) (*translate.AuthzToken, error) {
	return b.authz, b.record("AuthzToken", r)
}
func (b *recordingBackend) MediaToken(_ context.Context, r *translate.MediaTokenRequest) (*translate.MediaToken, error) {
	return b.media, b.record("MediaToken", r)
}
func (b *recordingBackend) Preauthorize(_ context.Context, r *translate.PreauthorizeRequest) (*translate.Preauthorization, error) {
	return b.pre, b.record("Preauthorize", r)
}
func (b *recordingBackend) UserMetadata(_ context.Context, r *translate.UserMetadataRequest) (*translate.UserMetadata, error) {
	return b.md, b.record("UserMetadata", r)
}
func (b *recordingBackend) Logout(_ context.Context, r *translate.LogoutRequest) error {
	return b.record("Logout", r)
}
func (b *recordingBackend) FreePreview(_ context.Context, r *translate.FreePreviewRequest) error {
	return b.record("FreePreview", r)
}
func (b *recordingBackend) ProfileRequest(_ context.Context, r *translate.ProfileRequest) (*translate.ProfileRequestPayload, error) {
	return b.profile, b.record("ProfileRequest", r)
}
func (b *recordingBackend) TokenExchange(_ context.Context, r *translate.TokenExchangeRequest) error {
	return b.record("TokenExchange", r)
}
