package v2client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

var (
	// ErrThrottled is matched (errors.Is) by every error caused by an HTTP 429
	// answer. Adobe lifts the block one second after the first 429; the client
	// never retries it by itself.
	ErrThrottled = errors.New("v2client: throttled")

	// ErrTimeout is matched by every error caused by the per-call timeout or a
	// network timeout.
	ErrTimeout = errors.New("v2client: timeout")

	// ErrUnauthorized is matched by a v2 401 returned to the caller: with a
	// TokenProvider set, that is a 401 that survived one token refresh, so the
	// gateway's own credentials are being refused.
	ErrUnauthorized = errors.New("v2client: access token refused")

	// ErrUnknownServiceProvider is returned by a TokenSource that has no
	// software statement for the service provider.
	ErrUnknownServiceProvider = errors.New("v2client: no software statement for service provider")
)

// Enhanced error actions (the closed set of §11; it may grow).
const (
	ActionNone                    = "none"
	ActionConfiguration           = "configuration"
	ActionApplicationRegistration = "application-registration"
	ActionAuthentication          = "authentication"
	ActionAuthorization           = "authorization"
	ActionRetry                   = "retry"
)

// DCR error codes (RFC 6749 / RFC 7591).
const (
	DCRInvalidRequest              = "invalid_request"
	DCRInvalidClient               = "invalid_client"
	DCRUnauthorizedClient          = "unauthorized_client"
	DCRUnsupportedGrantType        = "unsupported_grant_type"
	DCRInvalidRedirectURI          = "invalid_redirect_uri"
	DCRInvalidSoftwareStatement    = "invalid_software_statement"
	DCRUnapprovedSoftwareStatement = "unapproved_software_statement"
)

// Error is an Adobe Pass Enhanced Error. It is either the whole body of a
// non-2xx answer (top-level: Status equals the HTTP status, and the error
// returned by the call is an *HTTPError wrapping it) or the Error of one
// Decision inside a 200 answer (item-level).
//
// Message and Details are Adobe's text (Details may carry an MVPD deny reason
// meant for the user); neither ever holds a credential.
type Error struct {
	Action  string `json:"action,omitempty"`
	Status  int    `json:"status"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"`
	HelpURL string `json:"helpUrl,omitempty"`
	Trace   string `json:"trace,omitempty"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "adobe pass error %d %s", e.Status, e.Code)
	if e.Action != "" {
		fmt.Fprintf(&b, " (action %s)", e.Action)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Details != "" {
		fmt.Fprintf(&b, " [%s]", e.Details)
	}
	if e.Trace != "" {
		fmt.Fprintf(&b, " trace=%s", e.Trace)
	}
	return b.String()
}

// DCRError is the OAuth-style {"error": ...} body of a failed DCR call.
type DCRError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *DCRError) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("dcr error %s: %s", e.Code, e.Description)
	}
	return "dcr error " + e.Code
}

// HTTPError reports an answer with a non-2xx status. Enhanced or DCR is set
// when the body was such an error object; for anything else (the HTML of a
// 429, a proxy's 502 page) only the status and content type are kept — the
// body is never stored, so nothing the upstream echoes ends up in logs.
//
// errors.As reaches the wrapped *Error or *DCRError directly, and errors.Is
// matches ErrThrottled for a 429.
type HTTPError struct {
	StatusCode int
	Method     string
	Path       string // request path, without the query
	// Route is the call's route template ("" when unknown), which names
	// the call in Error: the path may carry a registration code.
	Route       string
	ContentType string
	Enhanced    *Error
	DCR         *DCRError
}

func (e *HTTPError) Error() string {
	name := e.Route
	if name == "" {
		name = e.Method + " " + e.Path
	}
	msg := fmt.Sprintf("v2client: %s: %d %s", name, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Enhanced != nil:
		msg += ": " + e.Enhanced.Error()
	case e.DCR != nil:
		msg += ": " + e.DCR.Error()
	case e.ContentType != "":
		msg += " (" + e.ContentType + " body)"
	}
	return msg
}

// Unwrap exposes the decoded body and the throttling sentinel.
func (e *HTTPError) Unwrap() []error {
	var errs []error
	if e.Enhanced != nil {
		errs = append(errs, e.Enhanced)
	}
	if e.DCR != nil {
		errs = append(errs, e.DCR)
	}
	if e.StatusCode == http.StatusTooManyRequests {
		errs = append(errs, ErrThrottled)
	}
	if e.StatusCode == http.StatusUnauthorized && e.DCR == nil {
		errs = append(errs, ErrUnauthorized)
	}
	return errs
}

// Code returns the Enhanced Error code of err (top-level, wherever it is
// wrapped), or "" when there is none.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// StatusCode returns the HTTP status of err's answer, or 0 when err did not
// come from an HTTP answer (a network failure or timeout).
func StatusCode(err error) int {
	var e *HTTPError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsThrottled reports whether err comes from a 429 answer.
func IsThrottled(err error) bool { return errors.Is(err, ErrThrottled) }

// IsTimeout reports whether err comes from a timeout, ours or the network's.
func IsTimeout(err error) bool {
	if errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsInvalidClient reports whether err is a DCR invalid_client answer, the
// only answer that justifies registering again.
func IsInvalidClient(err error) bool {
	var e *DCRError
	return errors.As(err, &e) && e.Code == DCRInvalidClient
}
