package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/passgw/passgw/v2client"
)

// FaultKind names what an injected fault does to a matching request.
type FaultKind string

const (
	// FaultLatency delays the request by Latency, then serves it.
	FaultLatency FaultKind = "latency"
	// FaultStatus answers Status with an error body (an Enhanced Error
	// carrying Code on the v2 API, {"error":Code} on DCR, HTML on pages).
	FaultStatus FaultKind = "status"
	// FaultThrottle answers the documented 429 page.
	FaultThrottle FaultKind = "throttle"
	// FaultDrop closes the connection without answering.
	FaultDrop FaultKind = "drop"
	// FaultExpireTokens invalidates every access token, then serves the
	// request (which then fails with 401 if it carries one).
	FaultExpireTokens FaultKind = "expire_tokens"
)

// Fault is a failure injected into matching requests.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// Path selects requests by URL path: a path.Match pattern
	// ("/api/v2/*/decisions/authorize/*"); a pattern ending in "/**"
	// matches its leading segments and anything below them
	// ("/api/v2/*/decisions/**"). Empty matches every path.
	Path string `json:"path,omitempty"`
	// Method restricts the fault to one HTTP method; empty matches all.
	Method string `json:"method,omitempty"`
	// Count is how many matching requests the fault applies to before it
	// removes itself; zero means until removed.
	Count int `json:"count,omitempty"`
	// Latency is the delay of a FaultLatency.
	Latency Duration `json:"latency,omitempty"`
	// Status and Code shape a FaultStatus; Code defaults by status
	// (internal_server_error for 500, invalid_access_token_client_application
	// for 401).
	Status int    `json:"status,omitempty"`
	Code   string `json:"code,omitempty"`
}

// ActiveFault is an injected fault and what is left of it.
type ActiveFault struct {
	ID string `json:"id"`
	Fault
	// Remaining is how many more requests it applies to; 0 for unlimited.
	Remaining int `json:"remaining"`
}

type activeFault struct {
	id        string
	f         Fault
	remaining int
}

// ErrInvalidFault is wrapped by AddFault's validation errors.
var ErrInvalidFault = errors.New("invalid fault")

// AddFault injects f and returns its id for RemoveFault.
func (s *Server) AddFault(f Fault) (string, error) {
	switch f.Kind {
	case FaultLatency:
		if f.Latency <= 0 {
			return "", fmt.Errorf("%w: latency must be positive", ErrInvalidFault)
		}
	case FaultStatus:
		if f.Status < 400 || f.Status > 599 {
			return "", fmt.Errorf("%w: status %d is not an error status", ErrInvalidFault, f.Status)
		}
	case FaultThrottle, FaultDrop, FaultExpireTokens:
	default:
		return "", fmt.Errorf("%w: unknown kind %q", ErrInvalidFault, f.Kind)
	}
	if f.Count < 0 {
		return "", fmt.Errorf("%w: count must not be negative", ErrInvalidFault)
	}
	if _, err := path.Match(strings.TrimSuffix(f.Path, "/**"), "/"); err != nil {
		return "", fmt.Errorf("%w: path pattern: %w", ErrInvalidFault, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	id := fmt.Sprintf("fault-%d", s.faultSeq)
	s.faults = append(s.faults, &activeFault{id: id, f: f, remaining: f.Count})
	return id, nil
}

// RemoveFault removes an injected fault; it reports whether it was there.
func (s *Server) RemoveFault(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, af := range s.faults {
		if af.id == id {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return true
		}
	}
	return false
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Faults lists the injected faults still active.
func (s *Server) Faults() []ActiveFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ActiveFault, 0, len(s.faults))
	for _, af := range s.faults {
		out = append(out, ActiveFault{ID: af.id, Fault: af.f, Remaining: af.remaining})
	}
	return out
}

func (f Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	switch {
	case f.Path == "":
		return true
	case strings.HasSuffix(f.Path, "/**"):
		// The pattern matches the leading segments; anything may follow.
		pat := strings.TrimSuffix(f.Path, "/**")
		p := r.URL.Path
		n := strings.Count(pat, "/")
		for i, c := range p {
			if c == '/' {
				if n == 0 {
					p = p[:i]
					break
				}
				n--
			}
		}
		ok, _ := path.Match(pat, p)
		return ok
	default:
		ok, _ := path.Match(f.Path, r.URL.Path)
		return ok
	}
}

// takeFaults returns the faults matching r and spends one use of each.
func (s *Server) takeFaults(r *http.Request) []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hit []Fault
	kept := s.faults[:0]
	for _, af := range s.faults {
		if af.f.matches(r) {
			hit = append(hit, af.f)
			if af.remaining > 0 {
				af.remaining--
				if af.remaining == 0 {
					continue
				}
			}
		}
		kept = append(kept, af)
	}
	s.faults = kept
	return hit
}

// applyFaults runs the faults matching r; it reports whether one of them
// answered (or dropped) the request.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request) bool {
	faults := s.takeFaults(r)
	for _, f := range faults {
		// The fault's pattern, not the path, which may carry a code.
		s.log.Info("fault", "kind", f.Kind, "method", r.Method, "pattern", f.Path)
		switch f.Kind {
		case FaultLatency:
			if err := s.sleep(r.Context(), time.Duration(f.Latency)); err != nil {
				return true
			}
		case FaultExpireTokens:
			s.ExpireAccessTokens()
		}
	}
	for _, f := range faults {
		switch f.Kind {
		case FaultThrottle:
			writeThrottled(w)
			return true
		case FaultDrop:
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				// HTTP/2 cannot be hijacked: abort the stream instead.
				panic(http.ErrAbortHandler)
			}
			_ = conn.Close()
			return true
		case FaultStatus:
			s.writeForcedStatus(w, r, f)
			return true
		}
	}
	return false
}

func (s *Server) writeForcedStatus(w http.ResponseWriter, r *http.Request, f Fault) {
	code := f.Code
	if code == "" {
		switch f.Status {
		case http.StatusInternalServerError:
			code = CodeInternalServerError
		case http.StatusUnauthorized:
			code = CodeInvalidTokenClientApplication
		}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/o/"):
		if code == "" {
			code = "invalid_request"
		}
		writeJSON(w, f.Status, v2client.DCRError{Code: code})
	case strings.HasPrefix(r.URL.Path, "/api/v2/authenticate/") || strings.HasPrefix(r.URL.Path, "/adobe-services/"):
		writeHTML(w, f.Status, fmt.Sprintf("<html><body><h1>%d %s</h1></body></html>", f.Status, http.StatusText(f.Status)))
	default:
		e := s.newError(code, f.Status)
		e.Status = f.Status
		if code == "" {
			e.Message = http.StatusText(f.Status)
		}
		writeJSON(w, f.Status, e)
	}
}
