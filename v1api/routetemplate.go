package v1api

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
)

// RouteTemplate returns the method and path template of the v1 operation r
// would be routed to, such as "GET /api/v1/authorize" or
// "GET /reggie/v1/{requestor}/regcode/{code}", or false when no v1 route
// matches. A format extension (.xml, .json) is not part of the template.
// Telemetry names spans and metrics by it: raw paths carry registration
// codes and requestors, which would make every call a name of its own.
func (h *Handler) RouteTemplate(r *http.Request) (string, bool) {
	r, _ = stripExtension(r)
	var match mux.RouteMatch
	if !h.router.Match(r, &match) || match.MatchErr != nil || match.Route == nil {
		return "", false
	}
	tpl, err := match.Route.GetPathTemplate()
	if err != nil {
		return "", false
	}
	return r.Method + " " + tpl, true
}

type requestIDKey struct{}

// ContextWithRequestID returns a copy of ctx carrying id as the
// Adobe-Request-Id of the request. A Handler serving a request whose context
// already carries one answers with it instead of making its own, so a
// middleware in front of the Handler can choose the id.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the Adobe-Request-Id of the request ctx
// belongs to. Within a Handler (and every Backend call it makes) the
// context always carries it, so log handlers can stamp each line with it.
func RequestIDFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(requestIDKey{}).(string)
	return id, ok && id != ""
}
