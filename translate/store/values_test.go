package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// point has its own binary form: "P" then its two bytes.
type point struct{ X, Y byte }

func (p point) AppendBinary(b []byte) ([]byte, error) { return append(b, 'P', p.X, p.Y), nil }

func (p *point) UnmarshalBinary(b []byte) error {
	if len(b) != 3 || b[0] != 'P' {
		return errors.New("not a point")
	}
	p.X, p.Y = b[1], b[2]
	return nil
}

type plain struct {
	Name string `json:"name"`
}

// TestValuesEncoding: Values and Records store a type's own binary form
// when it has one and JSON otherwise, and read back what they stored.
func TestValuesEncoding(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory(nil)

	if err := (store.Values[point]{Store: st}).Set(ctx, "p", point{1, 2}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if raw, _ := st.Get(ctx, "p"); string(raw) != "P\x01\x02" {
		t.Errorf("stored point %q, want its binary form", raw)
	}
	if p, err := (store.Values[point]{Store: st}).Get(ctx, "p"); err != nil || p != (point{1, 2}) {
		t.Errorf("read point %v, %v", p, err)
	}

	if err := (store.Values[plain]{Store: st}).Set(ctx, "j", plain{"a"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if raw, _ := st.Get(ctx, "j"); string(raw) != `{"name":"a"}` {
		t.Errorf("stored plain value %q, want JSON", raw)
	}
	if v, err := (store.Values[plain]{Store: st}).Get(ctx, "j"); err != nil || v.Name != "a" {
		t.Errorf("read plain value %v, %v", v, err)
	}

	recs := store.Records[point]{Store: st}
	if err := recs.Create(ctx, "r", point{3, 4}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if raw, _ := st.Get(ctx, "r"); string(raw) != "rP\x03\x04" {
		t.Errorf("stored record %q, want the live tag then its binary form", raw)
	}
	if p, err := recs.Get(ctx, "r"); err != nil || p != (point{3, 4}) {
		t.Errorf("read record %v, %v", p, err)
	}
	if err := st.Set(ctx, "bad", []byte("X"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := (store.Values[point]{Store: st}).Get(ctx, "bad"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("reading a malformed value: %v, want a decoding error", err)
	}
}
