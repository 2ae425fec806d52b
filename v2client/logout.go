package v2client

import (
	"context"
	"net/url"
)

// Logout action names and types.
const (
	LogoutActionLogout        = "logout"
	LogoutActionPartnerLogout = "partner_logout"
	LogoutActionComplete      = "complete"
	LogoutActionInvalid       = "invalid"

	LogoutTypeInteractive        = "interactive"
	LogoutTypePartnerInteractive = "partner_interactive"
	LogoutTypeNone               = "none"
)

// Logouts is the answer of logout: one entry per deleted profile, keyed by
// MVPD id.
type Logouts struct {
	Logouts map[string]Logout `json:"logouts"`
}

// Logout says what the device should do next for one MVPD. URL, when set,
// may be absolute or relative (see Client.ResolveURL).
type Logout struct {
	ActionName string `json:"actionName"`
	ActionType string `json:"actionType"`
	MVPD       string `json:"mvpd,omitempty"`
	URL        string `json:"url,omitempty"`
}

// Logout deletes the device's profile for the MVPD (and the SSO profiles the
// options identify) (GET /api/v2/{sp}/logout/{mvpd}?redirectUrl=...).
// redirectUrl is always sent, even empty, because the page requires it
// (§15 #2). Logout changes state, so it is never retried.
func (c *Client) Logout(ctx context.Context, sp, mvpd, redirectURL string, opts ...Option) (*Logouts, error) {
	cl := getCall(RouteLogout, sp, apiPath(sp, "logout", mvpd), allowSSO, opts)
	cl.idempotent = false
	cl.query = url.Values{"redirectUrl": {redirectURL}}
	var out Logouts
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	if out.Logouts == nil {
		out.Logouts = map[string]Logout{}
	}
	return &out, nil
}
