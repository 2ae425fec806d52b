package v2client

import (
	"context"
	"encoding/json"
	"net/url"
)

// Session action names, types and reasons (sessions and partner sessions).
const (
	ActionNameAuthenticate   = "authenticate"
	ActionNameResume         = "resume"
	ActionNameRetry          = "retry"
	ActionNameAuthorize      = "authorize"
	ActionNamePartnerProfile = "partner_profile"

	ActionTypeInteractive = "interactive"
	ActionTypeDirect      = "direct"

	ReasonNone                      = "none"
	ReasonAuthenticated             = "authenticated"
	ReasonAuthenticatedSSO          = "authenticatedSSO"
	ReasonTemporary                 = "temporary"
	ReasonDegraded                  = "degraded"
	ReasonPFSFallback               = "pfs_fallback"
	ReasonConfigurationFallback     = "configuration_fallback"
	ReasonMissingParametersFallback = "missing_parameters_fallback"
)

// SessionParams are the form parameters of create, resume and partner
// sessions. Empty fields are not sent: v2 answers resume/retry with
// missingParameters instead of an error.
type SessionParams struct {
	MVPD        string
	DomainName  string
	RedirectURL string
}

func (p SessionParams) form() url.Values {
	f := url.Values{}
	if p.MVPD != "" {
		f.Set("mvpd", p.MVPD)
	}
	if p.DomainName != "" {
		f.Set("domainName", p.DomainName)
	}
	if p.RedirectURL != "" {
		f.Set("redirectUrl", p.RedirectURL)
	}
	return f
}

// Session is the SessionResponse of create, resume and partner sessions.
// NotBefore/NotAfter bound the code's validity; URL is relative (see
// Client.ResolveURL).
type Session struct {
	ActionName            string                 `json:"actionName"`
	ActionType            string                 `json:"actionType"`
	ReasonType            string                 `json:"reasonType,omitempty"`
	MissingParameters     []string               `json:"missingParameters,omitempty"`
	URL                   string                 `json:"url,omitempty"`
	Code                  string                 `json:"code,omitempty"`
	SessionID             string                 `json:"sessionId,omitempty"`
	MVPD                  string                 `json:"mvpd,omitempty"`
	ServiceProvider       string                 `json:"serviceProvider,omitempty"`
	NotBefore             Millis                 `json:"notBefore,omitzero"`
	NotAfter              Millis                 `json:"notAfter,omitzero"`
	AuthenticationRequest *AuthenticationRequest `json:"authenticationRequest,omitempty"`
}

// Missing reports whether v2 listed the parameter as missing, treating
// "domain" and "domainName" as the same parameter (§15 #8).
func (s *Session) Missing(name string) bool { return containsParam(s.MissingParameters, name) }

// AuthenticationRequest is the partner (Apple) SAML request of a
// partner_profile answer.
type AuthenticationRequest struct {
	Type            string   `json:"type"`
	Request         string   `json:"request"`
	AttributesNames []string `json:"attributesNames,omitempty"`
}

// SessionInfo is the answer of GET /api/v2/{sp}/sessions/{code}.
type SessionInfo struct {
	MissingParameters  []string          `json:"missingParameters,omitempty"`
	ExistingParameters map[string]string `json:"existingParameters"`
	// Device is the device as the server parsed it, kept raw because its
	// many nullable members are loosely specified; see ParsedDevice.
	Device    json.RawMessage `json:"device,omitempty"`
	NotBefore Millis          `json:"notBefore,omitzero"`
	NotAfter  Millis          `json:"notAfter,omitzero"`
}

// Param returns an existing parameter, treating "domain" and "domainName" as
// the same name (§15 #8).
func (s *SessionInfo) Param(name string) string {
	if v, ok := s.ExistingParameters[name]; ok {
		return v
	}
	if alt := domainAlias(name); alt != "" {
		return s.ExistingParameters[alt]
	}
	return ""
}

