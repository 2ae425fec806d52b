package compat

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1api"
)

// DefaultMaxBodyBytes bounds how much of a POST body the Router reads to
// find the requestor and deviceId; the rest still reaches whoever answers.
const DefaultMaxBodyBytes = 256 << 10

// Router sits in front of the v1 translate handler and sends each call
// where its requestor's Policy says: to Translate, to the v1 upstream
// (passthrough), to both (shadow), or by device (canary). The zero value
// with Translate set sends everything to Translate.
type Router struct {
	// Translate answers calls through REST API v2: the gateway's v1
	// surface. Required.
	Translate http.Handler

	// Policy returns the policy of a requestor; requestor is "" for a call
	// that names none. Nil means translate for everyone.
	Policy func(requestor string) Policy

	// Transport carries calls to the v1 upstream. Nil means
	// http.DefaultTransport.
	Transport http.RoundTripper

	// TrustedProxies are the peers allowed to name the device address in
	// X-Forwarded-For, as for the v1 surface. Nil means loopback only.
	TrustedProxies []netip.Prefix

	// Shadow compares the v1 and translated answers of shadow-mode calls.
	// Nil means shadow-mode calls are answered from v1 and not compared.
	Shadow *Shadow

	// Store remembers the canary devices (and their registration codes)
	// that registered through translate, so that they stay there when the
	// percentage changes. Nil means the hash alone decides.
	Store store.Store

	// StickyTTL is how long a device stays pinned to translate after it
	// registered there. Zero means DefaultStickyTTL.
	StickyTTL time.Duration

	// MaxBodyBytes bounds the part of a POST body read to identify the
	// call. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Guard diverts to translate the requestors whose v1 upstream stopped
	// answering (see Guard). Nil means calls go where Policy says, answered
	// or not.
	Guard *Guard

	// Logger receives proxy failures and store errors. Nil means
	// slog.Default().
	Logger *slog.Logger

	// Routed, when set, is told where each call goes before it is
	// answered: the requestor it names, its mode, and whether translate
	// answers it (false: the v1 upstream does). Telemetry labels the
	// call's outcome with it, so canary devices on translate can be
	// compared with those still on v1. Nil tells nothing.
	Routed func(r *http.Request, requestor string, mode Mode, translated bool)
}

func (rt *Router) routed(r *http.Request, requestor string, mode Mode, translated bool) {
	if rt.Routed != nil {
		rt.Routed(r, requestor, mode, translated)
	}
}

func (rt *Router) logger() *slog.Logger {
	if rt.Logger == nil {
		return slog.Default()
	}
	return rt.Logger
}

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt.Policy == nil {
		rt.Translate.ServeHTTP(w, r)
		return
	}
	call := IdentifyCall(r)
	head, complete := rt.peekBody(r)
	pol := rt.Policy(call.Requestor)
	if pol.Mode.NeedsUpstream() && pol.Upstream == nil {
		rt.logger().ErrorContext(r.Context(), "no v1 upstream for a requestor in mode "+string(pol.Mode), "requestor", call.Requestor)
		writeV1Error(w, r, http.StatusInternalServerError)
		return
	}
	if diverted, recheck := rt.Guard.divert(pol.Requestor); diverted {
		if recheck && call.Requestor != "" {
			go rt.recheck(pol.Requestor, call.Requestor, pol.Upstream)
		}
		rt.routed(r, call.Requestor, pol.Mode, true)
		if pol.Mode == ModeCanary {
			// Pinned as any canary device registering through translate:
			// its sign-in lives behind translate from now on.
			rt.serveCanary(w, r, call)
			return
		}
		rt.Translate.ServeHTTP(w, r)
		return
	}
	switch pol.Mode {
	case ModePassthrough:
		rt.routed(r, call.Requestor, pol.Mode, false)
		rt.proxy(w, r, call, pol)
	case ModeShadow:
		rt.routed(r, call.Requestor, pol.Mode, false)
		if rt.Shadow == nil || !call.ReadOnly || !complete {
			rt.proxy(w, r, call, pol)
			return
		}
		rt.shadow(w, r, call, head, pol)
	case ModeCanary:
		if !rt.canaryTranslate(r.Context(), call, pol.CanaryPercent) {
			rt.routed(r, call.Requestor, pol.Mode, false)
			rt.proxy(w, r, call, pol)
			return
		}
		rt.routed(r, call.Requestor, pol.Mode, true)
		rt.serveCanary(w, r, call)
	default:
		rt.routed(r, call.Requestor, pol.Mode, true)
		rt.Translate.ServeHTTP(w, r)
	}
}

// peekBody reads the start of a POST body, at most MaxBodyBytes, and puts
// it back in front of the rest so the answering handler or upstream still
// gets the whole body, streamed. complete reports that head is all of it.
func (rt *Router) peekBody(r *http.Request) (head []byte, complete bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	if r.Method != http.MethodPost {
		// The v1 surface reads parameters from POST bodies only; any
		// other body is passed on and means nothing to either side.
		return nil, true
	}
	max := rt.MaxBodyBytes
	if max <= 0 {
		max = DefaultMaxBodyBytes
	}
	head, body, err := peek(r.Body, max+1)
	r.Body = body
	complete = err == nil && int64(len(head)) <= max
	if !complete && int64(len(head)) > max {
		head = head[:max]
	}
	return head, complete
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// proxy sends r to the v1 upstream and streams the answer back. The device
// address is forwarded in X-Forwarded-For (only it: hops a trusted proxy
// vouched for are resolved first, anything else is not passed on), Host is
// the upstream's, and the answer reaches the device as v1 sent it, less
// the hop-by-hop headers. Each answer, or its absence, is counted by the
// Guard for pol's requestor; answered reports that v1 answered and not
// with a failure (see Guard).
func (rt *Router) proxy(w http.ResponseWriter, r *http.Request, call Call, pol Policy) (answered bool) {
	upstream := pol.Upstream
	device := v1api.DeviceAddr(r, rt.TrustedProxies)
	failed, canceled := false, false
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			if device.IsValid() {
				pr.Out.Header.Set("X-Forwarded-For", device.String())
			}
			pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host)
			proto := "http"
			if pr.In.TLS != nil {
				proto = "https"
			}
			pr.Out.Header.Set("X-Forwarded-Proto", proto)
		},
		Transport: rt.Transport,
		ModifyResponse: func(resp *http.Response) error {
			failed = classify(resp)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			failed = true
			canceled = errors.Is(err, context.Canceled)
			if !canceled {
				// A url.Error would name the full URL, query included,
				// where an access_token may travel.
				var uerr *url.Error
				if errors.As(err, &uerr) {
					err = uerr.Err
				}
				// The path may carry a registration code: the call's
				// route names it.
				route := call.Op
				if route == "" {
					route = "unmatched"
				}
				rt.logger().WarnContext(r.Context(), "v1 upstream did not answer",
					"host", upstream.Host, "route", route, "error", err.Error())
			}
			if canceled && r.Context().Err() != nil {
				// The device went away: no one to answer, and no
				// gateway error either.
				w.WriteHeader(v1api.StatusClientClosed)
				return
			}
			writeV1Error(w, r, http.StatusBadGateway)
		},
		ErrorLog: slog.NewLogLogger(rt.logger().Handler(), slog.LevelWarn),
	}
	rp.ServeHTTP(w, r)
	if !canceled {
		// A device that went away tells nothing of v1.
		rt.Guard.observe(pol.Requestor, upstream.Host, failed)
	}
	return !failed
}
