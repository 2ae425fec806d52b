package v1api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passgw/passgw/v1model"
)

// route is one v1 operation: where it is served, what it requires before
// the backend is asked, and how it is answered.
type route struct {
	name    string
	paths   []string
	methods []string
	// requestorParams name the parameters that carry the requestor when the
	// path does not, in order of preference.
	requestorParams []string
	needRequestor   bool
	needDevice      bool
	// anonymous routes are browser calls that never carry a credential.
	anonymous bool
	// nullDetails renders an empty JSON details as null (tokens/authz).
	nullDetails bool
	// readOnly operations change no state, upstream or in the gateway.
	readOnly bool
	serve    func(ctx context.Context, b Backend, c *call) (result, error)
	// names[p][m] is the template name "METHOD path" of paths[p] served
	// with methods[m], and templates[p] is paths[p] split into segments:
	// set by compileRoutes, so that matching and naming a call allocate
	// nothing.
	names     [][]string
	templates []pathTemplate
}

// result is a successful answer: a body in both formats, a redirect, an
// opaque payload or nothing (204).
type result struct {
	status   int
	body     body
	location string
	octets   []byte
	// confidence adds Adobe-Response-Confidence (preauthorize): full, or
	// partial when some resources were left undecided (partial).
	confidence, partial bool
}

