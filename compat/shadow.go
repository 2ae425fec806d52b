package compat

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/passgw/passgw/compat/golden"
)

// Shadow defaults.
const (
	DefaultShadowConcurrency = 4
	DefaultShadowTimeout     = 10 * time.Second
)

// Shadow runs the translated path of shadow-mode calls beside the v1
// upstream and compares the answers. The device always gets v1's answer;
// the translated one is produced in the background, at most Concurrency
// at a time (a call arriving when all are busy is not compared, and counted
// as skipped), within Timeout. The zero value is ready to use.
type Shadow struct {
	// Concurrency bounds the comparisons running at once. Zero means
	// DefaultShadowConcurrency.
	Concurrency int
	// Timeout bounds one translated call. Zero means DefaultShadowTimeout.
	Timeout time.Duration
	// Ignore are the volatile values left out of comparisons. Nil means
	// DefaultIgnore().
	Ignore golden.Ignore
	// Record receives each differing pair, for review (see DiffDir). Nil
	// means differences are only counted.
	Record func(*ShadowDiff) error
	// Compared is told of every comparison, for metrics; endpoint is the
	// call's route template. Nil means nothing is told.
	Compared func(endpoint string, match bool)
	// Skipped is told of every call not compared because every slot was
	// busy, for metrics; endpoint is the call's route template. Nil means
	// nothing is told.
	Skipped func(endpoint string)
	// Failed is told of every call whose translated answer could not be
	// had, for metrics; endpoint is the call's route template. Nil means
	// nothing is told.
	Failed func(endpoint string)
	// Translated is told the translated answer's status of every call
	// compared, with the call (the migration progress counts devices
	// signed in through v2 by it). r is the device's request. Nil means
	// nothing is told.
	Translated func(r *http.Request, call Call, status int)
	// Now stamps differences. Nil means time.Now.
	Now func() time.Time
	// Logger receives failures of the translated call and of Record. Nil
	// means slog.Default().
	Logger *slog.Logger

	once   sync.Once
	sem    chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	counts map[string]ShadowCount
}

// ShadowCount is the tally of one endpoint.
type ShadowCount struct {
	// Match and Differ count compared calls.
	Match, Differ int
	// Skipped counts calls not compared because every slot was busy.
	Skipped int
	// Failed counts calls whose translated answer could not be had (a
	// panic, a timeout before any answer).
	Failed int
}

// ShadowDiff is one call whose answers differ.
type ShadowDiff struct {
	Time      time.Time
	Endpoint  string
	Requestor string
	// Request is the device's call, credentials redacted.
	Request golden.Request
	// V1 is the answer the device got; Translate the gateway's.
	V1, Translate golden.Response
	// Diff is the unified diff of their canonical forms (V1 as "want").
	Diff string
}

func (s *Shadow) init() {
	s.once.Do(func() {
		n := s.Concurrency
		if n <= 0 {
			n = DefaultShadowConcurrency
		}
		s.sem = make(chan struct{}, n)
		s.counts = map[string]ShadowCount{}
	})
}

// Counts returns a snapshot of the tallies by endpoint.
func (s *Shadow) Counts() map[string]ShadowCount {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]ShadowCount, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Wait blocks until every comparison started so far has finished, for an
// orderly shutdown.
func (s *Shadow) Wait() { s.wg.Wait() }

func (s *Shadow) count(endpoint string, f func(*ShadowCount)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counts[endpoint]
	f(&c)
	s.counts[endpoint] = c
}

func (s *Shadow) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// shadow answers r from v1 and, when a slot is free, replays it through
// Translate in the background and compares. A v1 that failed (see Guard)
// is not compared: its answer says nothing of translate's.
func (rt *Router) shadow(w http.ResponseWriter, r *http.Request, call Call, body []byte, pol Policy) {
	s := rt.Shadow
	s.init()
	// Copied before the proxy gets r: it reads the body and adds headers.
	req := r.Clone(context.WithoutCancel(r.Context()))
	cw := &capture{ResponseWriter: w}
	answered := rt.proxy(cw, r, call, pol)
	if !answered || cw.truncated || cw.status == 0 {
		return
	}
	v1 := cw.response()
	select {
	case s.sem <- struct{}{}:
	default:
		s.count(call.Op, func(c *ShadowCount) { c.Skipped++ })
		if s.Skipped != nil {
			s.Skipped(call.Op)
		}
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem }()
		s.compare(req, call, body, v1, rt.Translate)
	}()
}

