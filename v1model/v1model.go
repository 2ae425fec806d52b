// Package v1model is the typed model of Adobe Pass REST API v1: the
// requests the legacy HTTP surface (package v1api) hands to a backend and the
// answers it renders, the v1 error with its messages, codes and actions, and
// the refused DCR credential (CredentialError).
// Nothing here knows about HTTP, XML or JSON encoding, nor about REST API v2
// or storage; it imports only the standard library so that the HTTP surface,
// the translation engine and the tools can all share it.
package v1model

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// Device is everything the gateway knows about the calling device for one
// request. Calls that do not take a device (the second-screen calls, the
// registration record lookups) leave DeviceID and the device facts empty.
type Device struct {
	// Requestor is the requestor ID from the path, the query (requestor or
	// requestor_id) or, when the device sent none, the caller credential.
	Requestor string
	// DeviceID is the deviceId exactly as sent (after URL decoding once):
	// opaque bytes, never hashed or normalised.
	DeviceID string
	// DeviceInfo is the decoded device_info / X-Device-Info value: the bytes
	// of one JSON object. Nil when the device sent none (tolerated: the
	// gateway completes device facts from UserAgent and defaults).
	DeviceInfo json.RawMessage
	// DeviceInfoBase64 is the device information as carried, after URL
	// decoding but before Base64 decoding, so it can be passed on unchanged.
	// Empty when the device sent none.
	DeviceInfoBase64 string
	DeviceType       string
	DeviceUser       string
	AppID            string
	AppVersion       string
	// IP is the device address under the trusted-proxy rule; the zero Addr
	// when unknown.
	IP netip.Addr
	// Port is the device's source port when it is known (TCP peer for direct
	// callers); 0 otherwise.
	Port uint16
	// UserAgent is the request's User-Agent header.
	UserAgent string
	// SubjectToken is the Amazon SSO subject token (Adobe-Subject-Token
	// header or ast parameter).
	SubjectToken string
	// RokuToken is the Roku SSO token header value, passed through.
	RokuToken string
	// GenericData is the Promotional TempPass scope (generic_data), passed
	// through unchanged.
	GenericData string
	// Caller describes the credential the request carried.
	Caller Caller
}

// HasDeviceInfo reports whether the device sent device information.
func (d *Device) HasDeviceInfo() bool { return d.DeviceInfo != nil }

// Caller is what the HTTP surface learned from the request's credential.
type Caller struct {
	// AuthorizationType is AuthorizationOAuth2 when a valid DCR bearer token
	// was presented, empty otherwise.
	AuthorizationType string
	// Requestor is the requestor the credential belongs to (the signed
	// header's requestor_id or the DCR client's requestor); empty if none.
	Requestor string
	// Application identifies the registered DCR application, when known.
	Application *SourceApplication
}

// AuthorizationOAuth2 is Caller.AuthorizationType for DCR bearer tokens; it
// is echoed in the registration record's info.authorizationType.
const AuthorizationOAuth2 = "OAUTH2"

// SourceApplication is a DCR application as echoed in a registration record.
type SourceApplication struct {
	ID      string
	Name    string
	Version string
}

// DefaultRegcodeTTL and MaxRegcodeTTL bound the lifetime of a registration
// code (v1 ttl parameter: default 1800 s, maximum 36000 s).
const (
	DefaultRegcodeTTL = 30 * time.Minute
	MaxRegcodeTTL     = 10 * time.Hour
)

// CreateRegcodeRequest is POST /reggie/v1/{requestor}/regcode.
type CreateRegcodeRequest struct {
	Device Device
	// MVPD is the preselected MVPD; empty when none.
	MVPD string
	// TTL is the requested lifetime; 0 means DefaultRegcodeTTL. The HTTP
	// surface has already refused values <= 0 or above MaxRegcodeTTL.
	TTL time.Duration
	// RegistrationURL is the login-app URL the device shows, echoed back.
	RegistrationURL string
}

// GetRegcodeRequest is GET /reggie/v1/{requestor}/regcode/{code} and
// /reggie/v1/regcode/{code}. Device.Requestor may be empty on the second
// form when neither a parameter nor the credential names one.
type GetRegcodeRequest struct {
	Device Device
	Code   string
}

// DeleteRegcodeRequest is DELETE on the registration record paths.
type DeleteRegcodeRequest struct {
	Device Device
	Code   string
}

// ConfigRequest is GET (or POST) /api/v1/config/{requestor}.
type ConfigRequest struct {
	Device Device
}

// AuthenticateRequest is the second-screen browser call GET
// /api/v1/authenticate. Device.Requestor comes from requestor_id; the
// device facts describe the browser (IP, User-Agent, subject token).
type AuthenticateRequest struct {
	Device Device
	// MVPD is mso_id.
	MVPD string
	// Code is reg_code.
	Code        string
	DomainName  string
	RedirectURL string
}

