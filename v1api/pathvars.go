package v1api

import "strings"

// safePathVars reports whether the path segments a route captured
// (requestor, code, mvpd) can be used as single path segments upstream.
// Percent-encoded dots and slashes decode into them, and a code of ".." or
// "a/../b" would climb out of its v2 path however carefully it is escaped
// later, so such a request matches no route and is answered 404.
func safePathVars(vars *pathVars) bool {
	for _, v := range vars.values[:vars.n] {
		if v == "." || v == ".." || strings.ContainsAny(v, "/\\") || strings.ContainsFunc(v, isControl) {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
