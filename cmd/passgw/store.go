package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
)

// storePingTimeout bounds the reachability check of a Redis store at start.
const storePingTimeout = 5 * time.Second

// openStore builds the store named by cfg.Store (provisioned: "memory" or a
// Redis URL) and returns it with the function that releases it.
//
// An unreachable Redis does not stop the gateway from starting: it is
// logged, calls that need shared state fail with a v1 500 (action retry)
// meanwhile, and the gateway recovers by itself when Redis answers.
func openStore(ctx context.Context, cfg *Config, logger *slog.Logger) (store.Store, func(), error) {
	if cfg.Store == "memory" {
		logger.Info("state kept in memory: registrations and kept decisions end with this process and are not shared with other instances")
		return store.NewMemory(time.Now), func() {}, nil
	}
	opts, err := redisstore.ParseURL(cfg.Store)
	if err != nil {
		return nil, nil, err
	}
	rs, err := redisstore.Open(cfg.Store, time.Now)
	if err != nil {
		return nil, nil, err
	}
	// The address and database only: the URL may carry a password.
	log := logger.With("component", "store", "redis", opts.InitAddress[0], "db", opts.SelectDB)
	pctx, cancel := context.WithTimeout(ctx, storePingTimeout)
	defer cancel()
	if err := rs.Ping(pctx); err != nil {
		log.Error("redis store unreachable at start; calls that need shared state fail until it answers", "error", err)
	} else {
		log.Info("state kept in redis, shared with every instance using it")
	}
	return rs, func() {
		if err := rs.Close(); err != nil {
			log.Warn("closing the redis store", "error", err)
		}
	}, nil
}