// CheckAuthnRequest is GET /api/v1/checkauthn (Code empty) and
// GET /api/v1/checkauthn/{code}.
type CheckAuthnRequest struct {
	Device Device
	Code   string
}

// AuthnTokenRequest is GET /api/v1/tokens/authn (Code empty) and the
// deployed-client form GET /api/v1/authenticate/{code}.
type AuthnTokenRequest struct {
	Device Device
	Code   string
}

// AuthorizeRequest is GET /api/v1/authorize. Resource is exactly as sent
// (a resource ID or an MRSS fragment).
type AuthorizeRequest struct {
	Device   Device
	Resource string
}

// AuthzTokenRequest is GET /api/v1/tokens/authz.
type AuthzTokenRequest struct {
	Device   Device
	Resource string
}

// MediaTokenRequest is GET /api/v1/tokens/media and /api/v1/mediatoken.
type MediaTokenRequest struct {
	Device   Device
	Resource string
}

// PreauthorizeRequest is GET /api/v1/preauthorize (device form, Code empty)
// and GET /api/v1/preauthorize/{code} (second-screen form, no device ID).
// Resources are in request order with duplicates removed.
type PreauthorizeRequest struct {
	Device    Device
	Code      string
	Resources []string
}

// UserMetadataRequest is GET /api/v1/tokens/usermetadata.
type UserMetadataRequest struct {
	Device Device
}

// LogoutRequest is DELETE (or GET) /api/v1/logout.
type LogoutRequest struct {
	Device Device
}

// FreePreviewRequest is POST /api/v1/authenticate/freepreview.
// Device.GenericData carries the Promotional TempPass scope.
type FreePreviewRequest struct {
	Device Device
	// MVPD is mso_id, the TempPass MVPD.
	MVPD       string
	DomainName string
}

// ProfileRequest is the Apple SSO call GET
// /api/v1/{requestor}/profile-requests/{mvpd}; Device.DeviceType is iOS or
// tvOS.
type ProfileRequest struct {
	Device Device
	MVPD   string
}

// TokenExchangeRequest is the Apple SSO call POST /api/v1/tokens/authn.
type TokenExchangeRequest struct {
	Device Device
	MVPD   string
	// SAMLResponse is Apple's attribute query response as sent (Base64 text,
	// URL decoded once).
	SAMLResponse string
}

// Registration is a registration record (regcode create and lookup).
type Registration struct {
	// ID is a fresh UUID; devices without an ID of their own reuse it as
	// their deviceId.
	ID        string
	Code      string
	Requestor string
	// MVPD is empty when no MVPD was preselected.
	MVPD      string
	Generated time.Time
	Expires   time.Time
	Info      RegistrationInfo
}

// RegistrationInfo is the info block of a registration record. Empty
// strings and nil values are omitted when rendered.
type RegistrationInfo struct {
	// DeviceID holds the deviceId bytes; rendered as standard Base64.
	DeviceID        []byte
	DeviceType      string
	DeviceUser      string
	AppID           string
	AppVersion      string
	RegistrationURL string
	// DeviceInfo is the normalised device JSON; rendered as Base64.
	DeviceInfo        []byte
	UserAgent         string
	OriginalUserAgent string
	// AuthorizationType is AuthorizationOAuth2 when the record was created
	// with a DCR token.
	AuthorizationType string
	SourceApplication *SourceApplication
}

// Config is the MVPD list of a requestor (GET /api/v1/config/{requestor}).
type Config struct {
	Requestor RequestorConfig
}

// RequestorConfig is the requestor block of Config.
type RequestorConfig struct {
	ID    string
	Name  string
	MVPDs []MVPD
}

// MVPD is one entry of the MVPD picker. The first six fields are always
// rendered; the platform-SSO fields only when set.
type MVPD struct {
	ID             string
	DisplayName    string
	LogoURL        string
	IFrameRequired bool
	IFrameWidth    int
	IFrameHeight   int

	EnablePlatformServices  *bool
	DisplayInPlatformPicker *bool
	// BoardingStatus is SUPPORTED or PICKER; empty when not configured.
	BoardingStatus         string
	PlatformMappingID      string
	RequiredMetadataFields []string
}

// AuthnToken is the authentication token metadata (tokens/authn,
// checkauthn, authenticate/{code}).
type AuthnToken struct {
	Requestor string
	MVPD      string
	UserID    string
	Expires   time.Time
}

// AuthzToken is an authorization (authorize, tokens/authz).
type AuthzToken struct {
	Requestor string
	MVPD      string
	Resource  string
	Expires   time.Time
	// ProxyMVPD is set when a proxy MVPD answered.
	ProxyMVPD string
}

