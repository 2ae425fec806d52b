package v2client

import (
	"context"
	"encoding/json"
	"net/http"
)

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

// Authorize asks for authorization decisions and media tokens
// (POST /api/v2/{sp}/decisions/authorize/{mvpd}). Resources are sent exactly
// as given (MRSS included).
func (c *Client) Authorize(ctx context.Context, sp, mvpd string, resources []string, opts ...Option) (*Decisions, error) {
	return c.decisions(ctx, RouteAuthorize, sp, "authorize", mvpd, resources, opts)
}

// Preauthorize asks for preauthorization decisions, for UI filtering only
// (POST /api/v2/{sp}/decisions/preauthorize/{mvpd}).
func (c *Client) Preauthorize(ctx context.Context, sp, mvpd string, resources []string, opts ...Option) (*Decisions, error) {
	return c.decisions(ctx, RoutePreauthorize, sp, "preauthorize", mvpd, resources, opts)
}

func (c *Client) decisions(ctx context.Context, route, sp, kind, mvpd string, resources []string, opts []Option) (*Decisions, error) {
	if resources == nil {
		resources = []string{}
	}
	// AP-TempPass-Identity is sent on preauthorize too: the OAS lists it there
	// and a promotional TempPass is keyed by it (§15 #13).
	cl := &call{method: http.MethodPost, sp: sp, path: apiPath(sp, "decisions", kind, mvpd), route: route, contentType: ContentTypeJSON,
		body: decisionsBody(resources), headers: allowSSO | allowPFS | allowTempPass, opts: opts}
	ans, err := c.run(ctx, cl)
	if err != nil {
		c.reportErr(ctx, cl, err)
		return nil, err
	}
	out := new(Decisions)
	if !decodeDecisions(ans.body, out, sp, mvpd, resources) {
		if err := decode(cl, &ans, out); err != nil {
			c.reportErr(ctx, cl, err)
			return nil, err
		}
	}
	if c.Outcome != nil {
		for i := range out.Decisions {
			o := Outcome{Route: cl.route, Method: cl.method, Path: cl.path}
			if e := out.Decisions[i].Error; e != nil {
				o.Code, o.Failed = e.Code, true
			}
			c.Outcome(ctx, o)
		}
	}
	return out, nil
}

// decisionsBody encodes the request body, {"resources":[...]}, exactly as
// json.Marshal of a decisionsRequest does, in one allocation when the
// resources are plain ids.
func decisionsBody(resources []string) []byte {
	n := len(`{"resources":[]}`)
	for _, r := range resources {
		n += len(r) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, `{"resources":[`...)
	for i, r := range resources {
		if i > 0 {
			b = append(b, ',')
		}
		if plainResource(r) {
			b = append(b, '"')
			b = append(b, r...)
			b = append(b, '"')
			continue
		}
		// MRSS and anything else encoding/json escapes: let it. A string
		// always encodes.
		q, _ := json.Marshal(r)
		b = append(b, q...)
	}
	return append(b, "]}"...)
}

// plainResource reports whether encoding/json writes r unchanged between
// quotes: printable ASCII other than the quote, the backslash and the
// characters it escapes for HTML.
func plainResource(r string) bool {
	for i := 0; i < len(r); i++ {
		switch c := r[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
