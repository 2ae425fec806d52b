package v2client

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// The route templates of the Adobe Pass REST API v2 and DCR endpoints the
// Client calls, named as in Adobe's OpenAPI files: "METHOD /path" with the
// variables in braces. Each call carries its template (see RouteOf), so
// that what observes the calls (spans, metrics) names them without
// matching paths of its own.
const (
	RouteRegister        = "POST /o/client/register"
	RouteToken           = "POST /o/client/token"
	RouteConfiguration   = "GET /api/v2/{serviceProvider}/configuration"
	RouteCreateSession   = "POST /api/v2/{serviceProvider}/sessions"
	RouteResumeSession   = "POST /api/v2/{serviceProvider}/sessions/{code}"
	RouteRetrieveSession = "GET /api/v2/{serviceProvider}/sessions/{code}"
	RoutePartnerSession  = "POST /api/v2/{serviceProvider}/sessions/sso/{partner}"
	RouteProfiles        = "GET /api/v2/{serviceProvider}/profiles"
	RouteProfile         = "GET /api/v2/{serviceProvider}/profiles/{mvpd}"
	RouteProfileByCode   = "GET /api/v2/{serviceProvider}/profiles/code/{code}"
	RoutePartnerProfile  = "POST /api/v2/{serviceProvider}/profiles/sso/{partner}"
	RouteAuthorize       = "POST /api/v2/{serviceProvider}/decisions/authorize/{mvpd}"
	RoutePreauthorize    = "POST /api/v2/{serviceProvider}/decisions/preauthorize/{mvpd}"
	RouteLogout          = "GET /api/v2/{serviceProvider}/logout/{mvpd}"
)

// Routes are the route templates of every endpoint the Client calls.
func Routes() []string {
	return []string{RouteRegister, RouteToken, RouteConfiguration, RouteCreateSession, RouteResumeSession,
		RouteRetrieveSession, RoutePartnerSession, RouteProfiles, RouteProfile, RouteProfileByCode,
		RoutePartnerProfile, RouteAuthorize, RoutePreauthorize, RouteLogout}
}

type routeKey struct{}

// routeContext carries the route template of one HTTP attempt.
type routeContext struct {
	context.Context
	route string
}

func (c *routeContext) Value(key any) any {
	if _, ok := key.(routeKey); ok {
		return &c.route
	}
	return c.Context.Value(key)
}

// RouteOf returns the route template of a request the Client sent, such as
// "GET /api/v2/{serviceProvider}/profiles/code/{code}", for a transport to
// name it by; "" for a request the Client did not send.
func RouteOf(r *http.Request) string {
	if p, ok := r.Context().Value(routeKey{}).(*string); ok {
		return *p
	}
	return ""
}

// routePath is the path of a route template ("/api/v2/{serviceProvider}/profiles"
// of "GET /api/v2/{serviceProvider}/profiles").
func routePath(route string) string {
	_, path, _ := strings.Cut(route, " ")
	return path
}

// durationMS is d as the duration_ms of a log line: milliseconds, to the
// microsecond.
func durationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
