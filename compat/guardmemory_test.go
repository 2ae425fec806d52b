package compat

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate/store"
)

// TestGuardMemorySurvivesRestart: a sticky Guard keeps its switches in the
// store; the Guard of a process started later on the same store diverts
// those requestors at once (told to Switched, listed by Status with the
// first switch's time and reason) until an operator releases them, which
// drops them from the store for the next start too. A Guard that is not
// sticky keeps nothing.
func TestGuardMemorySurvivesRestart(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
	st := store.NewMemory(clock.Now)
	mem := StoreGuardMemory{Store: st}
	newGuard := func(sticky bool, sw *switches) *Guard {
		return &Guard{MinCalls: 2, Sticky: sticky, Memory: mem, Now: clock.Now, Switched: sw.record, Logger: slog.New(slog.DiscardHandler)}
	}
	ctx := context.Background()
	guarded := []string{"GONE", "LIVE", GuardDefault}

	first := newGuard(true, &switches{})
	first.observe("GONE", "v1.example", true)
	first.observe("GONE", "v1.example", true)
	first.observe("", "v1.example", true)
	first.observe("", "v1.example", true)
	first.observe("LIVE", "v1.example", false)
	before := first.Status()
	if len(before) != 2 {
		t.Fatalf("first process diverted %+v, want GONE and *", before)
	}

	clock.Advance(time.Hour)
	sw := &switches{}
	second := newGuard(true, sw)
	if err := second.Restore(ctx, guarded); err != nil {
		t.Fatal(err)
	}
	if got := second.Status(); !slices.EqualFunc(got, before, func(a, b GuardStatus) bool {
		return a.Requestor == b.Requestor && a.Since.Equal(b.Since) && a.Reason == b.Reason
	}) {
		t.Errorf("after the restart: %+v, want %+v", got, before)
	}
	if d, _ := second.divert("GONE"); !d {
		t.Error("GONE not diverted after the restart")
	}
	if d, _ := second.divert("LIVE"); d {
		t.Error("LIVE diverted after the restart")
	}
	if got, want := sw.list(), []string{"GONE->translate", "*->translate"}; !slices.Equal(got, want) {
		t.Errorf("Switched told %v, want %v", got, want)
	}

	if !second.Release("GONE", "v1 is back") {
		t.Error("Release of GONE")
	}
	third := newGuard(true, &switches{})
	if err := third.Restore(ctx, guarded); err != nil {
		t.Fatal(err)
	}
	if got := third.Status(); len(got) != 1 || got[0].Requestor != GuardDefault {
		t.Errorf("after a release and a restart: %+v, want * alone", got)
	}
	// A release on an instance that did not divert the requestor itself
	// drops what another instance kept.
	if third2 := newGuard(true, &switches{}); third2.Release(GuardDefault, "v1 is back") {
		t.Error("Release reported a requestor this guard had not diverted")
	}
	if _, ok, _ := mem.Recall(ctx, GuardDefault); ok {
		t.Error("* still kept after its release on another instance")
	}

	loose := newGuard(false, &switches{})
	loose.observe("GONE", "v1.example", true)
	loose.observe("GONE", "v1.example", true)
	if _, ok, _ := mem.Recall(ctx, "GONE"); ok {
		t.Error("a guard that is not sticky kept its switch")
	}
	if err := newGuard(false, &switches{}).Restore(ctx, guarded); err != nil {
		t.Fatal(err)
	}
}
