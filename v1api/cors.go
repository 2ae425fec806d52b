package v1api

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The CORS headers of Adobe's v1 service, as its throttled answer shows them
// (Adobe Pass "Throttling mechanism" page,
// help/authentication/integration-guide-programmers/throttling-mechanism.md):
// the methods and request headers v1 devices and login web apps send, and
// the answer headers their scripts may read. Adobe-Request-Id is added to
// the exposed ones so that a login web app can report it; the request
// headers also name the ones this gateway reads that Adobe's list left out
// (Adobe-Subject-Token, the Roku token header).
const (
	corsAllowMethods  = "POST,GET,OPTIONS,DELETE"
	corsAllowHeaders  = "ap_11,ap_42,ap_z,ap_19,ap_21,ap_23,authorization,content-type,pass_sfp,AP-Session-Identifier,AP-Device-Identifier,AP-SDK-Identifier,X-Device-Info,Adobe-Subject-Token,X-Roku-Reserved-Roku-Connect-Token"
	corsExposeHeaders = "pass_sfp,Authzf-Error-Code,Authzf-Sub-Error-Code,Authzf-Error-Details,Adobe-Request-Id"
)

const corsHeaderPrefix = "Access-Control-"

// corsPaths are the path prefixes CORS answers: the v1 API and the device
// DCR endpoints.
var corsPaths = [...]string{"/api/v1/", "/reggie/v1/", "/o/client/"}

// CORS lets the web pages of the origins a requestor allows (a
// programmer's second-screen login web app) call the v1 API from a browser,
// as Adobe's v1 service did: a preflight (OPTIONS with
// Access-Control-Request-Method) is answered 204 with no body, and every
// answer to an allowed origin, throttled and error answers included,
// carries Access-Control-Allow-Origin (the origin echoed),
// Allow-Credentials true, the methods, request headers and exposed headers
// of Adobe's answers, and Vary: Origin. A disallowed origin gets the same
// answer with no Access-Control-* header, so its browser keeps the answer
// from the page; the call itself is answered as it would be without CORS,
// never with an error of its own.
//
// Calls without an Origin header (devices) pass through untouched. The
// zero value grants nothing.
type CORS struct {
	// Allowed reports whether origin may call on behalf of requestor. The
	// requestor is the one the call names in its path or query
	// (Call.NamedRequestor of the Call that Front parsed, or of the request
	// parsed now without a Front); "" when it names none (the DCR
	// endpoints, a requestor sent only in a POST body), in which case the
	// origin should be allowed when any requestor allows it. Nil allows
	// no origin.
	Allowed func(requestor, origin string) bool
}

// Wrap returns next with CORS on the v1 and DCR paths.
func (c *CORS) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin, ok := r.Header["Origin"]
		if !ok || !corsPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		grant := len(origin) == 1 && c.Allowed != nil && c.Allowed(ParseCall(r).NamedRequestor(), origin[0])
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			setCORS(w.Header(), grant, origin)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(&corsWriter{ResponseWriter: w, grant: grant, origin: origin}, r)
	})
}

