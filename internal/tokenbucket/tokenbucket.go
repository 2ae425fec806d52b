// Package tokenbucket is Adobe's per-device token bucket, as Adobe's
// throttling page describes it (help/authentication/integration-guide-
// programmers/throttling-mechanism.md): one request per second, plus a
// one-time burst of ten on the first interaction of a device; a call with
// neither left is refused with 429 and spends nothing; after the first 429
// the caller waits at least a second.
//
// [Bucket] is the state of one device's bucket and the one algorithm on it;
// [Buckets] keeps a bucket per key in process memory, bounded by idle
// eviction and a least-recently-used cap. The v1 throttle, the upstream
// budget and the sandbox's per-address throttle all count with it, and a
// store shared by several gateway instances keeps the same [Bucket] so that
// the fleet spends one bucket per device.
package tokenbucket

import (
	"time"
)

// Defaults of Buckets, and the figures of Adobe's throttling page.
const (
	// DefaultInterval is the time one call of the allowance covers.
	DefaultInterval = time.Second
	// DefaultBurst is the one-time burst of extra calls.
	DefaultBurst = 10
	// DefaultHold is how long a caller sends nothing after a 429.
	DefaultHold = time.Second
	// DefaultIdle is how long an unused bucket is kept. After that long
	// its allowance has caught up anyway, so forgetting it only grants
	// the burst anew.
	DefaultIdle = 10 * time.Minute
	// DefaultMaxKeys bounds the buckets a Buckets holds.
	DefaultMaxKeys = 1 << 20
)

// Limit is the allowance of one bucket.
type Limit struct {
	// Interval is the time one call of the allowance covers; zero or
	// negative means DefaultInterval.
	Interval time.Duration
	// Burst is the one-time allowance of extra calls; zero or negative
	// means none.
	Burst int
	// Spacing, when positive, plans turns at least Spacing apart counted
	// from the last turn, for a caller that must stay inside a bucket
	// whose phase it does not know (Adobe's, seen from the gateway).
	// Zero counts turns as Adobe does: one call per whole Interval since
	// the bucket's first call.
	Spacing time.Duration
}

// Default is Adobe's limit: one call a second, a one-time burst of ten.
func Default() Limit { return Limit{Interval: DefaultInterval, Burst: DefaultBurst} }

func (l Limit) interval() time.Duration {
	if l.Interval <= 0 {
		return DefaultInterval
	}
	return l.Interval
}

// Op is what a Request does to a bucket.
type Op uint8

const (
	// Take spends one call: a turn when one is due, else the burst, else
	// (within MaxWait) the next turn, reserved for a call that waits.
	Take Op = iota
	// Hold records a 429 answered to the bucket's owner: for Hold it is
	// refused everything, its burst counts as spent, and its first call
	// after the hold is a turn.
	Hold
	// Check spends nothing and reports whether the bucket is held.
	Check
)

// Request is one decision asked of a bucket.
type Request struct {
	Op  Op
	Now time.Time
	// Limit is the bucket's allowance; the burst is granted from it on
	// the bucket's first call.
	Limit Limit
	// MaxWait is how far ahead a Take may reserve a turn; zero or
	// negative reserves none.
	MaxWait time.Duration
	// Hold is the length of a Hold; zero or negative means DefaultHold.
	Hold time.Duration
}

// Decision is a bucket's answer.
type Decision struct {
	// OK reports that the call may go, after Wait.
	OK bool
	// Wait is, when OK, how long the call waits for the turn reserved for
	// it (zero: it goes now); when refused, how long until the next turn
	// or the end of the hold.
	Wait time.Duration
	// Held reports a refusal because of a hold after a 429.
	Held bool
}

// Bucket is the state of one bucket. The zero value is a bucket never used.
// Its fields are exported so that a store can keep it; they are changed only
// by Apply.
type Bucket struct {
	// Next is the earliest time a call is a turn (spends no burst); zero
	// before the first call.
	Next time.Time
	// Left is what is left of the one-time burst (granted on first use).
	Left int
	// HeldUntil ends the hold after a 429; zero or past when not held.
	HeldUntil time.Time
}

// Used reports whether the bucket has been used (or held) at all.
func (b *Bucket) Used() bool { return !b.Next.IsZero() }

// Apply makes the decision r asks for and changes b accordingly. A refusal
// spends nothing.
func (b *Bucket) Apply(r Request) Decision {
	now := r.Now
	if now.Before(b.HeldUntil) {
		if r.Op == Hold {
			b.hold(r)
		}
		return Decision{Wait: b.HeldUntil.Sub(now), Held: true}
	}
	switch r.Op {
	case Check:
		return Decision{OK: true}
	case Hold:
		b.hold(r)
		return Decision{Wait: b.HeldUntil.Sub(now), Held: true}
	}
	lim := r.Limit
	if !b.Used() {
		b.Left = max(lim.Burst, 0)
		b.Next = now
	}
	if !now.Before(b.Next) {
		b.Next = b.after(now, lim)
		return Decision{OK: true}
	}
	if b.Left > 0 {
		b.Left--
		return Decision{OK: true}
	}
	wait := b.Next.Sub(now)
	if wait > r.MaxWait {
		return Decision{Wait: wait}
	}
	b.Next = b.after(b.Next, lim)
	return Decision{OK: true, Wait: wait}
}

// after is the next turn once the turn at t is taken (t is at or after
// b.Next): Spacing after t, or the start of the Interval after the one t
// falls in, the Intervals counted from b.Next.
func (b *Bucket) after(t time.Time, lim Limit) time.Time {
	if lim.Spacing > 0 {
		return t.Add(lim.Spacing)
	}
	iv := lim.interval()
	return b.Next.Add((t.Sub(b.Next)/iv + 1) * iv)
}

func (b *Bucket) hold(r Request) {
	if until := r.Now.Add(r.Resolved().Hold); until.After(b.HeldUntil) {
		b.HeldUntil = until
	}
	b.Left = 0
	if b.HeldUntil.After(b.Next) {
		b.Next = b.HeldUntil
	}
}

// Idle reports whether the bucket may be forgotten at now, last used at
// seen: unused for idle, and neither held nor holding a reserved turn
// (now is at or past the latest of seen+idle, HeldUntil and Next).
func (b *Bucket) Idle(now, seen time.Time, idle time.Duration) bool {
	return now.Sub(seen) >= idle && !now.Before(b.HeldUntil) && !now.Before(b.Next)
}

// Equal reports whether b and o hold the same state.
func (b Bucket) Equal(o Bucket) bool {
	return b.Next.Equal(o.Next) && b.Left == o.Left && b.HeldUntil.Equal(o.HeldUntil)
}

// Resolved is r with the defaults its zero fields stand for: Interval and
// Hold filled in, Burst and MaxWait no less than zero. A store that decides
// outside Go (Redis' script) decides on these figures.
func (r Request) Resolved() Request {
	r.Limit.Interval = r.Limit.interval()
	r.Limit.Burst = max(r.Limit.Burst, 0)
	r.Limit.Spacing = max(r.Limit.Spacing, 0)
	r.MaxWait = max(r.MaxWait, 0)
	if r.Hold <= 0 {
		r.Hold = DefaultHold
	}
	return r
}
