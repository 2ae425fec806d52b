// Package v1api is the legacy Adobe Pass REST API v1 ("Clientless") HTTP
// surface: the v1 route table, parameter parsing, format negotiation and
// the XML and JSON bodies v1 devices expect. Front parses each call once
// into a Call carried in the request context, which the layers in front of
// the Handler read (migration router, telemetry); the Handler turns the
// call into a typed request of package v1model, hands it to a Backend and
// renders the typed answer or v1 error.
package v1api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/passgw/passgw/v1model"
)

// Default limits and the default enhanced-error help page.
const (
	DefaultMaxParamBytes = 16 << 10
	DefaultMaxBodyBytes  = 256 << 10
	DefaultHelpURL       = "https://experienceleague.adobe.com/docs/pass/authentication/auth-features/error-reportn/enhanced-error-codes.html"
)

// Config configures a Handler. Only Backend is required; every other field
// has a safe zero value.
type Config struct {
	// Backend answers the operations. Required.
	Backend Backend

	// Logger receives failures (never parameters or credentials).
	// Nil means slog.Default().
	Logger *slog.Logger

	// TrustedProxies are the peers allowed to name the device address in
	// X-Forwarded-For. Nil means loopback only; an empty non-nil slice
	// trusts no one.
	TrustedProxies []netip.Prefix

	// Enhanced reports whether a requestor gets Enhanced Error Codes
	// bodies. Nil means legacy bodies for everyone.
	Enhanced func(requestor string) bool

	// Authenticate checks the caller credential of a request (DCR bearer
	// token, access_token parameter or signed header). requestor is the one
	// named by the path or parameters, possibly empty. A *v1model.Error or
	// *v1model.CredentialError result is rendered as such; other errors become 500.
	// It is not called for the browser call GET /api/v1/authenticate.
	// Nil means credentials are not checked; the signed header's
	// requestor_id is still read as a requestor source.
	Authenticate func(r *http.Request, requestor string) (v1model.Caller, error)

	// Throttle limits the calls of each device on the paths Adobe
	// throttled, before credentials are checked (refused calls count too).
	// The limit is chosen by the requestor the call names (path, parameter
	// or signed header). Nil means no throttling.
	Throttle *Throttle

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// RequestID returns the Adobe-Request-Id (and enhanced trace) of a
	// response. Nil means random UUIDs.
	RequestID func() string

	// MaxParamBytes bounds the raw query string; larger requests get a 400.
	// Zero means DefaultMaxParamBytes.
	MaxParamBytes int

	// MaxBodyBytes bounds a POST body; larger requests get a 400. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// HelpURL is the helpUrl of enhanced errors that carry none. Empty means
	// DefaultHelpURL.
	HelpURL string
}

