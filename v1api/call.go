package v1api

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Call is one v1 call, parsed once: its route, the parameters of its query
// and form body, and the format it asked for. Front parses every call of a
// listener and carries it in the request context (see CallFrom), so that
// the layers in front of the Handler (migration router, telemetry) read
// what the Handler reads, and the Handler does not parse it again.
//
// A Call's strings may be kept; its Params are valid only while Front
// serves the call.
type Call struct {
	m      routeMatch
	params Params
	// perr is the failure to read the parameters (too large), answered
	// with a 400 once the throttle has counted the call.
	perr   error
	format format
	header http.Header
	// h is the Handler that parsed the call.
	h *Handler
	// qb backs params; state tells when it may be reused (see claim).
	qb    *queryBuf
	state atomic.Int32
	// body puts back the part of a form body read, for whoever passes the
	// call on; it lives here to cost no allocation of its own.
	body replayBody
}

// The states of a Call parsed by Front.
const (
	callFresh    int32 = iota // parsed, not yet taken by a Handler
	callClaimed               // a Handler is answering with it
	callAnswered              // the Handler that took it has returned
	callReleased              // Front has returned; a Handler parses afresh
)

// Route is the call's route template, such as "GET /api/v1/authorize" or
// "GET /reggie/v1/{requestor}/regcode/{code}" (a format extension is not
// part of it); "" when no v1 route has the call's method and path.
func (c *Call) Route() string {
	if c.m.route == nil {
		return ""
	}
	return c.m.route.names[c.m.path][c.m.method]
}

// Operation is the short name of the call's operation, such as
// "authorize" or "regcode.get"; "" when no v1 route matches.
func (c *Call) Operation() string {
	if c.m.route == nil {
		return ""
	}
	return c.m.route.name
}

// ReadOnly reports an operation that changes no state, upstream or in the
// gateway, so that answering it twice is harmless.
func (c *Call) ReadOnly() bool { return c.m.route != nil && c.m.route.readOnly }

// Requestor is the requestor the call names: its {requestor} path segment,
// else the operation's requestor parameters in order of preference, else
// the requestor_id of a signed Authorization header. The Handler may still
// learn it from a verified credential when the call names none.
func (c *Call) Requestor() string {
	if v := c.m.vars.get("requestor"); v != "" {
		return v
	}
	names := []string{"requestor"}
	if c.m.route != nil {
		names = c.m.route.requestorParams
	}
	for _, name := range names {
		if v := c.params.Get(name); v != "" {
			return v
		}
	}
	return SignedHeaderRequestor(c.header.Get("Authorization"))
}

// NamedRequestor is the requestor the call's path or query names, whatever
// its method: the {requestor} segment of a v1 path template its path
// matches, else the requestor_id or requestor query parameter; "" when it
// names none. It is what CORS grants by: a preflight (OPTIONS) matches no
// route yet names the requestor of the call to come, and the grant is
// decided before any body is read.
func (c *Call) NamedRequestor() string {
	if v := c.m.vars.get("requestor"); v != "" {
		return v
	}
	if c.m.pathRequestor != "" {
		return c.m.pathRequestor
	}
	for _, name := range [...]string{"requestor_id", "requestor"} {
		if v := c.params.Query.Get(name); v != "" {
			return v
		}
	}
	return ""
}

// DeviceID is the deviceId parameter, exactly as sent (URL-decoded once).
func (c *Call) DeviceID() string { return c.params.Get("deviceId") }

// Code is the registration code the call names: its {code} path segment,
// else the reg_code parameter.
func (c *Call) Code() string {
	if v := c.m.vars.get("code"); v != "" {
		return v
	}
	return c.params.Get("reg_code")
}

// Format is the body format the call asked for, "xml" or "json": the path
// extension, then the format parameter, then Accept.
func (c *Call) Format() string {
	if c.format == formatJSON {
		return "json"
	}
	return "xml"
}

// Params are the call's parameters, query first. They are valid only while
// Front serves the call.
func (c *Call) Params() *Params { return &c.params }

// Answer describes an answer to a v1 call from its header, whoever gave it
// (the Handler or a v1 upstream): the format of its body ("xml", "json",
// "html" for the throttling page, "none" without a body, "other") and its
// Adobe-Request-Id.
func (c *Call) Answer(h http.Header) (format, requestID string) {
	return AnswerOf(h)
}

// AnswerOf is Call.Answer for any answer of the device-facing listener.
func AnswerOf(h http.Header) (format, requestID string) {
	return formatOf(h.Get("Content-Type")), h.Get("Adobe-Request-Id")
}

// formatOf names the format of a body by its Content-Type.
func formatOf(contentType string) string {
	// The content types the Handler answers with, without parsing.
	switch contentType {
	case "":
		return "none"
	case contentTypeXML:
		return "xml"
	case contentTypeJSON:
		return "json"
	case contentTypeHTML:
		return "html"
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "":
		return "none"
	case strings.HasSuffix(mt, "json"):
		return "json"
	case strings.HasSuffix(mt, "xml"):
		return "xml"
	case mt == "text/html":
		return "html"
	}
	return "other"
}

