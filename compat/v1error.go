package compat

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// writeV1Error answers with a v1 error body of status (the legacy shape:
// status and message), in the format the device asked for.
func writeV1Error(w http.ResponseWriter, r *http.Request, status int) {
	var body string
	if wantsJSON(r) {
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

// wantsJSON applies the v1 format rule: path extension, then the format
// parameter, then Accept; XML otherwise.
func wantsJSON(r *http.Request) bool {
	last := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	switch {
	case strings.HasSuffix(last, ".json") && len(last) > len(".json"):
		return true
	case strings.HasSuffix(last, ".xml") && len(last) > len(".xml"):
		return false
	}
	switch strings.ToLower(strings.TrimSpace(parseQuery(r.URL.RawQuery).Get("format"))) {
	case "json":
		return true
	case "xml":
		return false
	}
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch {
			case strings.HasSuffix(mt, "json"):
				return true
			case strings.HasSuffix(mt, "xml"):
				return false
			}
		}
	}
	return false
}
