package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/passgw/passgw/internal/tokenbucket"
	"github.com/passgw/passgw/internal/wait"
)

// Config configures a Server. The zero value serves DefaultFixture on the
// real clock with random ids and throttling on.
type Config struct {
	// Fixture is the world served; nil means DefaultFixture().
	Fixture *Fixture
	// BaseURL is the absolute URL the sandbox is reached at, used to build
	// the absolute URLs it answers with (MVPD pages, logout URLs). NewServer
	// sets it to its listener; empty means "scheme and Host of each request".
	BaseURL string
	// Now is the clock; nil means time.Now. Server.Advance moves the
	// sandbox's time forward from it.
	Now func() time.Time
	// IDs makes codes, ids, secrets and the signing key; nil means
	// RandomIDs(). Use DeterministicIDs for stable golden files.
	IDs IDGenerator
	// Sleep waits out injected latency; nil waits on a real timer, cut short
	// when the request's context ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// DisableThrottling switches the per-device token bucket off (for
	// benchmarks and tests that share one address).
	DisableThrottling bool
	// Admin enables the /_sandbox/ HTTP endpoints (faults, clock, reset) for
	// tests that drive the sandbox in another process. Off, those paths are
	// unknown like any other.
	Admin bool
	// StrictDeviceInfo makes X-Device-Info be checked as JSON with the five
	// required keys, not only as Base64.
	StrictDeviceInfo bool
	// Logger receives one line per unhandled request and per fault; nil
	// discards.
	Logger *slog.Logger
}

// Server is the sandbox: an in-memory Adobe Pass v2 + DCR service with mock
// MVPD pages. It is an http.Handler; NewServer also runs it on a loopback
// listener.
type Server struct {
	// URL is the base URL of the listener started by NewServer (empty for a
	// Server made by New).
	URL string

	fixture  *Fixture
	ids      IDGenerator
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	log      *slog.Logger
	strict   bool
	router   *mux.Router
	admin    *mux.Router // nil unless Config.Admin
	key      []byte
	listener *listener // nil unless made by NewServer

	// baseURL is read while mu is held, so it has its own guard.
	baseURL atomic.Pointer[string]

	mu          sync.Mutex
	offset      time.Duration
	throttling  bool
	clients     map[string]*client
	tokens      map[string]*accessToken
	sessions    map[string]*session
	profiles    map[profileKey]*profile
	ssoProfiles map[ssoKey]*profile
	tempPasses  map[string]*tempPassUsage
	samlReqs    map[string]*samlRequest
	buckets     tokenbucket.Buckets[string]
	faults      []*activeFault
	faultSeq    int

	// reqMu guards requests apart from mu: a request is logged while its
	// handler may still hold mu.
	reqMu    sync.Mutex
	requests []Request
}

// New makes a Server without a listener, for embedding in another process's
// HTTP server. Set Config.BaseURL (or call SetBaseURL) to the address it is
// served at.
func New(cfg Config) (*Server, error) {
	f := cfg.Fixture
	if f == nil {
		f = DefaultFixture()
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		fixture:    f,
		ids:        cfg.IDs,
		now:        cfg.Now,
		sleep:      cfg.Sleep,
		log:        cfg.Logger,
		strict:     cfg.StrictDeviceInfo,
		throttling: !cfg.DisableThrottling,
	}
	if s.ids == nil {
		s.ids = RandomIDs()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = wait.For
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.SetBaseURL(cfg.BaseURL)
	s.key = s.ids.Token(32)
	s.clients = map[string]*client{}
	s.tokens = map[string]*accessToken{}
	s.resetState()
	s.router = s.routes()
	if cfg.Admin {
		s.admin = s.adminRoutes()
	}
	return s, nil
}

// NewServer makes a Server and starts it on a 127.0.0.1 listener on a port
// the system picks; Close stops it.
func NewServer(cfg Config) (*Server, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	l, err := listen(s)
	if err != nil {
		return nil, err
	}
	s.listener = l
	s.URL = "http://" + l.ln.Addr().String()
	s.SetBaseURL(s.URL)
	return s, nil
}

// Close stops the listener started by NewServer and waits for the calls in
// flight to end, as httptest.Server.Close does, cutting those still running
// after closeGrace; it does nothing for a Server made by New.
func (s *Server) Close() {
	if s.listener != nil {
		s.listener.close()
	}
}

// SetBaseURL sets the absolute URL the sandbox is served at.
func (s *Server) SetBaseURL(u string) {
	u = strings.TrimSuffix(u, "/")
	s.baseURL.Store(&u)
}

// Fixture returns the world the sandbox serves. Treat it as read-only.
func (s *Server) Fixture() *Fixture { return s.fixture }

// Now is the sandbox's current time: the configured clock plus every
// Advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.now().Add(s.offset) }

// Advance moves the sandbox's clock forward by d (sessions, profiles, tokens,
// TempPass and the throttle all follow it).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// SetThrottling switches the per-device throttle on or off.
func (s *Server) SetThrottling(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttling = on
	s.buckets.Reset()
}

// Reset forgets every session, profile, TempPass use, pending partner
// request, throttle bucket, fault and recorded request. Registered clients
// and their access tokens survive, so a connected gateway keeps working.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetState()
}

func (s *Server) resetState() {
	s.sessions = map[string]*session{}
	s.profiles = map[profileKey]*profile{}
	s.ssoProfiles = map[ssoKey]*profile{}
	s.tempPasses = map[string]*tempPassUsage{}
	s.samlReqs = map[string]*samlRequest{}
	s.buckets.Reset()
	s.faults = nil
	s.reqMu.Lock()
	s.requests = nil
	s.reqMu.Unlock()
}

// ExpireAccessTokens invalidates every access token issued so far, as if
// each had reached its expiry; clients must fetch new ones.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]*accessToken{}
}

