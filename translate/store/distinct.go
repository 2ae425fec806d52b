package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"
	"time"

	"github.com/patrickmn/go-cache"
)

// DistinctCounter is implemented by stores that estimate how many distinct
// members a set holds, the set shared by every process using the store:
// Redis' HyperLogLog (PFADD, PFCOUNT), and Memory's own HyperLogLog with
// the same precision. It is optional; the migration progress figures use it
// when the store offers it.
//
// An estimate has a standard error of DistinctStdError (0.81%) of the true
// count; adding a member again changes nothing; sets hold no members, only
// registers, so nothing added can be read back.
type DistinctCounter interface {
	// AddDistinct adds members to the set under key, which expires at
	// expires (the zero time: never). Adding to an expired set starts a new
	// one.
	AddDistinct(ctx context.Context, key string, expires time.Time, members ...string) error
	// CountDistinct estimates the number of distinct members of the union
	// of the sets under keys; absent keys are empty sets.
	CountDistinct(ctx context.Context, keys ...string) (uint64, error)
}

// distinctPrecision is the HyperLogLog precision: 2^14 registers, as Redis
// uses, for a standard error of 1.04/sqrt(2^14).
const distinctPrecision = 14

// DistinctStdError is the relative standard error of a DistinctCounter's
// estimate, for Redis' HyperLogLog and Memory's alike: 1.04/sqrt(2^14).
const DistinctStdError = 1.04 / (1 << (distinctPrecision / 2))

var _ DistinctCounter = (*Memory)(nil)

// AddDistinct implements DistinctCounter: the set is a HyperLogLog's
// registers, one byte each, kept as the entry's value.
func (m *Memory) AddDistinct(ctx context.Context, key string, expires time.Time, members ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: add distinct %q: %w", key, err)
	}
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(key)
	if !ok || len(e.value) != 1<<distinctPrecision {
		e = memEntry{value: make([]byte, 1<<distinctPrecision), expires: expires}
		sweep := cache.NoExpiration
		if !expires.IsZero() {
			sweep = expires.Sub(m.now()) + m.grace()
		}
		m.c.Set(key, e, sweep)
	}
	// The registers are changed in place under m.mu, which every writer
	// holds; sets are read only by CountDistinct, under m.mu too, never
	// by Get.
	for _, member := range members {
		hllAdd(e.value, member)
	}
	return nil
}

// CountDistinct implements DistinctCounter.
func (m *Memory) CountDistinct(ctx context.Context, keys ...string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: count distinct: %w", err)
	}
	m.init()
	union := make([]byte, 1<<distinctPrecision)
	m.mu.Lock()
	for _, k := range keys {
		if e, ok := m.live(k); ok && len(e.value) == len(union) {
			for i, r := range e.value {
				union[i] = max(union[i], r)
			}
		}
	}
	m.mu.Unlock()
	return hllEstimate(union), nil
}

// hllAdd adds member to the registers: the first precision bits of its
// 64-bit hash pick a register, which keeps the longest run of leading
// zeros (plus one) seen in the rest.
func hllAdd(registers []byte, member string) {
	h := fnv.New64a()
	h.Write([]byte(member))
	x := mix64(h.Sum64())
	idx := x >> (64 - distinctPrecision)
	rest := x<<distinctPrecision | 1<<(distinctPrecision-1) // bounds the run
	rank := byte(bits.LeadingZeros64(rest) + 1)
	if rank > registers[idx] {
		registers[idx] = rank
	}
}

// mix64 is SplitMix64's finaliser: FNV-1a alone spreads short, similar
// strings (device ids differing in a digit) poorly over the high bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hllEstimate is the HyperLogLog estimate of the registers (Flajolet et
// al. 2007), with linear counting for small sets, as Redis does below its
// own bias-corrected range.
func hllEstimate(registers []byte) uint64 {
	m := float64(len(registers))
	sum, zeros := 0.0, 0
	for _, r := range registers {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return uint64(math.Round(e))
}
