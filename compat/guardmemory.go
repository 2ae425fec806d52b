package compat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// GuardMemory keeps the switches of a sticky Guard where they outlive the
// process, so that a restart (a deploy, a crash) does not send a requestor
// whose v1 is gone back to it until the guard counts enough failures again,
// its devices meanwhile answered 502. The gateway keeps them in its store,
// so that on a shared store an instance started later diverts the
// requestors a running one switched.
type GuardMemory interface {
	// Remember keeps that s.Requestor was diverted.
	Remember(ctx context.Context, s GuardStatus) error
	// Forget drops what was kept of requestor.
	Forget(ctx context.Context, requestor string) error
	// Recall returns what was kept of requestor, if anything.
	Recall(ctx context.Context, requestor string) (GuardStatus, bool, error)
}

// StoreGuardMemory is a GuardMemory in the gateway's store, one entry per
// diverted requestor, kept until released.
type StoreGuardMemory struct {
	Store store.Store
}

// guardMemoryPrefix names the entries of StoreGuardMemory.
const guardMemoryPrefix = "v1guard"

// guardMemoryTimeout bounds one GuardMemory call of the Guard.
const guardMemoryTimeout = 2 * time.Second

type keptSwitch struct {
	Since  time.Time `json:"since"`
	Reason string    `json:"reason"`
}

func (m StoreGuardMemory) json() store.JSON[keptSwitch] {
	return store.JSON[keptSwitch]{Store: m.Store}
}

// Remember implements GuardMemory.
func (m StoreGuardMemory) Remember(ctx context.Context, s GuardStatus) error {
	return m.json().Set(ctx, store.Key(guardMemoryPrefix, s.Requestor), keptSwitch{Since: s.Since, Reason: s.Reason}, 0)
}

// Forget implements GuardMemory.
func (m StoreGuardMemory) Forget(ctx context.Context, requestor string) error {
	return m.json().Delete(ctx, store.Key(guardMemoryPrefix, requestor))
}

// Recall implements GuardMemory.
func (m StoreGuardMemory) Recall(ctx context.Context, requestor string) (GuardStatus, bool, error) {
	k, err := m.json().Get(ctx, store.Key(guardMemoryPrefix, requestor))
	if errors.Is(err, store.ErrNotFound) {
		return GuardStatus{}, false, nil
	}
	if err != nil {
		return GuardStatus{}, false, err
	}
	return GuardStatus{Requestor: requestor, Since: k.Since, Reason: k.Reason, Sticky: true}, true, nil
}

// Restore diverts again, from g.Memory, the requestors among requestors
// (names as Status gives them) a sticky Guard had diverted before the
// process started, each logged and told to Switched as a switch. Call it
// once, before g serves. A Guard that is not sticky, or has no Memory,
// restores nothing.
func (g *Guard) Restore(ctx context.Context, requestors []string) error {
	if g == nil || !g.Sticky || g.Memory == nil {
		return nil
	}
	var errs []error
	for _, name := range requestors {
		kept, ok, err := g.Memory.Recall(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("v1 guard: recalling %s: %w", name, err))
			continue
		}
		if !ok {
			continue
		}
		key := name
		if key == GuardDefault {
			key = ""
		}
		t := g.tab()
		t.mu.Lock()
		s := t.state(key)
		already := !s.since.IsZero()
		if !already {
			s.since, s.probed, s.reason = kept.Since, g.now(), kept.Reason
		}
		t.mu.Unlock()
		if already {
			continue
		}
		g.logger().Error("the requestor was switched to translate before this start and the guard is sticky; "+
			"its calls are answered through translate until an operator releases it",
			"requestor", name, "since", kept.Since, "reason", kept.Reason)
		if g.Switched != nil {
			g.Switched(name, true)
		}
	}
	return errors.Join(errs...)
}

// remember keeps a switch of a sticky Guard in its Memory.
func (g *Guard) remember(s GuardStatus) {
	if !g.Sticky || g.Memory == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), guardMemoryTimeout)
	defer cancel()
	if err := g.Memory.Remember(ctx, s); err != nil {
		g.logger().Error("keeping the switch in the store failed; a restart would send the requestor back to v1",
			"requestor", s.Requestor, "error", err)
	}
}

// forget drops a released requestor from g's Memory.
func (g *Guard) forget(name string) {
	if g.Memory == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), guardMemoryTimeout)
	defer cancel()
	if err := g.Memory.Forget(ctx, name); err != nil {
		g.logger().Error("dropping the kept switch from the store failed; a restart would divert the requestor again",
			"requestor", name, "error", err)
	}
}
