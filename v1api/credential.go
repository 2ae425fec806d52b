package v1api

import (
	"net/http"
	"strings"

	"github.com/passgw/passgw/v1model"
)

func writeCredentialError(w http.ResponseWriter, e *v1model.CredentialError) {
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
