package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return store.NewMemory(now)
	})
}

// plainStore hides every method but those of store.Store, so that the
// helpers' fallbacks (GetMany as one Get per key) are what runs.
type plainStore struct{ store.Store }

func TestConformanceWithoutOptionalMethods(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return plainStore{store.NewMemory(now)}
	})
}

func TestMemoryZeroValue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		m := &store.Memory{}
		m.Now = now
		return m
	})
}

// TestMemoryMaxEntries: a capped store refuses new keys when full, keeps
// replacing and removing held ones, says Full a tenth earlier, and makes
// room as entries expire.
func TestMemoryMaxEntries(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := &store.Memory{Now: func() time.Time { return now }, MaxEntries: 20}
	for i := range 17 {
		if err := m.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if m.Full() {
		t.Error("Full at 17 of 20 entries, want not before 18")
	}
	for i := 17; i < 20; i++ {
		if ok, err := m.SetNX(ctx, fmt.Sprint("k", i), []byte("v"), time.Hour); !ok || err != nil {
			t.Fatalf("SetNX %d: %v, %v", i, ok, err)
		}
	}
	if !m.Full() {
		t.Error("not Full at 20 of 20 entries")
	}
	if err := m.Set(ctx, "new", []byte("v"), time.Minute); !errors.Is(err, store.ErrFull) {
		t.Errorf("Set of a new key when full: %v, want store.ErrFull", err)
	}
	if _, err := m.SetNX(ctx, "new", []byte("v"), time.Minute); !errors.Is(err, store.ErrFull) {
		t.Errorf("SetNX of a new key when full: %v, want store.ErrFull", err)
	}
	if err := m.Set(ctx, "k1", []byte("again"), time.Minute); err != nil {
		t.Errorf("Set of a held key when full: %v", err)
	}
	if err := m.Replace(ctx, "k2", []byte("again")); err != nil {
		t.Errorf("Replace when full: %v", err)
	}
	if _, err := m.Take(ctx, "k3"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "new", []byte("v"), time.Minute); err != nil {
		t.Errorf("Set after a Take made room: %v", err)
	}
	// The 17 one-minute entries expire by the store's clock, well within
	// go-cache's own sweep grace: the cap drops them itself.
	now = now.Add(2 * time.Minute)
	if m.Full() {
		t.Error("still Full once most entries expired")
	}
	if err := m.Set(ctx, "later", []byte("v"), time.Minute); err != nil {
		t.Errorf("Set once entries expired: %v", err)
	}
}
