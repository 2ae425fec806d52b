package v2client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
)

// Profile types and attribute states.
const (
	ProfileRegular         = "regular"
	ProfileDegraded        = "degraded"
	ProfileTemporary       = "temporary"
	ProfileAppleSSO        = "appleSSO"
	ProfilePlatformSSO     = "platformSSO"
	ProfileServiceTokenSSO = "serviceTokenSSO"

	StatePlain     = "plain"
	StateEncrypted = "enc"
)

// Profiles is the answer of every profiles endpoint: profiles keyed by MVPD
// id. An empty map means the user must log in (or, on profiles/code, that
// the login is still pending).
type Profiles struct {
	Profiles map[string]Profile `json:"profiles"`
}

// Profile is an authentication (the v1 authN token).
type Profile struct {
	NotBefore  Millis               `json:"notBefore,omitzero"`
	NotAfter   Millis               `json:"notAfter,omitzero"`
	Issuer     string               `json:"issuer,omitempty"`
	Type       string               `json:"type,omitempty"`
	Attributes map[string]Attribute `json:"attributes,omitempty"`
}

// Attribute is one user metadata value. Value is kept as raw JSON because it
// may be a string, number, array or object.
type Attribute struct {
	Value json.RawMessage `json:"value"`
	State string          `json:"state,omitempty"`
}

// Encrypted reports whether the value is encrypted (state "enc").
func (a Attribute) Encrypted() bool { return a.State == StateEncrypted }

// String returns a string value unquoted, and any other value as its JSON
// text.
func (a Attribute) String() string {
	if s, ok := plainJSONString(a.Value); ok {
		return s
	}
	var s string
	if json.Unmarshal(a.Value, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(a.Value))
}

// plainJSONString returns the text of a JSON string made of printable ASCII
// without escapes, the usual form of an attribute value, which needs no
// decoding; ok is false for anything else.
func plainJSONString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(inner), true
}

// Decode unmarshals the value into v.
func (a Attribute) Decode(v any) error { return json.Unmarshal(a.Value, v) }

const profileHeaders = allowSSO | allowPFS

// Profiles retrieves every valid profile of the device
// (GET /api/v2/{sp}/profiles).
func (c *Client) Profiles(ctx context.Context, sp string, opts ...Option) (*Profiles, error) {
	return c.profiles(ctx, getCall(RouteProfiles, sp, apiPath(sp, "profiles"), profileHeaders, opts))
}

// Profile retrieves the device's profile for one MVPD, TempPass included
// (GET /api/v2/{sp}/profiles/{mvpd}).
func (c *Client) Profile(ctx context.Context, sp, mvpd string, opts ...Option) (*Profiles, error) {
	return c.profiles(ctx, getCall(RouteProfile, sp, apiPath(sp, "profiles", mvpd), profileHeaders|allowTempPass, opts))
}

// ProfileByCode retrieves the profile obtained with an authentication code,
// the polling endpoint (GET /api/v2/{sp}/profiles/code/{code}).
func (c *Client) ProfileByCode(ctx context.Context, sp, code string, opts ...Option) (*Profiles, error) {
	return c.profiles(ctx, getCall(RouteProfileByCode, sp, apiPath(sp, "profiles", "code", code), allowTempPass, opts))
}

// PartnerProfile exchanges a partner (Apple) SAML response, already Base64
// encoded, for a profile (POST /api/v2/{sp}/profiles/sso/{partner}).
func (c *Client) PartnerProfile(ctx context.Context, sp, partner, samlResponse string, opts ...Option) (*Profiles, error) {
	form := url.Values{"SAMLResponse": {samlResponse}}
	return c.profiles(ctx, formCall(RoutePartnerProfile, sp, apiPath(sp, "profiles", "sso", partner), form, allowPFS, opts))
}

func (c *Client) profiles(ctx context.Context, cl *call) (*Profiles, error) {
	var out Profiles
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	if out.Profiles == nil {
		out.Profiles = map[string]Profile{}
	}
	return &out, nil
}
