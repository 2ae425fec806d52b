package v1api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/passgw/passgw/v1model"
)

var (
	errParamsTooLarge = errors.New("query string too large")
	errBodyTooLarge   = errors.New("request body too large")
	errBadTTL         = errors.New("ttl is not a whole number of seconds in 1..36000")
)

// Params are the parameters of a v1 call: the query and, on POST, the
// form or multipart body. Values are URL-decoded once. Names are
// case-sensitive.
type Params struct {
	Query url.Values
	Form  url.Values
}

// Get returns the first value of name, the query winning over the body.
func (p *Params) Get(name string) string {
	if v, ok := p.Query[name]; ok && len(v) > 0 {
		return v[0]
	}
	if v := p.Form[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// All returns every value of name, query values first.
func (p *Params) All(name string) []string {
	out := append([]string(nil), p.Query[name]...)
	return append(out, p.Form[name]...)
}

// queryBuf is a query map and the array of first values behind it, kept
// for reuse across calls: reading a call's parameters then allocates
// nothing. Nothing of a call's Params may be kept past the call.
type queryBuf struct {
	m      url.Values
	firsts []string
}

// maxPooledParams bounds the maps kept for reuse (maps never shrink).
const maxPooledParams = 64

func (h *Handler) getQueryBuf() *queryBuf {
	if qb, ok := h.queries.Get().(*queryBuf); ok {
		return qb
	}
	return &queryBuf{}
}

func (h *Handler) putQueryBuf(qb *queryBuf) {
	if len(qb.m) > maxPooledParams || cap(qb.firsts) > maxPooledParams {
		return
	}
	clear(qb.m)
	clear(qb.firsts[:cap(qb.firsts)])
	qb.firsts = qb.firsts[:0]
	h.queries.Put(qb)
}

// readParams reads the parameters of r within the limits; the body is read
// only when it is a form. The query is decoded into qb when it is not nil.
// With replay not nil, the part of the body read is put back in front of
// the rest, through replay.
func readParams(r *http.Request, maxParam int, maxBody int64, qb *queryBuf, replay *replayBody) (Params, error) {
	var p Params
	if len(r.URL.RawQuery) > maxParam {
		return Params{Query: url.Values{}, Form: url.Values{}}, badRequest(errParamsTooLarge)
	}
	if qb == nil {
		p.Query = ParseQuery(r.URL.RawQuery)
	} else {
		if qb.m == nil {
			qb.m = make(url.Values)
		}
		qb.firsts = parseQueryInto(qb.m, qb.firsts, r.URL.RawQuery)
		p.Query = qb.m
	}
	if r.Method != http.MethodPost || r.Body == nil {
		return p, nil
	}
	mediaType, mparams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !isForm(mediaType) {
		return p, nil
	}
	body, err := readLimited(r.Body, maxBody)
	if replay != nil {
		*replay = replayBody{head: body, rest: r.Body}
		r.Body = replay
	}
	if err != nil {
		return p, badRequest(err)
	}
	p.Form = formFields(mediaType, mparams, body)
	return p, nil
}

// ParseForm returns the fields of a POST body with the given Content-Type:
// form-encoded or multipart (file parts skipped), decoded as ParseQuery
// does. It returns nil when the body is not a form, so a caller can tell
// "no form" from "an empty one".
func ParseForm(contentType string, body []byte) url.Values {
	mediaType, mparams, err := mime.ParseMediaType(contentType)
	if err != nil || !isForm(mediaType) {
		return nil
	}
	return formFields(mediaType, mparams, body)
}

func isForm(mediaType string) bool {
	return mediaType == "application/x-www-form-urlencoded" || mediaType == "multipart/form-data"
}

func formFields(mediaType string, mparams map[string]string, body []byte) url.Values {
	if mediaType == "multipart/form-data" {
		return readMultipart(body, mparams["boundary"])
	}
	return ParseQuery(string(body))
}

// ParseQuery decodes an application/x-www-form-urlencoded string once.
// Unlike url.ParseQuery it keeps a pair whose escapes are broken, with the
// raw text: legacy clients send stray '%' signs, and dropping the pair
// would turn a malformed value into a missing one.
func ParseQuery(s string) url.Values {
	if s == "" {
		return url.Values{}
	}
	n := strings.Count(s, "&") + 1
	v := make(url.Values, n)
	parseQueryInto(v, make([]string, 0, n), s)
	return v
}

// parseQueryInto decodes s into v as ParseQuery does and returns firsts
// extended: one backing array holds the first value of every name, each
// slice capped at one so that a repeated name appends to a copy.
func parseQueryInto(v url.Values, firsts []string, s string) []string {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, value = unescape(key), unescape(value)
		if old, ok := v[key]; ok {
			v[key] = append(old, value)
			continue
		}
		if len(firsts) == cap(firsts) {
			// Growing would move the array the earlier names point into;
			// they keep the old one, and the new one starts afresh.
			firsts = make([]string, 0, max(2*cap(firsts), 4))
		}
		firsts = append(firsts, value)
		i := len(firsts)
		v[key] = firsts[i-1 : i : i]
	}
	return firsts
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// readLimited reads r up to max bytes; on failure it still returns what it
// read, so that it can be put back.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return body, fmt.Errorf("reading request body: %w", err)
	}
	if int64(len(body)) > max {
		return body, errBodyTooLarge
	}
	return body, nil
}

// readMultipart returns the non-file fields of a multipart body; a broken
// body yields the fields read before the break.
func readMultipart(body []byte, boundary string) url.Values {
	form := url.Values{}
	if boundary == "" {
		return form
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			return form
		}
		name := part.FormName()
		if name == "" || part.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(part)
		if err != nil {
			return form
		}
		form.Add(name, string(v))
	}
}

func badRequest(cause error) *v1model.Error {
	e := v1model.ErrBadRequest("")
	e.Cause = cause
	return e
}

// recoverRegCode repairs the old Internet Explorer rewrite of "&reg_code="
// into "®_code=" (the &reg; entity), which glues the code to the previous
// parameter's value or renames the parameter.
func (p *Params) recoverRegCode() {
	if p.Get("reg_code") != "" {
		return
	}
	markers := []string{"\u00ae_code", "\xae_code"}
	for _, src := range []url.Values{p.Query, p.Form} {
		keys := make([]string, 0, len(src))
		for k := range src {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, m := range markers {
				if k == m && len(src[k]) > 0 {
					p.Query.Set("reg_code", src[k][0])
					return
				}
			}
			for i, v := range src[k] {
				for _, m := range markers {
					before, after, ok := strings.Cut(v, m+"=")
					if !ok {
						continue
					}
					src[k][i] = before
					p.Query.Set("reg_code", after)
					return
				}
			}
		}
	}
}
