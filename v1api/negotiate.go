package v1api

import (
	"mime"
	"net/http"
	"slices"
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
// wildcards and other types do not select a format. Of equal q values the
// first listed wins.
func acceptFormat(headers []string) format {
	// Devices list one or two types; the array keeps them off the heap.
	var buf [8]acceptChoice
	choices := buf[:0]
	for _, h := range headers {
		for h != "" {
			var item string
			item, h, _ = strings.Cut(h, ",")
			if f, q, ok := acceptItem(strings.TrimSpace(item)); ok {
				choices = append(choices, acceptChoice{f, q})
			}
		}
	}
	if len(choices) == 0 {
		return formatXML
	}
	slices.SortStableFunc(choices, func(a, b acceptChoice) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	return choices[0].f
}

type acceptChoice struct {
	f format
	q float64
}

// acceptItem reads one Accept entry: the format its media type selects and
// its q value, or false when it selects none (another type, a wildcard, a
// q of zero or less, a broken entry).
func acceptItem(item string) (format, float64, bool) {
	// The common entries, without a parameter map.
	switch {
	case asciiEqualFold(item, "application/json"):
		return formatJSON, 1, true
	case asciiEqualFold(item, "application/xml"), asciiEqualFold(item, "text/xml"):
		return formatXML, 1, true
	}
	mt, ps, err := mime.ParseMediaType(item)
	if err != nil {
		return formatUnset, 0, false
	}
	q := 1.0
	if s, ok := ps["q"]; ok {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return formatUnset, 0, false
		}
		q = v
	}
	if q <= 0 {
		return formatUnset, 0, false
	}
	switch mt {
	case "application/json":
		return formatJSON, q, true
	case "application/xml", "text/xml":
		return formatXML, q, true
	}
	return formatUnset, 0, false
}

// asciiEqualFold reports whether s is lower, a lower-case ASCII string, but
// for the case of its letters. Unlike strings.EqualFold it folds no other
// characters, as media types are ASCII tokens.
func asciiEqualFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
