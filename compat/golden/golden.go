// Package golden is passgw's golden-file tooling for v1 answers: cases that
// record one v1 HTTP exchange each (ParseCase, Format), their comparison with
// volatile values ignored (Compare, Canonical, UnifiedDiff), scenarios that
// replay a device's steps against a target and record or check its answers
// (LoadScenarios, Runner), and a stand-in v1 service serving recorded cases
// (Replay). A target (the real v1 service, the gateway, a recorded stand-in)
// is so checked against what devices expect; `passgw golden
// record|check|replay` and the shadow comparisons of the migration router
// (package compat) are built on it.
//
// A case is a txtar archive: a free-text comment, optional extra sections
// (kept in order, for whoever runs the case), and the sections "request" and
// "response", each an HTTP/1.1 message as text:
//
//	Registration code, JSON.
//	-- request --
//	POST /reggie/v1/REF30/regcode HTTP/1.1
//	Accept: application/json
//	Content-Type: application/x-www-form-urlencoded
//
//	deviceId=dev-1
//	-- response --
//	HTTP/1.1 201 Created
//	Content-Type: application/json; charset=utf-8
//
//	{"id":"...","code":"..."}
//
// The head of each message is what http.ReadRequest and http.ReadResponse
// read; the body is everything after the blank line that ends the head, less
// the one newline the archive format adds after it. A body line must not
// start with "-- " (txtar would read it as a section marker).
package golden

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/beevik/etree"
	"golang.org/x/tools/txtar"
)

// Section names of a case archive.
const (
	SectionRequest  = "request"
	SectionResponse = "response"
)

// ErrNoRequest is returned by ParseCase for an archive without a request
// section.
var ErrNoRequest = errors.New("golden: case has no request section")

// Case is one recorded HTTP exchange.
type Case struct {
	// Name identifies the case in reports, usually its file name.
	Name string
	// Comment is the archive's leading free text.
	Comment string
	// Extra are the archive's other sections, in file order; Format writes
	// them back before the request.
	Extra []txtar.File
	// Request is what is sent.
	Request Request
	// Response is what is expected; the zero Response when the archive has
	// no response section yet (a case still to be recorded).
	Response Response
}

// Request is an HTTP request as a case stores it.
type Request struct {
	Method string
	// Target is the request-target: a path with its query.
	Target string
	Header http.Header
	Body   []byte
}

// Response is an HTTP response as a case stores it: the status, the headers
// that matter to a device, and the body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// RecordedHeaders are the response headers ReadResponse keeps by default:
// those a v1 device acts on. Request ids and dates vary by design and are
// left out.
func RecordedHeaders() []string {
	return []string{"Content-Type", "Location", "Adobe-Response-Confidence"}
}

// ParseCase reads a case archive. A missing response section leaves
// Case.Response zero.
func ParseCase(name string, data []byte) (*Case, error) {
	a := txtar.Parse(data)
	c := &Case{Name: name, Comment: string(a.Comment)}
	var haveReq bool
	for _, f := range a.Files {
		var err error
		switch f.Name {
		case SectionRequest:
			if haveReq {
				return nil, fmt.Errorf("golden: case %s: two request sections", name)
			}
			haveReq = true
			c.Request, err = ParseRequest(f.Data)
		case SectionResponse:
			if c.Response.Status != 0 {
				return nil, fmt.Errorf("golden: case %s: two response sections", name)
			}
			c.Response, err = ParseResponse(f.Data)
		default:
			c.Extra = append(c.Extra, f)
		}
		if err != nil {
			return nil, fmt.Errorf("golden: case %s: %w", name, err)
		}
	}
	if !haveReq {
		return nil, fmt.Errorf("%w: %s", ErrNoRequest, name)
	}
	return c, nil
}

