package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Ignore lists selectors of volatile values that Compare leaves out. A
// selector is
//
//	header:NAME  a response header (case-insensitive)
//	json:KEY     every JSON object member named KEY, at any depth
//	json:$.PATH  the one JSON value at PATH, written as the diff writes it ($.info.deviceInfo, $.resources[0].id)
//	xml:NAME     every XML element named NAME (prefix included if any), at any depth
//	xml:/PATH    the one XML element at PATH, written as the diff writes it (/ns2:regcode/id)
//	NAME         both json:NAME and xml:NAME
//	$.PATH, /PATH  json:$.PATH and xml:/PATH
//
// An ignored value must still be present on both sides (with an ignored JSON
// value, its type is not compared either); only its content is not compared.
type Ignore []string

// DefaultIgnore is the selector list for targets whose ids, clocks and
// tokens cannot be fixed, such as the real v1 service: exactly the values a
// live v1 answers differently from one run of the same calls to the next.
// Those are the registration record's id, its times and the device
// information v1 builds from the caller's connection (address and port);
// every expiry, the user metadata's update time, the media token itself and
// the trace id of an enhanced error. Registration codes are not in it: a
// Runner writes them back as {{codeN}} placeholders, so they compare as the
// same code in the same place. Everything else is compared, the enhanced
// error code and the MVPD ids of the configuration included.
func DefaultIgnore() Ignore {
	return Ignore{
		"json:$.id", "xml:/ns2:regcode/id",
		"generated", "expires", "updated", "serializedToken", "trace",
		"json:$.info.deviceInfo", "xml:/ns2:regcode/info/deviceInfo",
	}
}

type ignoreSet struct {
	headers, json, xml map[string]bool
}

func (ig Ignore) set() ignoreSet {
	s := ignoreSet{headers: map[string]bool{}, json: map[string]bool{}, xml: map[string]bool{}}
	for _, sel := range ig {
		switch {
		case strings.HasPrefix(sel, "$"):
			s.json[sel] = true
			continue
		case strings.HasPrefix(sel, "/"):
			s.xml[sel] = true
			continue
		}
		kind, name, ok := strings.Cut(sel, ":")
		if !ok {
			s.json[sel], s.xml[sel] = true, true
			continue
		}
		switch kind {
		case "header":
			s.headers[http.CanonicalHeaderKey(name)] = true
		case "json":
			s.json[name] = true
		case "xml":
			s.xml[name] = true
		default:
			// A name containing a colon, such as a prefixed XML tag.
			s.json[sel], s.xml[sel] = true, true
		}
	}
	return s
}

const ignoredValue = "<ignored>"

// Compare reports how got differs from want, as a unified diff of their
// canonical forms ("" when they agree). Compared are the status, every
// header want has plus any recorded header (RecordedHeaders) got has, and
// the body: XML as an element tree (prolog, names with their prefixes,
// attributes including namespace declarations, element order and text;
// whitespace between elements ignored), JSON as values with member order and
// value types (a string "1" differs from the number 1), anything else as
// text. The body kind follows want's Content-Type, else got's.
func Compare(want, got Response, ignore Ignore) string {
	ig := ignore.set()
	names := map[string]bool{}
	for k := range want.Header {
		names[http.CanonicalHeaderKey(k)] = true
	}
	for _, k := range RecordedHeaders() {
		if len(got.Header.Values(k)) > 0 {
			names[k] = true
		}
	}
	kind := bodyKind(want.Header.Get("Content-Type"))
	if kind == "" {
		kind = bodyKind(got.Header.Get("Content-Type"))
	}
	w := canonical(want, names, kind, ig)
	g := canonical(got, names, kind, ig)
	return UnifiedDiff("want", "got", w, g)
}

// Canonical returns the lines Compare compares for r.
func Canonical(r Response, ignore Ignore) []string {
	names := map[string]bool{}
	for k := range r.Header {
		names[http.CanonicalHeaderKey(k)] = true
	}
	return canonical(r, names, bodyKind(r.Header.Get("Content-Type")), ignore.set())
}

