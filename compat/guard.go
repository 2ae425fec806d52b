package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
)

// Guard defaults.
const (
	DefaultGuardWindow   = time.Minute
	DefaultGuardShare    = 0.5
	DefaultGuardMinCalls = 20
	DefaultGuardRecheck  = time.Minute
	// DefaultGuardProbeTimeout bounds one recheck of the v1 upstream.
	DefaultGuardProbeTimeout = 10 * time.Second
)

// guardBuckets is the number of slices a Window is counted in: the window
// slides by a tenth of its length.
const guardBuckets = 10

// peekGone bounds how much of a 404 or 410 body is read to tell a v1 error
// from the page of a decommissioned host.
const peekGone = 4 << 10

// GuardDefault names, in logs, metrics and Status, the policy of the
// requestors the configuration does not name (Policy.Requestor "").
const GuardDefault = "*"

// Guard is the v1 end-of-life guard. Adobe turns REST API v1 off at the end
// of 2026; from then on a requestor in passthrough, shadow or canary mode
// would answer every device routed to v1 with a 502. The Guard watches the
// answers of the v1 upstream for each requestor and, when at least Share of
// at least MinCalls calls over Window failed (no answer, a 5xx, or a 404 or
// 410 that is not a v1 error body: the page a decommissioned host serves),
// diverts the requestor: its calls are answered through translate, as in
// translate mode, until v1 answers again (a recheck every Recheck) or, when
// Sticky, until an operator releases it (Release). Each switch is logged at
// error level and told to Switched. The zero value is ready to use.
type Guard struct {
	// Window is the span failures are counted over. Zero means
	// DefaultGuardWindow.
	Window time.Duration
	// Share is the share of failed calls, above 0 and at most 1, that
	// diverts a requestor. Zero means DefaultGuardShare.
	Share float64
	// MinCalls is the least number of v1 calls in Window before the share
	// counts, so that two failures of a quiet requestor divert nothing.
	// Zero means DefaultGuardMinCalls.
	MinCalls int
	// Sticky keeps a diverted requestor on translate until Release, even
	// when v1 answers again.
	Sticky bool
	// Recheck is how often the v1 upstream of a diverted requestor is
	// asked again (one GET of the requestor's v1 configuration, in the
	// background) when not Sticky. Zero means DefaultGuardRecheck.
	Recheck time.Duration
	// Switched is told of each switch: fallback true when requestor was
	// diverted to translate, false when it went back. Nil tells nothing.
	Switched func(requestor string, fallback bool)
	// Now reads the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives a line per switch. Nil means slog.Default().
	Logger *slog.Logger
	// Memory, when set and Sticky, keeps the switches so that they
	// survive a restart (see Restore). Nil keeps them in the process.
	Memory GuardMemory

	once  sync.Once
	table *guardTable
}

// guardTable is the memory of a Guard: what it counted and whom it
// diverted. A Guard built for a new configuration takes over its
// predecessor's (see Continue).
type guardTable struct {
	mu     sync.Mutex
	states map[string]*guardState
	// width is the slice of time the counts are kept in.
	width time.Duration
}

// guardState is the tally and the switch of one requestor.
type guardState struct {
	buckets [guardBuckets]guardBucket
	// since is when the requestor was diverted; zero while it is not.
	since time.Time
	// reason says why, for Status.
	reason string
	// probed is when the last recheck started.
	probed time.Time
}

type guardBucket struct {
	slot          int64 // the slice of time counted; see slot
	calls, failed int
}

// GuardStatus is a requestor the Guard diverted.
type GuardStatus struct {
	// Requestor is the configured requestor, or GuardDefault.
	Requestor string
	// Since is when it was diverted.
	Since time.Time
	// Reason is the tally that diverted it.
	Reason string
	// Sticky reports that only Release brings it back.
	Sticky bool
}

func (g *Guard) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

func (g *Guard) logger() *slog.Logger {
	if g.Logger == nil {
		return slog.Default()
	}
	return g.Logger
}

func (g *Guard) window() time.Duration {
	if g.Window <= 0 {
		return DefaultGuardWindow
	}
	return g.Window
}

