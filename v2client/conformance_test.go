package v2client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

// exchange is one HTTP request and its answer, as they crossed the wire.
type exchange struct {
	req     *http.Request
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
}

func (x *exchange) String() string {
	return fmt.Sprintf("%s %s -> %d", x.req.Method, x.req.URL.Path, x.status)
}

// recorder is an http.RoundTripper that keeps a copy of every exchange.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []*exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	next := r.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	r.mu.Lock()
	r.log = append(r.log, &exchange{req: out, reqBody: body, status: resp.StatusCode, header: resp.Header.Clone(), body: rb})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) since(n int) []*exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log[n:])
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.log)
}

// apiDoc is one of Adobe's OpenAPI files, served under prefix.
type apiDoc struct {
	file   string
	prefix string
	doc    *openapi3.T
}

// patch corrects a loaded OpenAPI document where testdata/spec/v2.md records a choice
// against it. Each names the entry that justifies it, and fails when the
// part it corrects is not where it should be, so a new copy of Adobe's file
// cannot silently outdate it.
type patch struct {
	why string
	// tightens marks a patch that only makes the document stricter; the
	// others loosen it, and TestConformance proves each of those is needed.
	tightens bool
	apply    func(*openapi3.T) error
}

func operation(doc *openapi3.T, method, path string) (*openapi3.Operation, error) {
	item := doc.Paths.Value(path)
	if item == nil {
		return nil, fmt.Errorf("no path %s", path)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("no operation %s %s", method, path)
	}
	return op, nil
}

func schema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("no schema %s", name)
	}
	return ref.Value, nil
}

// addErrorResponse declares status on the operations, with an Enhanced Error body.
func addErrorResponse(doc *openapi3.T, status int, method string, paths ...string) error {
	errInfo := doc.Components.Schemas["ErrorInformation"]
	for _, p := range paths {
		op, err := operation(doc, method, p)
		if err != nil {
			return err
		}
		if op.Responses.Status(status) != nil {
			return fmt.Errorf("%s %s already declares %d", method, p, status)
		}
		op.Responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription(http.StatusText(status)).
			WithContent(openapi3.NewContentWithJSONSchemaRef(errInfo))})
	}
	return nil
}

// restPatches correct restApiV2.json.
var restPatches = []patch{
	{"§15 #30: ErrorInformation.message is a string on every page and sample, not the empty object Message", false,
		func(doc *openapi3.T) error {
			s, err := schema(doc, "ErrorInformation")
			if err != nil || s.Properties["message"] == nil {
				return fmt.Errorf("ErrorInformation.message: %w", err)
			}
			s.Properties["message"] = openapi3.NewStringSchema().NewRef()
			return nil
		}},
	{"§15 #30: connection.ipAddress is a string (the sample shows one), not a Java InetAddress object", false,
		func(doc *openapi3.T) error {
			s, err := schema(doc, "Connection")
			if err != nil || s.Properties["ipAddress"] == nil {
				return fmt.Errorf("Connection.ipAddress: %w", err)
			}
			s.Properties["ipAddress"] = openapi3.NewStringSchema().NewRef()
			return nil
		}},
	{"§6.4 (no §15 entry): the retrieve-session device has many null members, as in Adobe's sample; the OAS types them non-nullable", false,
		func(doc *openapi3.T) error {
			for _, name := range []string{"Device", "Hardware", "OperatingSystem", "Browser", "Display", "Connection", "Version"} {
				s, err := schema(doc, name)
				if err != nil {
					return err
				}
				for _, p := range s.Properties {
					p.Value.Nullable = true
				}
			}
			return nil
		}},
	{"§6.6 (no §15 entry): attribute values are a string, number, array or object (samples), not always an object", false,
		func(doc *openapi3.T) error {
			s, err := schema(doc, "UserMetadataResponse")
			if err != nil || s.Properties["value"] == nil {
				return fmt.Errorf("UserMetadataResponse.value: %w", err)
			}
			s.Properties["value"] = openapi3.NewSchemaRef("", &openapi3.Schema{})
			return nil
		}},
	{"§15 #6: profiles/sso answers 201 with the appleSSO profile (200 stays for the degraded one)", false,
		func(doc *openapi3.T) error {
			op, err := operation(doc, http.MethodPost, "/{serviceProvider}/profiles/sso/{partner}")
			if err != nil {
				return err
			}
			ok := op.Responses.Status(http.StatusOK)
			if ok == nil || op.Responses.Status(http.StatusCreated) != nil {
				return errors.New("profiles/sso: expected a 200 and no 201")
			}
			op.Responses.Set("201", ok)
			return nil
		}},
	{"§15 #6 and §6.5: authenticate answers 302 only, with a Location and no JSON body; its errors are text/html", false,
		func(doc *openapi3.T) error {
			op, err := operation(doc, http.MethodGet, "/authenticate/{serviceProvider}/{code}")
			if err != nil {
				return err
			}
			if op.Responses.Status(http.StatusOK) == nil || op.Responses.Status(http.StatusFound) == nil {
				return errors.New("authenticate: expected 200 and 302")
			}
			op.Responses.Delete("200")
			found := openapi3.NewResponse().WithDescription("Found")
			found.Headers = openapi3.Headers{"Location": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Required: true, Schema: openapi3.NewStringSchema().WithMinLength(1).NewRef(),
			}}}}
			op.Responses.Set("302", &openapi3.ResponseRef{Value: found})
			for _, st := range []int{400, 405, 500} {
				r := op.Responses.Status(st)
				if r == nil {
					return fmt.Errorf("authenticate: no %d", st)
				}
				// The page leaves the HTML body unspecified: only the type is checked.
				r.Value.Content = openapi3.Content{"text/html": openapi3.NewMediaType()}
			}
			return nil
		}},
	{"§15 #6: logout answers 200 JSON, never 302", true,
		func(doc *openapi3.T) error {
			op, err := operation(doc, http.MethodGet, "/{serviceProvider}/logout/{mvpd}")
			if err != nil {
				return err
			}
			if op.Responses.Status(http.StatusFound) == nil {
				return errors.New("logout: expected a 302")
			}
			op.Responses.Delete("302")
			return nil
		}},
	{"§15 #2: logout's redirectUrl is required (the page), not optional (the OAS)", true,
		func(doc *openapi3.T) error {
			op, err := operation(doc, http.MethodGet, "/{serviceProvider}/logout/{mvpd}")
			if err != nil {
				return err
			}
			p := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "redirectUrl")
			if p == nil || p.Required {
				return errors.New("logout: expected an optional redirectUrl")
			}
			p.Required = true
			return nil
		}},
	{"§15 #6 and §6.6: profiles/{mvpd} and profiles/code/{code} answer a top-level 403 when a TempPass is used up", false,
		func(doc *openapi3.T) error {
			return addErrorResponse(doc, http.StatusForbidden, http.MethodGet,
				"/{serviceProvider}/profiles/{mvpd}", "/{serviceProvider}/profiles/code/{code}")
		}},
	{"§15 #17: decisions answer a top-level 403 too_many_resources above the resource limit", false,
		func(doc *openapi3.T) error {
			return addErrorResponse(doc, http.StatusForbidden, http.MethodPost,
				"/{serviceProvider}/decisions/authorize/{mvpd}", "/{serviceProvider}/decisions/preauthorize/{mvpd}")
		}},
}

