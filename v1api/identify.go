package v1api

import (
	"net/http"
	"slices"
	"strings"
)

// Operation is the v1 operation a request is routed to.
type Operation struct {
	// Template is the method and path template, such as
	// "GET /api/v1/authorize" or "GET /reggie/v1/{requestor}/regcode/{code}".
	// A format extension (.xml, .json) is not part of it.
	Template string
	// Vars are the path variables the request fills: requestor, code, mvpd.
	Vars map[string]string
	// RequestorParams name the parameters that carry the requestor when
	// the path does not, in order of preference.
	RequestorParams []string
	// ReadOnly reports an operation that changes no state, upstream or in
	// the gateway, so that answering it twice is harmless.
	ReadOnly bool
}

// Identify returns the v1 operation the Handler routes r to, or false when
// no v1 route matches r's method and path. It reads only r's method and
// path, so a router in front of the Handler can tell what a call is before
// handing it on.
func Identify(r *http.Request) (Operation, bool) {
	return identify(routeTable(), r)
}

// RouteTemplate returns the Template of the v1 operation r would be
// routed to, or false when no v1 route matches. Telemetry names spans and
// metrics by it: raw paths carry registration codes and requestors, which
// would make every call a name of its own.
func (h *Handler) RouteTemplate(r *http.Request) (string, bool) {
	op, ok := identify(h.routes, r)
	return op.Template, ok
}

func identify(table []*route, r *http.Request) (Operation, bool) {
	path, _ := trimExtension(r.URL.Path)
	m := matchRoute(table, r.Method, path)
	if m.route == nil {
		return Operation{}, false
	}
	return Operation{
		Template:        r.Method + " " + m.template,
		Vars:            m.vars,
		RequestorParams: slices.Clone(m.route.requestorParams),
		ReadOnly:        m.route.readOnly,
	}, true
}

// routeMatch is the outcome of matching a method and path against the
// route table.
type routeMatch struct {
	route    *route // nil when nothing matched
	template string
	vars     map[string]string
	// methodMismatch reports that some route has the path but not the
	// method (a 405 rather than a 404).
	methodMismatch bool
}

// matchRoute finds the first route, in table order, with the method and a
// path template matching path. A {name} segment matches one non-empty
// segment; everything else matches itself.
func matchRoute(table []*route, method, path string) routeMatch {
	var m routeMatch
	for _, rt := range table {
		for _, tpl := range rt.paths {
			vars, ok := matchTemplate(tpl, path)
			if !ok {
				continue
			}
			if !slices.Contains(rt.methods, method) {
				m.methodMismatch = true
				continue
			}
			return routeMatch{route: rt, template: tpl, vars: vars}
		}
	}
	return m
}

func matchTemplate(tpl, path string) (map[string]string, bool) {
	// The templates name at most maxVars variables; they are kept here
	// until the whole path has matched, so a miss allocates nothing.
	const maxVars = 4
	var names, values [maxVars]string
	n := 0
	for {
		t, tplRest, tplMore := strings.Cut(tpl, "/")
		s, pathRest, pathMore := strings.Cut(path, "/")
		if name, ok := strings.CutPrefix(t, "{"); ok && strings.HasSuffix(name, "}") {
			if s == "" || n == maxVars {
				return nil, false
			}
			names[n], values[n] = strings.TrimSuffix(name, "}"), s
			n++
		} else if t != s {
			return nil, false
		}
		if tplMore != pathMore {
			return nil, false
		}
		if !tplMore {
			break
		}
		tpl, path = tplRest, pathRest
	}
	vars := make(map[string]string, n)
	for i := range n {
		vars[names[i]] = values[i]
	}
	return vars, true
}
