package translate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

func TestFromV2(t *testing.T) {
	tests := []struct {
		v2code  string
		status  int
		action  string
		wantSt  int
		wantMsg string
		wantCd  string
		details bool
	}{
		{"authenticated_profile_missing", 403, "authentication", 403, v1model.MsgNotAuthenticated, v1model.CodeAuthenticationSessionMissing, false},
		{"authenticated_profile_expired", 403, "authentication", 403, v1model.MsgNotAuthenticated, v1model.CodeAuthenticationSessionExpired, false},
		{"authenticated_profile_invalidated", 403, "authentication", 403, v1model.MsgNotAuthenticated, v1model.CodeAuthenticationSessionInvalidated, false},
		{"invalid_parameter_resources", 400, "none", 400, v1model.MsgBadRequest, v1model.CodeMissingResource, false},
		{"invalid_parameter_service_provider", 400, "none", 400, v1model.MsgBadRequest, v1model.CodeInvalidRequestor, false},
		{"invalid_header_device_info", 400, "none", 400, v1model.MsgBadRequest, v1model.CodeInvalidDeviceInfo, false},
		{"invalid_header_device_identifier", 400, "none", 400, v1model.MsgBadRequest, v1model.CodeInvalidDeviceID, false},
		{"invalid_integration", 400, "none", 400, v1model.MsgBadRequest, v1model.CodeUnknownIntegration, false},
		{"internal_server_error", 500, "none", 500, v1model.MsgInternalServerError, v1model.CodeInternalError, false},
		{"authorization_denied_by_mvpd", 403, "none", 403, v1model.MsgNotAuthorized, v1model.CodeAuthorizationDeniedByMVPD, true},
		{"authorization_denied_by_parental_controls", 403, "none", 403, v1model.MsgNotAuthorized, v1model.CodeAuthorizationDeniedByParentalControls, true},
		{"preauthorization_denied_by_mvpd", 403, "none", 403, v1model.MsgNotAuthorized, v1model.CodePreauthorizationDeniedByMVPD, true},
		{"authorization_denied_by_hba_policies", 403, "authentication", 403, v1model.MsgNotAuthorized, v1model.CodeAuthorizationDeniedByHBAPolicies, true},
		{"authorization_denied_by_session_invalidated", 403, "authentication", 403, v1model.MsgNotAuthorized, v1model.CodeAuthorizationDeniedBySessionInvalidated, true},
		{"identity_not_recognized_by_mvpd", 403, "authentication", 403, v1model.MsgNotAuthorized, v1model.CodeIdentityNotRecognizedByMVPD, true},
		{"authorization_denied_by_degradation_rule", 403, "none", 403, v1model.MsgNotAuthorized, v1model.CodeAuthorizationDeniedByMVPD, true},
		{"temporary_access_duration_limit_exceeded", 403, "authentication", 403, v1model.MsgNotAuthorized, v1model.CodeAuthenticationSessionExpired, true},
		{"network_received_error", 403, "retry", 403, v1model.MsgForbidden, v1model.CodeNetworkReceivedError, false},
		{"network_connection_timeout", 403, "retry", 403, v1model.MsgForbidden, v1model.CodeNetworkConnectionTimeout, false},
		{"maximum_execution_time_exceeded", 403, "retry", 403, v1model.MsgForbidden, v1model.CodeMaximumExecutionTimeExceeded, false},
		{"too_many_resources", 403, "configuration", 403, v1model.MsgForbidden, v1model.CodeTooManyResources, false},
		{"invalid_configuration_platform", 500, "configuration", 500, v1model.MsgInternalServerError, v1model.CodeInternalError, false},
		{"some_future_authentication_code", 403, "authentication", 403, v1model.MsgNotAuthenticated, v1model.CodeAuthenticationSessionMissing, false},
		{"some_future_retry_code", 403, "retry", 403, v1model.MsgForbidden, v1model.CodeNetworkReceivedError, false},
		{"some_future_bad_request", 400, "none", 400, v1model.MsgBadRequest, v1model.CodeInternalError, false},
	}
	for _, tt := range tests {
		t.Run(tt.v2code, func(t *testing.T) {
			e := fromV2(&v2client.Error{Code: tt.v2code, Status: tt.status, Action: tt.action,
				Message: "v2 message", Details: "MVPD says no", Trace: "adobe-trace", HelpURL: "https://adobe.example/help"})
			if e.Status != tt.wantSt || e.Message != tt.wantMsg || e.Code != tt.wantCd {
				t.Fatalf("got %d %q %q, want %d %q %q", e.Status, e.Message, e.Code, tt.wantSt, tt.wantMsg, tt.wantCd)
			}
			if e.Action != v1model.ActionFor(e.Code) && !(e.Code == v1model.CodeInternalError && e.Action == v1model.ActionRetry) {
				t.Errorf("action %q for %s", e.Action, e.Code)
			}
			if got := e.Details == "MVPD says no"; got != tt.details {
				t.Errorf("details = %q, want passed through: %v", e.Details, tt.details)
			}
			if e.Trace != "" || e.HelpURL != "" {
				t.Errorf("v2 trace/helpUrl reached the v1 error: %+v", e)
			}
		})
	}
}

