package main

import (
	"time"
)

// ProgressConfig tunes the migration progress figures (distinct devices
// seen and signed in per requestor and platform, OPERATIONS.md): exported
// on /metrics and /status when metrics are on.
type ProgressConfig struct {
	// Off stops counting devices.
	Off bool `yaml:"off"`
	// FlushInterval is how often the devices seen are added to the store,
	// hence how late other instances' figures include them. Default
	// telemetry.DefaultProgressFlush (5s).
	FlushInterval time.Duration `yaml:"flush_interval"`
	// RefreshInterval is how long figures read from the store are reused
	// by /metrics and /status. Default telemetry.DefaultProgressRefresh
	// (30s).
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

func (p *ProgressConfig) provision(bad func(field, format string, args ...any)) {
	if p.FlushInterval < 0 {
		bad("progress.flush_interval", "must not be negative, got %v", p.FlushInterval)
	}
	if p.RefreshInterval < 0 {
		bad("progress.refresh_interval", "must not be negative, got %v", p.RefreshInterval)
	}
}
