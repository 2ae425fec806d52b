package v1api

import (
	"slices"
	"strings"
)

// maxVars bounds the variables of a path template.
const maxVars = 4

// pathVars are the variables a path template captured, in path order.
type pathVars struct {
	n      int
	names  [maxVars]string
	values [maxVars]string
}

// get returns the value of the variable name, or "".
func (v *pathVars) get(name string) string {
	for i := range v.n {
		if v.names[i] == name {
			return v.values[i]
		}
	}
	return ""
}

// routeMatch is the outcome of matching a method and path against the
// route table.
type routeMatch struct {
	route *route // nil when nothing matched
	// path and method index the route's paths and methods that matched.
	path, method int
	vars         pathVars
	// methodMismatch reports that some route has the path but not the
	// method (a 405 rather than a 404).
	methodMismatch bool
	// pathRequestor is the {requestor} segment of the first template the
	// path matched when no route serves the method (a CORS preflight, a
	// 405), which vars then leaves out.
	pathRequestor string
}

// matchRoute finds the first route, in table order, with the method and a
// path template matching path. A {name} segment matches one non-empty
// segment; everything else matches itself.
func matchRoute(table []*route, method, path string) routeMatch {
	var m routeMatch
	var buf [maxSegments]string
	segs, ok := splitSegments(path, &buf)
	if !ok {
		return m // longer than any template
	}
	for _, rt := range table {
		for pi := range rt.templates {
			if !rt.templates[pi].match(segs, &m.vars) {
				continue
			}
			mi := slices.Index(rt.methods, method)
			if mi < 0 {
				m.methodMismatch = true
				if m.pathRequestor == "" {
					m.pathRequestor = m.vars.get("requestor")
				}
				continue
			}
			m.route, m.path, m.method = rt, pi, mi
			return m
		}
	}
	m.vars = pathVars{}
	return m
}

// allowedMethods returns the methods some route serves path with, in table
// order: the Allow header of a 405.
func allowedMethods(table []*route, path string) string {
	var buf [maxSegments]string
	segs, ok := splitSegments(path, &buf)
	if !ok {
		return ""
	}
	var methods []string
	for _, rt := range table {
		for pi := range rt.templates {
			var v pathVars
			if !rt.templates[pi].match(segs, &v) {
				continue
			}
			for _, m := range rt.methods {
				if !slices.Contains(methods, m) {
					methods = append(methods, m)
				}
			}
		}
	}
	return strings.Join(methods, ", ")
}

// maxSegments bounds the '/'-separated segments of a path template.
const maxSegments = 8

// pathTemplate is a path template split at '/': literal segments, and
// variables ({name}) that match any one non-empty segment.
type pathTemplate struct {
	segs []string
	// vars[i] is the variable name of segment i, "" for a literal.
	vars []string
}

func newPathTemplate(tpl string) pathTemplate {
	t := pathTemplate{segs: strings.Split(tpl, "/")}
	if len(t.segs) > maxSegments {
		panic("v1api: path template " + tpl + " has too many segments")
	}
	t.vars = make([]string, len(t.segs))
	for i, s := range t.segs {
		if name, ok := strings.CutPrefix(s, "{"); ok && strings.HasSuffix(name, "}") {
			t.vars[i] = strings.TrimSuffix(name, "}")
		}
	}
	return t
}

// match reports whether the path split into segs fits t, filling vars
// with its variables when it does.
func (t *pathTemplate) match(segs []string, vars *pathVars) bool {
	if len(segs) != len(t.segs) {
		return false
	}
	var v pathVars
	for i, s := range segs {
		if name := t.vars[i]; name != "" {
			if s == "" || v.n == maxVars {
				return false
			}
			v.names[v.n], v.values[v.n] = name, s
			v.n++
		} else if s != t.segs[i] {
			return false
		}
	}
	*vars = v
	return true
}

// splitSegments splits path at '/' into buf; false when it has more than
// maxSegments segments.
func splitSegments(path string, buf *[maxSegments]string) ([]string, bool) {
	n := 0
	for {
		if n == maxSegments {
			return nil, false
		}
		seg, rest, more := strings.Cut(path, "/")
		buf[n] = seg
		n++
		if !more {
			return buf[:n], true
		}
		path = rest
	}
}
