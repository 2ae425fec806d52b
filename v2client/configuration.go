package v2client

import (
	"context"
	"encoding/json"
)

// Configuration is the answer of GET /api/v2/{sp}/configuration.
type Configuration struct {
	Device     string    `json:"device,omitempty"`
	ClientType string    `json:"clientType,omitempty"`
	OS         string    `json:"os,omitempty"`
	Requestor  Requestor `json:"requestor"`

	// MVPDs holds a top-level mvpds list, the shape of the endpoint's field
	// table (§15 #3); the sample nests it in Requestor. Use AllMVPDs.
	MVPDs []MVPD `json:"mvpds,omitempty"`

	// ErrorReporting and Time are listed by the field table only; their
	// shapes are undocumented, so they are kept raw.
	ErrorReporting json.RawMessage `json:"errorReporting,omitempty"`
	Time           json.RawMessage `json:"time,omitempty"`
}

// Requestor describes the service provider. Lists Adobe sent empty stay [].
type Requestor struct {
	ID      string   `json:"id"`
	Name    string   `json:"name,omitempty"`
	Domains []Domain `json:"domains,omitzero"`
	MVPDs   []MVPD   `json:"mvpds,omitzero"`
}

// Domain is a domain registered for the service provider.
type Domain struct {
	Name          string `json:"name"`
	MVPDInitiated bool   `json:"mvpdInitiated"`
}

// MVPD is an identity provider with an active integration. Optional flags are
// pointers so that "false" and "absent" stay distinct. Fields are in the
// order of Adobe's sample (configuration-200.json), the platform fields
// after them.
type MVPD struct {
	ID                         string `json:"id"`
	DisplayName                string `json:"displayName,omitempty"`
	LogoURL                    string `json:"logoUrl,omitempty"`
	PassiveAuthnEnabled        *bool  `json:"passiveAuthnEnabled,omitempty"`
	AuthPerAggregator          *bool  `json:"authPerAggregator,omitempty"`
	AuthPerBrowserSession      *bool  `json:"authPerBrowserSession,omitempty"`
	IsTempPass                 *bool  `json:"isTempPass,omitempty"`
	IsProxy                    *bool  `json:"isProxy,omitempty"`
	BoardingStatus             string `json:"boardingStatus,omitempty"`
	PlatformMappingID          string `json:"platformMappingId,omitempty"`
	EnablePlatformServices     *bool  `json:"enablePlatformServices,omitempty"`
	DisplayInPlatformPicker    *bool  `json:"displayInPlatformPicker,omitempty"`
	EnforcePlatformPermissions *bool  `json:"enforcePlatformPermissions,omitempty"`
}

// TempPass reports whether the MVPD is a TempPass pseudo-MVPD.
func (m MVPD) TempPass() bool { return m.IsTempPass != nil && *m.IsTempPass }

// AllMVPDs returns the MVPDs wherever the answer put them: requestor.mvpds,
// then a top-level mvpds.
func (c *Configuration) AllMVPDs() []MVPD {
	if len(c.Requestor.MVPDs) > 0 {
		return c.Requestor.MVPDs
	}
	return c.MVPDs
}

// MVPD returns the MVPD with the given id.
func (c *Configuration) MVPD(id string) (MVPD, bool) {
	for _, m := range c.AllMVPDs() {
		if m.ID == id {
			return m, true
		}
	}
	return MVPD{}, false
}

// Configuration retrieves the service provider's configuration
// (GET /api/v2/{sp}/configuration).
func (c *Client) Configuration(ctx context.Context, sp string, opts ...Option) (*Configuration, error) {
	var out Configuration
	if err := c.do(ctx, getCall(RouteConfiguration, sp, apiPath(sp, "configuration"), 0, opts), &out); err != nil {
		return nil, err
	}
	return &out, nil
}
