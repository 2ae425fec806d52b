package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/passgw/passgw/internal/tokenbucket"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate/store"
)

// Where the v1 throttle and the upstream budget keep each device's token
// bucket (Config.Buckets).
const (
	// bucketsShared keeps them in the store, one bucket per device for
	// every instance: the default with Redis.
	bucketsShared = "shared"
	// bucketsProcess keeps them in each instance's memory: the default,
	// and the only choice, with the in-memory store.
	bucketsProcess = "process"
)

// provisionBuckets fills Buckets' default from the store and rejects a
// shared choice no store can share.
func (c *Config) provisionBuckets(bad func(field, format string, args ...any)) {
	switch c.Buckets {
	case "":
		c.Buckets = bucketsProcess
		if c.Store != "memory" {
			c.Buckets = bucketsShared
		}
	case bucketsShared:
		if c.Store == "memory" {
			bad("buckets", "shared needs a Redis store (store: redis://...); with store memory the buckets are the process's own")
		}
	case bucketsProcess:
	default:
		bad("buckets", "want shared or process, got %q", c.Buckets)
	}
}

// sharedBuckets returns where the buckets of kind ("throttle", "budget")
// are shared by every instance, or nil when each instance keeps its own:
// Buckets says process, or the store keeps no buckets. A decision the store
// cannot make is made in process; each failure (at most one a second) is
// logged and counts in passgw_store_errors_total{operation="bucket"}.
func (c *Config) sharedBuckets(st store.Store, kind string, m *telemetry.Metrics, logger *slog.Logger) *tokenbucket.Shared {
	tb, ok := st.(store.TokenBuckets)
	if c.Buckets != bucketsShared || !ok {
		return nil
	}
	return &tokenbucket.Shared{
		Store: bucketStore{tb: tb, prefix: "bucket:" + kind},
		OnFallback: func(ctx context.Context, err error) {
			m.StoreError("bucket")
			logger.LogAttrs(ctx, slog.LevelWarn, "shared token buckets unavailable: counting in this instance",
				slog.String("buckets", kind), slog.Any("error", err))
		},
	}
}

// bucketStore keeps one kind of bucket in the store, under keys that hash
// the device address (store.Key: addresses are not kept in clear).
type bucketStore struct {
	tb     store.TokenBuckets
	prefix string
}

func (b bucketStore) Bucket(ctx context.Context, key string, r tokenbucket.Request, idle time.Duration) (tokenbucket.Decision, error) {
	return b.tb.Bucket(ctx, store.Key(b.prefix, key), r, idle)
}