// tab is g's table, made on first use.
func (g *Guard) tab() *guardTable {
	g.once.Do(func() {
		if g.table == nil {
			g.table = &guardTable{states: map[string]*guardState{}, width: g.window() / guardBuckets}
		}
	})
	return g.table
}

// Continue makes g take over the memory of prev, the Guard of the
// configuration g replaces: the requestors prev diverted stay diverted and
// its counts go on (they restart when the window changed). Call it before g
// serves; calls still running on prev count in the same memory.
func (g *Guard) Continue(prev *Guard) {
	if prev == nil {
		return
	}
	t := prev.tab()
	t.mu.Lock()
	if w := g.window() / guardBuckets; t.width != w {
		t.width = w
		for _, s := range t.states {
			s.buckets = [guardBuckets]guardBucket{}
		}
	}
	t.mu.Unlock()
	g.once.Do(func() { g.table = t })
}

func (t *guardTable) state(key string) *guardState {
	s, ok := t.states[key]
	if !ok {
		s = &guardState{}
		t.states[key] = s
	}
	return s
}

// slot is the slice of time t falls in.
func (t *guardTable) slot(at time.Time) int64 {
	return at.UnixNano() / max(int64(t.width), 1)
}

// observe counts one answer (or its absence) of the v1 upstream for the
// requestor of key and diverts it when the failures reach the share.
func (g *Guard) observe(key, host string, failed bool) {
	if g == nil {
		return
	}
	now := g.now()
	t := g.tab()
	t.mu.Lock()
	cur := t.slot(now)
	s := t.state(key)
	if !s.since.IsZero() {
		// A call that started before the switch: the switch is made.
		t.mu.Unlock()
		return
	}
	b := &s.buckets[cur%guardBuckets]
	if b.slot != cur {
		*b = guardBucket{slot: cur}
	}
	b.calls++
	if failed {
		b.failed++
	}
	var calls, fails int
	for _, b := range s.buckets {
		if cur-b.slot < guardBuckets {
			calls += b.calls
			fails += b.failed
		}
	}
	share, min := g.Share, g.MinCalls
	if share <= 0 {
		share = DefaultGuardShare
	}
	if min <= 0 {
		min = DefaultGuardMinCalls
	}
	if calls < min || float64(fails) < share*float64(calls) {
		t.mu.Unlock()
		return
	}
	s.since, s.probed = now, now
	s.buckets = [guardBuckets]guardBucket{}
	s.reason = "v1 upstream " + host + " failed " + strconv.Itoa(fails) + " of " + strconv.Itoa(calls) + " calls within " + g.window().String()
	reason := s.reason
	t.mu.Unlock()

	next := "when it answers again, the requestor goes back to its mode"
	if g.Sticky {
		next = "it stays on translate until an operator releases it"
	}
	g.logger().Error("the v1 upstream stopped answering; the requestor's calls are now answered through translate ("+next+")",
		"requestor", guardName(key), "reason", reason)
	g.remember(GuardStatus{Requestor: guardName(key), Since: now, Reason: reason, Sticky: g.Sticky})
	if g.Switched != nil {
		g.Switched(guardName(key), true)
	}
}

// divert reports whether the calls of key's requestor go to translate and,
// when not Sticky, whether the caller is to recheck v1 now (true for one
// caller per Recheck).
func (g *Guard) divert(key string) (diverted, recheck bool) {
	if g == nil {
		return false, false
	}
	t := g.tab()
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.states[key]
	if !ok || s.since.IsZero() {
		return false, false
	}
	if g.Sticky {
		return true, false
	}
	every := g.Recheck
	if every <= 0 {
		every = DefaultGuardRecheck
	}
	if now := g.now(); now.Sub(s.probed) >= every {
		s.probed = now
		return true, true
	}
	return true, false
}