// dcrError is the RFC 6749 / 7591 error body of §5, limited to the codes
// the endpoint documents.
func dcrError(codes ...string) *openapi3.Content {
	code := openapi3.NewStringSchema()
	for _, c := range codes {
		code.Enum = append(code.Enum, c)
	}
	s := openapi3.NewObjectSchema().
		WithProperty("error", code).
		WithProperty("error_description", openapi3.NewStringSchema())
	s.Required = []string{"error"}
	c := openapi3.NewContentWithJSONSchema(s)
	return &c
}

// dcrPatches correct dcrApi.json.
var dcrPatches = []patch{
	{"§5.1, §5.2 (no §15 entry): a DCR 400 carries {\"error\": <documented code>}; the OAS gives it no body", true,
		func(doc *openapi3.T) error {
			for path, content := range map[string]*openapi3.Content{
				"/client/register": dcrError("invalid_request", "invalid_redirect_uri", "invalid_software_statement", "unapproved_software_statement"),
				"/client/token":    dcrError("invalid_request", "invalid_client", "unauthorized_client", "unsupported_grant_type"),
			} {
				op, err := operation(doc, http.MethodPost, path)
				if err != nil {
					return err
				}
				r := op.Responses.Status(http.StatusBadRequest)
				if r == nil || len(r.Value.Content) != 0 {
					return fmt.Errorf("%s: expected a 400 without content", path)
				}
				r.Value.Content = *content
			}
			return nil
		}},
	{"§5.1, §5.2 (no §15 entry): every field of the register and token answers is required (the pages' tables); the OAS requires none", true,
		func(doc *openapi3.T) error {
			for name, fields := range map[string][]string{
				"ClientApplication":                     {"client_id", "client_secret", "client_id_issued_at", "redirect_uris", "grant_types", "scopes"},
				"ClientRegistrationAccessTokenResponse": {"id", "access_token", "created_at", "expires_in", "token_type"},
			} {
				s, err := schema(doc, name)
				if err != nil {
					return err
				}
				if len(s.Required) != 0 {
					return fmt.Errorf("%s already requires %v", name, s.Required)
				}
				for _, f := range fields {
					if s.Properties[f] == nil {
						return fmt.Errorf("%s has no %s", name, f)
					}
				}
				s.Required = fields
			}
			return nil
		}},
	{"§15 #4: the token request is a form body (client_id, client_secret, grant_type), not query parameters", false,
		func(doc *openapi3.T) error {
			op, err := operation(doc, http.MethodPost, "/client/token")
			if err != nil {
				return err
			}
			if op.RequestBody != nil || op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "client_id") == nil {
				return errors.New("token: expected query parameters and no body")
			}
			op.Parameters = slices.DeleteFunc(op.Parameters, func(p *openapi3.ParameterRef) bool {
				return p.Value.In == openapi3.ParameterInQuery
			})
			form := openapi3.NewObjectSchema().
				WithProperty("client_id", openapi3.NewStringSchema().WithMinLength(1)).
				WithProperty("client_secret", openapi3.NewStringSchema().WithMinLength(1)).
				WithProperty("grant_type", openapi3.NewStringSchema().WithEnum("client_credentials"))
			form.Required = []string{"client_id", "client_secret", "grant_type"}
			op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
				WithContent(openapi3.NewContentWithSchema(form, []string{"application/x-www-form-urlencoded"}))}
			return nil
		}},
	{"§15 #5: register's redirect_uri is optional (the page), not required (the OAS)", false,
		func(doc *openapi3.T) error {
			s, err := schema(doc, "ClientRegistrationRequest")
			if err != nil || !slices.Contains(s.Required, "redirect_uri") {
				return errors.New("ClientRegistrationRequest: expected redirect_uri required")
			}
			s.Required = slices.DeleteFunc(slices.Clone(s.Required), func(n string) bool { return n == "redirect_uri" })
			return nil
		}},
}

func loadDoc(t *testing.T, file, prefix string, patches []patch) *apiDoc {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join(testenv.ModuleRoot(t), "testdata", "spec", "openapi", file))
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
	for _, p := range patches {
		if err := p.apply(doc); err != nil {
			t.Fatalf("%s: patch %q no longer applies: %v", file, p.why, err)
		}
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s after patches: %v", file, err)
	}
	return &apiDoc{file: file, prefix: prefix, doc: doc}
}

// validator checks exchanges against the patched documents.
type validator struct {
	docs []*apiDoc
}

func newValidator(t *testing.T) *validator {
	return newValidatorWith(t, restPatches, dcrPatches)
}

func newValidatorWith(t *testing.T, rest, dcr []patch) *validator {
	return &validator{
		docs: []*apiDoc{
			loadDoc(t, "restApiV2.json", "/api/v2", rest),
			loadDoc(t, "dcrApi.json", "/o", dcr),
		},
	}
}

