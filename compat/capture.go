package compat

import (
	"bytes"
	"net/http"

	"github.com/passgw/passgw/compat/golden"
)

// maxCapture bounds the answer a capture keeps for comparison; a larger
// answer is still streamed to the device but not compared.
const maxCapture = 1 << 20

// capture passes an answer through to the device and keeps a copy of its
// status, headers and (bounded) body.
type capture struct {
	http.ResponseWriter
	status    int
	header    http.Header
	body      bytes.Buffer
	truncated bool
}

func (c *capture) WriteHeader(code int) {
	// An informational 1xx is not the answer; the final status follows.
	if c.status == 0 && code >= 200 {
		c.status = code
		c.header = c.ResponseWriter.Header().Clone()
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if !c.truncated {
		if c.body.Len()+len(p) > maxCapture {
			c.truncated = true
		} else {
			c.body.Write(p)
		}
	}
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the device's writer (the
// reverse proxy flushes through it).
func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// response is the captured answer with the headers a device acts on.
func (c *capture) response() golden.Response {
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	return golden.Response{Status: status, Header: keepHeaders(c.header), Body: bytes.Clone(c.body.Bytes())}
}

func keepHeaders(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range golden.RecordedHeaders() {
		if vs := h.Values(k); len(vs) > 0 {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

// recorder is a ResponseWriter that only records, for answers nobody
// waits for (the translated side of a shadow call).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.body.Len()+len(p) > maxCapture {
		return len(p), nil
	}
	return r.body.Write(p)
}

func (r *recorder) response() golden.Response {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	return golden.Response{Status: status, Header: keepHeaders(r.header), Body: bytes.Clone(r.body.Bytes())}
}