// Request is one request the sandbox received.
type Request struct {
	Time       time.Time
	Method     string
	Path       string
	RawQuery   string
	Header     http.Header
	Body       []byte
	RemoteAddr string
	// Status is the status answered; 0 when the connection was dropped.
	Status int
	// Handled is false for paths (or methods) the sandbox does not serve.
	Handled bool
}

// Requests returns every request received since the start or the last
// Reset, oldest first.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// UnhandledRequests returns the requests for paths the sandbox does not
// serve; a test can assert it is empty.
func (s *Server) UnhandledRequests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if !r.Handled {
			out = append(out, r)
		}
	}
	return out
}

const maxBody = 1 << 20

// ServeHTTP records the request, then applies the admin endpoints, injected
// faults and the throttle before routing it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "sandbox: reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{ResponseWriter: w, handled: true}
	entry := Request{
		Method:     r.Method,
		Path:       r.URL.Path,
		RawQuery:   r.URL.RawQuery,
		Header:     r.Header.Clone(),
		Body:       body,
		RemoteAddr: r.RemoteAddr,
		Time:       s.Now(),
	}
	// The request is logged when its status is written, before any of the
	// answer reaches the client, so a caller that has read the answer always
	// finds the request in Requests(); a dropped connection is logged at the
	// end with status 0.
	rec.commit = func(status int) {
		entry.Status = status
		entry.Handled = rec.handled
		s.reqMu.Lock()
		s.requests = append(s.requests, entry)
		s.reqMu.Unlock()
		if !rec.handled {
			s.log.Warn("unhandled request", "method", r.Method, "path", r.URL.Path)
		}
	}
	defer rec.flush()

	if s.admin != nil && strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.admin.ServeHTTP(rec, r)
		return
	}
	if done := s.applyFaults(rec, r); done {
		return
	}
	if throttled(r.URL.Path) && !s.allow(deviceAddress(r)) {
		writeThrottled(rec)
		return
	}
	s.router.ServeHTTP(rec, r)
}

// recorder remembers the status written and whether a route handled the
// request.
type recorder struct {
	http.ResponseWriter
	status    int
	handled   bool
	commit    func(status int) // logs the request; called once
	committed bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.flush()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// flush logs the request with the status written so far, once.
func (r *recorder) flush() {
	if r.committed || r.commit == nil {
		return
	}
	r.committed = true
	r.commit(r.status)
}

// Unwrap lets http.ResponseController reach the connection (dropped
// connections hijack it).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// methods routes one path by method; other methods get 405.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	if rec, ok := w.(*recorder); ok {
		rec.handled = false
	}
	if strings.HasPrefix(r.URL.Path, "/api/v2/authenticate/") || strings.HasPrefix(r.URL.Path, "/adobe-services/") {
		writeHTML(w, http.StatusMethodNotAllowed, "<html><body><h1>405 Method Not Allowed</h1></body></html>")
		return
	}
	writeProtocolError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %s is not allowed on %s.", r.Method, r.URL.Path))
}

func (s *Server) routes() *mux.Router {
	m := mux.NewRouter()
	m.SkipClean(true)
	h := func(path string, ms methods) { m.Handle(path, ms) }

	h("/o/client/register", methods{http.MethodPost: s.handleRegister})
	h("/o/client/token", methods{http.MethodPost: s.handleToken})

	h("/api/v2/authenticate/{sp}/{code}", methods{http.MethodGet: s.handleAuthenticate})
	h("/api/v2/{sp}/configuration", methods{http.MethodGet: s.handleConfiguration})
	h("/api/v2/{sp}/configuration/", methods{http.MethodGet: s.handleConfiguration})
	h("/api/v2/{sp}/sessions", methods{http.MethodPost: s.handleCreateSession})
	h("/api/v2/{sp}/sessions/sso/{partner}", methods{http.MethodPost: s.handlePartnerSession})
	h("/api/v2/{sp}/sessions/{code}", methods{http.MethodPost: s.handleResumeSession, http.MethodGet: s.handleRetrieveSession})
	h("/api/v2/{sp}/profiles", methods{http.MethodGet: s.handleProfiles})
	h("/api/v2/{sp}/profiles/sso/{partner}", methods{http.MethodPost: s.handlePartnerProfile})
	h("/api/v2/{sp}/profiles/code/{code}", methods{http.MethodGet: s.handleProfileByCode})
	h("/api/v2/{sp}/profiles/{mvpd}", methods{http.MethodGet: s.handleProfileByMVPD})
	h("/api/v2/{sp}/decisions/authorize/{mvpd}", methods{http.MethodPost: s.handleAuthorize})
	h("/api/v2/{sp}/decisions/preauthorize/{mvpd}", methods{http.MethodPost: s.handlePreauthorize})
	h("/api/v2/{sp}/logout/{mvpd}", methods{http.MethodGet: s.handleLogout})

	h("/adobe-services/authenticate/saml", methods{http.MethodGet: s.handleSAMLHop})
	h("/adobe-services/mvpd/{mvpd}/login", methods{http.MethodGet: s.handleLoginForm, http.MethodPost: s.handleLoginSubmit})
	h("/adobe-services/logout", methods{http.MethodGet: s.handleMVPDLogout})

	m.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.handled = false
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "sandbox: no route for %s %s\n", r.Method, r.URL.Path)
	})
	return m
}

// baseURLFor is the absolute base URL for answers to r.
func (s *Server) baseURLFor(r *http.Request) string {
	if base := *s.baseURL.Load(); base != "" {
		return base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func writeHTML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// deviceAddress is the throttle key: the first X-Forwarded-For entry, else
// the connection's address.
func deviceAddress(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if first = strings.TrimSpace(first); first != "" {
			return first
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
