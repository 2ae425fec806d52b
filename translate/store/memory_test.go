package store_test

import (
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
