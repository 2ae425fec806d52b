package main

import (
	"log/slog"
	"time"

	"github.com/passgw/passgw/v2client"
)

// BreakerConfig is the circuit breaker on the v2 upstream: after Threshold
// consecutive failed calls (connection failures, timeouts, 5xx) calls fail
// fast, without reaching Adobe, for Cooldown; then one call probes the
// upstream and its outcome closes the circuit or opens it again. Devices get
// the v1 500 they get for any upstream failure, so they retry later.
type BreakerConfig struct {
	// Off switches the breaker off.
	Off bool `yaml:"off"`
	// Threshold defaults to v2client.DefaultBreakerThreshold (5).
	Threshold int `yaml:"threshold"`
	// Cooldown defaults to v2client.DefaultBreakerCooldown (5s).
	Cooldown time.Duration `yaml:"cooldown"`
}

// breaker is the upstream breaker of the configuration, nil when off.
func (c *Config) breaker(now func() time.Time, logger *slog.Logger) *v2client.Breaker {
	if c.UpstreamBreaker.Off {
		return nil
	}
	return &v2client.Breaker{
		Threshold: c.UpstreamBreaker.Threshold,
		Cooldown:  c.UpstreamBreaker.Cooldown,
		Now:       now,
		Logger:    logger,
	}
}
