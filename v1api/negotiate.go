package v1api

import (
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// format is the body format of a response.
type format int

const (
	formatUnset format = iota
	formatXML
	formatJSON
)

// stripExtension removes a .json or .xml suffix from the last path segment
// and returns the request to route and the format the suffix selects.
func stripExtension(r *http.Request) (*http.Request, format) {
	path, f := trimExtension(r.URL.Path)
	if f == formatUnset {
		return r, formatUnset
	}
	ext := r.URL.Path[len(path):]
	r2 := r.WithContext(r.Context())
	u := *r.URL
	u.Path = path
	if u.RawPath != "" {
		u.RawPath = strings.TrimSuffix(u.RawPath, ext)
	}
	r2.URL = &u
	return r2, f
}

// trimExtension removes a .json or .xml suffix from the last segment of
// path and returns the format it selects.
func trimExtension(path string) (string, format) {
	last := path[strings.LastIndexByte(path, '/')+1:]
	switch {
	case strings.HasSuffix(last, ".json") && len(last) > len(".json"):
		return strings.TrimSuffix(path, ".json"), formatJSON
	case strings.HasSuffix(last, ".xml") && len(last) > len(".xml"):
		return strings.TrimSuffix(path, ".xml"), formatXML
	}
	return path, formatUnset
}

// WantsJSON reports whether the v1 format rule picks JSON for r: the path
// extension, then the format query parameter, then Accept in q-order; XML
// otherwise. A router in front of the Handler uses it to answer its own
// errors in the format the Handler would.
func WantsJSON(r *http.Request) bool {
	_, ext := trimExtension(r.URL.Path)
	return negotiate(ext, ParseQuery(r.URL.RawQuery).Get("format"), r.Header.Values("Accept")) == formatJSON
}

// negotiate applies the format rule: path extension, then the format
// parameter (case-insensitive; other values ignored), then Accept in
// q-order, then XML. Conflicting selectors never fail.
func negotiate(ext format, formatParam string, accept []string) format {
	if ext != formatUnset {
		return ext
	}
	switch strings.ToLower(strings.TrimSpace(formatParam)) {
	case "json":
		return formatJSON
	case "xml":
		return formatXML
	}
	return acceptFormat(accept)
}

// acceptFormat picks the preferred of JSON and XML from Accept headers;
// wildcards and other types do not select a format.
func acceptFormat(headers []string) format {
	type choice struct {
		f format
		q float64
		i int
	}
	var choices []choice
	for _, h := range headers {
		for _, item := range strings.Split(h, ",") {
			mt, ps, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := ps["q"]; ok {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					continue
				}
				q = v
			}
			if q <= 0 {
				continue
			}
			var f format
			switch mt {
			case "application/json":
				f = formatJSON
			case "application/xml", "text/xml":
				f = formatXML
			default:
				continue
			}
			choices = append(choices, choice{f, q, len(choices)})
		}
	}
	if len(choices) == 0 {
		return formatXML
	}
	sort.SliceStable(choices, func(a, b int) bool { return choices[a].q > choices[b].q })
	return choices[0].f
}
