package callerauth

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestMemoryNonces(t *testing.T) {
	c := newClock()
	m := &MemoryNonces{Now: c.Now}
	ctx := context.Background()
	set := func(key string) bool {
		ok, err := m.SetIfAbsent(ctx, key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !set("a") || set("a") {
		t.Fatal("a nonce must be stored once and refused after")
	}
	if !set("b") {
		t.Fatal("another nonce refused")
	}
	c.Advance(time.Minute)
	if !set("a") {
		t.Fatal("expired nonce still refused")
	}

	// Expired entries are swept, so memory follows the live nonces.
	for i := 0; i < 10*minNonceSweep; i++ {
		set("n" + strconv.Itoa(i))
		c.Advance(time.Second)
	}
	if n := m.Len(); n > 2*minNonceSweep {
		t.Errorf("%d nonces held with only 60 live", n)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.SetIfAbsent(cancelled, "z", time.Minute); err == nil {
		t.Error("cancelled context accepted")
	}
}
