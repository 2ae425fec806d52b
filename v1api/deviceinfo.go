package v1api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

var errDeviceInfoNotObject = errors.New("device_info is not a JSON object")

// decodeDeviceInfo decodes a device_info / X-Device-Info value: URL-decoded
// once when it holds a '%', then Base64 (standard or URL-safe alphabet,
// padding optional), then one JSON object. It returns the Base64 text and
// the JSON bytes.
func decodeDeviceInfo(raw string) (string, []byte, error) {
	s := strings.TrimSpace(raw)
	if strings.Contains(s, "%") {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", nil, fmt.Errorf("device_info URL decoding: %w", err)
		}
		s = u
	}
	// A '+' sent unescaped in a query arrives as a space, and some encoders
	// wrap Base64 lines; neither space nor newline is ever Base64 data.
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ':
			return '+'
		case '\r', '\n', '\t':
			return -1
		}
		return r
	}, s)
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	data, err := enc.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return "", nil, fmt.Errorf("device_info Base64 decoding: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return "", nil, errDeviceInfoNotObject
	}
	return s, trimmed, nil
}
