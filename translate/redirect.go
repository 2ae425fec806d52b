package translate

import (
	"net/url"
	"slices"
	"strings"
)

// redirectAllowed reports whether raw may be used as a browser redirect for a
// requestor that allows the given URLs: same scheme and host (port included)
// as an entry, and a path equal to or below the entry's path. Anything else
// would let a crafted second-screen link send the user's browser elsewhere.
func redirectAllowed(allowed []string, raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil {
		return false
	}
	for _, a := range allowed {
		p, err := url.Parse(a)
		if err != nil {
			continue
		}
		if !strings.EqualFold(p.Scheme, u.Scheme) || !strings.EqualFold(p.Host, u.Host) {
			continue
		}
		if pathUnder(p.EscapedPath(), u.EscapedPath()) && !hasDotSegment(u.Path) {
			return true
		}
	}
	return false
}

// pathUnder reports whether path equals base or lies below it, segment-wise.
func pathUnder(base, path string) bool {
	base = strings.TrimSuffix(base, "/")
	if base == "" {
		return true
	}
	if strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") {
		return false
	}
	return path == base || strings.HasPrefix(path, base+"/")
}

// hasDotSegment reports whether a decoded URL path holds a "." or ".."
// segment. Browsers resolve percent-encoded dots (%2e) like plain ones and
// read backslashes as slashes, so "/done/%2e%2e/admin" and "/done/..\admin"
// leave the registered path as surely as "/done/../admin".
func hasDotSegment(path string) bool {
	for _, seg := range strings.Split(strings.ReplaceAll(path, "\\", "/"), "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// domainAllowed reports whether the domain_name of a second-screen call is
// registered for the requestor (case-insensitive, as DNS names are).
func domainAllowed(allowed []string, domain string) bool {
	return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, domain) })
}
