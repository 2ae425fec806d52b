package v1api

import "context"

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