// parse reads r into c: route, parameters (into qb when not nil) and
// format. With replay, a form body it reads is put back in front of the
// rest of r.Body, for whoever passes the call on.
func (h *Handler) parse(c *Call, r *http.Request, qb *queryBuf, replay bool) {
	path, ext := trimExtension(r.URL.Path)
	var rb *replayBody
	if replay {
		rb = &c.body
	}
	c.params, c.perr = readParams(r, h.cfg.MaxParamBytes, h.cfg.MaxBodyBytes, qb, rb)
	c.format = negotiate(ext, c.params.Get("format"), r.Header.Values("Accept"))
	c.m = matchRoute(h.routes, r.Method, path)
	c.header = r.Header
	c.qb = qb
	c.h = h
}

// CallFrom returns the Call that Front parsed for the request ctx belongs
// to.
func CallFrom(ctx context.Context) (*Call, bool) {
	c, ok := ctx.Value(callKey{}).(*Call)
	return c, ok
}

// ParseCall returns the Call of r: the one Front parsed, or else r parsed
// now with the default limits (a form body read is put back for whoever
// answers). It serves layers that may run without a Front, such as a
// migration router in a test.
func ParseCall(r *http.Request) *Call {
	if c, ok := CallFrom(r.Context()); ok {
		return c
	}
	c := &Call{}
	defaultParser().parse(c, r, nil, true)
	return c
}

// defaultParser is a Handler that only parses, with the default limits.
var defaultParser = sync.OnceValue(func() *Handler {
	return &Handler{cfg: Config{MaxParamBytes: DefaultMaxParamBytes, MaxBodyBytes: DefaultMaxBodyBytes},
		routes: compileRoutes(routeTable())}
})

type (
	callKey  struct{}
	frontKey struct{}
)

// Front is the one route table of a listener that serves the v1 API: every
// v1 call (a path under /api/v1/ or /reggie/v1/) is parsed once by Handler
// and served by V1 with the Call in its context; any other request goes to
// Other. Paths an http.ServeMux would clean ("//", "/./", "/../") go to
// Other as well, which redirects them as a ServeMux does.
type Front struct {
	// Handler parses the calls (route table and limits) and chooses their
	// request ids. Required.
	Handler *Handler

	// V1 serves the parsed v1 calls: the layers in front of Handler
	// (telemetry, migration router) ending in Handler. Nil means Handler.
	V1 http.Handler

	// Other serves every other request. Nil means 404 Not Found.
	Other http.Handler
}

// IsV1Path reports whether path is one Front sends to V1.
func IsV1Path(method, path string) bool {
	return (strings.HasPrefix(path, "/api/v1/") || strings.HasPrefix(path, "/reggie/v1/")) &&
		!strings.Contains(path, "//") && !strings.Contains(path, "/.") && method != http.MethodConnect
}

// ServeHTTP implements http.Handler.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsV1Path(r.Method, r.URL.Path) {
		if f.Other == nil {
			http.NotFound(w, r)
			return
		}
		f.Other.ServeHTTP(w, r)
		return
	}
	h := f.Handler
	fc := &frontContext{Context: r.Context()}
	c := &fc.c
	id, ok := RequestIDFromContext(r.Context())
	if !ok {
		id = h.cfg.RequestID()
	}
	c.requestID = id
	qb := h.getQueryBuf()
	h.parse(&c.Call, r, qb, true)
	next := f.V1
	if next == nil {
		next = h
	}
	next.ServeHTTP(w, r.WithContext(fc))
	// A Handler still answering with the call (a shadow comparison, in the
	// background) keeps its parameters: they are left to the collector.
	if c.state.CompareAndSwap(callFresh, callReleased) || c.state.CompareAndSwap(callAnswered, callReleased) {
		h.putQueryBuf(qb)
	}
}

// frontContext is the context of a call Front serves: it carries the call
// (parsed, with the Handler's state for it) and its request id, all in one
// allocation.
type frontContext struct {
	context.Context
	c call
}

func (f *frontContext) Value(key any) any {
	switch key.(type) {
	case callKey:
		return &f.c.Call
	case requestIDKey:
		return &f.c.requestID
	case frontKey:
		return f
	}
	return f.Context.Value(key)
}

// claim returns the call Front parsed for the request ctx belongs to, when
// it was parsed for h and no other Handler has taken it.
func (h *Handler) claim(ctx context.Context) *call {
	fc, ok := ctx.Value(frontKey{}).(*frontContext)
	if !ok || fc.c.h != h || !fc.c.state.CompareAndSwap(callFresh, callClaimed) {
		return nil
	}
	return &fc.c
}

// replayBody is a request body whose start was read: head, then the rest.
type replayBody struct {
	head []byte
	rest io.ReadCloser
}

func (b *replayBody) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	return b.rest.Read(p)
}

func (b *replayBody) Close() error { return b.rest.Close() }
