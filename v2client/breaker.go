package v2client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// Defaults used for zero-valued Breaker fields.
const (
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 5 * time.Second
)

// ErrCircuitOpen is matched (errors.Is) by the error of a call refused
// without reaching the upstream because its circuit is open: the host failed
// too often in a row and its cooldown has not ended, or another call is
// already probing it.
var ErrCircuitOpen = errors.New("v2client: upstream circuit open")

// BreakerState is the state of one host's circuit.
type BreakerState int

const (
	// BreakerClosed lets every call through.
	BreakerClosed BreakerState = iota
	// BreakerOpen refuses every call until the cooldown ends.
	BreakerOpen
	// BreakerHalfOpen lets one probe call through; its outcome closes or
	// reopens the circuit.
	BreakerHalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("BreakerState(%d)", int(s))
}

// Breaker is a circuit breaker per upstream host, so that a dead or drowning
// Adobe is not hammered by every device retrying: after Threshold
// consecutive failed attempts (connection failures, timeouts, 5xx answers)
// a host's calls fail fast with ErrCircuitOpen for Cooldown; then one probe
// call is let through, and its outcome closes the circuit or opens it for
// another Cooldown. Any answer below 500 (4xx included: the host is alive
// and the request was at fault) counts as a success. Calls the caller
// abandoned (its context ended) count as neither.
//
// The zero value is ready to use with the defaults. A Breaker may be shared
// by several Clients; do not change its fields once calls are in flight.
type Breaker struct {
	// Threshold is how many consecutive failed attempts open a circuit.
	// Zero means DefaultBreakerThreshold.
	Threshold int

	// Cooldown is how long an open circuit refuses calls before it lets a
	// probe through. Zero means DefaultBreakerCooldown.
	Cooldown time.Duration

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Logger receives one warning per state change, naming the host. Nil
	// discards.
	Logger *slog.Logger

	// OnChange, when set, is told of every state change of a host's
	// circuit, outside the breaker's lock (telemetry counts openings with
	// it). Nil tells nothing.
	OnChange func(host string, from, to BreakerState)

	mu    sync.Mutex
	hosts map[string]*circuit
}

// circuit is the state of one host.
type circuit struct {
	state    BreakerState
	failures int       // consecutive failures while closed
	openedAt time.Time // when it last opened
	probing  bool      // a half-open probe is in flight
}

// outcome is what an attempt tells about the host.
type outcome int

const (
	outcomeSuccess   outcome = iota // the host answered below 500
	outcomeFailure                  // connection failure, timeout or 5xx
	outcomeAbandoned                // the caller gave up; says nothing of the host
)

func (b *Breaker) threshold() int {
	if b.Threshold <= 0 {
		return DefaultBreakerThreshold
	}
	return b.Threshold
}

func (b *Breaker) cooldown() time.Duration {
	if b.Cooldown <= 0 {
		return DefaultBreakerCooldown
	}
	return b.Cooldown
}

func (b *Breaker) now() time.Time {
	if b.Now == nil {
		return time.Now()
	}
	return b.Now()
}

// State returns the state of host's circuit (host as in a URL: name and
// port). An open circuit whose cooldown has ended reports half-open: the
// next call probes it.
func (b *Breaker) State(host string) BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.hosts[host]
	if c == nil {
		return BreakerClosed
	}
	if c.state == BreakerOpen && !b.now().Before(c.openedAt.Add(b.cooldown())) {
		return BreakerHalfOpen
	}
	return c.state
}

// allow asks to send one attempt to host. It returns whether the attempt is
// the half-open probe (its outcome must be reported with probe set), or an
// error wrapping ErrCircuitOpen.
func (b *Breaker) allow(host string) (probe bool, err error) {
	b.mu.Lock()
	c := b.hosts[host]
	if c == nil || c.state == BreakerClosed {
		b.mu.Unlock()
		return false, nil
	}
	halfOpened := false
	if c.state == BreakerOpen {
		if wait := c.openedAt.Add(b.cooldown()).Sub(b.now()); wait > 0 {
			b.mu.Unlock()
			return false, fmt.Errorf("%w: %s failed %d times in a row; next probe in %s",
				ErrCircuitOpen, host, b.threshold(), wait.Round(time.Millisecond))
		}
		c.state, halfOpened = BreakerHalfOpen, true
	}
	busy := c.probing
	c.probing = true
	b.mu.Unlock()
	if halfOpened {
		b.logChange(host, BreakerOpen, BreakerHalfOpen)
	}
	if busy {
		return false, fmt.Errorf("%w: %s is being probed", ErrCircuitOpen, host)
	}
	return true, nil
}

