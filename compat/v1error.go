package compat

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/passgw/passgw/v1api"
)

// writeV1Error answers with a v1 error body of status (the legacy shape:
// status and message), in the format the device asked for.
func writeV1Error(w http.ResponseWriter, r *http.Request, status int) {
	var body string
	if v1api.WantsJSON(r) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		body = fmt.Sprintf(`{"status":%d,"message":%s}`, status, strconv.Quote(http.StatusText(status)))
	} else {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><error><status>%d</status><message>%s</message></error>`,
			status, http.StatusText(status))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
