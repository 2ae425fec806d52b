package sandbox

import "github.com/passgw/passgw/v2client"

// The sandbox's own reading of the v2 wire format where v2client has no
// type of its own for it; the DCR bodies, the configuration and the Enhanced
// Error are v2client's (RegisterRequest, ClientCredentials, AccessToken,
// DCRError, Configuration, Error), so the two ends cannot drift. Field order
// follows Adobe's samples; the JSON types follow §3 exactly (session times
// are strings of epoch milliseconds, every other time is a number).

// sessionResponse is shared by create, resume and sessions/sso.
type sessionResponse struct {
	ActionName            string                 `json:"actionName"`
	ActionType            string                 `json:"actionType"`
	ReasonType            string                 `json:"reasonType"`
	MissingParameters     []string               `json:"missingParameters,omitempty"`
	URL                   string                 `json:"url,omitempty"`
	Code                  string                 `json:"code,omitempty"`
	SessionID             string                 `json:"sessionId"`
	MVPD                  string                 `json:"mvpd,omitempty"`
	ServiceProvider       string                 `json:"serviceProvider"`
	NotBefore             string                 `json:"notBefore,omitempty"`
	NotAfter              string                 `json:"notAfter,omitempty"`
	AuthenticationRequest *authenticationRequest `json:"authenticationRequest,omitempty"`
}

type authenticationRequest struct {
	Type            string   `json:"type"`
	Request         string   `json:"request"`
	AttributesNames []string `json:"attributesNames"`
}

type sessionInfoResponse struct {
	MissingParameters  []string          `json:"missingParameters,omitempty"`
	ExistingParameters map[string]string `json:"existingParameters"`
	Device             deviceDescription `json:"device"`
	NotBefore          string            `json:"notBefore"`
	NotAfter           string            `json:"notAfter"`
}

// deviceDescription mirrors the device object of retrieve-session; unknown
// members are null, as in Adobe's samples.
type deviceDescription struct {
	Type            *string          `json:"type"`
	Model           *string          `json:"model"`
	Version         versionNumber    `json:"version"`
	Hardware        deviceHardware   `json:"hardware"`
	OperatingSystem deviceOS         `json:"operatingSystem"`
	Browser         deviceBrowser    `json:"browser"`
	Display         deviceDisplay    `json:"display"`
	ApplicationID   *string          `json:"applicationId"`
	Connection      deviceConnection `json:"connection"`
}

type versionNumber struct {
	Major   int    `json:"major"`
	Minor   int    `json:"minor"`
	Patch   int    `json:"patch"`
	Profile string `json:"profile"`
}

type deviceHardware struct {
	Name         *string       `json:"name"`
	Vendor       *string       `json:"vendor"`
	Version      versionNumber `json:"version"`
	Manufacturer *string       `json:"manufacturer"`
}

type deviceOS struct {
	Name    *string       `json:"name"`
	Family  *string       `json:"family"`
	Vendor  *string       `json:"vendor"`
	Version versionNumber `json:"version"`
}

type deviceBrowser struct {
	Name              *string       `json:"name"`
	Vendor            *string       `json:"vendor"`
	Version           versionNumber `json:"version"`
	UserAgent         *string       `json:"userAgent"`
	OriginalUserAgent *string       `json:"originalUserAgent"`
}

type deviceDisplay struct {
	Width        int      `json:"width"`
	Height       int      `json:"height"`
	PPI          int      `json:"ppi"`
	Name         *string  `json:"name"`
	Vendor       *string  `json:"vendor"`
	Version      *string  `json:"version"`
	DiagonalSize *float64 `json:"diagonalSize"`
}

type deviceConnection struct {
	IPAddress *string `json:"ipAddress"`
	Port      *string `json:"port"`
	Secure    bool    `json:"secure"`
	Type      *string `json:"type"`
}

type profilesResponse struct {
	Profiles map[string]profileBody `json:"profiles"`
}

type profileBody struct {
	NotBefore  int64                `json:"notBefore"`
	NotAfter   int64                `json:"notAfter"`
	Issuer     string               `json:"issuer"`
	Type       string               `json:"type"`
	Attributes map[string]Attribute `json:"attributes"`
}

type decisionsRequest struct {
	Resources []string `json:"resources"`
}

type decisionsResponse struct {
	Decisions []decisionItem `json:"decisions"`
}

type decisionItem struct {
	Resource        string          `json:"resource"`
	ServiceProvider string          `json:"serviceProvider"`
	MVPD            string          `json:"mvpd"`
	Source          string          `json:"source"`
	Authorized      bool            `json:"authorized"`
	Token           *mediaTokenRef  `json:"token,omitempty"`
	Error           *v2client.Error `json:"error,omitempty"`
	NotBefore       *int64          `json:"notBefore,omitempty"`
	NotAfter        *int64          `json:"notAfter,omitempty"`
}

type mediaTokenRef struct {
	NotBefore       int64  `json:"notBefore"`
	NotAfter        int64  `json:"notAfter"`
	SerializedToken string `json:"serializedToken"`
}

type logoutResponse struct {
	Logouts map[string]logoutAction `json:"logouts"`
}

type logoutAction struct {
	ActionName string `json:"actionName"`
	ActionType string `json:"actionType"`
	MVPD       string `json:"mvpd"`
	URL        string `json:"url,omitempty"`
}

// partnerFrameworkStatus is the decoded AP-Partner-Framework-Status header.
type partnerFrameworkStatus struct {
	FrameworkPermissionInfo struct {
		AccessStatus string `json:"accessStatus"`
	} `json:"frameworkPermissionInfo"`
	FrameworkProviderInfo struct {
		ID             string `json:"id"`
		ExpirationDate string `json:"expirationDate"`
	} `json:"frameworkProviderInfo"`
}
