package compat

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// Call is what the migration router needs to know about a v1 request
// before choosing where it goes. It is read the way the v1 surface
// (package v1api) reads it: the requestor from the path, else from the
// operation's requestor parameters, else from a signed Authorization
// header; parameters from the query first, then a form or multipart body.
type Call struct {
	// Op is the v1 operation as a route template, such as
	// "GET /api/v1/checkauthn"; "" when the request matches no v1 route.
	Op        string
	Requestor string
	DeviceID  string
	// Code is the registration code the call names (path or reg_code).
	Code string
	// ReadOnly reports an operation that changes no state, upstream or in
	// the gateway, so that shadow mode may run it twice.
	ReadOnly bool
}

// Operation kinds that the canary remembers a device by.
const (
	opRegcodeCreate = "POST /reggie/v1/{requestor}/regcode"
	opFreePreview   = "POST /api/v1/authenticate/freepreview"
)

type v1Op struct {
	method   string
	path     string
	params   []string // requestor parameters when the path has none
	readOnly bool
}

// v1Ops mirrors the v1 route table, in the order the v1 surface matches
// it (freepreview before authenticate/{code}).
func v1Ops() []v1Op {
	device := []string{"requestor"}
	browser := []string{"requestor_id", "requestor"}
	return []v1Op{
		{http.MethodPost, "/reggie/v1/{requestor}/regcode", device, false},
		{http.MethodGet, "/reggie/v1/{requestor}/regcode/{code}", device, true},
		{http.MethodGet, "/reggie/v1/regcode/{code}", device, true},
		{http.MethodDelete, "/reggie/v1/{requestor}/regcode/{code}", device, false},
		{http.MethodDelete, "/reggie/v1/regcode/{code}", device, false},
		{http.MethodGet, "/api/v1/config/{requestor}", nil, true},
		{http.MethodPost, "/api/v1/config/{requestor}", nil, true},
		{http.MethodGet, "/api/v1/authenticate", browser, false},
		{http.MethodPost, "/api/v1/authenticate/freepreview", browser, false},
		{http.MethodGet, "/api/v1/authenticate/{code}", device, false},
		{http.MethodGet, "/api/v1/checkauthn", device, true},
		{http.MethodGet, "/api/v1/checkauthn/{code}", device, true},
		{http.MethodGet, "/api/v1/tokens/authn", device, true},
		{http.MethodPost, "/api/v1/tokens/authn", device, false},
		{http.MethodGet, "/api/v1/authorize", device, false},
		{http.MethodGet, "/api/v1/tokens/authz", device, true},
		{http.MethodGet, "/api/v1/tokens/media", device, false},
		{http.MethodGet, "/api/v1/mediatoken", device, false},
		{http.MethodGet, "/api/v1/preauthorize", device, true},
		{http.MethodGet, "/api/v1/preauthorize/{code}", device, true},
		{http.MethodGet, "/api/v1/tokens/usermetadata", device, true},
		{http.MethodDelete, "/api/v1/logout", device, false},
		{http.MethodGet, "/api/v1/logout", device, false},
		{http.MethodGet, "/api/v1/{requestor}/profile-requests/{mvpd}", nil, false},
	}
}

// IdentifyCall reads the Call of r. body is the start of r's body (nil
// for none); IdentifyCall never reads r.Body itself, so the caller decides
// how the body reaches whoever answers.
func IdentifyCall(r *http.Request, body []byte) Call {
	query := parseQuery(r.URL.RawQuery)
	var form url.Values
	if r.Method == http.MethodPost && len(body) > 0 {
		form = parseForm(r.Header.Get("Content-Type"), body)
	}
	get := func(name string) string {
		if v := query[name]; len(v) > 0 {
			return v[0]
		}
		if v := form[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	path := stripFormatExtension(r.URL.Path)
	var c Call
	requestorParams := []string{"requestor"}
	if op, vars, ok := matchOp(r.Method, path); ok {
		c.Op = op.method + " " + op.path
		c.ReadOnly = op.readOnly
		c.Requestor = vars["requestor"]
		c.Code = vars["code"]
		requestorParams = op.params
	}
	for _, p := range requestorParams {
		if c.Requestor != "" {
			break
		}
		c.Requestor = get(p)
	}
	if c.Requestor == "" {
		c.Requestor = signedHeaderRequestor(r.Header.Get("Authorization"))
	}
	if c.Code == "" {
		c.Code = get("reg_code")
	}
	c.DeviceID = get("deviceId")
	return c
}

func matchOp(method, path string) (v1Op, map[string]string, bool) {
	segs := strings.Split(path, "/")
	for _, op := range v1Ops() {
		if op.method != method {
			continue
		}
		if vars, ok := matchPath(op.path, segs); ok {
			return op, vars, true
		}
	}
	return v1Op{}, nil, false
}

func matchPath(template string, segs []string) (map[string]string, bool) {
	tpl := strings.Split(template, "/")
	if len(tpl) != len(segs) {
		return nil, false
	}
	vars := map[string]string{}
	for i, t := range tpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if segs[i] == "" {
				return nil, false
			}
			vars[t[1:len(t)-1]] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return vars, true
}

// stripFormatExtension removes the .json or .xml a v1 path may end with.
func stripFormatExtension(path string) string {
	last := path[strings.LastIndexByte(path, '/')+1:]
	for _, ext := range []string{".json", ".xml"} {
		if strings.HasSuffix(last, ext) && len(last) > len(ext) {
			return strings.TrimSuffix(path, ext)
		}
	}
	return path
}

// parseQuery decodes a query or form once, keeping a pair whose escapes
// are broken with its raw text, as the v1 surface does.
func parseQuery(s string) url.Values {
	v := url.Values{}
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		v[unescape(key)] = append(v[unescape(key)], unescape(value))
	}
	return v
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// parseForm reads the fields of a form-encoded or multipart body.
func parseForm(contentType string, body []byte) url.Values {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		return parseQuery(string(body))
	case "multipart/form-data":
		form := url.Values{}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				return form
			}
			if part.FormName() == "" || part.FileName() != "" {
				continue
			}
			v, err := io.ReadAll(part)
			if err != nil {
				return form
			}
			form.Add(part.FormName(), string(v))
		}
	}
	return nil
}

// signedHeaderRequestor reads requestor_id from a legacy signed
// Authorization header ("POST requestor_id=REF30, nonce=..., ...").
func signedHeaderRequestor(auth string) string {
	scheme, rest, ok := strings.Cut(auth, " ")
	if !ok || strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	for _, field := range strings.Split(rest, ", ") {
		name, value, ok := strings.Cut(strings.TrimSpace(field), "=")
		if ok && name == "requestor_id" {
			return value
		}
	}
	return ""
}