func canonical(r Response, headers map[string]bool, kind string, ig ignoreSet) []string {
	lines := []string{fmt.Sprintf("status %d %s", r.Status, http.StatusText(r.Status))}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		vs := r.Header.Values(k)
		if len(vs) == 0 {
			lines = append(lines, "header "+k+" (absent)")
			continue
		}
		for _, v := range vs {
			if ig.headers[k] {
				v = ignoredValue
			}
			lines = append(lines, "header "+k+": "+v)
		}
	}
	if len(r.Body) == 0 {
		return append(lines, "body (empty)")
	}
	var body []string
	var err error
	switch kind {
	case "json":
		body, err = jsonLines(r.Body, ig.json)
	case "xml":
		body, err = xmlLines(r.Body, ig.xml)
	}
	if kind == "" || err != nil {
		label := "body text"
		if err != nil {
			label = fmt.Sprintf("body text (not %s: %v)", strings.ToUpper(kind), err)
		}
		body = append([]string{label}, textLines(r.Body)...)
	}
	return append(lines, body...)
}

func bodyKind(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = contentType
	}
	switch {
	case strings.HasSuffix(mt, "json"):
		return "json"
	case strings.HasSuffix(mt, "xml"):
		return "xml"
	}
	return ""
}

func textLines(b []byte) []string {
	var out []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			out = append(out, "| "+strconv.Quote(l))
		}
	}
	return out
}

// jsonLines lists every value of a JSON document with its path and type, in
// document order.
func jsonLines(b []byte, ignored map[string]bool) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []string
	var value func(path string) error
	value = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			out = append(out, path+" "+jsonScalar(tok))
			return nil
		}
		if d == '[' {
			out = append(out, path+" array")
			for i := 0; dec.More(); i++ {
				if err := value(fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		} else {
			out = append(out, path+" object")
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				name, _ := k.(string)
				if ignored[name] || ignored[path+"."+name] {
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return err
					}
					out = append(out, path+"."+name+" = "+ignoredValue)
					continue
				}
				if err := value(path + "." + name); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err
	}
	if err := value("$"); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return out, nil
}

func jsonScalar(tok json.Token) string {
	switch v := tok.(type) {
	case string:
		return "string " + strconv.Quote(v)
	case json.Number:
		return "number " + v.String()
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T %v", tok, tok)
}

// xmlLines lists the prolog, then every element with its path, attributes
// and text, in document order.
func xmlLines(b []byte, ignored map[string]bool) ([]string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	root := doc.Root()
	if root == nil {
		return nil, errors.New("no root element")
	}
	var out []string
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.ProcInst:
			out = append(out, "<?"+t.Target+" "+t.Inst+"?>")
		case *etree.Directive:
			out = append(out, "<!"+t.Data+">")
		}
	}
	var walk func(e *etree.Element, path string)
	walk = func(e *etree.Element, path string) {
		if ignored[e.FullTag()] || ignored[e.Tag] || ignored[path] {
			out = append(out, path+" = "+ignoredValue)
			return
		}
		line := path
		for _, a := range e.Attr {
			line += fmt.Sprintf(" @%s=%q", a.FullKey(), a.Value)
		}
		children := e.ChildElements()
		text := ""
		for _, tok := range e.Child {
			if cd, ok := tok.(*etree.CharData); ok {
				text += cd.Data
			}
		}
		if len(children) == 0 || strings.TrimSpace(text) != "" {
			line += " = " + strconv.Quote(text)
		}
		out = append(out, line)
		seen := map[string]int{}
		for _, c := range children {
			seen[c.FullTag()]++
		}
		n := map[string]int{}
		for _, c := range children {
			name := c.FullTag()
			n[name]++
			p := path + "/" + name
			if seen[name] > 1 {
				p += fmt.Sprintf("[%d]", n[name])
			}
			walk(c, p)
		}
	}
	walk(root, "/"+root.FullTag())
	return out, nil
}
