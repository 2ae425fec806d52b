package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/translate/store/storetest"
)

func TestDistinct(t *testing.T) {
	srv := redistest.Start(t)
	storetest.RunDistinct(t, open(t, srv.URL(), nil), "distinct:")
}

// TestDistinctShared: what one client adds, another counts; the set
// expires with its bucket (plus the grace), as Redis reports.
func TestDistinctShared(t *testing.T) {
	srv := redistest.Start(t)
	a, b := open(t, srv.URL(), nil), open(t, srv.URL(), nil)
	ctx := context.Background()
	expires := time.Now().Add(time.Hour)
	if err := a.AddDistinct(ctx, "shared", expires, "d1", "d2"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddDistinct(ctx, "shared", expires, "d2", "d3"); err != nil {
		t.Fatal(err)
	}
	n, err := b.CountDistinct(ctx, "shared")
	if err != nil || n != 3 {
		t.Fatalf("count: %d, %v; want 3", n, err)
	}
	ttl, err := a.Client.Do(ctx, a.Client.B().Pttl().Key("passgw:shared").Build()).AsInt64()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Hour + a.ExpiryGrace; ttl <= 0 || time.Duration(ttl)*time.Millisecond > want+time.Minute {
		t.Fatalf("pttl %d ms, want about %v", ttl, want)
	}
}
