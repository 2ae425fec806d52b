package v2client

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// budgetEvent is one report of BudgetEvents.
type budgetEvent struct {
	kind, route string
	wait        time.Duration
	held        bool
}

// TestBudgetEventsReported drives a Client against an upstream through its
// Budget and reads what BudgetEvents heard: a wait for a turn with its
// length, an upstream 429 starting a hold, a call refused during the hold
// and one refused for want of a turn within MaxWait; calls that went at
// once are not reported.
func TestBudgetEventsReported(t *testing.T) {
	up, c, clock := newBreakerWorld(t, http.StatusOK)
	c.Breaker = nil
	var events []budgetEvent
	c.Budget = &Budget{Burst: -1, MaxWait: 1500 * time.Millisecond, Now: clock.Now,
		Sleep: func(_ context.Context, d time.Duration) error { clock.Advance(d); return nil },
		Events: BudgetEvents{
			Waited: func(route string, d time.Duration) {
				events = append(events, budgetEvent{kind: "waited", route: route, wait: d})
			},
			Refused: func(route string, held bool) {
				events = append(events, budgetEvent{kind: "refused", route: route, held: held})
			},
			Held: func(route string) { events = append(events, budgetEvent{kind: "held", route: route}) },
		}}
	ctx := context.Background()
	step := func(what string, want ...budgetEvent) {
		t.Helper()
		if len(events) != len(want) {
			t.Fatalf("%s: events %+v, want %+v", what, events, want)
		}
		for i := range want {
			if events[i] != want[i] {
				t.Fatalf("%s: events %+v, want %+v", what, events, want)
			}
		}
		events = nil
	}

	if err := callProfiles(ctx, c); err != nil {
		t.Fatal(err)
	}
	step("a call at its turn")
	clock.Advance(400 * time.Millisecond)
	if err := callProfiles(ctx, c); err != nil {
		t.Fatal(err)
	}
	step("a call 400ms after a turn", budgetEvent{kind: "waited", route: RouteProfiles, wait: 650 * time.Millisecond})

	// Two calls planned at once: the second's turn is beyond MaxWait.
	c.Budget.Sleep = func(context.Context, time.Duration) error { return nil }
	if err := callProfiles(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := callProfiles(ctx, c); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("a call 2.1s from its turn: %v, want ErrOverBudget", err)
	}
	step("a turn beyond MaxWait", budgetEvent{kind: "waited", route: RouteProfiles, wait: 1050 * time.Millisecond},
		budgetEvent{kind: "refused", route: RouteProfiles})

	clock.Advance(5 * time.Second)
	up.status.Store(http.StatusTooManyRequests)
	if err := callProfiles(ctx, c); !errors.Is(err, ErrThrottled) {
		t.Fatalf("an upstream 429: %v, want ErrThrottled", err)
	}
	hits := up.hits.Load()
	up.status.Store(http.StatusOK)
	clock.Advance(500 * time.Millisecond)
	if err := callProfiles(ctx, c); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("a call during the hold: %v, want ErrOverBudget", err)
	}
	if up.hits.Load() != hits {
		t.Fatal("a call during the hold reached the upstream")
	}
	step("a 429 and a call in its hold", budgetEvent{kind: "held", route: RouteProfiles},
		budgetEvent{kind: "refused", route: RouteProfiles, held: true})
}

// TestBudgetRefusalNotRetried: a call the Budget refuses is refused once and
// not retried, whatever the Client's retries, and nothing reaches the
// upstream.
func TestBudgetRefusalNotRetried(t *testing.T) {
	up, c, clock := newBreakerWorld(t, http.StatusOK)
	c.Breaker, c.Retries = nil, 3
	refused := 0
	c.Budget = &Budget{Burst: -1, MaxWait: -1, Now: clock.Now,
		Events: BudgetEvents{Refused: func(string, bool) { refused++ }}}
	ctx := context.Background()
	if err := callProfiles(ctx, c); err != nil {
		t.Fatal(err)
	}
	hits := up.hits.Load()
	if err := callProfiles(ctx, c); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("a second call at once without burst: %v, want ErrOverBudget", err)
	}
	if refused != 1 || up.hits.Load() != hits {
		t.Fatalf("%d refusals and %d upstream requests for one refused call, want 1 and none", refused, up.hits.Load()-hits)
	}
}