// operations lists every operation of the documents as "METHOD /prefix/template".
func (v *validator) operations() map[string]bool {
	all := map[string]bool{}
	for _, d := range v.docs {
		for path, item := range d.doc.Paths.Map() {
			for method := range item.Operations() {
				all[method+" "+d.prefix+path] = true
			}
		}
	}
	return all
}

// route finds the operation of the document that serves path. A method the
// path does not serve (a 405) is checked against one of the path's
// operations, since every operation declares the same 405.
func (v *validator) route(method, path string) (*routers.Route, map[string]string, error) {
	for _, d := range v.docs {
		rest, ok := strings.CutPrefix(path, d.prefix)
		if !ok {
			continue
		}
		segs := strings.Split(rest, "/")
		var best string
		var bestParams map[string]string
		bestLiterals := -1
		for tmpl := range d.doc.Paths.Map() {
			params, literals, ok := matchTemplate(tmpl, segs)
			if ok && literals > bestLiterals {
				best, bestParams, bestLiterals = tmpl, params, literals
			}
		}
		if best == "" {
			return nil, nil, fmt.Errorf("%s is no path of %s", path, d.file)
		}
		item := d.doc.Paths.Value(best)
		route := &routers.Route{Spec: d.doc, Path: best, PathItem: item, Method: method, Operation: item.GetOperation(method)}
		if route.Operation == nil {
			methods := slices.Sorted(maps.Keys(item.Operations()))
			route.Method, route.Operation = methods[0], item.GetOperation(methods[0])
		}
		return route, bestParams, nil
	}
	return nil, nil, fmt.Errorf("%s is under no documented prefix", path)
}

func matchTemplate(tmpl string, segs []string) (map[string]string, int, bool) {
	parts := strings.Split(tmpl, "/")
	if len(parts) != len(segs) {
		return nil, 0, false
	}
	params := map[string]string{}
	literals := 0
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, 0, false
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		literals++
	}
	return params, literals, true
}