func routeTable() []*route {
	deviceRequestor := []string{"requestor"}
	browserRequestor := []string{"requestor_id", "requestor"}
	get, post, del := []string{http.MethodGet}, []string{http.MethodPost}, []string{http.MethodDelete}
	table := []*route{
		{name: "regcode.create", paths: []string{"/reggie/v1/{requestor}/regcode"}, methods: post,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, serve: serveCreateRegcode},
		{name: "regcode.get", paths: []string{"/reggie/v1/{requestor}/regcode/{code}", "/reggie/v1/regcode/{code}"},
			methods: get, requestorParams: deviceRequestor, readOnly: true, serve: serveGetRegcode},
		{name: "regcode.delete", paths: []string{"/reggie/v1/{requestor}/regcode/{code}", "/reggie/v1/regcode/{code}"},
			methods: del, requestorParams: deviceRequestor, serve: serveDeleteRegcode},
		{name: "config", paths: []string{"/api/v1/config/{requestor}"}, methods: []string{http.MethodGet, http.MethodPost},
			needRequestor: true, readOnly: true, serve: serveConfig},
		{name: "authenticate", paths: []string{"/api/v1/authenticate"}, methods: get,
			requestorParams: browserRequestor, needRequestor: true, anonymous: true, serve: serveAuthenticate},
		// Registered before authenticate/{code}: a GET on freepreview is a code.
		{name: "freepreview", paths: []string{"/api/v1/authenticate/freepreview"}, methods: post,
			requestorParams: browserRequestor, needRequestor: true, needDevice: true, serve: serveFreePreview},
		{name: "authenticate.code", paths: []string{"/api/v1/authenticate/{code}"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, serve: serveAuthnToken},
		{name: "checkauthn", paths: []string{"/api/v1/checkauthn"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, readOnly: true, serve: serveCheckAuthn},
		{name: "checkauthn.code", paths: []string{"/api/v1/checkauthn/{code}"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, readOnly: true, serve: serveCheckAuthn},
		{name: "tokens.authn", paths: []string{"/api/v1/tokens/authn"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, readOnly: true, serve: serveAuthnToken},
		{name: "tokens.exchange", paths: []string{"/api/v1/tokens/authn"}, methods: post,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, serve: serveTokenExchange},
		{name: "authorize", paths: []string{"/api/v1/authorize"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, serve: serveAuthorize},
		{name: "tokens.authz", paths: []string{"/api/v1/tokens/authz"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, nullDetails: true, readOnly: true, serve: serveAuthzToken},
		{name: "tokens.media", paths: []string{"/api/v1/tokens/media", "/api/v1/mediatoken"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, serve: serveMediaToken},
		{name: "preauthorize", paths: []string{"/api/v1/preauthorize"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, readOnly: true, serve: servePreauthorize},
		{name: "preauthorize.code", paths: []string{"/api/v1/preauthorize/{code}"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, readOnly: true, serve: servePreauthorize},
		{name: "tokens.usermetadata", paths: []string{"/api/v1/tokens/usermetadata"}, methods: get,
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, readOnly: true, serve: serveUserMetadata},
		{name: "logout", paths: []string{"/api/v1/logout"}, methods: []string{http.MethodDelete, http.MethodGet},
			requestorParams: deviceRequestor, needRequestor: true, needDevice: true, serve: serveLogout},
		{name: "profilerequest", paths: []string{"/api/v1/{requestor}/profile-requests/{mvpd}"}, methods: get,
			needRequestor: true, serve: serveProfileRequest},
	}
	return table
}

// compileRoutes prepares table for matching every call: template names and
// split templates.
func compileRoutes(table []*route) []*route {
	for _, rt := range table {
		rt.names = make([][]string, len(rt.paths))
		rt.templates = make([]pathTemplate, len(rt.paths))
		for p, path := range rt.paths {
			rt.templates[p] = newPathTemplate(path)
			for _, m := range rt.methods {
				rt.names[p] = append(rt.names[p], m+" "+path)
			}
		}
	}
	return table
}

// required returns the named parameter or the v1 400 for its absence.
func (c *call) required(name, code string) (string, error) {
	v := c.params.Get(name)
	if v == "" {
		return "", v1model.ErrRequired(name, code)
	}
	return v, nil
}

func serveCreateRegcode(ctx context.Context, b Backend, c *call) (result, error) {
	ttl, err := parseTTL(c.params.Get("ttl"))
	if err != nil {
		return result{}, err
	}
	reg, err := b.CreateRegcode(ctx, &v1model.CreateRegcodeRequest{
		Device:          c.device,
		MVPD:            c.params.Get("mvpd"),
		TTL:             ttl,
		RegistrationURL: c.params.Get("registrationURL"),
	})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusCreated, body: registrationBody{reg}}, nil
}

// parseTTL reads the regcode ttl parameter: whole seconds, 1..36000.
func parseTTL(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > int64(v1model.MaxRegcodeTTL/time.Second) {
		e := v1model.ErrBadRequest("")
		e.Cause = errBadTTL
		return 0, e
	}
	return time.Duration(n) * time.Second, nil
}

func serveGetRegcode(ctx context.Context, b Backend, c *call) (result, error) {
	reg, err := b.GetRegcode(ctx, &v1model.GetRegcodeRequest{Device: c.device, Code: c.m.vars.get("code")})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: registrationBody{reg}}, nil
}

func serveDeleteRegcode(ctx context.Context, b Backend, c *call) (result, error) {
	err := b.DeleteRegcode(ctx, &v1model.DeleteRegcodeRequest{Device: c.device, Code: c.m.vars.get("code")})
	return result{status: http.StatusNoContent}, err
}

func serveConfig(ctx context.Context, b Backend, c *call) (result, error) {
	cfg, err := b.Config(ctx, &v1model.ConfigRequest{Device: c.device})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: configBody{cfg}}, nil
}

func serveAuthenticate(ctx context.Context, b Backend, c *call) (result, error) {
	req := &v1model.AuthenticateRequest{Device: c.device}
	c.params.recoverRegCode()
	var err error
	if req.Code, err = c.required("reg_code", ""); err != nil {
		return result{}, err
	}
	if req.MVPD, err = c.required("mso_id", ""); err != nil {
		return result{}, err
	}
	if req.DomainName, err = c.required("domain_name", ""); err != nil {
		return result{}, err
	}
	if req.RedirectURL, err = c.required("redirect_url", ""); err != nil {
		return result{}, err
	}
	redirect, err := b.Authenticate(ctx, req)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusFound, location: redirect.URL}, nil
}

func serveFreePreview(ctx context.Context, b Backend, c *call) (result, error) {
	req := &v1model.FreePreviewRequest{Device: c.device}
	var err error
	if req.MVPD, err = c.required("mso_id", ""); err != nil {
		return result{}, err
	}
	if req.DomainName, err = c.required("domain_name", ""); err != nil {
		return result{}, err
	}
	return result{status: http.StatusNoContent}, b.FreePreview(ctx, req)
}

func serveCheckAuthn(ctx context.Context, b Backend, c *call) (result, error) {
	tok, err := b.CheckAuthn(ctx, &v1model.CheckAuthnRequest{Device: c.device, Code: c.m.vars.get("code")})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: authnBody{tok}}, nil
}

func serveAuthnToken(ctx context.Context, b Backend, c *call) (result, error) {
	tok, err := b.AuthnToken(ctx, &v1model.AuthnTokenRequest{Device: c.device, Code: c.m.vars.get("code")})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: authnBody{tok}}, nil
}

func serveTokenExchange(ctx context.Context, b Backend, c *call) (result, error) {
	req := &v1model.TokenExchangeRequest{Device: c.device}
	var err error
	if req.MVPD, err = c.required("mvpd", ""); err != nil {
		return result{}, err
	}
	if _, err = c.required("deviceType", ""); err != nil {
		return result{}, err
	}
	if req.SAMLResponse, err = c.required("SAMLResponse", ""); err != nil {
		return result{}, err
	}
	return result{status: http.StatusNoContent}, b.TokenExchange(ctx, req)
}

func serveAuthorize(ctx context.Context, b Backend, c *call) (result, error) {
	res, err := c.required("resource", v1model.CodeMissingResource)
	if err != nil {
		return result{}, err
	}
	tok, err := b.Authorize(ctx, &v1model.AuthorizeRequest{Device: c.device, Resource: res})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: authzBody{tok}}, nil
}

func serveAuthzToken(ctx context.Context, b Backend, c *call) (result, error) {
	res, err := c.required("resource", v1model.CodeMissingResource)
	if err != nil {
		return result{}, err
	}
	tok, err := b.AuthzToken(ctx, &v1model.AuthzTokenRequest{Device: c.device, Resource: res})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: authzBody{tok}}, nil
}

func serveMediaToken(ctx context.Context, b Backend, c *call) (result, error) {
	res, err := c.required("resource", v1model.CodeMissingResource)
	if err != nil {
		return result{}, err
	}
	tok, err := b.MediaToken(ctx, &v1model.MediaTokenRequest{Device: c.device, Resource: res})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: mediaBody{tok}}, nil
}

