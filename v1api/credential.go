package v1api

import (
	"fmt"
	"net/http"
	"strings"
)

// CredentialError is a refused DCR credential. Unlike v1 errors it is
// answered with the OAuth body {"error":"<Code>"} whatever the format, as
// the DCR-protected v1 calls did.
type CredentialError struct {
	// Status is the HTTP status: 400, 401 or 403.
	Status int
	// Code is the OAuth error code: invalid_request, access_denied or
	// invalid_client.
	Code string
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("credential refused: %d %s", e.Status, e.Code)
}

func writeCredentialError(w http.ResponseWriter, e *CredentialError) {
	status := e.Status
	if status < 400 || status > 499 {
		status = http.StatusUnauthorized
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	j := jsonWriter{}
	j.beginObject()
	j.str("error", e.Code)
	j.endObject()
	_, _ = w.Write(j.buf)
}

// SignedHeaderRequestor returns the requestor_id of a pre-DCR signed
// Authorization header ("<METHOD> requestor_id=..., nonce=..., ..."), or ""
// (a Bearer token names no requestor). The Handler reads it as the
// requestor of a call that names none in its path or parameters.
func SignedHeaderRequestor(auth string) string {
	_, rest, ok := strings.Cut(auth, " ")
	if !ok || strings.EqualFold(strings.SplitN(auth, " ", 2)[0], "Bearer") {
		return ""
	}
	for _, field := range strings.Split(rest, ", ") {
		name, value, ok := strings.Cut(strings.TrimSpace(field), "=")
		if ok && name == "requestor_id" {
			return value
		}
	}
	return ""
}