func corsPath(p string) bool {
	for _, prefix := range corsPaths {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// setCORS replaces whatever Access-Control-* headers h holds (a v1
// upstream's, in passthrough) by the grant for origin, or by none.
func setCORS(h http.Header, grant bool, origin []string) {
	for k := range h {
		if strings.HasPrefix(k, corsHeaderPrefix) {
			delete(h, k)
		}
	}
	if !containsToken(h.Values("Vary"), "Origin") {
		h.Add("Vary", "Origin")
	}
	if !grant {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin[0])
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
}

func containsToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// corsWriter sets the CORS headers when the answer's header is written,
// so that they hold whoever wrote the answer (the v1 handler, the
// throttle, the migration router's reverse proxy).
type corsWriter struct {
	http.ResponseWriter
	grant  bool
	origin []string
	done   bool
}

func (w *corsWriter) WriteHeader(status int) {
	if !w.done && status >= 200 {
		w.done = true
		setCORS(w.ResponseWriter.Header(), w.grant, w.origin)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *corsWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (the reverse proxy's flushes) reach
// the underlying writer.
func (w *corsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Origins is a set of web origins, as a requestor's configuration lists
// them. An entry is one of:
//
//   - "*": any origin (the answer still echoes the caller's origin, as a
//     credentialed call requires);
//   - an origin, "https://login.example.com" or "http://localhost:8080":
//     exactly that scheme, host and port (the scheme's default port when
//     none is given);
//   - "https://*.example.com": that scheme and any subdomain of
//     example.com, on the default port or the one given;
//   - a bare domain, "example.com": http or https, the domain itself or any
//     subdomain, any port (the form of a requestor's allowed domains).
//
// The zero value holds no origin.
type Origins struct {
	any     bool
	exact   map[string]bool
	wild    []originPattern
	domains []string
}

type originPattern struct {
	scheme, suffix, port string
}

// ParseOrigins returns the set of the given entries, or an error naming the
// first malformed one.
func ParseOrigins(entries []string) (*Origins, error) {
	o := &Origins{exact: map[string]bool{}}
	for _, e := range entries {
		if err := o.add(strings.TrimSpace(e)); err != nil {
			return nil, fmt.Errorf("origin %q: %w", e, err)
		}
	}
	return o, nil
}

// AddDomain adds a bare domain: http or https, the domain or a subdomain,
// any port.
func (o *Origins) AddDomain(domain string) {
	d := strings.ToLower(strings.Trim(strings.TrimSpace(domain), "."))
	if d != "" {
		o.domains = append(o.domains, d)
	}
}

// AddOriginOf adds the origin of an absolute http(s) URL (a redirect URL,
// a login web app URL); other values are ignored.
func (o *Origins) AddOriginOf(rawURL string) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return
	}
	if o.exact == nil {
		o.exact = map[string]bool{}
	}
	o.exact[canonicalOrigin(u.Scheme, u.Hostname(), u.Port())] = true
}

var errOrigin = errors.New("want *, a bare domain, or scheme://host[:port] with an optional *. host prefix and no path")

func (o *Origins) add(e string) error {
	if e == "*" {
		o.any = true
		return nil
	}
	if !strings.Contains(e, "://") {
		if e == "" || strings.ContainsAny(e, "/:*?#@ ") {
			return errOrigin
		}
		o.AddDomain(e)
		return nil
	}
	scheme, rest, _ := strings.Cut(e, "://")
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" || rest == "" || strings.ContainsAny(rest, "/?#@") {
		return errOrigin
	}
	host, port := rest, ""
	if h, p, err := net.SplitHostPort(rest); err == nil {
		host, port = h, p
	}
	host = strings.ToLower(host)
	if suffix, ok := strings.CutPrefix(host, "*."); ok {
		if suffix == "" || strings.Contains(suffix, "*") {
			return errOrigin
		}
		o.wild = append(o.wild, originPattern{scheme: scheme, suffix: "." + suffix, port: defaultPort(scheme, port)})
		return nil
	}
	if host == "" || strings.Contains(host, "*") {
		return errOrigin
	}
	o.exact[canonicalOrigin(scheme, host, port)] = true
	return nil
}

// Allows reports whether origin, an Origin header value, is in o.
func (o *Origins) Allows(origin string) bool {
	if o == nil || origin == "" || origin == "null" {
		return false
	}
	if o.any {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return false
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := defaultPort(scheme, u.Port())
	if o.exact[canonicalOrigin(scheme, host, port)] {
		return true
	}
	for _, p := range o.wild {
		if p.scheme == scheme && p.port == port && strings.HasSuffix(host, p.suffix) {
			return true
		}
	}
	for _, d := range o.domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// Empty reports whether o allows no origin at all.
func (o *Origins) Empty() bool {
	return o == nil || !o.any && len(o.exact) == 0 && len(o.wild) == 0 && len(o.domains) == 0
}

func defaultPort(scheme, port string) string {
	if port != "" {
		return port
	}
	if scheme == "https" {
		return "443"
	}
	return "80"
}

func canonicalOrigin(scheme, host, port string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	return scheme + "://" + net.JoinHostPort(host, defaultPort(scheme, port))
}