// Missing reports whether the parameter is missing ("domain" = "domainName").
func (s *SessionInfo) Missing(name string) bool { return containsParam(s.MissingParameters, name) }

// ParsedDevice decodes Device.
func (s *SessionInfo) ParsedDevice() (*SessionDevice, error) {
	var d SessionDevice
	if len(s.Device) == 0 {
		return &d, nil
	}
	if err := json.Unmarshal(s.Device, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// SessionDevice is the device of a retrieved session. Members are often
// null; every one is optional.
type SessionDevice struct {
	Type          *string        `json:"type"`
	Model         *string        `json:"model"`
	ApplicationID *string        `json:"applicationId"`
	Version       *DeviceVersion `json:"version"`
	Hardware      *struct {
		Name         *string        `json:"name"`
		Vendor       *string        `json:"vendor"`
		Version      *DeviceVersion `json:"version"`
		Manufacturer *string        `json:"manufacturer"`
	} `json:"hardware"`
	OperatingSystem *struct {
		Name    *string        `json:"name"`
		Family  *string        `json:"family"`
		Vendor  *string        `json:"vendor"`
		Version *DeviceVersion `json:"version"`
	} `json:"operatingSystem"`
	Browser *struct {
		Name              *string        `json:"name"`
		Vendor            *string        `json:"vendor"`
		Version           *DeviceVersion `json:"version"`
		UserAgent         *string        `json:"userAgent"`
		OriginalUserAgent *string        `json:"originalUserAgent"`
	} `json:"browser"`
	Display    json.RawMessage `json:"display"`
	Connection *struct {
		IPAddress *string `json:"ipAddress"`
		Port      *string `json:"port"`
		Secure    *bool   `json:"secure"`
		Type      *string `json:"type"`
	} `json:"connection"`
}

// DeviceVersion is a parsed version number.
type DeviceVersion struct {
	Major   int    `json:"major"`
	Minor   int    `json:"minor"`
	Patch   int    `json:"patch"`
	Profile string `json:"profile"`
}

func domainAlias(name string) string {
	switch name {
	case "domain":
		return "domainName"
	case "domainName":
		return "domain"
	}
	return ""
}

func containsParam(list []string, name string) bool {
	alt := domainAlias(name)
	for _, p := range list {
		if p == name || (alt != "" && p == alt) {
			return true
		}
	}
	return false
}

const sessionHeaders = allowSSO

// CreateSession starts an authentication session
// (POST /api/v2/{sp}/sessions).
func (c *Client) CreateSession(ctx context.Context, sp string, p SessionParams, opts ...Option) (*Session, error) {
	var out Session
	cl := formCall(RouteCreateSession, sp, apiPath(sp, "sessions"), p.form(), sessionHeaders, opts)
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResumeSession completes a session's parameters
// (POST /api/v2/{sp}/sessions/{code}).
func (c *Client) ResumeSession(ctx context.Context, sp, code string, p SessionParams, opts ...Option) (*Session, error) {
	var out Session
	cl := formCall(RouteResumeSession, sp, apiPath(sp, "sessions", code), p.form(), 0, opts)
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetrieveSession reads a session by code (GET /api/v2/{sp}/sessions/{code}).
func (c *Client) RetrieveSession(ctx context.Context, sp, code string, opts ...Option) (*SessionInfo, error) {
	var out SessionInfo
	if err := c.do(ctx, getCall(RouteRetrieveSession, sp, apiPath(sp, "sessions", code), 0, opts), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PartnerSession asks for a partner (Apple) authentication request
// (POST /api/v2/{sp}/sessions/sso/{partner}). Only DomainName and RedirectURL
// of p are used, for the fallback to a basic login.
func (c *Client) PartnerSession(ctx context.Context, sp, partner string, p SessionParams, opts ...Option) (*Session, error) {
	p.MVPD = ""
	var out Session
	cl := formCall(RoutePartnerSession, sp, apiPath(sp, "sessions", "sso", partner), p.form(), allowPFS, opts)
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
