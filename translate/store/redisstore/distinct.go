package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"github.com/passgw/passgw/translate/store"
)

var _ store.DistinctCounter = (*Store)(nil)

// AddDistinct implements store.DistinctCounter with PFADD, and PEXPIREAT
// (plus ExpiryGrace) in the same round trip.
func (s *Store) AddDistinct(ctx context.Context, key string, expires time.Time, members ...string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	k := s.key(key)
	cmds := rueidis.Commands{s.Client.B().Pfadd().Key(k).Element(members...).Build()}
	if !expires.IsZero() {
		cmds = append(cmds, s.Client.B().Pexpireat().Key(k).MillisecondsTimestamp(expires.Add(s.grace()).UnixMilli()).Build())
	}
	if err := firstError(s.doMulti(ctx, cmds...)); err != nil {
		return opErr("add distinct", key, err)
	}
	return nil
}

// CountDistinct implements store.DistinctCounter with PFCOUNT, which
// estimates the union of several keys in one call.
func (s *Store) CountDistinct(ctx context.Context, keys ...string) (uint64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = s.key(k)
	}
	n, err := s.do(ctx, s.Client.B().Pfcount().Key(ks...).Build()).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("redisstore: count distinct: %w", err)
	}
	return uint64(n), nil
}
