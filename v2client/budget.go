package v2client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/passgw/passgw/internal/tokenbucket"
	"github.com/passgw/passgw/internal/wait"
)

// Defaults used for zero-valued Budget fields. Interval, Burst and Hold are
// the figures of Adobe's throttling page (help/authentication/
// integration-guide-programmers/throttling-mechanism.md) as tokenbucket
// keeps them: one request a second after a one-time burst of ten per device
// address, the block lifted one second after the first 429. Idle and
// Devices bound memory as tokenbucket.Buckets does by default.
const (
	DefaultBudgetInterval = tokenbucket.DefaultInterval
	DefaultBudgetBurst    = tokenbucket.DefaultBurst
	DefaultBudgetHold     = tokenbucket.DefaultHold
	DefaultBudgetSlack    = 50 * time.Millisecond
	DefaultBudgetMaxWait  = 2 * time.Second
	DefaultBudgetIdle     = tokenbucket.DefaultIdle
	DefaultBudgetDevices  = tokenbucket.DefaultMaxKeys
)

// ErrOverBudget is matched (errors.Is), together with ErrThrottled, by the
// error of a call the Client did not send because Adobe would throttle it:
// the device address is held after a 429, or its next turn is further away
// than the Budget's MaxWait. Nothing reached the upstream.
var ErrOverBudget = errors.New("v2client: device over its upstream budget")

// Budget keeps, per device address (the X-Forwarded-For of a call; the
// gateway's own address for calls without one, DCR included), the state of
// Adobe's throttling bucket as far as the Client's own calls spend it, and
// plans each attempt inside it:
//
//   - a call goes at once while the address has a turn: one per Interval,
//     turns at least Interval+Slack apart, or one of the one-time Burst;
//   - otherwise it waits for the address's next turn when that comes within
//     MaxWait, and is refused (ErrOverBudget) when it does not;
//   - after an upstream 429 the address is held for Hold: its calls are
//     refused without being sent, its burst counts as spent, and the first
//     turn after the hold is its next one.
//
// Turns Interval+Slack apart always fall in different whole intervals of
// Adobe's bucket whatever its phase, so a planned call never spends burst
// that Adobe does not count as spent; Slack absorbs the jitter between the
// time a call leaves and the time Adobe counts it.
//
// Memory is bounded: an address idle for IdleTimeout is forgotten (its
// allowance has long caught up, only its burst is granted anew), and beyond
// MaxDevices addresses the least recently used goes.
//
// The zero value is ready to use with the defaults. A Budget may be shared
// by several Clients; do not change its fields once calls are in flight.
type Budget struct {
	// Interval is the time one turn of an address's allowance covers. Zero
	// means DefaultBudgetInterval.
	Interval time.Duration
	// Burst is the one-time allowance of extra calls. Zero means
	// DefaultBudgetBurst; negative means none.
	Burst int
	// Hold is how long an address sends nothing after a 429. Zero means
	// DefaultBudgetHold.
	Hold time.Duration
	// Slack is added to Interval between two turns. Zero means
	// DefaultBudgetSlack; negative means none.
	Slack time.Duration
	// MaxWait is the longest a call waits for its turn. Zero means
	// DefaultBudgetMaxWait; negative means calls never wait.
	MaxWait time.Duration
	// IdleTimeout forgets addresses unused that long. Zero means
	// DefaultBudgetIdle.
	IdleTimeout time.Duration
	// MaxDevices bounds the addresses kept. Zero means
	// DefaultBudgetDevices.
	MaxDevices int

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits for a call's turn; nil waits on a real timer, cut short
	// when ctx ends. Tests on a manual clock advance it here.
	Sleep func(ctx context.Context, d time.Duration) error
	// Events, when set, is told of the calls the budget held back and of
	// the holds after a 429 (metrics).
	Events BudgetEvents

	// Shared, when set, keeps the allowances in the store every gateway
	// instance shares, so that instances calling for one device address
	// plan inside the one bucket Adobe keeps for it, not one each. A
	// decision Shared cannot make (the store down, or slower than its
	// Timeout) is made in this process's allowances instead; State and Len
	// describe those.
	Shared *tokenbucket.Shared

	once  sync.Once
	addrs tokenbucket.Buckets[string]
}

// BudgetState is a snapshot of one address's allowance.
type BudgetState struct {
	// Burst is what is left of the one-time burst.
	Burst int
	// HeldUntil is the end of the hold after a 429; zero or past when the
	// address is not held.
	HeldUntil time.Time
	// NextTurn is the earliest time a call goes without spending burst.
	NextTurn time.Time
}

func (b *Budget) interval() time.Duration {
	if b.Interval <= 0 {
		return DefaultBudgetInterval
	}
	return b.Interval
}

// step is the least time between two turns.
func (b *Budget) step() time.Duration {
	switch {
	case b.Slack == 0:
		return b.interval() + DefaultBudgetSlack
	case b.Slack < 0:
		return b.interval()
	}
	return b.interval() + b.Slack
}

func (b *Budget) burst() int {
	switch {
	case b.Burst == 0:
		return DefaultBudgetBurst
	case b.Burst < 0:
		return 0
	}
	return b.Burst
}

