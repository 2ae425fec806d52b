package v1api

import "context"

type requestIDKey struct{}

// requestIDContext carries the Adobe-Request-Id of a request. It answers
// requestIDKey with a pointer to the id (as Front's context does), so that
// reading it boxes no string.
type requestIDContext struct {
	context.Context
	id string
}

func (c *requestIDContext) Value(key any) any {
	if _, ok := key.(requestIDKey); ok {
		return &c.id
	}
	return c.Context.Value(key)
}

// ContextWithRequestID returns a copy of ctx carrying id as the
// Adobe-Request-Id of the request. A Handler serving a request whose context
// already carries one answers with it instead of making its own, so a
// middleware in front of the Handler can choose the id.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return &requestIDContext{Context: ctx, id: id}
}

// RequestIDFromContext returns the Adobe-Request-Id of the request ctx
// belongs to. Within a Handler (and every Backend call it makes) the
// context always carries it, so log handlers can stamp each line with it.
func RequestIDFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(requestIDKey{}).(*string)
	if !ok || *id == "" {
		return "", false
	}
	return *id, true
}
