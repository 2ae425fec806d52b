package translate

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// forRequestor runs operation op for the named requestor: it looks the
// requestor up, calls f, and turns any failure into the v1 error that
// requestor gets (see fail). The regcode get/delete and tokens/authz
// operations map their errors themselves: their requestor may come from the
// stored record, or their errors need v1's null details.
func forRequestor[T any](ctx context.Context, g *Gateway, op, requestor string, f func(*Requestor) (T, error)) (T, error) {
	var zero T
	rq, err := g.requestor(requestor)
	if err != nil {
		return zero, g.fail(ctx, nil, op, err)
	}
	v, err := f(rq)
	if err != nil {
		return zero, g.fail(ctx, rq, op, err)
	}
	return v, nil
}

// doForRequestor is forRequestor for operations that answer nothing.
func doForRequestor(ctx context.Context, g *Gateway, op, requestor string, f func(*Requestor) error) error {
	_, err := forRequestor(ctx, g, op, requestor, func(rq *Requestor) (struct{}, error) { return struct{}{}, f(rq) })
	return err
}

// fail turns any failure of an operation into the v1 error the device gets,
// and strips the enhanced fields for requestors that did not enable them.
// rq may be nil (unknown requestor).
func (g *Gateway) fail(ctx context.Context, rq *Requestor, op string, err error) error {
	if err == nil {
		return nil
	}
	var ve *v1model.Error
	if !errors.As(err, &ve) {
		ve = g.upstreamError(ctx, rq, op, err)
	}
	if rq != nil && !rq.EnhancedErrors {
		ve = plain(ve)
	}
	return ve
}

// plain returns e without its enhanced fields: the renderer writes the
// enhanced form exactly when Code is set.
func plain(e *v1model.Error) *v1model.Error {
	c := *e
	c.Code, c.Action, c.HelpURL, c.Trace = "", "", "", ""
	return &c
}

// upstreamError maps a v2 (or store) failure to a v1 error. The v2 error is
// kept as Cause for logs only; nothing of it but an MVPD's deny text reaches
// the device.
func (g *Gateway) upstreamError(ctx context.Context, rq *Requestor, op string, err error) *v1model.Error {
	sp := ""
	if rq != nil {
		sp = rq.ServiceProvider
	}
	attrs := []slog.Attr{slog.String("op", op), slog.String("service_provider", sp), slog.Any("error", err)}
	var ee *v2client.Error
	switch {
	case errors.Is(err, v2client.ErrUnauthorized), errors.Is(err, v2client.ErrUnknownServiceProvider),
		v2client.IsInvalidClient(err):
		// The gateway's own credentials: never the device's fault.
		g.log.LogAttrs(ctx, slog.LevelError, "ALERT: Adobe Pass refuses the gateway's credentials", attrs...)
		return v1model.ErrInternal(err)
	case v2client.IsThrottled(err):
		g.log.LogAttrs(ctx, slog.LevelWarn, "adobe pass throttled a device call", attrs...)
		e := v1model.ErrTooManyRequests()
		e.Cause = err
		return e
	case errors.As(err, &ee):
		e := fromV2(ee)
		e.Cause = err
		if e.Status >= 500 {
			level := slog.LevelWarn
			if strings.HasPrefix(ee.Code, "invalid_configuration") {
				level = slog.LevelError
			}
			g.log.LogAttrs(ctx, level, "adobe pass error", attrs...)
		}
		return e
	default:
		// Timeouts, connection failures, 5xx pages, undecodable answers and
		// store failures: the device should try again.
		g.log.LogAttrs(ctx, slog.LevelWarn, "upstream failure", attrs...)
		return v1model.ErrInternal(err)
	}
}

