package redisstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
)

// BenchmarkRedis measures the store operations of the gateway's hot
// paths on a real redis-server over loopback (skipped without one), for
// comparison with BenchmarkMemory in package store.
func BenchmarkRedis(b *testing.B) {
	srv := redistest.Start(b)
	st, err := redisstore.Open(srv.URL(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	value := make([]byte, 600) // a kept decision or a cached profile
	const keys = 1024
	for i := range keys {
		if err := st.Set(ctx, store.Key("bench", fmt.Sprint(i)), value, time.Hour); err != nil {
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
		{"set", func(i int64) error {
			return st.Set(ctx, store.Key("bench", fmt.Sprint(i%keys)), value, time.Hour)
		}},
		{"get-twice", func(i int64) error { // a device's generation, then its state
			if _, err := st.Get(ctx, store.Key("bench", fmt.Sprint(i%keys))); err != nil {
				return err
			}
			_, err := st.Get(ctx, store.Key("bench", fmt.Sprint((i+1)%keys)))
			return err
		}},
		{"getmany-2", func(i int64) error { // the same in one round trip
			vals, err := st.GetMany(ctx, store.Key("bench", fmt.Sprint(i%keys)), store.Key("bench", fmt.Sprint((i+1)%keys)))
			if err == nil && (vals[0] == nil || vals[1] == nil) {
				err = fmt.Errorf("missing values")
			}
			return err
		}},
		{"setnx-take", func(i int64) error {
			k := store.Key("mark", fmt.Sprint(i))
			if ok, err := st.SetNX(ctx, k, value, time.Minute); err != nil || !ok {
				return fmt.Errorf("setnx: %v %v", ok, err)
			}
			_, err := st.Take(ctx, k)
			return err
		}},
	}
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8) // requests in flight, as a loaded gateway has
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