// check validates one exchange: the request too unless it was malformed on
// purpose, and always the response (status, content type, headers, body).
func (v *validator) check(x *exchange, malformedRequest bool) error {
	ctx := context.Background()
	route, params, err := v.route(x.req.Method, x.req.URL.Path)
	if err != nil {
		return err
	}
	if route.Method != x.req.Method && x.status != http.StatusMethodNotAllowed {
		return fmt.Errorf("%s %s is not documented and was answered %d, not 405", x.req.Method, route.Path, x.status)
	}
	req := x.req.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(x.reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	var errs []error
	if !malformedRequest {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("request: %w", err))
		}
	}
	in.Request = x.req.Clone(ctx)
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 x.status,
		Header:                 x.header,
		Body:                   io.NopCloser(bytes.NewReader(x.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("response: %w", err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s (%s %s) -> %d: %w\nbody: %s", x.req.Method, x.req.URL.Path, route.Method, route.Path, x.status, errors.Join(errs...), x.body)
	}
	return nil
}

// harness ties a recorder to a validator: after each step the test checks
// every exchange made since the previous check.
type harness struct {
	v       *validator
	rec     *recorder
	next    int
	seen    map[string][]int // operation -> statuses validated
	checked []checked
}

type checked struct {
	x                *exchange
	malformedRequest bool
}

func (h *harness) validate(t *testing.T, malformedRequest bool) {
	t.Helper()
	xs := h.rec.since(h.next)
	h.next += len(xs)
	if len(xs) == 0 {
		t.Fatal("the step made no HTTP exchange")
	}
	for _, x := range xs {
		h.checked = append(h.checked, checked{x, malformedRequest})
		if err := h.v.check(x, malformedRequest); err != nil {
			t.Error(err)
			continue
		}
		route, _, _ := h.v.route(x.req.Method, x.req.URL.Path)
		key := x.req.Method + " " + route.Path
		h.seen[key] = append(h.seen[key], x.status)
	}
}

// ok validates the exchanges of a step whose requests were well-formed.
func (h *harness) ok(t *testing.T) { t.Helper(); h.validate(t, false) }

// malformed validates the answers to requests broken on purpose.
func (h *harness) malformed(t *testing.T) { t.Helper(); h.validate(t, true) }

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// pfsStatus is the AP-Partner-Framework-Status of an Apple device signed in
// with the MVPD mapped to id, whose user gave access the status access.
func pfsStatus(access, id string, expires time.Time) string {
	b, _ := json.Marshal(map[string]any{
		"frameworkPermissionInfo": map[string]string{"accessStatus": access},
		"frameworkProviderInfo":   map[string]string{"id": id, "expirationDate": strconv.FormatInt(expires.UnixMilli(), 10)},
	})
	return base64.StdEncoding.EncodeToString(b)
}

// TestConformance drives every sandbox endpoint through v2client, in every
// outcome the sandbox has, and validates each exchange against Adobe's
// OpenAPI files (patched where testdata/spec/v2.md §15 chose otherwise).
func TestConformance(t *testing.T) {
	ctx := t.Context()
	v := newValidator(t)
	h := &harness{v: v, rec: &recorder{}, seen: map[string][]int{}}
	sb := startSandbox(t)
	hc := &http.Client{Transport: h.rec}
	c := newClient(sb, hc)
	redirect := "https://app.example.com/signed-in"
	params := func(mvpd string) v2client.SessionParams {
		return v2client.SessionParams{MVPD: mvpd, DomainName: appDomain, RedirectURL: redirect}
	}
	ua := browser(t)
	login := func(t *testing.T, code, user, pass string) {
		t.Helper()
		landed, err := sandbox.SignIn(ctx, ua, c.AuthenticateURL(sp, code), user, pass)
		if err != nil || landed != redirect {
			t.Fatalf("sign-in as %s: landed %q, %v", user, landed, err)
		}
	}
	tv := device("conformance-tv")

	// DCR, directly and as the TokenSource uses it.
	dcr := &v2client.Client{BaseURL: sb.URL, HTTPClient: hc}
	dcrOpts := []v2client.Option{v2client.WithDeviceInfo(deviceInfo()), v2client.WithUserAgent("passgw-test/1.0")}
	cred := must[*v2client.ClientCredentials](t, "register")(dcr.Register(ctx, v2client.RegisterRequest{SoftwareStatement: statement, RedirectURI: redirect}, dcrOpts...))
	must[*v2client.AccessToken](t, "token")(dcr.Token(ctx, *cred, dcrOpts...))
	h.ok(t)
	_, err := dcr.Register(ctx, v2client.RegisterRequest{SoftwareStatement: "not-a-statement"}, dcrOpts...)
	var de *v2client.DCRError
	if !errors.As(err, &de) || de.Code != v2client.DCRInvalidSoftwareStatement {
		t.Errorf("register with an unknown statement: %v", err)
	}
	_, err = dcr.Token(ctx, v2client.ClientCredentials{ClientID: cred.ClientID, ClientSecret: "wrong"}, dcrOpts...)
	if !errors.As(err, &de) || de.Code != v2client.DCRInvalidClient {
		t.Errorf("token with a wrong secret: %v", err)
	}
	h.ok(t)

	cfg := must[*v2client.Configuration](t, "configuration")(c.Configuration(ctx, sp, tv...))
	if m, ok := cfg.MVPD(tempPass); !ok || !m.TempPass() {
		t.Errorf("configuration lacks the TempPass MVPD: %+v", cfg)
	}
	h.ok(t) // includes the TokenSource's own register and token calls

	// Sessions: every outcome.
	full := must[*v2client.Session](t, "create")(c.CreateSession(ctx, sp, params(acme), tv...))
	wantAction(t, "create, all parameters", full, v2client.ActionNameAuthenticate, v2client.ReasonNone)
	partial := must[*v2client.Session](t, "create")(c.CreateSession(ctx, sp, v2client.SessionParams{}, tv...))
	wantAction(t, "create, no parameters", partial, v2client.ActionNameResume, v2client.ReasonNone)
	if !partial.Missing("mvpd") || !partial.Missing("domainName") || !partial.Missing("redirectUrl") {
		t.Errorf("missingParameters = %v", partial.MissingParameters)
	}
	retry := must[*v2client.Session](t, "resume")(c.ResumeSession(ctx, sp, partial.Code, v2client.SessionParams{MVPD: acme}, tv...))
	wantAction(t, "resume, still incomplete", retry, v2client.ActionNameRetry, v2client.ReasonNone)
	info := must[*v2client.SessionInfo](t, "retrieve")(c.RetrieveSession(ctx, sp, partial.Code, tv...))
	if info.Param("mvpd") != acme || !info.Missing("redirectUrl") {
		t.Errorf("retrieve = %+v", info)
	}
	resumed := must[*v2client.Session](t, "resume")(c.ResumeSession(ctx, sp, partial.Code, params(""), tv...))
	wantAction(t, "resume, complete", resumed, v2client.ActionNameAuthenticate, v2client.ReasonNone)
	must[*v2client.SessionInfo](t, "retrieve")(c.RetrieveSession(ctx, sp, full.Code, tv...))
	h.ok(t)

	// authenticate: the first 302 of the browser's chain, and an unknown code.
	nav := &http.Client{Transport: h.rec, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, code := range []string{full.Code, "ZZZZ999"} {
		resp := must[*http.Response](t, "authenticate")(nav.Get(c.AuthenticateURL(sp, code)))
		resp.Body.Close()
	}
	h.ok(t)

	// profiles/code while pending, then after the login.
	pending := must[*v2client.Profiles](t, "profiles/code")(c.ProfileByCode(ctx, sp, full.Code, tv...))
	if len(pending.Profiles) != 0 {
		t.Errorf("pending poll = %+v", pending)
	}
	login(t, full.Code, "alice", "alice-pass")
	got := must[*v2client.Profiles](t, "profiles/code")(c.ProfileByCode(ctx, sp, full.Code, tv...))
	if got.Profiles[acme].Type != v2client.ProfileRegular {
		t.Errorf("poll after login = %+v", got)
	}
	must[*v2client.Profiles](t, "profiles")(c.Profiles(ctx, sp, tv...))
	must[*v2client.Profiles](t, "profiles/{mvpd}")(c.Profile(ctx, sp, acme, tv...))
	must[*v2client.Profiles](t, "profiles/{mvpd}")(c.Profile(ctx, sp, beta, tv...))
	h.ok(t)

	// Sessions once a profile exists, and for TempPass.
	wantAction(t, "create with a profile", must[*v2client.Session](t, "create")(c.CreateSession(ctx, sp, params(acme), tv...)),
		v2client.ActionNameAuthorize, v2client.ReasonAuthenticated)
	again := must[*v2client.Session](t, "create")(c.CreateSession(ctx, sp, v2client.SessionParams{}, tv...))
	wantAction(t, "resume with a profile", must[*v2client.Session](t, "resume")(c.ResumeSession(ctx, sp, again.Code, params(acme), tv...)),
		v2client.ActionNameAuthorize, v2client.ReasonAuthenticated)
	wantAction(t, "create for TempPass", must[*v2client.Session](t, "create")(c.CreateSession(ctx, sp, params(tempPass), tv...)),
		v2client.ActionNameAuthorize, "temporary")
	h.ok(t)

	// Decisions: permit, MVPD deny, parental deny, profile missing,
	// preauthorize.
	ds := must[*v2client.Decisions](t, "authorize")(c.Authorize(ctx, sp, acme, []string{"news"}, tv...))
	if d := ds.Decisions[0]; !d.Authorized || d.Token == nil {
		t.Errorf("alice news = %+v", d)
	}
	must[*v2client.Decisions](t, "preauthorize")(c.Preauthorize(ctx, sp, acme, []string{"news", "sports", "movies"}, tv...))
	h.ok(t)

	bob := device("conformance-bob")
	s := must[*v2client.Session](t, "create")(c.CreateSession(ctx, sp, params(acme), bob...))
	login(t, s.Code, "bob", "bob-pass")
	ds = must[*v2client.Decisions](t, "authorize")(c.Authorize(ctx, sp, acme, []string{"movies"}, bob...))
	wantItemError(t, ds, 0, sandbox.CodeAuthorizationDeniedByMVPD)
	ds = must[*v2client.Decisions](t, "preauthorize")(c.Preauthorize(ctx, sp, acme, []string{"news", "movies"}, bob...))
	if !ds.Decisions[0].Authorized {
		t.Errorf("bob preauthorize news = %+v", ds.Decisions[0])
	}
	wantItemError(t, ds, 1, sandbox.CodePreauthorizationDeniedByMVPD)

	carol := device("conformance-carol")
	s = must[*v2client.Session](t, "create")(c.CreateSession(ctx, sp, params(beta), carol...))
	login(t, s.Code, "carol", "carol-pass")
	ds = must[*v2client.Decisions](t, "authorize")(c.Authorize(ctx, sp, beta, []string{mrss("movies", "TV-MA")}, carol...))
	wantItemError(t, ds, 0, sandbox.CodeDeniedByParentalControls)

	stranger := device("conformance-stranger")
	ds = must[*v2client.Decisions](t, "authorize")(c.Authorize(ctx, sp, acme, []string{"news"}, stranger...))
	wantItemError(t, ds, 0, sandbox.CodeProfileMissing)
	h.ok(t)

	// TempPass: permits, the profile, the resource limit on decisions and
	// on profiles/{mvpd}.
	kiosk := device("conformance-kiosk")
	must[*v2client.Decisions](t, "preauthorize TempPass")(c.Preauthorize(ctx, sp, tempPass, []string{"news"}, kiosk...))
	ds = must[*v2client.Decisions](t, "authorize TempPass")(c.Authorize(ctx, sp, tempPass, []string{"news"}, kiosk...))
	if d := ds.Decisions[0]; !d.Authorized || d.Source != v2client.SourceTempPass {
		t.Errorf("TempPass permit = %+v", d)
	}
	tp := must[*v2client.Profiles](t, "TempPass profile")(c.Profile(ctx, sp, tempPass, kiosk...))
	if tp.Profiles[tempPass].Type != v2client.ProfileTemporary {
		t.Errorf("TempPass profile = %+v", tp)
	}
	ds = must[*v2client.Decisions](t, "authorize TempPass")(c.Authorize(ctx, sp, tempPass, []string{"sports", "movies", "kids"}, kiosk...))
	wantItemError(t, ds, 2, sandbox.CodeTempPassResourcesExceeded)
	_, err = c.Profile(ctx, sp, tempPass, kiosk...)
	wantTopLevel(t, err, http.StatusForbidden, sandbox.CodeTempPassResourcesExceeded)
	h.ok(t)

	// A second-screen style session on the TempPass MVPD gives a code that
	// profiles/code answers for, before and after the trial ends.
	hotel := device("conformance-hotel")
	ds = must[*v2client.Decisions](t, "authorize TempPass")(c.Authorize(ctx, sp, tempPass, []string{"news"}, hotel...))
	hs := must[*v2client.Session](t, "create")(c.CreateSession(ctx, sp, v2client.SessionParams{}, hotel...))
	wantAction(t, "resume to TempPass", must[*v2client.Session](t, "resume")(c.ResumeSession(ctx, sp, hs.Code, params(tempPass), hotel...)),
		v2client.ActionNameAuthorize, "temporary")
	byCode := must[*v2client.Profiles](t, "profiles/code TempPass")(c.ProfileByCode(ctx, sp, hs.Code, hotel...))
	if byCode.Profiles[tempPass].Type != v2client.ProfileTemporary {
		t.Errorf("TempPass profile by code = %+v", byCode)
	}
	h.ok(t)

	// Partner (Apple) SSO: fallback without the status header, then the
	// partner flow, then its logout.
	appleTV := device("conformance-apple-tv")
	pfs := v2client.WithPartnerFrameworkStatus(pfsStatus("granted", acme, sb.Now().Add(24*time.Hour)))
	fallback := must[*v2client.Session](t, "sessions/sso")(c.PartnerSession(ctx, sp, "Apple", params(""), appleTV...))
	wantAction(t, "sessions/sso without status", fallback, v2client.ActionNameResume, "missing_parameters_fallback")
	denied := v2client.WithPartnerFrameworkStatus(pfsStatus("denied", acme, sb.Now().Add(24*time.Hour)))
	fallback = must[*v2client.Session](t, "sessions/sso")(c.PartnerSession(ctx, sp, "Apple", params(""), with(appleTV, denied)...))
	wantAction(t, "sessions/sso with access denied", fallback, v2client.ActionNameAuthenticate, "pfs_fallback")
	ps := must[*v2client.Session](t, "sessions/sso")(c.PartnerSession(ctx, sp, "Apple", params(""), with(appleTV, pfs)...))
	wantAction(t, "sessions/sso", ps, v2client.ActionNamePartnerProfile, v2client.ReasonNone)
	if ps.AuthenticationRequest == nil {
		t.Fatalf("partner session has no authenticationRequest: %+v", ps)
	}
	saml := must[string](t, "Apple's SAML response")(sb.PartnerSAMLResponse(ps.AuthenticationRequest.Request, "alice"))
	apple := must[*v2client.Profiles](t, "profiles/sso")(c.PartnerProfile(ctx, sp, "Apple", saml, with(appleTV, pfs)...))
	if apple.Profiles[acme].Type != v2client.ProfileAppleSSO {
		t.Errorf("profiles/sso = %+v", apple)
	}
	h.ok(t)

	// Logout, every action.
	wantLogout(t, c, "regular profile with an MVPD logout page", acme, tv, v2client.LogoutActionLogout, true)
	wantLogout(t, c, "no profile left", acme, tv, v2client.LogoutActionInvalid, false)
	wantLogout(t, c, "MVPD without logout page", beta, carol, v2client.LogoutActionComplete, false)
	wantLogout(t, c, "TempPass", tempPass, hotel, v2client.LogoutActionComplete, false)
	wantLogout(t, c, "appleSSO profile", acme, appleTV, v2client.LogoutActionPartnerLogout, false)
	h.ok(t)

	// Error answers.
	_, err = c.Profile(ctx, sp, "NoSuchMVPD", tv...)
	wantTopLevel(t, err, http.StatusBadRequest, sandbox.CodeInvalidIntegration)
	many := []string{"r1", "r2", "r3", "r4", "r5", "r6"}
	_, err = c.Preauthorize(ctx, sp, acme, many, tv...)
	wantTopLevel(t, err, http.StatusForbidden, sandbox.CodeTooManyResources)
	_, err = c.Authorize(ctx, sp, acme, many, tv...)
	wantTopLevel(t, err, http.StatusForbidden, sandbox.CodeTooManyResources)
	bogus := &v2client.Client{BaseURL: sb.URL, HTTPClient: hc, Tokens: v2client.StaticToken("not-a-token")}
	_, err = bogus.Configuration(ctx, sp, tv...)
	wantTopLevel(t, err, http.StatusUnauthorized, sandbox.CodeInvalidTokenClientApplication)
	h.ok(t)

	_, err = c.Profiles(ctx, sp) // no device headers
	wantTopLevel(t, err, http.StatusBadRequest, sandbox.CodeInvalidHeaderDeviceIdentifier)
	req := must[*http.Request](t, "PUT")(http.NewRequestWithContext(ctx, http.MethodPut, sb.URL+"/api/v2/"+sp+"/sessions/"+full.Code, nil))
	resp := must[*http.Response](t, "PUT")(hc.Do(req))
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT sessions/{code} = %d, want 405", resp.StatusCode)
	}
	h.malformed(t)

	// The TempPass trial ends: item-level on decisions, top-level on both
	// profile endpoints.
	sb.Advance(10 * time.Minute)
	ds = must[*v2client.Decisions](t, "authorize TempPass")(c.Authorize(ctx, sp, tempPass, []string{"news"}, hotel...))
	wantItemError(t, ds, 0, sandbox.CodeTempPassDurationExceeded)
	_, err = c.Profile(ctx, sp, tempPass, hotel...)
	wantTopLevel(t, err, http.StatusForbidden, sandbox.CodeTempPassDurationExceeded)
	_, err = c.ProfileByCode(ctx, sp, hs.Code, hotel...)
	wantTopLevel(t, err, http.StatusForbidden, sandbox.CodeTempPassDurationExceeded)
	h.ok(t)

	// Every operation of both documents was validated at least once.
	covered := map[string]bool{}
	for op := range h.seen {
		method, path, _ := strings.Cut(op, " ")
		for _, d := range v.docs {
			if item := d.doc.Paths.Value(path); item != nil && item.GetOperation(method) != nil {
				covered[method+" "+d.prefix+path] = true
			}
		}
	}
	if diff := cmp.Diff(v.operations(), covered); diff != "" {
		t.Errorf("operations validated (-documented +validated):\n%s", diff)
	}
	for op, statuses := range h.seen {
		slices.Sort(statuses)
		t.Logf("%-55s %v", op, slices.Compact(statuses))
	}

	// No loosening patch is there for nothing: without it, some exchange of
	// this run fails validation.
	for _, set := range []struct {
		name string
		rest bool
		list []patch
	}{{"restApiV2.json", true, restPatches}, {"dcrApi.json", false, dcrPatches}} {
		for i, p := range set.list {
			if p.tightens {
				continue
			}
			without := slices.Delete(slices.Clone(set.list), i, i+1)
			var vw *validator
			if set.rest {
				vw = newValidatorWith(t, without, dcrPatches)
			} else {
				vw = newValidatorWith(t, restPatches, without)
			}
			failed := 0
			for _, ck := range h.checked {
				if vw.check(ck.x, ck.malformedRequest) != nil {
					failed++
				}
			}
			if failed == 0 {
				t.Errorf("%s: patch %q changes nothing for %d exchanges", set.name, p.why, len(h.checked))
			}
		}
	}
}

func wantAction(t *testing.T, what string, s *v2client.Session, action, reason string) {
	t.Helper()
	if s.ActionName != action || s.ReasonType != reason {
		t.Errorf("%s: %s/%s, want %s/%s (%+v)", what, s.ActionName, s.ReasonType, action, reason, s)
	}
}

func wantItemError(t *testing.T, ds *v2client.Decisions, i int, code string) {
	t.Helper()
	if len(ds.Decisions) <= i {
		t.Fatalf("%d decisions, want item %d", len(ds.Decisions), i)
	}
	d := ds.Decisions[i]
	if d.Authorized || d.Error == nil || d.Error.Code != code {
		t.Errorf("decision %d = %+v, want item-level %s", i, d, code)
	}
}

func wantLogout(t *testing.T, c *v2client.Client, what, mvpd string, opts []v2client.Option, action string, withURL bool) {
	t.Helper()
	lo, err := c.Logout(t.Context(), sp, mvpd, "https://app.example.com/logged-out", opts...)
	if err != nil {
		t.Fatalf("logout %s: %v", what, err)
	}
	a := lo.Logouts[mvpd]
	if a.ActionName != action || (a.URL != "") != withURL {
		t.Errorf("logout %s = %+v, want %s (url: %v)", what, a, action, withURL)
	}
}

// TestValidatorRejects proves the validator and the patched documents catch
// what they must: each broken exchange fails, and its repaired twin passes,
// so the failure is due to the one thing broken.
func TestValidatorRejects(t *testing.T) {
	v := newValidator(t)
	v2 := http.Header{
		"Authorization":        {"Bearer t"},
		"Ap-Device-Identifier": {"fingerprint ZGV2aWNl"},
		"X-Device-Info":        {deviceInfo()},
	}
	form := func(h http.Header) http.Header {
		h = h.Clone()
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		return h
	}
	const (
		jsonCT   = "application/json;charset=UTF-8"
		profile  = `{"profiles":{"AcmeCable":{"notBefore":1,"notAfter":2,"issuer":"AcmeCable","type":"regular","attributes":{"userID":{"value":"u","state":"plain"}}}}}`
		session  = `{"actionName":"authenticate","actionType":"interactive","reasonType":"none","code":"ABC1234","sessionId":"s","serviceProvider":"REF30","notBefore":"1","notAfter":"2"}`
		errorObj = `{"action":"none","status":400,"code":"invalid_integration","message":"text"}`
	)
	type ex struct {
		method, target string
		reqHeader      http.Header
		reqBody        string
		status         int
		respHeader     http.Header
		body           string
	}
	jsonCTHeader := func() http.Header { return http.Header{"Content-Type": {jsonCT}} }
	tests := []struct {
		name   string
		broken ex
		fixed  ex
	}{
		{"profile timestamp as a string",
			ex{"GET", "/api/v2/REF30/profiles", v2, "", 200, jsonCTHeader(), strings.Replace(profile, `"notBefore":1`, `"notBefore":"1"`, 1)},
			ex{"GET", "/api/v2/REF30/profiles", v2, "", 200, jsonCTHeader(), profile}},
		{"profile without issuer",
			ex{"GET", "/api/v2/REF30/profiles/AcmeCable", v2, "", 200, jsonCTHeader(), strings.Replace(profile, `"issuer":"AcmeCable",`, ``, 1)},
			ex{"GET", "/api/v2/REF30/profiles/AcmeCable", v2, "", 200, jsonCTHeader(), profile}},
		{"session without sessionId",
			ex{"POST", "/api/v2/REF30/sessions", form(v2), "mvpd=AcmeCable", 200, jsonCTHeader(), strings.Replace(session, `"sessionId":"s",`, ``, 1)},
			ex{"POST", "/api/v2/REF30/sessions", form(v2), "mvpd=AcmeCable", 200, jsonCTHeader(), session}},
		{"session times as numbers",
			ex{"POST", "/api/v2/REF30/sessions/ABC1234", form(v2), "", 200, jsonCTHeader(), strings.Replace(session, `"notBefore":"1"`, `"notBefore":1`, 1)},
			ex{"POST", "/api/v2/REF30/sessions/ABC1234", form(v2), "", 200, jsonCTHeader(), session}},
		{"error message as an object (§15 #30 patch)",
			ex{"GET", "/api/v2/REF30/configuration", v2, "", 400, jsonCTHeader(), strings.Replace(errorObj, `"text"`, `{"text":"x"}`, 1)},
			ex{"GET", "/api/v2/REF30/configuration", v2, "", 400, jsonCTHeader(), errorObj}},
		{"undeclared status",
			ex{"GET", "/api/v2/REF30/configuration", v2, "", 403, jsonCTHeader(), errorObj},
			ex{"GET", "/api/v2/REF30/configuration", v2, "", 400, jsonCTHeader(), errorObj}},
		{"JSON answered as HTML",
			ex{"GET", "/api/v2/REF30/profiles", v2, "", 200, http.Header{"Content-Type": {"text/html"}}, profile},
			ex{"GET", "/api/v2/REF30/profiles", v2, "", 200, jsonCTHeader(), profile}},
		{"authenticate answering 200 (§15 #6 patch)",
			ex{"GET", "/api/v2/authenticate/REF30/ABC1234", nil, "", 200, http.Header{"Location": {"https://x"}}, ""},
			ex{"GET", "/api/v2/authenticate/REF30/ABC1234", nil, "", 302, http.Header{"Location": {"https://x"}}, ""}},
		{"authenticate 302 without Location",
			ex{"GET", "/api/v2/authenticate/REF30/ABC1234", nil, "", 302, http.Header{}, ""},
			ex{"GET", "/api/v2/authenticate/REF30/ABC1234", nil, "", 302, http.Header{"Location": {"https://x"}}, ""}},
		{"logout answering 302 (§15 #6 patch)",
			ex{"GET", "/api/v2/REF30/logout/AcmeCable?redirectUrl=https%3A%2F%2Fx", v2, "", 302, jsonCTHeader(), errorObj},
			ex{"GET", "/api/v2/REF30/logout/AcmeCable?redirectUrl=https%3A%2F%2Fx", v2, "", 200, jsonCTHeader(), `{"logouts":{"AcmeCable":{"actionName":"complete","actionType":"none","mvpd":"AcmeCable"}}}`}},
		{"logout request without redirectUrl (§15 #2 patch)",
			ex{"GET", "/api/v2/REF30/logout/AcmeCable", v2, "", 200, jsonCTHeader(), `{"logouts":{}}`},
			ex{"GET", "/api/v2/REF30/logout/AcmeCable?redirectUrl=https%3A%2F%2Fx", v2, "", 200, jsonCTHeader(), `{"logouts":{}}`}},
		{"create session request without the device headers",
			ex{"POST", "/api/v2/REF30/sessions", form(http.Header{"Authorization": {"Bearer t"}}), "", 200, jsonCTHeader(), session},
			ex{"POST", "/api/v2/REF30/sessions", form(v2), "", 200, jsonCTHeader(), session}},
		{"decision without authorized",
			ex{"POST", "/api/v2/REF30/decisions/authorize/AcmeCable", http.Header{"Authorization": {"Bearer t"}, "Ap-Device-Identifier": {"fingerprint ZA=="}, "X-Device-Info": {"e30="}, "Content-Type": {"application/json"}}, `{"resources":["news"]}`, 200, jsonCTHeader(), `{"decisions":[{"resource":"news","serviceProvider":"REF30","mvpd":"AcmeCable","source":"mvpd"}]}`},
			ex{"POST", "/api/v2/REF30/decisions/authorize/AcmeCable", http.Header{"Authorization": {"Bearer t"}, "Ap-Device-Identifier": {"fingerprint ZA=="}, "X-Device-Info": {"e30="}, "Content-Type": {"application/json"}}, `{"resources":["news"]}`, 200, jsonCTHeader(), `{"decisions":[{"resource":"news","serviceProvider":"REF30","mvpd":"AcmeCable","source":"mvpd","authorized":false}]}`}},
		{"DCR error code not a string (§5 patch)",
			ex{"POST", "/o/client/token", form(http.Header{"X-Device-Info": {"e30="}}), "client_id=a&client_secret=b&grant_type=client_credentials", 400, jsonCTHeader(), `{"error":42}`},
			ex{"POST", "/o/client/token", form(http.Header{"X-Device-Info": {"e30="}}), "client_id=a&client_secret=b&grant_type=client_credentials", 400, jsonCTHeader(), `{"error":"invalid_client"}`}},
		{"DCR error code not documented for the endpoint (§5 patch)",
			ex{"POST", "/o/client/token", form(http.Header{"X-Device-Info": {"e30="}}), "client_id=a&client_secret=b&grant_type=client_credentials", 400, jsonCTHeader(), `{"error":"invalid_software_statement"}`},
			ex{"POST", "/o/client/token", form(http.Header{"X-Device-Info": {"e30="}}), "client_id=a&client_secret=b&grant_type=client_credentials", 400, jsonCTHeader(), `{"error":"invalid_request"}`}},
		{"token request in the query (§15 #4 patch)",
			ex{"POST", "/o/client/token?client_id=a&client_secret=b&grant_type=client_credentials", form(http.Header{"X-Device-Info": {"e30="}}), "", 201, jsonCTHeader(), `{"access_token":"x","created_at":1,"expires_in":2,"token_type":"bearer","id":"i"}`},
			ex{"POST", "/o/client/token", form(http.Header{"X-Device-Info": {"e30="}}), "client_id=a&client_secret=b&grant_type=client_credentials", 201, jsonCTHeader(), `{"access_token":"x","created_at":1,"expires_in":2,"token_type":"bearer","id":"i"}`}},
		{"token answer without created_at (§5 patch)",
			ex{"POST", "/o/client/token", form(http.Header{"X-Device-Info": {"e30="}}), "client_id=a&client_secret=b&grant_type=client_credentials", 201, jsonCTHeader(), `{"access_token":"x","expires_in":2,"token_type":"bearer","id":"i"}`},
			ex{"POST", "/o/client/token", form(http.Header{"X-Device-Info": {"e30="}}), "client_id=a&client_secret=b&grant_type=client_credentials", 201, jsonCTHeader(), `{"access_token":"x","created_at":1,"expires_in":2,"token_type":"bearer","id":"i"}`}},
		{"register answer with a numeric client_id",
			ex{"POST", "/o/client/register", http.Header{"X-Device-Info": {"e30="}, "Content-Type": {"application/json"}}, `{"software_statement":"s"}`, 201, jsonCTHeader(), `{"client_id":7,"client_secret":"s","client_id_issued_at":1,"redirect_uris":[],"grant_types":["client_credentials"],"scopes":["api:client:v2"]}`},
			ex{"POST", "/o/client/register", http.Header{"X-Device-Info": {"e30="}, "Content-Type": {"application/json"}}, `{"software_statement":"s"}`, 201, jsonCTHeader(), `{"client_id":"7","client_secret":"s","client_id_issued_at":1,"redirect_uris":[],"grant_types":["client_credentials"],"scopes":["api:client:v2"]}`}},
	}
	build := func(t *testing.T, e ex) *exchange {
		req, err := http.NewRequest(e.method, "http://sandbox.test"+e.target, strings.NewReader(e.reqBody))
		if err != nil {
			t.Fatal(err)
		}
		if e.reqHeader != nil {
			req.Header = e.reqHeader.Clone()
		}
		return &exchange{req: req, reqBody: []byte(e.reqBody), status: e.status, header: e.respHeader, body: []byte(e.body)}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := v.check(build(t, tt.broken), false); err == nil {
				t.Error("the broken exchange passed validation")
			} else {
				t.Logf("rejected: %v", firstLine(err.Error()))
			}
			if err := v.check(build(t, tt.fixed), false); err != nil {
				t.Errorf("the repaired exchange fails: %v", err)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestSamplesConformToPatchedOpenAPI validates every documented response
// sample against the patched documents, at the status the sample was
// documented with: the patches agree with Adobe's own bodies.
func TestSamplesConformToPatchedOpenAPI(t *testing.T) {
	v := newValidator(t)
	// Longest prefix first; the operation a sample belongs to.
	routes := []struct{ prefix, method, path string }{
		{"configuration-", "GET", "/api/v2/REF30/configuration"},
		{"dcr-register-", "POST", "/o/client/register"},
		{"dcr-token-", "POST", "/o/client/token"},
		{"sessions-create-", "POST", "/api/v2/REF30/sessions"},
		{"sessions-resume-", "POST", "/api/v2/REF30/sessions/8BLW4RW"},
		{"sessions-retrieve-", "GET", "/api/v2/REF30/sessions/8BLW4RW"},
		{"sessions-sso-", "POST", "/api/v2/REF30/sessions/sso/Apple"},
		{"profiles-code-", "GET", "/api/v2/REF30/profiles/code/8BLW4RW"},
		{"profiles-mvpd-", "GET", "/api/v2/REF30/profiles/Cablevision"},
		{"profiles-sso-", "POST", "/api/v2/REF30/profiles/sso/Apple"},
		{"profiles-", "GET", "/api/v2/REF30/profiles"},
		{"decisions-preauthorize-", "POST", "/api/v2/REF30/decisions/preauthorize/Cablevision"},
		{"decisions-authorize-", "POST", "/api/v2/REF30/decisions/authorize/Cablevision"},
		{"error-item-level-", "POST", "/api/v2/REF30/decisions/authorize/Cablevision"},
		{"error-top-level-", "GET", "/api/v2/REF30/configuration"},
		{"logout-", "GET", "/api/v2/REF30/logout/Cablevision?redirectUrl=https%3A%2F%2Fadobe.com"},
	}
	statusInName := regexp.MustCompile(`-([2-5]\d\d)[-.]`)
	files, err := filepath.Glob(filepath.Join(testenv.SamplesDir(t, "v2"), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".broken.json") || strings.Contains(name, "-request") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			i := slices.IndexFunc(routes, func(r struct{ prefix, method, path string }) bool { return strings.HasPrefix(name, r.prefix) })
			if i < 0 {
				t.Fatalf("no operation mapped for sample %s", name)
			}
			status := http.StatusOK
			if m := statusInName.FindStringSubmatch(name); m != nil {
				status, _ = strconv.Atoi(m[1])
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequest(routes[i].method, "https://sp.auth.adobe.com"+routes[i].path, nil)
			if err != nil {
				t.Fatal(err)
			}
			x := &exchange{req: req, status: status, header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}}, body: body}
			// Only the documented answer is checked: the sample requests
			// are incomplete (truncated tokens, headers left out).
			if err := v.check(x, true); err != nil {
				t.Error(err)
			}
		})
		tested++
	}
	if tested < 50 {
		t.Fatalf("only %d samples found", tested)
	}
}