// fromV2 maps a v2 Enhanced Error (top-level or item-level) to the v1 error
// with the matching v1 code. The MVPD's details text goes to the device.
func fromV2(ee *v2client.Error) *v1model.Error {
	deny := func(code string) *v1model.Error { return v1model.ErrNotAuthorized(code, ee.Details) }
	switch ee.Code {
	case "authenticated_profile_missing":
		return v1model.NewError(403, v1model.MsgNotAuthenticated, v1model.CodeAuthenticationSessionMissing)
	case "authenticated_profile_expired":
		return v1model.NewError(403, v1model.MsgNotAuthenticated, v1model.CodeAuthenticationSessionExpired)
	case "authenticated_profile_invalidated":
		return v1model.NewError(403, v1model.MsgNotAuthenticated, v1model.CodeAuthenticationSessionInvalidated)
	case "temporary_access_duration_limit_exceeded", "temporary_access_resources_limit_exceeded":
		// The free preview is over: like an expired authentication, the
		// user must sign in with a real MVPD.
		return deny(v1model.CodeAuthenticationSessionExpired)
	case v1model.CodeAuthorizationDeniedByMVPD, v1model.CodeAuthorizationDeniedByParentalControls,
		v1model.CodeAuthorizationDeniedByHBAPolicies, v1model.CodeAuthorizationDeniedBySessionInvalidated,
		v1model.CodeIdentityNotRecognizedByMVPD, v1model.CodePreauthorizationDeniedByMVPD:
		return deny(ee.Code)
	case "authorization_denied_by_degradation_rule", "authorization_denied_by_degradation_configuration_change":
		e := deny(v1model.CodeAuthorizationDeniedByMVPD)
		if e.Details == "" {
			e.Details = ee.Message // the custom degradation text may come here
		}
		return e
	case v1model.CodeNetworkReceivedError, v1model.CodeNetworkConnectionTimeout, v1model.CodeMaximumExecutionTimeExceeded:
		return v1model.NewError(403, v1model.MsgForbidden, ee.Code)
	case v1model.CodeTooManyResources:
		return v1model.ErrForbidden(v1model.CodeTooManyResources)
	case "invalid_parameter_resources":
		return v1model.ErrBadRequest(v1model.CodeMissingResource)
	case "invalid_parameter_service_provider":
		return v1model.ErrBadRequest(v1model.CodeInvalidRequestor)
	case "invalid_header_device_info":
		return v1model.ErrBadRequest(v1model.CodeInvalidDeviceInfo)
	case "invalid_header_device_identifier":
		return v1model.ErrBadRequest(v1model.CodeInvalidDeviceID)
	case "invalid_integration", "invalid_parameter_mvpd":
		return v1model.ErrBadRequest(v1model.CodeUnknownIntegration)
	case "internal_server_error":
		return v1model.ErrInternal(nil)
	}
	switch {
	case ee.Status >= 500 || ee.Status == http.StatusUnauthorized ||
		strings.HasPrefix(ee.Code, "invalid_configuration") || strings.HasPrefix(ee.Code, "invalid_access_token"):
		return v1model.ErrInternal(nil)
	case ee.Status == http.StatusForbidden:
		// Codes v2 may add later: go by the documented action.
		switch ee.Action {
		case v2client.ActionAuthentication:
			return v1model.NewError(403, v1model.MsgNotAuthenticated, v1model.CodeAuthenticationSessionMissing)
		case v2client.ActionRetry:
			return v1model.NewError(403, v1model.MsgForbidden, v1model.CodeNetworkReceivedError)
		}
		return deny(v1model.CodeAuthorizationDeniedByMVPD)
	case ee.Status == http.StatusNotFound:
		return v1model.ErrNotFound(v1model.CodeAuthorizationNotFound)
	case ee.Status == http.StatusGone:
		return v1model.ErrGone(v1model.CodeAuthorizationExpired)
	case ee.Status == http.StatusPreconditionFailed:
		return v1model.ErrNotAuthenticated(v1model.CodeAuthenticationSessionMissing)
	}
	return v1model.ErrBadRequest(v1model.CodeInternalError)
}

// invalidSession reports whether err is v2's answer for an unknown, expired
// or malformed authentication code.
func invalidSession(err error) bool {
	switch v2client.Code(err) {
	case "invalid_authentication_session", "invalid_parameter_code":
		return true
	}
	return false
}

// authnCode returns the v2 authentication-problem code of err, or "".
func authnProblem(err error) string {
	switch c := v2client.Code(err); c {
	case "authenticated_profile_missing", "authenticated_profile_expired", "authenticated_profile_invalidated":
		return c
	}
	return ""
}
