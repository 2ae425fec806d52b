package v2client

import (
	"encoding/base64"
	"net/http"
)

// Header names used by Adobe Pass REST API v2 and DCR.
const (
	HeaderAuthorization          = "Authorization"
	HeaderDeviceIdentifier       = "AP-Device-Identifier"
	HeaderDeviceInfo             = "X-Device-Info"
	HeaderForwardedFor           = "X-Forwarded-For"
	HeaderTempPassIdentity       = "AP-TempPass-Identity"
	HeaderVisitorIdentifier      = "AP-Visitor-Identifier"
	HeaderSubjectToken           = "Adobe-Subject-Token"
	HeaderRokuToken              = "X-Roku-Reserved-Roku-Connect-Token"
	HeaderServiceToken           = "AD-Service-Token"
	HeaderPartnerFrameworkStatus = "AP-Partner-Framework-Status"
	HeaderUserAgent              = "User-Agent"
)

// Content types of §2.
const (
	ContentTypeJSON = "application/json;charset=utf-8"
	ContentTypeForm = "application/x-www-form-urlencoded"
)

// Option sets a request header on one call. Options take each value in the
// form a v1 device sends it: a raw device id or TempPass identity (encoded
// here), an already Base64-encoded device info or partner framework status
// (passed through). An option with an empty value sets nothing.
//
// Headers the endpoint does not list (§4.1 header matrix) are dropped rather
// than sent, because Adobe may answer 400 to undocumented headers; callers can
// therefore pass the same device options to every call.
type Option func(*callOptions)

type callOptions struct {
	header http.Header
}

func setHeader(name, value string) Option {
	return func(o *callOptions) {
		if value != "" {
			o.header.Set(name, value)
		}
	}
}

// WithDeviceID sends AP-Device-Identifier: fingerprint <std Base64(id)>. The
// encoding is deterministic, so profiles follow the device everywhere.
func WithDeviceID(id string) Option {
	if id == "" {
		return setHeader(HeaderDeviceIdentifier, "")
	}
	return setHeader(HeaderDeviceIdentifier, "fingerprint "+base64.StdEncoding.EncodeToString([]byte(id)))
}

// WithDeviceInfo sends X-Device-Info with the given Base64 value unchanged.
func WithDeviceInfo(encoded string) Option { return setHeader(HeaderDeviceInfo, encoded) }

// WithForwardedFor sends X-Forwarded-For with the device IP, which also keys
// Adobe's throttling.
func WithForwardedFor(ip string) Option { return setHeader(HeaderForwardedFor, ip) }

// WithTempPassIdentity sends AP-TempPass-Identity with the std Base64 of the
// raw identity (a JSON object such as {"email":"<hash>"}, the v1
// generic_data), for promotional TempPass.
func WithTempPassIdentity(identity string) Option {
	if identity == "" {
		return setHeader(HeaderTempPassIdentity, "")
	}
	return setHeader(HeaderTempPassIdentity, base64.StdEncoding.EncodeToString([]byte(identity)))
}

// WithVisitorIdentifier sends AP-Visitor-Identifier (the ECID), unchanged.
func WithVisitorIdentifier(ecid string) Option { return setHeader(HeaderVisitorIdentifier, ecid) }

// WithSubjectToken sends Adobe-Subject-Token (platform-identity SSO).
func WithSubjectToken(token string) Option { return setHeader(HeaderSubjectToken, token) }

// WithRokuToken sends X-Roku-Reserved-Roku-Connect-Token (Roku platform SSO).
func WithRokuToken(token string) Option { return setHeader(HeaderRokuToken, token) }

// WithServiceToken sends AD-Service-Token (service-token SSO).
func WithServiceToken(token string) Option { return setHeader(HeaderServiceToken, token) }

// WithPartnerFrameworkStatus sends AP-Partner-Framework-Status with the given
// Base64 value unchanged (Apple SSO).
func WithPartnerFrameworkStatus(encoded string) Option {
	return setHeader(HeaderPartnerFrameworkStatus, encoded)
}

// WithUserAgent sends User-Agent, usually the device's own.
func WithUserAgent(ua string) Option { return setHeader(HeaderUserAgent, ua) }

// headerSet lists the optional headers an endpoint accepts beyond the ones
// every v2 call carries.
type headerSet uint8

const (
	allowSSO      headerSet = 1 << iota // Adobe-Subject-Token, X-Roku-…, AD-Service-Token
	allowPFS                            // AP-Partner-Framework-Status
	allowTempPass                       // AP-TempPass-Identity
	dcrCall                             // DCR: device info and user agent only
)

func (s headerSet) names() []string {
	if s&dcrCall != 0 {
		// DCR calls take no Authorization and no device identifier (§4.1).
		return []string{HeaderDeviceInfo, HeaderUserAgent}
	}
	// The device headers go on every v2 call, even where the endpoint tables
	// omit them (§15 #11).
	names := []string{HeaderDeviceIdentifier, HeaderDeviceInfo, HeaderForwardedFor, HeaderVisitorIdentifier, HeaderUserAgent}
	if s&allowSSO != 0 {
		names = append(names, HeaderSubjectToken, HeaderRokuToken, HeaderServiceToken)
	}
	if s&allowPFS != 0 {
		names = append(names, HeaderPartnerFrameworkStatus)
	}
	if s&allowTempPass != 0 {
		names = append(names, HeaderTempPassIdentity)
	}
	return names
}

// applyOptions copies into h the option headers the endpoint accepts and
// returns the names of the ones it dropped.
func applyOptions(h http.Header, allowed headerSet, opts []Option) (dropped []string) {
	o := callOptions{header: http.Header{}}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	for _, name := range allowed.names() {
		if v := o.header.Get(name); v != "" {
			h.Set(name, v)
			o.header.Del(name)
		}
	}
	for name := range o.header {
		dropped = append(dropped, name)
	}
	return dropped
}
