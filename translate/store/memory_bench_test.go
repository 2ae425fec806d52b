package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
)

// BenchmarkMemory measures the store operations the gateway makes on
// every call, on the in-memory store.
func BenchmarkMemory(b *testing.B) {
	benchStore(b, store.NewMemory(nil))
}

// benchValue is the size of a kept decision or a cached profile.
var benchValue = make([]byte, 600)

// benchStore runs the store operations of the gateway's hot paths on st,
// from parallel goroutines as the gateway's handlers call them.
func benchStore(b *testing.B, st store.Store) {
	ctx := context.Background()
	const keys = 1024
	for i := range keys {
		if err := st.Set(ctx, store.Key("bench", fmt.Sprint(i)), benchValue, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	ops := []struct {
		name string
		op   func(i int64) error
	}{
		{"get", func(i int64) error {
			_, err := st.Get(ctx, store.Key("bench", fmt.Sprint(i%keys)))
			return err
		}},
		{"get-miss", func(i int64) error {
			if _, err := st.Get(ctx, store.Key("absent", fmt.Sprint(i))); err == nil {
				return fmt.Errorf("found an absent key")
			}
			return nil
		}},
		{"set", func(i int64) error {
			return st.Set(ctx, store.Key("bench", fmt.Sprint(i%keys)), benchValue, time.Hour)
		}},
		{"setnx-take", func(i int64) error { // a media token handed out once
			k := store.Key("mark", fmt.Sprint(i))
			if ok, err := st.SetNX(ctx, k, benchValue, time.Minute); err != nil || !ok {
				return fmt.Errorf("setnx: %v %v", ok, err)
			}
			_, err := st.Take(ctx, k)
			return err
		}},
		{"record-create", func(i int64) error {
			return store.Records[map[string]string]{Store: st}.Create(ctx, store.Key("reg", fmt.Sprint(i)),
				map[string]string{"code": fmt.Sprint(i), "deviceId": "bench-device"}, time.Minute)
		}},
	}
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := o.op(seq.Add(1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