func servePreauthorize(ctx context.Context, b Backend, c *call) (result, error) {
	ids := splitResources(c.params.Query["resource"], c.params.Form["resource"])
	if len(ids) == 0 {
		return result{}, v1model.ErrRequired("resource", v1model.CodeMissingResource)
	}
	pre, err := b.Preauthorize(ctx, &v1model.PreauthorizeRequest{Device: c.device, Code: c.m.vars.get("code"), Resources: ids})
	if err != nil {
		return result{}, err
	}
	opts := itemErrorOptions{enhanced: c.enhanced, helpURL: c.helpURL, trace: c.requestID}
	return result{status: http.StatusOK, body: &preauthorizeBody{pre, opts}, confidence: true, partial: undecided(pre)}, nil
}

// undecided reports whether some resources of p were left undecided: their
// item error is a failure (throttled, or the upstream failing), not a
// decision. Such an answer says Adobe-Response-Confidence: partial, for
// requestors in the legacy error format too, whose answers carry no item
// errors to tell a throttled resource from a denied one.
func undecided(p *v1model.Preauthorization) bool {
	for _, d := range p.Resources {
		if d.Error != nil && (d.Error.Status == http.StatusTooManyRequests || d.Error.Status >= 500) {
			return true
		}
	}
	return false
}

// splitResources turns the resource values (comma-separated, possibly
// repeated) into IDs in request order, blanks dropped, duplicates collapsed.
func splitResources(values ...[]string) []string {
	n := 0
	for _, vs := range values {
		for _, v := range vs {
			n += strings.Count(v, ",") + 1
		}
	}
	ids := make([]string, 0, n)
	// A device asks about a handful of resources: comparing with those
	// already taken is cheaper than a set until there are many.
	const linear = 16
	var seen map[string]bool
	for _, vs := range values {
		for _, v := range vs {
			for v != "" {
				var id string
				id, v, _ = strings.Cut(v, ",")
				id = strings.TrimSpace(id)
				if id == "" {
					continue
				}
				if seen == nil && len(ids) == linear {
					seen = make(map[string]bool, 2*linear)
					for _, taken := range ids {
						seen[taken] = true
					}
				}
				if seen != nil {
					if seen[id] {
						continue
					}
					seen[id] = true
				} else if slices.Contains(ids, id) {
					continue
				}
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func serveUserMetadata(ctx context.Context, b Backend, c *call) (result, error) {
	md, err := b.UserMetadata(ctx, &v1model.UserMetadataRequest{Device: c.device})
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: userMetadataBody{md}}, nil
}

func serveLogout(ctx context.Context, b Backend, c *call) (result, error) {
	return result{status: http.StatusNoContent}, b.Logout(ctx, &v1model.LogoutRequest{Device: c.device})
}

func serveProfileRequest(ctx context.Context, b Backend, c *call) (result, error) {
	if _, err := c.required("deviceType", ""); err != nil {
		return result{}, err
	}
	p, err := b.ProfileRequest(ctx, &v1model.ProfileRequest{Device: c.device, MVPD: c.m.vars.get("mvpd")})
	if err != nil {
		return result{}, err
	}
	body := p.Body
	if body == nil {
		body = []byte{}
	}
	return result{status: http.StatusOK, octets: body}, nil
}
