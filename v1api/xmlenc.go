package v1api

import "unicode/utf8"

// xmlProlog starts every XML answer, as JAXB wrote it (no line break after).
const xmlProlog = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`

// xmlWriter appends an XML document to buf as it is described, element by
// element, so that rendering a body allocates nothing but buf. An element
// without content is written as an empty-element tag (<mvpd/>).
type xmlWriter struct {
	buf []byte
	// startOpen reports that the last start tag still lacks its '>': the
	// element is empty so far, and may still get attributes.
	startOpen bool
}

// start opens an element.
func (w *xmlWriter) start(tag string) {
	w.closeStart()
	w.buf = append(w.buf, '<')
	w.buf = append(w.buf, tag...)
	w.startOpen = true
}

// attr adds an attribute to the element just started.
func (w *xmlWriter) attr(key, value string) {
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, key...)
	w.buf = append(w.buf, '=', '"')
	w.buf = appendXMLEscaped(w.buf, value, false)
	w.buf = append(w.buf, '"')
}

// end closes the innermost open element, tag.
func (w *xmlWriter) end(tag string) {
	if w.startOpen {
		w.buf = append(w.buf, '/', '>')
		w.startOpen = false
		return
	}
	w.buf = append(w.buf, '<', '/')
	w.buf = append(w.buf, tag...)
	w.buf = append(w.buf, '>')
}

// text writes an element holding value (empty: <tag/>).
func (w *xmlWriter) text(tag, value string) {
	w.start(tag)
	if value != "" {
		w.closeStart()
		w.buf = appendXMLEscaped(w.buf, value, true)
	}
	w.end(tag)
}

// optText writes an element holding value, or nothing when value is empty.
func (w *xmlWriter) optText(tag, value string) {
	if value != "" {
		w.text(tag, value)
	}
}

// int writes an element holding n in decimal.
func (w *xmlWriter) int(tag string, n int64) {
	w.start(tag)
	w.closeStart()
	w.buf = appendInt(w.buf, n)
	w.end(tag)
}

// bool writes an element holding true or false.
func (w *xmlWriter) bool(tag string, v bool) {
	if v {
		w.text(tag, "true")
	} else {
		w.text(tag, "false")
	}
}

func (w *xmlWriter) closeStart() {
	if w.startOpen {
		w.buf = append(w.buf, '>')
		w.startOpen = false
	}
}

// appendXMLEscaped appends s escaped as text (text true) or as a
// double-quoted attribute value. Text escapes exactly &, < and > (and CR as
// &#xD;, so that it survives parsing); attribute values escape &, <, >, '
// and ". Characters XML cannot carry, invalid UTF-8 included, become
// U+FFFD, one per byte of an invalid sequence.
func appendXMLEscaped(b []byte, s string, text bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		width := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '\'' && !text:
			esc = "&apos;"
		case c == '"' && !text:
			esc = "&quot;"
		case c == '\r' && text:
			esc = "&#xD;"
		case c == '\t' || c == '\n' || c == '\r':
		case c < 0x20:
			esc = "\uFFFD"
		case c < utf8.RuneSelf:
		default:
			var r rune
			r, width = utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && width == 1) || !isXMLCharRune(r) {
				esc = "\uFFFD"
			}
		}
		i += width
		if esc == "" {
			continue
		}
		b = append(b, s[last:i-width]...)
		b = append(b, esc...)
		last = i
	}
	return append(b, s[last:]...)
}

// isXMLCharRune reports whether XML 1.0 can carry r.
func isXMLCharRune(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
