package v2client

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/tokenbucket"
)

// budgetStep is one planned call of a budget test: at offset from the start,
// from addr, with the wait or refusal expected.
type budgetStep struct {
	at      time.Duration
	addr    string
	wait    time.Duration
	refused bool
	// throttled records an upstream 429 for addr at this time instead of
	// planning a call.
	throttled bool
}

func TestBudgetPlansInsideAdobesBucket(t *testing.T) {
	const (
		dev   = "203.0.113.7"
		other = "203.0.113.8"
	)
	burstOf := func(n int, at time.Duration) []budgetStep {
		var s []budgetStep
		for range n {
			s = append(s, budgetStep{at: at, addr: dev})
		}
		return s
	}
	tests := []struct {
		name   string
		budget *Budget
		steps  []budgetStep
	}{{
		name: "one a second never spends the burst",
		steps: []budgetStep{
			{at: 0, addr: dev}, {at: 1050 * time.Millisecond, addr: dev}, {at: 2100 * time.Millisecond, addr: dev},
		},
	}, {
		name:   "the burst goes at once, then calls wait for their turn",
		budget: &Budget{Burst: 2},
		steps: []budgetStep{
			{at: 0, addr: dev}, {at: 0, addr: dev}, {at: 0, addr: dev},
			{at: 0, addr: dev, wait: 1050 * time.Millisecond},
			{at: 0, addr: dev, wait: 2100 * time.Millisecond, refused: true},
			{at: 100 * time.Millisecond, addr: dev, wait: 2000 * time.Millisecond},
		},
	}, {
		name:   "a wait beyond MaxWait is refused and spends nothing",
		budget: &Budget{Burst: -1, MaxWait: 500 * time.Millisecond},
		steps: []budgetStep{
			{at: 0, addr: dev},
			{at: 100 * time.Millisecond, addr: dev, refused: true},
			{at: 600 * time.Millisecond, addr: dev, wait: 450 * time.Millisecond},
		},
	}, {
		name: "a 429 holds the address a second, then its next call is a turn",
		steps: append(burstOf(3, 0), []budgetStep{
			{at: 200 * time.Millisecond, addr: dev, throttled: true},
			{at: 300 * time.Millisecond, addr: dev, refused: true},
			{at: 1199 * time.Millisecond, addr: dev, refused: true},
			{at: 500 * time.Millisecond, addr: other},
			{at: 1200 * time.Millisecond, addr: dev},
			// The burst counts as spent: the next call waits its turn.
			{at: 1300 * time.Millisecond, addr: dev, wait: 950 * time.Millisecond},
		}...),
	}, {
		name:   "DCR and device-less calls share the gateway's address",
		budget: &Budget{Burst: -1, MaxWait: -1},
		steps: []budgetStep{
			{at: 0, addr: ""}, {at: 10 * time.Millisecond, addr: "", refused: true}, {at: 10 * time.Millisecond, addr: dev},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
			b := tt.budget
			if b == nil {
				b = &Budget{}
			}
			for i, s := range tt.steps {
				now := start.Add(s.at)
				if s.throttled {
					b.throttled(context.Background(), s.addr, now)
					continue
				}
				wait, err := b.reserve(context.Background(), s.addr, now)
				if s.refused {
					if !errors.Is(err, ErrOverBudget) || !errors.Is(err, ErrThrottled) {
						t.Fatalf("step %d (%s at %s): err = %v, want a refusal matching ErrOverBudget and ErrThrottled", i, s.addr, s.at, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d (%s at %s): refused: %v", i, s.addr, s.at, err)
				}
				if wait != s.wait {
					t.Fatalf("step %d (%s at %s): wait %s, want %s", i, s.addr, s.at, wait, s.wait)
				}
			}
		})
	}
}

// TestBudgetTurnsNeverSpendAdobesBurst replays planned calls against the
// bucket of Adobe's page (one call per whole second since the
// first, a one-time burst of ten) at every phase: what the budget lets go is
// never refused there.
func TestBudgetTurnsNeverSpendAdobesBurst(t *testing.T) {
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for phase := time.Duration(0); phase < time.Second; phase += 37 * time.Millisecond {
		b := Budget{}
		// Adobe's bucket, its first interval started phase before the
		// first call.
		adobe := tokenbucket.Bucket{Next: start.Add(-phase), Left: tokenbucket.DefaultBurst}
		// Calls arrive in bunches every 700ms: far more than the allowance.
		sent := 0
		for tick := range 200 {
			now := start.Add(time.Duration(tick) * 700 * time.Millisecond)
			for range 3 {
				wait, err := b.reserve(context.Background(), "dev", now)
				if err != nil {
					continue
				}
				sent++
				// Adobe counts the call up to 20ms after its turn.
				at := now.Add(wait + time.Duration(sent%3)*10*time.Millisecond)
				if !adobe.Apply(tokenbucket.Request{Now: at, Limit: tokenbucket.Default()}).OK {
					t.Fatalf("phase %s: call %d at %s planned but Adobe throttles it", phase, sent, at.Sub(start))
				}
			}
		}
		// 140 s at one turn per 1.05 s, and the burst.
		if want := 133 + 10; sent < want-2 {
			t.Fatalf("phase %s: %d calls sent in 140 s, want about %d (the allowance)", phase, sent, want)
		}
	}
}

func TestBudgetIsBounded(t *testing.T) {
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	b := Budget{MaxDevices: 100, IdleTimeout: time.Minute}
	for i := range 1000 {
		if _, err := b.reserve(context.Background(), fmt.Sprintf("10.0.%d.%d", i/256, i%256), now); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.Len(); n != 100 {
		t.Fatalf("%d addresses kept, want MaxDevices = 100", n)
	}
	// The most recent are kept, with their state.
	if s := b.State("10.0.3.231"); s.NextTurn.IsZero() {
		t.Fatalf("most recent address forgotten: %+v", s)
	}
	if _, err := b.reserve(context.Background(), "10.9.9.9", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := b.Len(); n != 1 {
		t.Fatalf("%d addresses kept after they were all idle past IdleTimeout, want 1", n)
	}
}

func TestBudgetWaitEndsWithContext(t *testing.T) {
	b := Budget{Burst: -1}
	cl := getCall("profiles", "REF30", "/api/v2/REF30/profiles", 0, []Option{WithForwardedFor("203.0.113.7")})
	if err := b.spend(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := b.spend(ctx, cl)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("spend with an ended context while waiting: %v, want context.Canceled", err)
	}
}
