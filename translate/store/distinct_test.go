package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/storetest"
)

func TestMemoryDistinct(t *testing.T) {
	storetest.RunDistinct(t, store.NewMemory(nil), "")
}

// TestMemoryDistinctExpiry: a set ends at its expiry, and adding to it
// afterwards starts a new one.
func TestMemoryDistinctExpiry(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	s := store.NewMemory(clock.Now)
	ctx := context.Background()
	if err := s.AddDistinct(ctx, "k", clock.Now().Add(time.Hour), "a", "b"); err != nil {
		t.Fatal(err)
	}
	count := func() uint64 {
		n, err := s.CountDistinct(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("before expiry: %d, want 2", n)
	}
	clock.Advance(time.Hour)
	if n := count(); n != 0 {
		t.Fatalf("at expiry: %d, want 0", n)
	}
	if err := s.AddDistinct(ctx, "k", clock.Now().Add(time.Hour), "c"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("a new set after expiry: %d, want 1", n)
	}
}
