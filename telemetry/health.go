package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultReadyTimeout bounds a readiness probe when Readiness.Timeout is
// zero: under the default timeouts of common orchestrator probes.
const DefaultReadyTimeout = 3 * time.Second

// Check is one condition of readiness. Run returns nil when it holds; its
// error text is shown on /readyz, so it must not carry secrets.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Readiness serves /readyz: 200 "ready" when every check passes, 503 and
// one line per failed check otherwise. Checks run concurrently under
// Timeout. The zero value (no checks) is always ready.
type Readiness struct {
	Checks []Check

	// Timeout bounds all checks together. Zero means DefaultReadyTimeout.
	Timeout time.Duration

	// Logger receives failed checks at warn level. Nil discards.
	Logger *slog.Logger

	// Details returns lines shown after the verdict that do not change it:
	// states of a working gateway an operator is to see (a requestor
	// answered through translate by the v1 end-of-life guard). Nil shows
	// none.
	Details func() []string
}

// Check runs the checks and returns one "name: error" line per failure.
func (rd *Readiness) Check(ctx context.Context) []string {
	timeout := rd.Timeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(rd.Checks))
	var wg sync.WaitGroup
	for i, c := range rd.Checks {
		wg.Go(func() { errs[i] = c.Run(ctx) })
	}
	wg.Wait()
	var failed []string
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", rd.Checks[i].Name, err))
		}
	}
	return failed
}

// ServeHTTP implements http.Handler.
func (rd *Readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rd.serve(w, r, true)
}

// Terse is rd answering the verdict alone: the same status, "ready" or
// "not ready", without the failed checks and details. Their names and
// error texts (store addresses, upstream errors, requestors) are for
// operators, not for whoever reaches a public listener; failures are
// still logged.
func (rd *Readiness) Terse() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rd.serve(w, r, false) })
}

func (rd *Readiness) serve(w http.ResponseWriter, r *http.Request, full bool) {
	failed := rd.Check(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var details []string
	if rd.Details != nil && full {
		details = rd.Details()
	}
	if len(failed) == 0 {
		fmt.Fprintln(w, "ready")
		for _, d := range details {
			fmt.Fprintln(w, d)
		}
		return
	}
	if rd.Logger != nil {
		rd.Logger.WarnContext(r.Context(), "not ready", "failed", failed)
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, "not ready")
	if full {
		fmt.Fprintln(w, strings.Join(append(failed, details...), "\n"))
	}
}