// MediaToken is a short media token (tokens/media, mediatoken).
type MediaToken struct {
	Requestor       string
	Resource        string
	Expires         time.Time
	MVPDID          string
	SerializedToken string
	UserID          string
}

// Preauthorization is the answer to preauthorize: one decision per
// requested resource, in request order.
type Preauthorization struct {
	Resources []ResourceDecision
}

// ResourceDecision is one preauthorize entry. Error is the item-level error;
// it is rendered only for requestors with enhanced error codes.
type ResourceDecision struct {
	ID         string
	Authorized bool
	Error      *Error
}

// UserMetadata is the answer to tokens/usermetadata.
type UserMetadata struct {
	// Updated is rendered in Unix seconds.
	Updated time.Time
	// Encrypted names the Data keys whose values are encrypted.
	Encrypted []string
	// Data keeps its order when rendered.
	Data []MetadataField
}

// MetadataField is one user metadata value. Value is one of: string, bool,
// a number (int, int64, float64 or json.Number), []any of these,
// map[string]any (rendered with sorted keys) or []MetadataField (an object
// in the given order).
type MetadataField struct {
	Name  string
	Value any
}

// AuthenticateRedirect is where the browser goes after GET
// /api/v1/authenticate (a 302).
type AuthenticateRedirect struct {
	URL string
}

// ProfileRequestPayload is the opaque Apple SSO profile request, sent to
// the device as application/octet-stream.
type ProfileRequestPayload struct {
	Body []byte
}