// Handler serves the v1 API. Create it with New.
type Handler struct {
	cfg Config
	log *slog.Logger
	// routes is routeTable(), built and compiled once.
	routes []*route
	// bufs holds *renderBuf and queries *queryBuf for reuse across calls.
	bufs, queries sync.Pool
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Backend == nil {
		return nil, errors.New("v1api: Config.Backend is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TrustedProxies == nil {
		cfg.TrustedProxies = defaultTrustedProxies()
	}
	if cfg.Enhanced == nil {
		cfg.Enhanced = func(string) bool { return false }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RequestID == nil {
		cfg.RequestID = uuid.NewString
	}
	if cfg.MaxParamBytes <= 0 {
		cfg.MaxParamBytes = DefaultMaxParamBytes
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.HelpURL == "" {
		cfg.HelpURL = DefaultHelpURL
	}
	return &Handler{cfg: cfg, log: cfg.Logger, routes: compileRoutes(routeTable())}, nil
}

// call is the state of one request on its way through the handler: the
// parsed Call and what the Handler learns answering it.
type call struct {
	Call
	r *http.Request
	// route is the call's route once its path variables are known safe.
	route     *route
	requestID string
	device    v1model.Device
	enhanced  bool
	helpURL   string
	// ctx is the request's context when the Handler chose its request id.
	ctx requestIDContext
	// hdr backs the response header values the call sets, so that they
	// cost no allocation of their own.
	hdr  [4]string
	nhdr int
}

// headerValue returns v as a header value slice backed by c. Its capacity
// is one, so anything appending to it copies.
func (c *call) headerValue(v string) []string {
	if c.nhdr == len(c.hdr) {
		return []string{v}
	}
	i := c.nhdr
	c.hdr[i] = v
	c.nhdr++
	return c.hdr[i : i+1 : i+1]
}

// ServeHTTP implements http.Handler. A call Front parsed for h is answered
// as parsed; any other request is parsed here.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	c := h.claim(r.Context())
	if c != nil {
		defer c.state.Store(callAnswered)
	} else {
		c = &call{}
		id, ok := RequestIDFromContext(r.Context())
		if !ok {
			// Carried in the context so that every log line of the call,
			// down to the v2 client, can name it. The context lives in the
			// call, which saves it an allocation of its own.
			id = h.cfg.RequestID()
			c.ctx = requestIDContext{Context: r.Context(), id: id}
			r = r.WithContext(&c.ctx)
		}
		c.requestID = id
		qb := h.getQueryBuf()
		defer h.putQueryBuf(qb)
		h.parse(&c.Call, r, qb, false)
	}
	c.helpURL = h.cfg.HelpURL
	w.Header()["Adobe-Request-Id"] = c.headerValue(c.requestID)

	r, _ = stripExtension(r)
	c.r = r

	m := &c.m
	matched := m.route != nil && safePathVars(&m.vars)
	if !h.allowed(c, &m.vars) {
		writeThrottled(w)
		return
	}
	if c.perr != nil {
		h.fail(w, c, c.perr)
		return
	}

	if !matched {
		c.enhanced = h.cfg.Enhanced(c.params.Get("requestor"))
		if m.methodMismatch {
			// RFC 9110 §15.5.6: a 405 names the methods the target allows.
			w.Header().Set("Allow", allowedMethods(h.routes, r.URL.Path))
			h.fail(w, c, v1model.ErrMethodNotAllowed())
		} else {
			h.fail(w, c, v1model.ErrNotFound(""))
		}
		return
	}
	rt := m.route
	c.route = rt

	var res result
	err := h.prepare(c)
	if err == nil {
		res, err = rt.serve(r.Context(), h.cfg.Backend, c)
	}
	if err != nil {
		h.fail(w, c, err)
	} else {
		h.write(w, c, res)
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "v1 request",
		slog.String("op", rt.name), slog.String("requestor", c.device.Requestor),
		slog.String("request_id", c.requestID), slog.Float64("duration_ms", float64(h.cfg.Now().Sub(start).Microseconds())/1e3))
}

// prepare fills the device of c: requestor, caller, device facts.
func (h *Handler) prepare(c *call) error {
	rt := c.route
	d := &c.device
	d.Requestor = c.m.vars.get("requestor")
	for _, name := range rt.requestorParams {
		if d.Requestor != "" {
			break
		}
		d.Requestor = c.params.Get(name)
	}

	if rt.anonymous || h.cfg.Authenticate == nil {
		d.Caller.Requestor = SignedHeaderRequestor(c.r.Header.Get("Authorization"))
	} else {
		caller, err := h.cfg.Authenticate(c.r, d.Requestor)
		if err != nil {
			c.enhanced = h.cfg.Enhanced(d.Requestor)
			return err
		}
		d.Caller = caller
	}
	if d.Requestor == "" {
		d.Requestor = d.Caller.Requestor
	}
	c.enhanced = h.cfg.Enhanced(d.Requestor)
	if rt.needRequestor && d.Requestor == "" {
		name := "requestor"
		if len(rt.requestorParams) > 0 {
			name = rt.requestorParams[0]
		}
		return v1model.ErrRequired(name, v1model.CodeInvalidRequestor)
	}

	d.DeviceID = c.params.Get("deviceId")
	if rt.needDevice && d.DeviceID == "" {
		return v1model.ErrRequired("deviceId", v1model.CodeInvalidDeviceID)
	}
	raw := c.r.Header.Get("X-Device-Info")
	if raw == "" {
		raw = c.params.Get("device_info")
	}
	if raw != "" {
		b64, obj, err := decodeDeviceInfo(raw)
		if err != nil {
			e := v1model.ErrBadRequest(v1model.CodeInvalidDeviceInfo)
			e.Cause = err
			return e
		}
		d.DeviceInfoBase64, d.DeviceInfo = b64, obj
	}
	d.DeviceType = c.params.Get("deviceType")
	d.DeviceUser = c.params.Get("deviceUser")
	d.AppID = c.params.Get("appId")
	d.AppVersion = c.params.Get("appVersion")
	d.IP, d.Port = deviceAddr(c.r, h.cfg.TrustedProxies)
	d.UserAgent = c.r.Header.Get("User-Agent")
	d.SubjectToken = c.r.Header.Get("Adobe-Subject-Token")
	if d.SubjectToken == "" {
		d.SubjectToken = c.params.Get("ast")
	}
	d.RokuToken = c.r.Header.Get("X-Roku-Reserved-Roku-Connect-Token")
	d.GenericData = c.params.Get("generic_data")
	// The SSO tokens travel upstream as header values: a parameter holding
	// what a header cannot carry (CR, LF, other controls) is the device's
	// bad input, not a failure of the gateway's upstream call.
	if !validHeaderValue(d.SubjectToken) {
		e := v1model.ErrBadRequest("")
		e.Cause = errors.New("ast holds characters an HTTP header cannot carry")
		return e
	}
	return nil
}

// validHeaderValue reports whether s can be sent as an HTTP header value:
// no control character but HTAB (RFC 9110 §5.5).
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// StatusClientClosed is the status a call the client abandoned is recorded
// with (nginx's 499): no answer reaches the client, and the call is
// neither a server error nor the client's bad request.
const StatusClientClosed = 499

// clientClosed reports whether err ended the call because the client went
// away (its request's context was cancelled).
func clientClosed(r *http.Request, err error) bool {
	return errors.Is(r.Context().Err(), context.Canceled) && errors.Is(err, context.Canceled)
}

// fail renders err as the v1 error answer. Its log lines name the call by
// its route template, never its path, which may carry a registration code.
func (h *Handler) fail(w http.ResponseWriter, c *call, err error) {
	var credErr *v1model.CredentialError
	if errors.As(err, &credErr) {
		writeCredentialError(w, credErr)
		return
	}
	if clientClosed(c.r, err) {
		h.log.LogAttrs(c.r.Context(), slog.LevelInfo, "v1 call abandoned: client closed",
			slog.String("request_id", c.requestID), slog.String("route", c.Route()))
		w.WriteHeader(StatusClientClosed)
		return
	}
	var v1err *v1model.Error
	if !errors.As(err, &v1err) {
		h.log.LogAttrs(c.r.Context(), slog.LevelError, "v1 operation failed",
			slog.String("request_id", c.requestID), slog.String("route", c.Route()),
			slog.String("error", err.Error()))
		v1err = v1model.ErrInternal(err)
	} else if v1err.Status >= 500 {
		h.log.LogAttrs(c.r.Context(), slog.LevelError, "v1 operation failed",
			slog.String("request_id", c.requestID), slog.String("route", c.Route()),
			slog.String("error", v1err.Error()))
	}
	if v1err.Status == http.StatusTooManyRequests {
		writeThrottled(w)
		return
	}
	e := *v1err
	if c.route != nil && c.route.nullDetails {
		e.NullDetails = true
	}
	if c.enhanced && e.Code != "" {
		completeEnhanced(&e, c.helpURL, c.requestID)
	} else {
		e.Code, e.Action, e.HelpURL, e.Trace = "", "", "", ""
	}
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	h.writeBody(w, c, status, errorBody{&e})
}

// completeEnhanced fills the enhanced fields the backend left empty.
func completeEnhanced(e *v1model.Error, helpURL, trace string) {
	if e.Action == "" {
		e.Action = v1model.ActionFor(e.Code)
	}
	if e.HelpURL == "" {
		e.HelpURL = helpURL
	}
	if e.Trace == "" {
		e.Trace = trace
	}
}