func (s *Shadow) compare(req *http.Request, call Call, body []byte, v1 golden.Response, translate http.Handler) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultShadowTimeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	req = req.WithContext(ctx)
	req.Body = http.NoBody
	if len(body) > 0 {
		req.Body = readCloser{bytes.NewReader(body)}
	}
	rec := newRecorder()
	if !serveRecovered(translate, rec, req) || (rec.status == 0 && ctx.Err() != nil) {
		s.count(call.Op, func(c *ShadowCount) { c.Failed++ })
		if s.Failed != nil {
			s.Failed(call.Op)
		}
		s.logger().WarnContext(ctx, "the translated call failed", "route", call.Op)
		return
	}
	got := rec.response()
	if s.Translated != nil {
		s.Translated(req, call, got.Status)
	}
	ignore := s.Ignore
	if ignore == nil {
		ignore = golden.DefaultIgnore()
	}
	d := golden.Compare(v1, got, ignore)
	s.count(call.Op, func(c *ShadowCount) {
		if d == "" {
			c.Match++
		} else {
			c.Differ++
		}
	})
	if s.Compared != nil {
		s.Compared(call.Op, d == "")
	}
	if d == "" || s.Record == nil {
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	diff := &ShadowDiff{
		Time: now(), Endpoint: call.Op, Requestor: call.Requestor,
		Request: redactedRequest(req, body), V1: v1, Translate: got, Diff: d,
	}
	if err := s.Record(diff); err != nil {
		s.logger().WarnContext(ctx, "recording a difference failed", "route", call.Op, "error", err.Error())
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// serveRecovered serves req, reporting false if the handler panicked.
func serveRecovered(h http.Handler, w http.ResponseWriter, req *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			ok = false
		}
	}()
	h.ServeHTTP(w, req)
	return true
}

// Credentials a recorded request must not carry.
var (
	secretHeaders = []string{"Authorization", "Cookie", "Adobe-Subject-Token", "X-Roku-Reserved-Roku-Connect-Token"}
	secretParams  = []string{"access_token", "ast", "client_secret"}
)

const redacted = "REDACTED"

// redactedRequest is req as a case stores it, credentials replaced.
func redactedRequest(req *http.Request, body []byte) golden.Request {
	h := http.Header{}
	for k, vs := range req.Header {
		for _, v := range vs {
			if slices.Contains(secretHeaders, http.CanonicalHeaderKey(k)) {
				v = redacted
			}
			h.Add(k, v)
		}
	}
	target := req.URL.Path
	if req.URL.RawPath != "" {
		target = req.URL.RawPath
	}
	if q := redactQuery(req.URL.RawQuery); q != "" {
		target += "?" + q
	}
	if mt := h.Get("Content-Type"); strings.HasPrefix(mt, "application/x-www-form-urlencoded") {
		body = []byte(redactQuery(string(body)))
	}
	return golden.Request{Method: req.Method, Target: target, Header: h, Body: bytes.Clone(body)}
}

func redactQuery(raw string) string {
	pairs := strings.Split(raw, "&")
	for i, p := range pairs {
		k, _, ok := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k // a broken escape is kept raw, as v1api.ParseQuery does
		}
		if ok && slices.Contains(secretParams, name) {
			pairs[i] = k + "=" + redacted
		}
	}
	return strings.Join(pairs, "&")
}

// Sections of a shadow difference archive besides request and response
// (which hold the device's call and the v1 answer, so the archive is also
// a golden case expecting v1's answer).
const (
	SectionTranslate = "translate"
	SectionDiff      = "diff"
)

// Archive returns d as a txtar archive: a comment naming the endpoint,
// requestor and time, then the request, the v1 answer (as "response"), the
// translated answer and the diff.
func (d *ShadowDiff) Archive() []byte {
	a := &txtar.Archive{
		Comment: fmt.Appendf(nil, "Shadow difference on %s, requestor %s, at %s.\nresponse is the v1 answer the device got; translate is the gateway's.\n",
			d.Endpoint, d.Requestor, d.Time.UTC().Format(time.RFC3339)),
		Files: []txtar.File{
			{Name: golden.SectionRequest, Data: d.Request.Format()},
			{Name: golden.SectionResponse, Data: d.V1.Format()},
			{Name: SectionTranslate, Data: d.Translate.Format()},
			{Name: SectionDiff, Data: []byte(d.Diff)},
		},
	}
	return txtar.Format(a)
}

// DiffDir is a directory that receives one txtar file per shadow
// difference (see ShadowDiff.Archive); its Record method is a
// Shadow.Record.
type DiffDir string

// Record writes d to a new file named by its time and endpoint.
func (dir DiffDir) Record(d *ShadowDiff) error {
	slug := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, strings.NewReplacer("{", "", "}", "").Replace(d.Endpoint))
	f, err := os.CreateTemp(string(dir), d.Time.UTC().Format("20060102T150405Z")+"-"+slug+"-*.txtar")
	if err != nil {
		return fmt.Errorf("compat: %w", err)
	}
	_, werr := f.Write(d.Archive())
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("compat: writing %s: %w", filepath.Base(f.Name()), werr)
	}
	if cerr != nil {
		return fmt.Errorf("compat: %w", cerr)
	}
	return nil
}