// Error is a v1 error answer. It is rendered in the legacy form (status,
// message, details) or, for requestors with enhanced error codes, with
// code, action, helpUrl and trace as well.
type Error struct {
	Status int
	// Message is the canonical v1 message (see the Msg constants). The
	// renderer adjusts the case where XML and JSON differed (404).
	Message string
	// Details is free text for the device (an MVPD deny text); empty when
	// none.
	Details string
	// NullDetails renders an empty Details as JSON null rather than omitting
	// it, as tokens/authz did.
	NullDetails bool

	// Enhanced error fields. Code is one of the Code constants; Action one
	// of the Action constants (ActionFor(Code) when empty). HelpURL and
	// Trace are filled by the renderer when empty.
	Code    string
	Action  string
	HelpURL string
	Trace   string

	// Cause is the underlying failure, for logs only; never rendered.
	Cause error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("v1 error %d %s", e.Status, e.Message)
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Details != "" {
		s += ": " + e.Details
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

// CredentialError is a refused DCR credential. Unlike Error it is
// answered with the OAuth body {"error":"<Code>"} whatever the format, as
// the DCR-protected v1 calls did.
type CredentialError struct {
	// Status is the HTTP status: 400, 401 or 403.
	Status int
	// Code is the OAuth error code: invalid_request, access_denied or
	// invalid_client.
	Code string
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("credential refused: %d %s", e.Status, e.Code)
}

// The messages v1 used.
const (
	MsgNotFound              = "Not found" // "Not Found" in JSON bodies
	MsgGone                  = "Gone"
	MsgNotAuthenticated      = "User not authenticated"
	MsgNotAuthorized         = "User not authorized"
	MsgForbidden             = "Forbidden"
	MsgAuthnTokenExpired     = "Authentication token expired"
	MsgBadRequest            = "Bad Request"
	MsgUnauthorized          = "Unauthorized"
	MsgMethodNotAllowed      = "Method Not Allowed"
	MsgInternalServerError   = "Internal Server Error"
	MsgTooManyRequests       = "Too Many Requests"
	msgRequiredNotPresentFmt = "Required '%s' is not present"
)

// Enhanced error actions (v1 set).
const (
	ActionNone                    = "none"
	ActionConfiguration           = "configuration"
	ActionApplicationRegistration = "application-registration"
	ActionAuthentication          = "authentication"
	ActionAuthorization           = "authorization"
	ActionRetry                   = "retry"
)

// Enhanced error codes (v1 set).
const (
	CodeInvalidRequestor                             = "invalid_requestor"
	CodeInvalidDeviceInfo                            = "invalid_device_info"
	CodeInvalidDeviceID                              = "invalid_device_id"
	CodeMissingResource                              = "missing_resource"
	CodeMalformedAuthzRequest                        = "malformed_authz_request"
	CodePreauthorizationDeniedByMVPD                 = "preauthorization_denied_by_mvpd"
	CodeAuthorizationDeniedByMVPD                    = "authorization_denied_by_mvpd"
	CodeAuthorizationDeniedByParentalControls        = "authorization_denied_by_parental_controls"
	CodeInternalError                                = "internal_error"
	CodeUnknownIntegration                           = "unknown_integration"
	CodeTooManyResources                             = "too_many_resources"
	CodeAuthenticationSessionIssuerMismatch          = "authentication_session_issuer_mismatch"
	CodeAuthorizationDeniedByHBAPolicies             = "authorization_denied_by_hba_policies"
	CodeAuthorizationDeniedBySessionInvalidated      = "authorization_denied_by_session_invalidated"
	CodeIdentityNotRecognizedByMVPD                  = "identity_not_recognized_by_mvpd"
	CodeAuthenticationSessionInvalidated             = "authentication_session_invalidated"
	CodeAuthenticationSessionMissing                 = "authentication_session_missing"
	CodeAuthenticationSessionExpired                 = "authentication_session_expired"
	CodePreauthorizationAuthenticationSessionMissing = "preauthorization_authentication_session_missing"
	CodePreauthorizationAuthenticationSessionExpired = "preauthorization_authentication_session_expired"
	CodeAuthorizationNotFound                        = "authorization_not_found"
	CodeAuthorizationExpired                         = "authorization_expired"
	CodeNetworkReceivedError                         = "network_received_error"
	CodeNetworkConnectionTimeout                     = "network_connection_timeout"
	CodeMaximumExecutionTimeExceeded                 = "maximum_execution_time_exceeded"
)

// ActionFor returns the documented action of a v1 error code, ActionNone
// for codes it does not know.
func ActionFor(code string) string {
	switch code {
	case CodeUnknownIntegration, CodeTooManyResources:
		return ActionConfiguration
	case CodeAuthenticationSessionIssuerMismatch, CodeAuthorizationDeniedByHBAPolicies,
		CodeAuthorizationDeniedBySessionInvalidated, CodeIdentityNotRecognizedByMVPD,
		CodeAuthenticationSessionInvalidated, CodeAuthenticationSessionMissing,
		CodeAuthenticationSessionExpired, CodePreauthorizationAuthenticationSessionMissing,
		CodePreauthorizationAuthenticationSessionExpired:
		return ActionAuthentication
	case CodeAuthorizationNotFound, CodeAuthorizationExpired:
		return ActionAuthorization
	case CodeNetworkReceivedError, CodeNetworkConnectionTimeout, CodeMaximumExecutionTimeExceeded:
		return ActionRetry
	}
	return ActionNone
}

// NewError returns a v1 error with the given status, message and enhanced
// code; the action follows the code.
func NewError(status int, message, code string) *Error {
	e := &Error{Status: status, Message: message, Code: code}
	if code != "" {
		e.Action = ActionFor(code)
	}
	return e
}

// ErrRequired is 400 "Required '<name>' is not present".
func ErrRequired(name, code string) *Error {
	return NewError(400, fmt.Sprintf(msgRequiredNotPresentFmt, name), code)
}

// ErrBadRequest is 400 "Bad Request".
func ErrBadRequest(code string) *Error { return NewError(400, MsgBadRequest, code) }

// ErrUnauthorized is 401 "Unauthorized".
func ErrUnauthorized() *Error { return NewError(401, MsgUnauthorized, "") }

// ErrForbidden is 403 "Forbidden".
func ErrForbidden(code string) *Error { return NewError(403, MsgForbidden, code) }

// ErrAuthnTokenExpired is the checkauthn 403 "Authentication token expired".
func ErrAuthnTokenExpired(code string) *Error {
	return NewError(403, MsgAuthnTokenExpired, code)
}

// ErrNotAuthorized is 403 "User not authorized", with the MVPD's text.
func ErrNotAuthorized(code, details string) *Error {
	e := NewError(403, MsgNotAuthorized, code)
	e.Details = details
	return e
}

// ErrNotFound is 404 "Not found".
func ErrNotFound(code string) *Error { return NewError(404, MsgNotFound, code) }

// ErrMethodNotAllowed is 405 "Method Not Allowed".
func ErrMethodNotAllowed() *Error { return NewError(405, MsgMethodNotAllowed, CodeInternalError) }

// ErrGone is 410 "Gone".
func ErrGone(code string) *Error { return NewError(410, MsgGone, code) }

// ErrNotAuthenticated is 412 "User not authenticated".
func ErrNotAuthenticated(code string) *Error {
	return NewError(412, MsgNotAuthenticated, code)
}

// ErrTooManyRequests is 429; the device gets the throttling page, not an
// XML or JSON body.
func ErrTooManyRequests() *Error { return NewError(429, MsgTooManyRequests, "") }

// ErrInternal is 500 "Internal Server Error" (action retry); cause is kept
// for logs only.
func ErrInternal(cause error) *Error {
	e := NewError(500, MsgInternalServerError, CodeInternalError)
	e.Action = ActionRetry
	e.Cause = cause
	return e
}
