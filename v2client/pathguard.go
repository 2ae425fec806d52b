package v2client

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrUnsafePath is matched by the error of a call with a path segment (a
// code, service provider or MVPD from the caller) of "." or "..": path
// escaping leaves dots alone, so such a segment would make the request name
// another endpoint once the URL is normalised. Such a call is never sent.
// Other characters, slashes included, are escaped into the segment.
var ErrUnsafePath = errors.New("v2client: unsafe path segment")

// checkPath refuses an escaped path holding a dot segment, plain or
// percent-encoded.
func checkPath(escaped string) error {
	for seg := range strings.SplitSeq(escaped, "/") {
		dec := seg
		if strings.IndexByte(seg, '%') >= 0 {
			var err error
			if dec, err = url.PathUnescape(seg); err != nil {
				return fmt.Errorf("%w in %q", ErrUnsafePath, escaped)
			}
		}
		if dec == "." || dec == ".." {
			return fmt.Errorf("%w in %q", ErrUnsafePath, escaped)
		}
	}
	return nil
}
