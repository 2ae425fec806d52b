package v2client

import "context"

// Decision sources.
const (
	SourceMVPD        = "mvpd"
	SourceDegradation = "degradation"
	SourceTempPass    = "temppass"
	SourceDummy       = "dummy"
)

// Decisions is the answer of authorize and preauthorize: one item per
// resource, in request order.
type Decisions struct {
	Decisions []Decision `json:"decisions"`
}

// Decision is the answer for one resource. A deny is not an HTTP error: it
// has Authorized false and an item-level Error.
type Decision struct {
	Resource        string      `json:"resource"`
	ServiceProvider string      `json:"serviceProvider,omitempty"`
	MVPD            string      `json:"mvpd,omitempty"`
	Source          string      `json:"source,omitempty"`
	Authorized      bool        `json:"authorized"`
	Token           *MediaToken `json:"token,omitempty"`
	NotBefore       Millis      `json:"notBefore,omitzero"`
	NotAfter        Millis      `json:"notAfter,omitzero"`
	Error           *Error      `json:"error,omitempty"`
}

// MediaToken is the short, one-time media token of an authorize permit.
type MediaToken struct {
	// IssuedAt appears only in the Enhanced Error Codes page's example.
	IssuedAt        Millis `json:"issuedAt,omitzero"`
	NotBefore       Millis `json:"notBefore,omitzero"`
	NotAfter        Millis `json:"notAfter,omitzero"`
	SerializedToken string `json:"serializedToken"`
}

type decisionsRequest struct {
	Resources []string `json:"resources"`
}

// Authorize asks for authorization decisions and media tokens
// (POST /api/v2/{sp}/decisions/authorize/{mvpd}). Resources are sent exactly
// as given (MRSS included).
func (c *Client) Authorize(ctx context.Context, sp, mvpd string, resources []string, opts ...Option) (*Decisions, error) {
	return c.decisions(ctx, sp, "authorize", mvpd, resources, opts)
}

// Preauthorize asks for preauthorization decisions, for UI filtering only
// (POST /api/v2/{sp}/decisions/preauthorize/{mvpd}).
func (c *Client) Preauthorize(ctx context.Context, sp, mvpd string, resources []string, opts ...Option) (*Decisions, error) {
	return c.decisions(ctx, sp, "preauthorize", mvpd, resources, opts)
}

func (c *Client) decisions(ctx context.Context, sp, kind, mvpd string, resources []string, opts []Option) (*Decisions, error) {
	if resources == nil {
		resources = []string{}
	}
	// AP-TempPass-Identity is sent on preauthorize too: the OAS lists it there
	// and a promotional TempPass is keyed by it (§15 #13).
	cl, err := jsonCall(sp, apiPath(sp, "decisions", kind, mvpd), decisionsRequest{Resources: resources},
		allowSSO|allowPFS|allowTempPass, opts)
	if err != nil {
		return nil, err
	}
	var out Decisions
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
