package redisstore_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
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
		// The same reads as a device call makes them: under a call scope
		// (store.WithCallBound), which bounds them together and returns
		// at the bound whatever the client does.
		{"get-in-call", func(i int64) error {
			_, err := st.Get(store.WithCallBound(ctx), store.Key("bench", fmt.Sprint(i%keys)))
			return err
		}},
		{"getmany-2-in-call", func(i int64) error {
			_, err := st.GetMany(store.WithCallBound(ctx), store.Key("bench", fmt.Sprint(i%keys)), store.Key("bench", fmt.Sprint((i+1)%keys)))
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

// mixDevices is how many devices call at once in BenchmarkRedisMix, as in
// the closed-loop device mix of passgw bench.
const mixDevices = 16

// BenchmarkRedisMix measures the store traffic of the device mix from
// mixDevices goroutines at once, each op one device's share of it: a
// pipelined read of its generation and state (GetMany of 2 keys), an update
// of a kept record (Replace) and a media-token hand-out (SetNX, then Take).
// Concurrency is what a client can exploit by sending several callers'
// commands together, so besides the allocations it reports throughput and
// the CPU time per op of this process (client) and of redis-server, which
// on a loaded machine say more than ns/op.
func BenchmarkRedisMix(b *testing.B) {
	srv := redistest.Start(b)
	st, err := redisstore.Open(srv.URL(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	value := make([]byte, 600)
	seedMix(b, st, value)
	b.ReportAllocs()
	redisPID := srv.Cmd().Process.Pid
	b.ResetTimer()
	selfBefore, selfOK := processCPU()
	redisBefore, redisOK := pidCPU(redisPID)
	elapsed := runMix(b, st, value)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	if selfAfter, ok := processCPU(); ok && selfOK {
		b.ReportMetric(float64((selfAfter-selfBefore).Microseconds())/float64(b.N), "client-cpu-µs/op")
	}
	if redisAfter, ok := pidCPU(redisPID); ok && redisOK {
		b.ReportMetric(float64((redisAfter-redisBefore).Microseconds())/float64(b.N), "redis-cpu-µs/op")
	}
}

// BenchmarkRedisRecordMemory measures what redis-server itself spends per
// registration record (used_memory before and after storing 200,000 of
// them), with a value of the registration record's size in the in-memory
// store (222 bytes, BenchmarkRegistrationRecordMemory in package
// translate), a key as the gateway builds it and a time to live: the
// figure behind "memory per device" in CONFIG.md.
func BenchmarkRedisRecordMemory(b *testing.B) {
	const records = 200_000
	srv := redistest.Start(b)
	st, err := redisstore.Open(srv.URL(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	used := func() float64 {
		info, err := srv.DoString("INFO", "memory")
		if err != nil {
			b.Fatal(err)
		}
		var n float64
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				n, _ = strconv.ParseFloat(v, 64)
			}
		}
		return n
	}
	value := make([]byte, 1+222) // the record tag, then the value
	for range b.N {
		if _, err := srv.Do("FLUSHALL"); err != nil {
			b.Fatal(err)
		}
		before := used()
		for i := range records {
			if _, err := st.SetNX(ctx, store.Key("reg", fmt.Sprintf("REF30/%08d", i)), value, 30*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((used()-before)/records, "redis-bytes/record")
	}
}

// runMix runs b.N mix operations from mixDevices goroutines and returns
// how long they took.
func runMix(b *testing.B, st store.Store, value []byte) time.Duration {
	var seq atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((mixDevices + procs - 1) / procs)
	ctx := context.Background()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := mixOp(ctx, st, seq.Add(1), value); err != nil {
				b.Error(err)
				return
			}
		}
	})
	return time.Since(start)
}

// mixKeys is how many devices the mix spreads over.
const mixKeys = 1024

// seedMix stores what mixOp reads: a generation, a state and a record per
// device, the first two under one hash tag as the gateway's cluster keys.
func seedMix(b *testing.B, st store.Store, value []byte) {
	b.Helper()
	ctx := context.Background()
	for i := range mixKeys {
		d := fmt.Sprint(i)
		for _, k := range []string{store.DeviceKey("gen", "REF30", d), store.DeviceKey("state", "REF30", d), store.Key("rec", d)} {
			if err := st.Set(ctx, k, value, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// mixOp is one device call's store work in the gateway's proportions: its
// generation and state in one round trip, a record replaced, a mark taken
// once and taken back.
func mixOp(ctx context.Context, st store.Store, i int64, value []byte) error {
	d := fmt.Sprint(i % mixKeys)
	vals, err := store.GetMany(ctx, st, store.DeviceKey("gen", "REF30", d), store.DeviceKey("state", "REF30", d))
	if err == nil && (vals[0] == nil || vals[1] == nil) {
		err = fmt.Errorf("missing values")
	}
	if err == nil {
		err = st.Replace(ctx, store.Key("rec", d), value)
	}
	if err == nil {
		mark := store.Key("mark", fmt.Sprint(i))
		var ok bool
		if ok, err = st.SetNX(ctx, mark, value, time.Minute); err == nil && !ok {
			err = fmt.Errorf("setnx of a fresh mark = false")
		}
		if err == nil {
			_, err = st.Take(ctx, mark)
		}
	}
	return err
}

// BenchmarkRedisTopologies runs the device mix of BenchmarkRedisMix, in
// one run, on a single redis-server, through Sentinel (a master, a
// replica, three sentinels) and on a Cluster of three masters, all on
// loopback: the throughput of each against the single node's (BENCHMARKS.md).
func BenchmarkRedisTopologies(b *testing.B) {
	value := make([]byte, 600)
	for _, topo := range []struct {
		name string
		url  func() string
	}{
		{"single", func() string { return redistest.Start(b).URL() }},
		{"sentinel", func() string { return redistest.StartSentinel(b, time.Second).URL() }},
		{"cluster3", func() string { return redistest.StartCluster(b, 3, time.Second).URL() }},
	} {
		b.Run(topo.name, func(b *testing.B) {
			st, err := redisstore.Open(topo.url(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			seedMix(b, st, value)
			b.ResetTimer()
			elapsed := runMix(b, st, value)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
		})
	}
}
