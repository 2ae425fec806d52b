package sandbox

import (
	"encoding/json"
	"net/http"

	"github.com/passgw/passgw/v2client"
)

const helpURL = "https://experienceleague.adobe.com/docs/pass/authentication/auth-features/error-reportn/enhanced-error-codes.html"

// Enhanced error codes the sandbox emits (§11).
const (
	CodeInvalidParameterServiceProvider = "invalid_parameter_service_provider"
	CodeInvalidParameterMVPD            = "invalid_parameter_mvpd"
	CodeInvalidParameterCode            = "invalid_parameter_code"
	CodeInvalidParameterResources       = "invalid_parameter_resources"
	CodeInvalidParameterRedirectURL     = "invalid_parameter_redirect_url"
	CodeInvalidParameterPartner         = "invalid_parameter_partner"
	CodeInvalidParameterSAMLResponse    = "invalid_parameter_saml_response"
	CodeInvalidHeaderDeviceInfo         = "invalid_header_device_info"
	CodeInvalidHeaderDeviceIdentifier   = "invalid_header_device_identifier"
	CodeInvalidHeaderTempPassIdentity   = "invalid_header_identity_for_temporary_access"
	CodePFSAccessNotPresent             = "invalid_header_pfs_permission_access_not_present"
	CodePFSAccessNotDetermined          = "invalid_header_pfs_permission_access_not_determined"
	CodePFSAccessNotGranted             = "invalid_header_pfs_permission_access_not_granted"
	CodePFSProviderNotDetermined        = "invalid_header_pfs_provider_id_not_determined"
	CodePFSProviderMismatch             = "invalid_header_pfs_provider_id_mismatch"
	CodePFSProviderExpired              = "invalid_header_pfs_provider_info_expired"
	CodeInvalidIntegration              = "invalid_integration"
	CodeInvalidAuthenticationSession    = "invalid_authentication_session"
	CodePreauthorizationDeniedByMVPD    = "preauthorization_denied_by_mvpd"
	CodeAuthorizationDeniedByMVPD       = "authorization_denied_by_mvpd"
	CodeDeniedByParentalControls        = "authorization_denied_by_parental_controls"
	CodeDeniedByDegradationRule         = "authorization_denied_by_degradation_rule"
	CodeInternalServerError             = "internal_server_error"
	CodeTooManyResources                = "too_many_resources"
	CodeInvalidTokenServiceProvider     = "invalid_access_token_service_provider"
	CodeInvalidTokenClientApplication   = "invalid_access_token_client_application"
	CodeProfileMissing                  = "authenticated_profile_missing"
	CodeProfileExpired                  = "authenticated_profile_expired"
	CodeTempPassDurationExceeded        = "temporary_access_duration_limit_exceeded"
	CodeTempPassResourcesExceeded       = "temporary_access_resources_limit_exceeded"
)

type errorSpec struct {
	status  int
	action  string
	message string
}