// Format returns the archive form of c; ParseCase reads it back unchanged.
// A zero Response is left out.
func (c *Case) Format() []byte {
	a := &txtar.Archive{Comment: []byte(c.Comment)}
	a.Files = append(a.Files, c.Extra...)
	a.Files = append(a.Files, txtar.File{Name: SectionRequest, Data: c.Request.Format()})
	if c.Response.Status != 0 {
		a.Files = append(a.Files, txtar.File{Name: SectionResponse, Data: c.Response.Format()})
	}
	return txtar.Format(a)
}

// ParseRequest reads the text of a request section.
func ParseRequest(data []byte) (Request, error) {
	head, body := splitMessage(data)
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return Request{}, fmt.Errorf("request: %w", err)
	}
	h := r.Header.Clone()
	if r.Host != "" {
		h.Set("Host", r.Host)
	}
	return Request{Method: r.Method, Target: r.RequestURI, Header: h, Body: body}, nil
}

// ParseResponse reads the text of a response section.
func ParseResponse(data []byte) (Response, error) {
	head, body := splitMessage(data)
	r, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	if err != nil {
		return Response{}, fmt.Errorf("response: %w", err)
	}
	r.Body.Close()
	// net/http reads any three digits, "002" included, but a status is
	// 100 to 999: Format could not write the smaller ones back.
	if r.StatusCode < 100 {
		return Response{}, fmt.Errorf("response: malformed HTTP status code %03d", r.StatusCode)
	}
	return Response{Status: r.StatusCode, Header: r.Header, Body: body}, nil
}

// splitMessage cuts a message at the blank line ending its head; the head
// keeps that blank line so the net/http readers see a complete head.
func splitMessage(data []byte) (head, body []byte) {
	data = bytes.TrimLeft(data, "\r\n")
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(data, []byte(sep)); i >= 0 {
			body = data[i+len(sep):]
			body = bytes.TrimSuffix(body, []byte("\n"))
			if len(body) == 0 {
				body = nil
			}
			return data[:i+len(sep)], slices.Clip(body)
		}
	}
	return append(bytes.TrimRight(data, "\r\n"), "\n\n"...), nil
}

// Format returns the text of a request section.
func (r Request) Format() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\n", r.Method, r.Target)
	writeMessageTail(&b, r.Header, r.Body)
	return b.Bytes()
}

// Format returns the text of a response section.
func (r Response) Format() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\n", r.Status, http.StatusText(r.Status))
	writeMessageTail(&b, r.Header, r.Body)
	return b.Bytes()
}

func writeMessageTail(b *bytes.Buffer, h http.Header, body []byte) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	if len(body) > 0 {
		b.Write(body)
		b.WriteString("\n")
	}
}

// NewHTTPRequest makes the request r describes, addressed to baseURL (scheme
// and host, optionally a path prefix).
func (r Request) NewHTTPRequest(ctx context.Context, baseURL string) (*http.Request, error) {
	var body io.Reader
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, strings.TrimSuffix(baseURL, "/")+r.Target, body)
	if err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	for k, vs := range r.Header {
		if http.CanonicalHeaderKey(k) == "Host" {
			continue // the target's host is the one that answers
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req, nil
}

// ReadResponse reads resp (and closes its body) into a Response that keeps
// only the named headers; nil names means RecordedHeaders.
func ReadResponse(resp *http.Response, headers []string) (Response, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("golden: reading response: %w", err)
	}
	if headers == nil {
		headers = RecordedHeaders()
	}
	h := http.Header{}
	for _, name := range headers {
		if vs := resp.Header.Values(name); len(vs) > 0 {
			h[http.CanonicalHeaderKey(name)] = slices.Clone(vs)
		}
	}
	return Response{Status: resp.StatusCode, Header: h, Body: body}, nil
}

// RegistrationCode reads the code of a registration answer (regcode
// creation or lookup) in either format; "" when r is none.
func RegistrationCode(r Response) string {
	var j struct{ Code string }
	if json.Unmarshal(r.Body, &j) == nil {
		return j.Code
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(r.Body) == nil && doc.Root() != nil {
		if e := doc.Root().SelectElement("code"); e != nil {
			return e.Text()
		}
	}
	return ""
}
