package sandbox

// The sandbox's own reading of the v2 and DCR wire format. Field order follows
// Adobe's samples; the JSON types follow §3 exactly (session times are
// strings of epoch milliseconds, every other time is a number).

type registerRequest struct {
	SoftwareStatement string `json:"software_statement"`
	RedirectURI       string `json:"redirect_uri,omitempty"`
}

type registerResponse struct {
	ClientID         string   `json:"client_id"`
	ClientSecret     string   `json:"client_secret"`
	RedirectURIs     []string `json:"redirect_uris"`
	GrantTypes       []string `json:"grant_types"`
	Scopes           []string `json:"scopes"`
	ClientIDIssuedAt int64    `json:"client_id_issued_at"`
}

type tokenResponse struct {
	ID          string `json:"id"`
	AccessToken string `json:"access_token"`
	CreatedAt   int64  `json:"created_at"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

type dcrError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// enhancedError is the Enhanced Error object, used top-level and item-level.
type enhancedError struct {
	Action  string `json:"action"`
	Status  int    `json:"status"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"`
	HelpURL string `json:"helpUrl,omitempty"`
	Trace   string `json:"trace,omitempty"`
}

type configurationResponse struct {
	Device     string            `json:"device"`
	ClientType string            `json:"clientType"`
	OS         string            `json:"os"`
	Requestor  configurationReqr `json:"requestor"`
}

type configurationReqr struct {
	ID      string                `json:"id"`
	Name    string                `json:"name"`
	Domains []configurationDomain `json:"domains"`
	MVPDs   []configurationMVPD   `json:"mvpds"`
}

type configurationDomain struct {
	Name          string `json:"name"`
	MVPDInitiated bool   `json:"mvpdInitiated"`
}

type configurationMVPD struct {
	ID                     string `json:"id"`
	DisplayName            string `json:"displayName"`
	LogoURL                string `json:"logoUrl,omitempty"`
	IsTempPass             bool   `json:"isTempPass,omitempty"`
	PlatformMappingID      string `json:"platformMappingId,omitempty"`
	EnablePlatformServices bool   `json:"enablePlatformServices,omitempty"`
}

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
	Resource        string         `json:"resource"`
	ServiceProvider string         `json:"serviceProvider"`
	MVPD            string         `json:"mvpd"`
	Source          string         `json:"source"`
	Authorized      bool           `json:"authorized"`
	Token           *mediaTokenRef `json:"token,omitempty"`
	Error           *enhancedError `json:"error,omitempty"`
	NotBefore       *int64         `json:"notBefore,omitempty"`
	NotAfter        *int64         `json:"notAfter,omitempty"`
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
