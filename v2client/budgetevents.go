package v2client

import (
	"time"
)

// BudgetEvents are the hooks through which a Budget tells what it did to the
// calls it planned, for metrics. A nil field reports nothing. They are
// called on the calling goroutine, outside the Budget's lock, and must not
// block. Route is the call's route template (see Routes).
type BudgetEvents struct {
	// Waited reports a call that waited for its device's turn before being
	// sent, with the wait planned for it (cut short when its context ended
	// first).
	Waited func(route string, wait time.Duration)
	// Refused reports a call the Budget did not send, which the gateway
	// answers with v1's 429: held is true when the device is held after an
	// upstream 429, false when its next turn was further away than MaxWait.
	Refused func(route string, held bool)
	// Held reports an upstream 429 to a call, which holds its device's
	// address for the Budget's Hold.
	Held func(route string)
}

func (e *BudgetEvents) waited(route string, d time.Duration) {
	if e.Waited != nil {
		e.Waited(route, d)
	}
}

func (e *BudgetEvents) refused(route string, held bool) {
	if e.Refused != nil {
		e.Refused(route, held)
	}
}

func (e *BudgetEvents) held(route string) {
	if e.Held != nil {
		e.Held(route)
	}
}
