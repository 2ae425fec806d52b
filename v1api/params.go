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

	"github.com/passgw/passgw/translate"
)

var (
	errParamsTooLarge = errors.New("query string too large")
	errBodyTooLarge   = errors.New("request body too large")
	errBadTTL         = errors.New("ttl is not a whole number of seconds in 1..36000")
)

// params are the request parameters: the query and, on POST, the form or
// multipart body. Values are URL-decoded once. Names are case-sensitive.
type params struct {
	query url.Values
	form  url.Values
}

// get returns the first value of name, the query winning over the body.
func (p *params) get(name string) string {
	if v, ok := p.query[name]; ok && len(v) > 0 {
		return v[0]
	}
	if v := p.form[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// all returns every value of name, query values first.
func (p *params) all(name string) []string {
	out := append([]string(nil), p.query[name]...)
	return append(out, p.form[name]...)
}

// readParams reads the parameters of r within the limits.
func readParams(r *http.Request, maxParam int, maxBody int64) (params, error) {
	p := params{query: url.Values{}, form: url.Values{}}
	if len(r.URL.RawQuery) > maxParam {
		return p, badRequest(errParamsTooLarge)
	}
	p.query = parseQuery(r.URL.RawQuery)
	if r.Method != http.MethodPost || r.Body == nil {
		return p, nil
	}
	mediaType, mparams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return p, nil
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		body, err := readLimited(r.Body, maxBody)
		if err != nil {
			return p, badRequest(err)
		}
		p.form = parseQuery(string(body))
	case "multipart/form-data":
		body, err := readLimited(r.Body, maxBody)
		if err != nil {
			return p, badRequest(err)
		}
		p.form = readMultipart(body, mparams["boundary"])
	}
	return p, nil
}

// parseQuery decodes an application/x-www-form-urlencoded string once.
// Unlike url.ParseQuery it keeps a pair whose escapes are broken, with the
// raw text: legacy clients send stray '%' signs, and dropping the pair
// would turn a malformed value into a missing one.
func parseQuery(s string) url.Values {
	v := url.Values{}
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		v[unescape(key)] = append(v[unescape(key)], unescape(value))
	}
	return v
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func readLimited(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, errBodyTooLarge
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

func badRequest(cause error) *translate.Error {
	e := translate.ErrBadRequest("")
	e.Cause = cause
	return e
}

// recoverRegCode repairs the old Internet Explorer rewrite of "&reg_code="
// into "®_code=" (the &reg; entity), which glues the code to the previous
// parameter's value or renames the parameter.
func (p *params) recoverRegCode() {
	if p.get("reg_code") != "" {
		return
	}
	markers := []string{"\u00ae_code", "\xae_code"}
	for _, src := range []url.Values{p.query, p.form} {
		keys := make([]string, 0, len(src))
		for k := range src {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, m := range markers {
				if k == m && len(src[k]) > 0 {
					p.query.Set("reg_code", src[k][0])
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
					p.query.Set("reg_code", after)
					return
				}
			}
		}
	}
}