// Release sends a diverted requestor (GuardDefault for the requestors the
// configuration does not name) back to its configured mode, when an
// operator confirms v1 is back or the configuration no longer sends the
// requestor to v1; why is logged. It reports whether the requestor was
// diverted.
func (g *Guard) Release(requestor, why string) bool {
	key := requestor
	if key == GuardDefault {
		key = ""
	}
	if g.restore(key, why) {
		return true
	}
	if g != nil {
		// What another instance on the store kept.
		g.forget(guardName(key))
	}
	return false
}

func (g *Guard) restore(key, why string) bool {
	if g == nil {
		return false
	}
	t := g.tab()
	t.mu.Lock()
	s, ok := t.states[key]
	if !ok || s.since.IsZero() {
		t.mu.Unlock()
		return false
	}
	*s = guardState{}
	t.mu.Unlock()
	g.forget(guardName(key))
	g.logger().Warn("the requestor goes back to its configured mode ("+why+")", "requestor", guardName(key))
	if g.Switched != nil {
		g.Switched(guardName(key), false)
	}
	return true
}

// Status lists the diverted requestors by name.
func (g *Guard) Status() []GuardStatus {
	if g == nil {
		return nil
	}
	t := g.tab()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []GuardStatus
	for k, s := range t.states {
		if !s.since.IsZero() {
			out = append(out, GuardStatus{Requestor: guardName(k), Since: s.since, Reason: s.reason, Sticky: g.Sticky})
		}
	}
	slices.SortFunc(out, func(a, b GuardStatus) int { return strings.Compare(a.Requestor, b.Requestor) })
	return out
}

func guardName(key string) string {
	if key == "" {
		return GuardDefault
	}
	return key
}

// recheck asks the v1 upstream for requestor's configuration and restores
// key's requestor when v1 answers it as a live v1 would.
func (rt *Router) recheck(key, requestor string, upstream *url.URL) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultGuardProbeTimeout)
	defer cancel()
	u := upstream.JoinPath("/api/v1/config", requestor)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return
	}
	req.Header.Set("Accept", "application/xml")
	tr := rt.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, peekGone))
	if v1Failed(resp.StatusCode, resp.Header.Get("Content-Type"), head) {
		return
	}
	rt.Guard.restore(key, "the v1 upstream "+upstream.Host+" answers again")
}

// v1Failed reports whether an answer of the v1 upstream is a failure to
// the Guard: a 5xx, or a 404 or 410 whose body is not a v1 error (v1
// answers unknown codes, missing authentications and expired ones with
// 404 and 410 v1 errors, which are answers).
func v1Failed(status int, contentType string, body []byte) bool {
	switch {
	case status >= 500:
		return true
	case status == http.StatusNotFound || status == http.StatusGone:
		return !isV1Error(contentType, body)
	}
	return false
}

// isV1Error reports whether body is a v1 error body: an XML <error> or a
// JSON object with status and message.
func isV1Error(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.HasSuffix(mt, "json"):
		var e struct {
			Status  *int    `json:"status"`
			Message *string `json:"message"`
		}
		return json.Unmarshal(body, &e) == nil && e.Status != nil && e.Message != nil
	case strings.HasSuffix(mt, "xml"):
		doc := etree.NewDocument()
		return doc.ReadFromBytes(body) == nil && doc.Root() != nil && doc.Root().Tag == "error"
	}
	return false
}

// classify reads whether resp, an answer of the v1 upstream, is a failure
// to the Guard, leaving its body whole for the device.
func classify(resp *http.Response) bool {
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusGone {
		return v1Failed(resp.StatusCode, "", nil)
	}
	var head []byte
	head, resp.Body, _ = peek(resp.Body, peekGone)
	return v1Failed(resp.StatusCode, resp.Header.Get("Content-Type"), head)
}

// peek reads at most max bytes of rc and returns them, with a ReadCloser
// that yields the whole of rc, those bytes first (and a read error, if
// any, after them).
func peek(rc io.ReadCloser, max int64) (head []byte, whole io.ReadCloser, err error) {
	head, err = io.ReadAll(io.LimitReader(rc, max))
	var tail io.Reader = rc
	if err != nil {
		tail = errReader{err}
	}
	return head, struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), tail), rc}, err
}