// TestUpstreamFailures injects failures into v2 authorize calls and checks
// what the device gets: never a v2 type, a stack trace or a secret.
func TestUpstreamFailures(t *testing.T) {
	blockForever := func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() }
	e := newEnv(t,
		envOption{sandbox: func(c *sandbox.Config) { c.Sleep = blockForever }},
		envOption{client: func(c *v2client.Client) { c.Timeout = 300 * time.Millisecond }},
	)
	d := testDevice("faulty")
	e.signIn(d, "AcmeCable", "alice")
	if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
		t.Fatal(err)
	}
	const path = "/api/v2/*/decisions/authorize/*"
	tests := []struct {
		name   string
		fault  sandbox.Fault
		status int
		code   string
		action string
		alert  bool
	}{
		{"credentials refused after refresh", sandbox.Fault{Kind: sandbox.FaultStatus, Status: 401}, 500, v1model.CodeInternalError, v1model.ActionRetry, true},
		{"throttled", sandbox.Fault{Kind: sandbox.FaultThrottle}, 429, "", "", false},
		{"internal error", sandbox.Fault{Kind: sandbox.FaultStatus, Status: 500}, 500, v1model.CodeInternalError, v1model.ActionRetry, false},
		{"unavailable", sandbox.Fault{Kind: sandbox.FaultStatus, Status: 503}, 500, v1model.CodeInternalError, v1model.ActionRetry, false},
		{"connection dropped", sandbox.Fault{Kind: sandbox.FaultDrop}, 500, v1model.CodeInternalError, v1model.ActionRetry, false},
		{"timeout", sandbox.Fault{Kind: sandbox.FaultLatency, Latency: sandbox.Duration(time.Hour)}, 500, v1model.CodeInternalError, v1model.ActionRetry, false},
		{"device info refused", sandbox.Fault{Kind: sandbox.FaultStatus, Status: 400, Code: "invalid_header_device_info"}, 400, v1model.CodeInvalidDeviceInfo, v1model.ActionNone, false},
		{"profile expired", sandbox.Fault{Kind: sandbox.FaultStatus, Status: 403, Code: "authenticated_profile_expired"}, 403, v1model.CodeAuthenticationSessionExpired, v1model.ActionAuthentication, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fault.Path = path
			id, err := e.sandbox.AddFault(tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			defer e.sandbox.RemoveFault(id)
			logStart := len(e.logs.String())
			_, err = e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"})
			ve := v1err(t, err, tt.status, tt.code)
			if ve.Action != tt.action {
				t.Errorf("action = %q, want %q", ve.Action, tt.action)
			}
			for _, s := range []string{ve.Message, ve.Details, ve.HelpURL, ve.Trace} {
				if strings.Contains(s, "v2") || strings.Contains(s, "adobe") || strings.Contains(s, "goroutine") || strings.Contains(s, "{") {
					t.Errorf("v1 error text %q leaks upstream detail", s)
				}
			}
			logs := e.logs.String()[logStart:]
			if got := strings.Contains(logs, "ALERT"); got != tt.alert {
				t.Errorf("operator alert logged = %v, want %v; logs:\n%s", got, tt.alert, logs)
			}
		})
	}
	// No secret ever reached the logs.
	tok, ok, err := Credentials{Store: e.store}.LoadToken(e.ctx, testRequestor)
	cred, _, _ := Credentials{Store: e.store}.LoadCredentials(e.ctx, testRequestor)
	if err != nil || !ok {
		t.Fatalf("no stored access token: %v", err)
	}
	logs := e.logs.String()
	for _, secret := range []string{tok.AccessToken, cred.ClientSecret} {
		if secret == "" || strings.Contains(logs, secret) {
			t.Errorf("a secret (%d chars) is missing or appears in the logs", len(secret))
		}
	}
}