// errorSpecFor gives each code its status, action (the code table's, spec
// §15 #20) and a message in Adobe's wording where a sample shows one.
func errorSpecFor(code string) (errorSpec, bool) {
	switch code {
	case CodeInvalidParameterServiceProvider:
		return errorSpec{400, "none", "The service provider parameter value is missing or invalid."}, true
	case CodeInvalidParameterMVPD:
		return errorSpec{400, "none", "The MVPD parameter value is missing or invalid."}, true
	case CodeInvalidParameterCode:
		return errorSpec{400, "none", "The code parameter value is missing or invalid."}, true
	case CodeInvalidParameterResources:
		return errorSpec{400, "none", "The resources parameter value is missing or invalid."}, true
	case CodeInvalidParameterRedirectURL:
		return errorSpec{400, "none", "The redirect URL parameter value is missing or invalid."}, true
	case CodeInvalidParameterPartner:
		return errorSpec{400, "none", "The partner parameter value is missing or invalid."}, true
	case CodeInvalidParameterSAMLResponse:
		return errorSpec{400, "none", "The SAML response parameter value is missing or invalid."}, true
	case CodeInvalidHeaderDeviceInfo:
		return errorSpec{400, "none", "The device information header value is missing or invalid."}, true
	case CodeInvalidHeaderDeviceIdentifier:
		return errorSpec{400, "none", "The device identifier header value is missing or invalid."}, true
	case CodeInvalidHeaderTempPassIdentity:
		return errorSpec{400, "none", "The identity for temporary access header value is missing or invalid."}, true
	case CodePFSAccessNotPresent:
		return errorSpec{400, "none", "The partner framework status header does not contain the permission access status."}, true
	case CodePFSAccessNotDetermined:
		return errorSpec{400, "none", "The partner framework status permission access has not been determined."}, true
	case CodePFSAccessNotGranted:
		return errorSpec{400, "none", "The partner framework status permission access has not been granted."}, true
	case CodePFSProviderNotDetermined:
		return errorSpec{400, "none", "The partner framework status provider identifier has not been determined."}, true
	case CodePFSProviderMismatch:
		return errorSpec{400, "none", "The partner framework status provider identifier does not match the MVPD."}, true
	case CodePFSProviderExpired:
		return errorSpec{400, "none", "The partner framework status provider information has expired."}, true
	case CodeInvalidIntegration:
		return errorSpec{400, "none", "The integration between the service provider and the MVPD is not enabled or does not exist."}, true
	case CodeInvalidAuthenticationSession:
		return errorSpec{400, "none", "The authentication session is missing or invalid."}, true
	case CodePreauthorizationDeniedByMVPD:
		return errorSpec{403, "none", "The MVPD has returned a \"Deny\" decision when requesting pre-authorization for the specified resource."}, true
	case CodeAuthorizationDeniedByMVPD:
		return errorSpec{403, "none", "The MVPD has returned a \"Deny\" decision when requesting authorization for the specified resource"}, true
	case CodeDeniedByParentalControls:
		return errorSpec{403, "none", "The MVPD has returned a \"Deny\" decision due to parental controls settings."}, true
	case CodeDeniedByDegradationRule:
		return errorSpec{403, "none", "The integration has a degradation rule applied that denies the resources."}, true
	case CodeInternalServerError:
		return errorSpec{500, "none", "The request failed due to an internal server error."}, true
	case CodeTooManyResources:
		return errorSpec{403, "configuration", "The request contains more resources than the configured limit."}, true
	case CodeInvalidTokenServiceProvider:
		return errorSpec{401, "application-registration", "The access token is not valid for the service provider."}, true
	case CodeInvalidTokenClientApplication:
		return errorSpec{401, "application-registration", "The access token is missing, invalid or expired."}, true
	case CodeProfileMissing:
		return errorSpec{403, "authentication", "The authenticated profile is missing."}, true
	case CodeProfileExpired:
		return errorSpec{403, "authentication", "The authenticated profile has expired."}, true
	case CodeTempPassDurationExceeded:
		return errorSpec{403, "authentication", "The temporary access duration limit has been exceeded."}, true
	case CodeTempPassResourcesExceeded:
		return errorSpec{403, "authentication", "The temporary access resources limit has been exceeded."}, true
	}
	return errorSpec{}, false
}

// newError builds the Enhanced Error for code. Unknown codes (forced by a
// fault) fall back to the given status with action none.
func (s *Server) newError(code string, status int) *v2client.Error {
	spec, ok := errorSpecFor(code)
	if !ok {
		spec = errorSpec{status: status, action: "none", message: http.StatusText(status)}
	}
	return &v2client.Error{
		Action:  spec.action,
		Status:  spec.status,
		Code:    code,
		Message: spec.message,
		HelpURL: helpURL,
		Trace:   s.ids.UUID(),
	}
}

const jsonContentType = "application/json;charset=UTF-8"

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "sandbox: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers with a top-level Enhanced Error; the HTTP status equals
// the error's status.
func (s *Server) writeError(w http.ResponseWriter, code string) {
	e := s.newError(code, http.StatusBadRequest)
	writeJSON(w, e.Status, e)
}

// writeErrorDetails is writeError with a details text.
func (s *Server) writeErrorDetails(w http.ResponseWriter, code, details string) {
	e := s.newError(code, http.StatusBadRequest)
	e.Details = details
	writeJSON(w, e.Status, e)
}

// writeProtocolError answers a request the service cannot even interpret
// (wrong method, wrong Content-Type). Adobe documents no code for these, so
// the body carries the status, action and message only.
func writeProtocolError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, &v2client.Error{Action: "none", Status: status, Message: message})
}

func writeDCRError(w http.ResponseWriter, code, description string) {
	writeJSON(w, http.StatusBadRequest, v2client.DCRError{Code: code, Description: description})
}
