package v2client

import (
	"context"
	"errors"
)

// Outcome is how one v2 or DCR call ended, as reported to Client.Outcome:
// once per call (after its retries and token refresh), and for authorize
// and preauthorize once per decision, since each carries its own
// item-level error.
type Outcome struct {
	// Route is the call's route template (see Routes), what to label it
	// by. Method and Path are the call's own; Path is escaped, relative to
	// the base URL, without the query, and carries codes and service
	// provider ids.
	Route        string
	Method, Path string
	// Code is the Enhanced Error code (top-level or item-level) or the DCR
	// error code; "" for a success and for a failure that carried none (no
	// answer, an open circuit, an HTML or empty body).
	Code string
	// Failed is false for a 2xx answer and for a decision without an error.
	Failed bool
}

// report passes o to the Outcome hook, when there is one.
func (c *Client) report(ctx context.Context, o Outcome) {
	if c.Outcome != nil {
		c.Outcome(ctx, o)
	}
}

// reportErr reports the outcome of a call that ended in err. A caller that
// gave up learns nothing about Adobe, so it is not reported.
func (c *Client) reportErr(ctx context.Context, cl *call, err error) {
	if c.Outcome == nil || ctx.Err() != nil {
		return
	}
	o := Outcome{Route: cl.route, Method: cl.method, Path: cl.path, Failed: true, Code: Code(err)}
	var d *DCRError
	if o.Code == "" && errors.As(err, &d) {
		o.Code = d.Code
	}
	c.Outcome(ctx, o)
}

// DocumentedCode reports whether code is one of the error codes Adobe
// documents: the 48 Enhanced Error codes and the DCR (RFC 6749 / RFC 7591)
// codes of the v2 reference (testdata/spec/v2.md §11 and §5). Telemetry labels
// anything else "other", so that the label space stays bounded whatever an
// upstream sends.
func DocumentedCode(code string) bool {
	switch code {
	case "invalid_parameter_service_provider", "invalid_parameter_mvpd", "invalid_parameter_code",
		"invalid_parameter_resources", "invalid_parameter_redirect_url", "invalid_parameter_partner",
		"invalid_parameter_saml_response", "invalid_header_device_info", "invalid_header_device_identifier",
		"invalid_header_identity_for_temporary_access", "invalid_header_pfs_permission_access_not_present",
		"invalid_header_pfs_permission_access_not_determined", "invalid_header_pfs_permission_access_not_granted",
		"invalid_header_pfs_provider_id_not_determined", "invalid_header_pfs_provider_id_mismatch",
		"invalid_header_pfs_provider_info_expired", "invalid_integration", "invalid_authentication_session",
		"preauthorization_denied_by_mvpd", "authorization_denied_by_mvpd", "authorization_denied_by_parental_controls",
		"authorization_denied_by_degradation_rule", "internal_server_error",
		"too_many_resources", "invalid_configuration_user_metadata_certificate", "invalid_configuration_temporary_access",
		"invalid_configuration_platform", "invalid_configuration_platform_id", "invalid_configuration_platform_trait",
		"invalid_configuration_platform_category_trait", "invalid_configuration_platform_services",
		"invalid_configuration_mvpd_platform", "invalid_configuration_mvpd_platform_boarding_status",
		"invalid_configuration_mvpd_platform_profile_exchange",
		"invalid_access_token_service_provider", "invalid_access_token_client_application",
		"authenticated_profile_missing", "authenticated_profile_expired", "authenticated_profile_invalidated",
		"temporary_access_duration_limit_exceeded", "temporary_access_resources_limit_exceeded",
		"authorization_denied_by_hba_policies", "authorization_denied_by_session_invalidated",
		"identity_not_recognized_by_mvpd",
		"network_received_error", "network_connection_timeout", "maximum_execution_time_exceeded",
		DCRInvalidRequest, DCRInvalidClient, DCRUnauthorizedClient, DCRUnsupportedGrantType,
		DCRInvalidRedirectURI, DCRInvalidSoftwareStatement, DCRUnapprovedSoftwareStatement:
		return true
	}
	return false
}
