package telemetry

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
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

// v2Router names outgoing requests by v2 route template.
type v2Router struct {
	router *mux.Router
}

func newV2Router() *v2Router {
	r := mux.NewRouter()
	// Paths are matched as sent (escaped), so an escaped slash in a
	// segment stays in its segment.
	r.UseEncodedPath()
	for _, t := range v2Templates() {
		r.Methods(t.method).Path(t.path)
	}
	return &v2Router{router: r}
}

// name returns "METHOD /template" for a request to a v2 endpoint, or
// RouteUnmatched.
func (v *v2Router) name(r *http.Request) string {
	// A base URL may carry a path prefix, which the templates do not.
	if p := r.URL.EscapedPath(); !strings.HasPrefix(p, "/api/v2/") && !strings.HasPrefix(p, "/o/client/") {
		i := strings.Index(p, "/api/v2/")
		if i < 0 {
			i = strings.Index(p, "/o/client/")
		}
		if i < 0 {
			return RouteUnmatched
		}
		u := *r.URL
		u.Path, u.RawPath = p[i:], ""
		if unescaped, err := url.PathUnescape(p[i:]); err == nil {
			u.Path, u.RawPath = unescaped, p[i:]
		}
		r = r.WithContext(r.Context())
		r.URL = &u
	}
	var m mux.RouteMatch
	if !v.router.Match(r, &m) || m.MatchErr != nil || m.Route == nil {
		return RouteUnmatched
	}
	tpl, err := m.Route.GetPathTemplate()
	if err != nil {
		return RouteUnmatched
	}
	return r.Method + " " + tpl
}