func (b *Budget) hold() time.Duration {
	if b.Hold <= 0 {
		return DefaultBudgetHold
	}
	return b.Hold
}

func (b *Budget) maxWait() time.Duration {
	switch {
	case b.MaxWait == 0:
		return DefaultBudgetMaxWait
	case b.MaxWait < 0:
		return 0
	}
	return b.MaxWait
}

func (b *Budget) now() time.Time {
	if b.Now == nil {
		return time.Now()
	}
	return b.Now()
}

func (b *Budget) init() {
	b.once.Do(func() {
		b.addrs.Now, b.addrs.IdleTimeout, b.addrs.MaxKeys = b.Now, b.IdleTimeout, b.MaxDevices
	})
}

// limit is the allowance the Budget plans with: turns Interval+Slack apart.
func (b *Budget) limit() tokenbucket.Limit {
	return tokenbucket.Limit{Interval: b.interval(), Burst: b.burst(), Spacing: b.step()}
}

// reserve plans one call from addr at now: it returns how long the call must
// wait for its turn, or an error wrapping ErrOverBudget and ErrThrottled.
func (b *Budget) reserve(ctx context.Context, addr string, now time.Time) (time.Duration, error) {
	d := b.take(ctx, addr, now)
	return d.Wait, refusal(d)
}

// take asks addr's allowance for one call at now.
func (b *Budget) take(ctx context.Context, addr string, now time.Time) tokenbucket.Decision {
	return b.decide(ctx, addr, tokenbucket.Request{Now: now, Limit: b.limit(), MaxWait: b.maxWait()})
}

// decide makes the decision r asks of addr's allowance: in the shared store
// when there is one and it answers, else in process.
func (b *Budget) decide(ctx context.Context, addr string, r tokenbucket.Request) tokenbucket.Decision {
	if b.Shared != nil {
		if d, err := b.Shared.Apply(ctx, addr, r); err == nil {
			return d
		}
	}
	b.init()
	return b.addrs.Apply(addr, r)
}

// refusal is the error of a refused decision, nil for one that lets the
// call go.
func refusal(d tokenbucket.Decision) error {
	switch {
	case d.OK:
		return nil
	case d.Held:
		return fmt.Errorf("%w: %w: held after a 429 for %s", ErrOverBudget, ErrThrottled, d.Wait.Round(time.Millisecond))
	}
	return fmt.Errorf("%w: %w: next turn in %s", ErrOverBudget, ErrThrottled, d.Wait.Round(time.Millisecond))
}

// throttled records an upstream 429 for addr at now.
func (b *Budget) throttled(ctx context.Context, addr string, now time.Time) {
	b.decide(ctx, addr, tokenbucket.Request{Op: tokenbucket.Hold, Now: now, Limit: b.limit(), Hold: b.hold()})
}

// State returns the allowance of addr ("" for the gateway's own address);
// an address never seen or forgotten has its whole burst.
func (b *Budget) State(addr string) BudgetState {
	b.init()
	a, ok := b.addrs.Get(addr)
	if !ok {
		return BudgetState{Burst: b.burst()}
	}
	return BudgetState{Burst: a.Left, HeldUntil: a.HeldUntil, NextTurn: a.Next}
}

// Len is the number of addresses kept.
func (b *Budget) Len() int {
	b.init()
	return b.addrs.Len()
}

// wait blocks for d, or until ctx ends.
func (b *Budget) wait(ctx context.Context, d time.Duration) error {
	if b.Sleep != nil {
		return b.Sleep(ctx, d)
	}
	return wait.For(ctx, d)
}

// spend waits for the turn of one attempt of cl from its address.
func (b *Budget) spend(ctx context.Context, cl *call) error {
	addr := budgetAddr(cl)
	d := b.take(ctx, addr, b.now())
	if !d.OK {
		return b.refuse(cl, d)
	}
	if d.Wait <= 0 {
		return nil
	}
	err := b.wait(ctx, d.Wait)
	b.Events.waited(cl.route, d.Wait)
	if err != nil {
		return fmt.Errorf("v2client: %s: waiting %s for the device's turn: %w", cl.name(), d.Wait, err)
	}
	// Checked again after the wait: a 429 may have held the address
	// meanwhile.
	if d := b.decide(ctx, addr, tokenbucket.Request{Op: tokenbucket.Check, Now: b.now()}); !d.OK {
		return b.refuse(cl, d)
	}
	return nil
}

// refuse reports the refused decision d of cl and returns its error.
func (b *Budget) refuse(cl *call, d tokenbucket.Decision) error {
	b.Events.refused(cl.route, d.Held)
	return fmt.Errorf("v2client: %s: %w", cl.name(), refusal(d))
}

// budgetAddr is the address Adobe throttles cl under: the X-Forwarded-For
// it carries, or "" (the gateway's own address) when it carries none, as
// DCR calls never do.
func budgetAddr(cl *call) string {
	if !cl.headers.allows(optForwardedFor) {
		return ""
	}
	addr := ""
	for _, o := range cl.opts {
		if o.header == optForwardedFor && o.value != "" {
			addr = o.value
		}
	}
	return addr
}
