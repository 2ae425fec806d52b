package telemetry

import (
	"net/http"
	"strings"
)

// v2Templates are the Adobe Pass v2 and DCR endpoints the gateway calls,
// as OpenAPI path templates. More specific templates come first: the
// router takes the first match.
func v2Templates() []struct{ method, path string } {
	return []struct{ method, path string }{
		{http.MethodPost, "/o/client/register"},
		{http.MethodPost, "/o/client/token"},
		{http.MethodGet, "/api/v2/{serviceProvider}/configuration"},
		{http.MethodPost, "/api/v2/{serviceProvider}/sessions"},
		{http.MethodPost, "/api/v2/{serviceProvider}/sessions/sso/{partner}"},
		{http.MethodPost, "/api/v2/{serviceProvider}/sessions/{code}"},
		{http.MethodGet, "/api/v2/{serviceProvider}/sessions/{code}"},
		{http.MethodGet, "/api/v2/{serviceProvider}/profiles"},
		{http.MethodGet, "/api/v2/{serviceProvider}/profiles/code/{code}"},
		{http.MethodPost, "/api/v2/{serviceProvider}/profiles/sso/{partner}"},
		{http.MethodGet, "/api/v2/{serviceProvider}/profiles/{mvpd}"},
		{http.MethodPost, "/api/v2/{serviceProvider}/decisions/authorize/{mvpd}"},
		{http.MethodPost, "/api/v2/{serviceProvider}/decisions/preauthorize/{mvpd}"},
		{http.MethodGet, "/api/v2/{serviceProvider}/logout/{mvpd}"},
		{http.MethodGet, "/api/v2/authenticate/{serviceProvider}/{code}"},
	}
}

// v2Router names outgoing requests by v2 route template. It runs on every
// upstream call, so it matches path segments directly rather than through a
// general router: a {variable} segment matches any non-empty segment, as
// gorilla/mux's default pattern [^/]+ does.
type v2Router struct {
	routes []v2Route
}

type v2Route struct {
	method, name string
	segments     []string // variableSegment for a {variable}
}

const variableSegment = "{}"

func newV2Router() *v2Router {
	v := &v2Router{}
	for _, t := range v2Templates() {
		segs := strings.Split(t.path, "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") {
				segs[i] = variableSegment
			}
		}
		v.routes = append(v.routes, v2Route{method: t.method, name: t.method + " " + t.path, segments: segs})
	}
	return v
}

// name returns "METHOD /template" for a request to a v2 endpoint, or
// RouteUnmatched. Paths are matched as sent (escaped), so an escaped slash
// in a segment stays in its segment.
func (v *v2Router) name(r *http.Request) string {
	return v.nameOf(r.Method, r.URL.EscapedPath())
}

// nameOf is name for a method and an escaped path.
func (v *v2Router) nameOf(method, p string) string {
	// A base URL may carry a path prefix, which the templates do not.
	if !strings.HasPrefix(p, "/api/v2/") && !strings.HasPrefix(p, "/o/client/") {
		i := strings.Index(p, "/api/v2/")
		if i < 0 {
			i = strings.Index(p, "/o/client/")
		}
		if i < 0 {
			return RouteUnmatched
		}
		p = p[i:]
	}
	n := strings.Count(p, "/") + 1
	for _, rt := range v.routes {
		if rt.method == method && len(rt.segments) == n && matchSegments(rt.segments, p) {
			return rt.name
		}
	}
	return RouteUnmatched
}

// matchSegments reports whether path, split at "/", matches segs; the
// caller has checked that the counts agree.
func matchSegments(segs []string, path string) bool {
	for _, want := range segs {
		seg, rest, _ := strings.Cut(path, "/")
		if want == variableSegment && seg == "" || want != variableSegment && seg != want {
			return false
		}
		path = rest
	}
	return true
}