// record reports the outcome of an attempt that allow let through.
func (b *Breaker) record(host string, probe bool, o outcome) {
	b.mu.Lock()
	c := b.hosts[host]
	if c == nil {
		if o != outcomeFailure {
			b.mu.Unlock()
			return
		}
		if b.hosts == nil {
			b.hosts = make(map[string]*circuit)
		}
		c = &circuit{}
		b.hosts[host] = c
	}
	from := c.state
	if probe {
		c.probing = false
	}
	switch o {
	case outcomeSuccess:
		c.failures = 0
		if probe || c.state == BreakerClosed {
			c.state = BreakerClosed
		}
	case outcomeFailure:
		switch {
		case probe:
			c.state, c.openedAt = BreakerOpen, b.now()
		case c.state == BreakerClosed:
			c.failures++
			if c.failures >= b.threshold() {
				c.state, c.openedAt, c.failures = BreakerOpen, b.now(), 0
			}
		}
	case outcomeAbandoned:
		// A probe given up by its caller leaves the circuit half-open, so
		// the next call probes instead.
	}
	to := c.state
	if to == BreakerClosed && c.failures == 0 && !c.probing {
		delete(b.hosts, host) // closed and clean: nothing to remember
	}
	b.mu.Unlock()
	if from != to {
		b.logChange(host, from, to)
	}
}

func (b *Breaker) logChange(host string, from, to BreakerState) {
	if b.OnChange != nil {
		b.OnChange(host, from, to)
	}
	if b.Logger == nil {
		return
	}
	level := slog.LevelWarn
	if to != BreakerOpen {
		level = slog.LevelInfo
	}
	b.Logger.LogAttrs(context.Background(), level, "adobe pass circuit "+to.String(),
		slog.String("host", host), slog.String("from", from.String()))
}

// attempt sends one attempt of cl inside the Client's Budget, when it has
// one: at the device's turn, never while it is held after a 429.
func (c *Client) attempt(ctx context.Context, cl *call, token string, retry int) (answer, error) {
	if c.Budget == nil {
		return c.attemptCircuit(ctx, cl, token, retry)
	}
	if err := c.Budget.spend(ctx, cl); err != nil {
		return answer{}, err
	}
	ans, err := c.attemptCircuit(ctx, cl, token, retry)
	if err == nil && ans.status == http.StatusTooManyRequests {
		c.Budget.throttled(ctx, budgetAddr(cl), c.Budget.now())
		c.Budget.Events.held(cl.route)
	}
	return ans, err
}

// attemptCircuit sends one attempt of cl through the Client's Breaker, when
// it has one, and reports the attempt's outcome to it.
func (c *Client) attemptCircuit(ctx context.Context, cl *call, token string, retry int) (answer, error) {
	if c.Breaker == nil {
		return c.send(ctx, cl, token, retry)
	}
	host := c.host()
	probe, err := c.Breaker.allow(host)
	if err != nil {
		return answer{}, fmt.Errorf("v2client: %s: %w", cl.name(), err)
	}
	ans, err := c.send(ctx, cl, token, retry)
	o := outcomeSuccess
	switch {
	case err != nil && (ctx.Err() != nil || !upstreamFault(err)):
		o = outcomeAbandoned
	case err != nil, ans.status >= 500:
		o = outcomeFailure
	}
	c.Breaker.record(host, probe, o)
	return ans, err
}

// host is the circuit key of the Client's calls: the host (and port) of
// BaseURL.
func (c *Client) host() string {
	u, err := url.Parse(c.base())
	if err != nil || u.Host == "" {
		return c.base()
	}
	return u.Host
}

// upstreamFault reports whether a failed attempt says the upstream is
// unreachable or broken: a timeout, a refused, reset or dropped connection,
// a name that does not resolve. A request the transport refused to send (a
// header value with a line break, say) is the caller's fault, and must not
// let one device open the circuit for all.
func upstreamFault(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return IsTimeout(err) || errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
