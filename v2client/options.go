package v2client

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
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
// (passed through). An option with an empty value, and the zero Option, set
// nothing; of two options for the same header the later one wins.
//
// Headers the endpoint does not list (§4.1 header matrix) are dropped rather
// than sent, because Adobe may answer 400 to undocumented headers; callers can
// therefore pass the same device options to every call.
//
// An Option is a plain value: building one allocates nothing beyond its
// encoded value, and a slice of them can be kept and reused across calls.
type Option struct {
	header optionHeader
	value  string
}

// optionHeader names the header an Option sets.
type optionHeader uint8

const (
	optNone optionHeader = iota
	optDeviceIdentifier
	optDeviceInfo
	optForwardedFor
	optTempPassIdentity
	optVisitorIdentifier
	optSubjectToken
	optRokuToken
	optServiceToken
	optPartnerFrameworkStatus
	optUserAgent
)

// key returns the header's name in canonical form (textproto), the form
// http.Header keys take, so that the header map is filled without
// canonicalising each name on every call.
func (h optionHeader) key() string {
	switch h {
	case optDeviceIdentifier:
		return "Ap-Device-Identifier"
	case optDeviceInfo:
		return "X-Device-Info"
	case optForwardedFor:
		return "X-Forwarded-For"
	case optTempPassIdentity:
		return "Ap-Temppass-Identity"
	case optVisitorIdentifier:
		return "Ap-Visitor-Identifier"
	case optSubjectToken:
		return "Adobe-Subject-Token"
	case optRokuToken:
		return "X-Roku-Reserved-Roku-Connect-Token"
	case optServiceToken:
		return "Ad-Service-Token"
	case optPartnerFrameworkStatus:
		return "Ap-Partner-Framework-Status"
	case optUserAgent:
		return "User-Agent"
	}
	return ""
}

// appendBase64 returns prefix followed by the standard Base64 of raw, built
// in one allocation.
func appendBase64(prefix, raw string) string {
	enc := base64.StdEncoding
	var b strings.Builder
	b.Grow(len(prefix) + enc.EncodedLen(len(raw)))
	b.WriteString(prefix)
	// Whole 3-byte groups encode without padding, so the input can be
	// encoded chunk by chunk through buffers on the stack.
	var in [96]byte
	var out [128]byte
	for len(raw) > 0 {
		n := copy(in[:], raw)
		raw = raw[n:]
		enc.Encode(out[:], in[:n])
		b.Write(out[:enc.EncodedLen(n)])
	}
	return b.String()
}

// WithDeviceID sends AP-Device-Identifier: fingerprint <std Base64(id)>. The
// encoding is deterministic, so profiles follow the device everywhere.
func WithDeviceID(id string) Option {
	if id == "" {
		return Option{}
	}
	return Option{optDeviceIdentifier, appendBase64("fingerprint ", id)}
}

// WithDeviceInfo sends X-Device-Info with the given Base64 value unchanged.
func WithDeviceInfo(encoded string) Option { return Option{optDeviceInfo, encoded} }

// WithForwardedFor sends X-Forwarded-For with the device IP, which also keys
// Adobe's throttling.
func WithForwardedFor(ip string) Option { return Option{optForwardedFor, ip} }

// WithTempPassIdentity sends AP-TempPass-Identity with the std Base64 of the
// raw identity (a JSON object such as {"email":"<hash>"}, the v1
// generic_data), for promotional TempPass.
func WithTempPassIdentity(identity string) Option {
	if identity == "" {
		return Option{}
	}
	return Option{optTempPassIdentity, appendBase64("", identity)}
}

// WithVisitorIdentifier sends AP-Visitor-Identifier (the ECID), unchanged.
func WithVisitorIdentifier(ecid string) Option { return Option{optVisitorIdentifier, ecid} }

// WithSubjectToken sends Adobe-Subject-Token (platform-identity SSO).
func WithSubjectToken(token string) Option { return Option{optSubjectToken, token} }

// WithRokuToken sends X-Roku-Reserved-Roku-Connect-Token (Roku platform SSO).
func WithRokuToken(token string) Option { return Option{optRokuToken, token} }

// WithServiceToken sends AD-Service-Token (service-token SSO).
func WithServiceToken(token string) Option { return Option{optServiceToken, token} }

// WithPartnerFrameworkStatus sends AP-Partner-Framework-Status with the given
// Base64 value unchanged (Apple SSO).
func WithPartnerFrameworkStatus(encoded string) Option {
	return Option{optPartnerFrameworkStatus, encoded}
}

// WithUserAgent sends User-Agent, usually the device's own.
func WithUserAgent(ua string) Option { return Option{optUserAgent, ua} }

// headerSet lists the optional headers an endpoint accepts beyond the ones
// every v2 call carries.
type headerSet uint8

const (
	allowSSO      headerSet = 1 << iota // Adobe-Subject-Token, X-Roku-…, AD-Service-Token
	allowPFS                            // AP-Partner-Framework-Status
	allowTempPass                       // AP-TempPass-Identity
	dcrCall                             // DCR: device info and user agent only
)

// allows reports whether the endpoint accepts header h.
func (s headerSet) allows(h optionHeader) bool {
	switch h {
	case optDeviceInfo, optUserAgent:
		return true
	case optDeviceIdentifier, optForwardedFor, optVisitorIdentifier:
		// DCR calls take no Authorization and no device identifier (§4.1);
		// the device headers go on every v2 call, even where the endpoint
		// tables omit them (§15 #11).
		return s&dcrCall == 0
	case optSubjectToken, optRokuToken, optServiceToken:
		return s&dcrCall == 0 && s&allowSSO != 0
	case optPartnerFrameworkStatus:
		return s&dcrCall == 0 && s&allowPFS != 0
	case optTempPassIdentity:
		return s&dcrCall == 0 && s&allowTempPass != 0
	}
	return false
}

// fillHeader fills h, the empty header of one attempt: Accept, the content
// type and bearer when given, and the option headers the endpoint accepts.
// It returns the names of the option headers it dropped. Keys are set in
// canonical form directly and the values share one backing array.
func fillHeader(h http.Header, contentType, bearer string, allowed headerSet, opts []Option) (dropped []string) {
	n := 1
	if contentType != "" {
		n++
	}
	if bearer != "" {
		n++
	}
	for _, o := range opts {
		if o.value != "" && allowed.allows(o.header) {
			n++
		}
	}
	b := headerBuilder{h: h, vals: make([]string, 0, n)}
	b.set("Accept", ContentTypeJSON)
	if contentType != "" {
		b.set("Content-Type", contentType)
	}
	if bearer != "" {
		b.set(HeaderAuthorization, bearer)
	}
	for _, o := range opts {
		switch {
		case o.value == "":
		case allowed.allows(o.header):
			b.set(o.header.key(), o.value)
		case o.header != optNone && !slices.Contains(dropped, o.header.key()):
			dropped = append(dropped, o.header.key())
		}
	}
	return dropped
}

// headerBuilder fills a header whose values share one backing array.
type headerBuilder struct {
	h    http.Header
	vals []string
}

// set sets key, already canonical, to value.
func (b *headerBuilder) set(key, value string) {
	if v, ok := b.h[key]; ok {
		v[0] = value
		return
	}
	b.vals = append(b.vals, value)
	n := len(b.vals)
	b.h[key] = b.vals[n-1 : n : n]
}
