package telemetry

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// The spans follow OpenTelemetry's semantic conventions for HTTP
// (https://opentelemetry.io/docs/specs/semconv/http/http-spans/): a
// server span per v1 call with http.route, a client span per v2 attempt
// with url.template, each named "{method} {route}", or by its method
// alone when no route matched. url.path and url.full are the real ones
// or absent: a path that may carry a registration code (a route parameter
// named code, or any path no route matched) is left out, and the query
// values of url.full are REDACTED, as the conventions ask for sensitive
// query values.

// tracerName names the instrumentation scope of the gateway's spans.
const tracerName = "github.com/passgw/passgw/telemetry"

// redacted replaces a value left out of a span attribute.
const redacted = "REDACTED"

// spanName is the name of a span for a request with method (as
// MethodLabel gives it) and route template ("GET /api/v1/authorize"; ""
// when none matched): the template, else the method alone ("HTTP" for a
// method HTTP does not define).
func spanName(method, template string) string {
	if template != "" && template != RouteUnmatched {
		return template
	}
	if method == MethodOther {
		return "HTTP"
	}
	return method
}

// secretPath reports whether a path matching template may carry a secret:
// a route parameter named code (a registration code), or no template at
// all (any path).
func secretPath(template string) bool {
	return template == "" || template == RouteUnmatched || strings.Contains(template, "{code}")
}

// methodAttrs are http.request.method, and its original value when the
// method is not one HTTP defines.
func methodAttrs(attrs []attribute.KeyValue, raw string) []attribute.KeyValue {
	m := MethodLabel(raw)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(m))
	if m == MethodOther {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginal(raw))
	}
	return attrs
}

// hostAttrs are server.address and server.port of hostport.
func hostAttrs(attrs []attribute.KeyValue, hostport string) []attribute.KeyValue {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	if host != "" {
		attrs = append(attrs, semconv.ServerAddress(host))
	}
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	return attrs
}

// serverAttrs are the attributes of the server span of r, a call matching
// template ("" for none).
func serverAttrs(r *http.Request, template string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = methodAttrs(attrs, r.Method)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs, semconv.URLScheme(scheme))
	attrs = hostAttrs(attrs, r.Host)
	if !secretPath(template) {
		attrs = append(attrs, semconv.URLPath(r.URL.Path))
	}
	if _, path, ok := strings.Cut(template, " "); ok {
		attrs = append(attrs, semconv.HTTPRoute(path))
	}
	return attrs
}

// clientAttrs are the attributes of the client span of r, an attempt of
// the v2 call with route template ("" for none).
func clientAttrs(r *http.Request, template string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = methodAttrs(attrs, r.Method)
	attrs = hostAttrs(attrs, r.URL.Host)
	if _, path, ok := strings.Cut(template, " "); ok {
		attrs = append(attrs, semconv.URLTemplate(path))
	}
	if !secretPath(template) {
		attrs = append(attrs, semconv.URLFull(fullURL(r.URL)))
	}
	return attrs
}

// fullURL is u without user information and with every query value
// REDACTED.
func fullURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			for i := range vs {
				vs[i] = redacted
			}
			q[k] = vs
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// endServer records the answer's status on a server span: 5xx are errors
// of the server, 4xx the client's.
func endServer(span trace.Span, status int) {
	span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if status >= 500 {
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		span.SetStatus(codes.Error, "")
	}
}

// endClient records how an attempt ended on a client span: an answer
// with its status (4xx and 5xx are errors), or err.
func endClient(span trace.Span, resp *http.Response, err error) {
	switch {
	case err != nil:
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		span.SetStatus(codes.Error, "")
	default:
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
		if resp.StatusCode >= 400 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
			span.SetStatus(codes.Error, "")
		}
	}
}

// errorType is error.type of a transport error: "timeout" or the
// conventions' fallback "_OTHER". The error's text, which may hold the
// URL, is not recorded.
func errorType(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "_OTHER"
}
