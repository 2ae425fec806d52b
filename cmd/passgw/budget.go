package main

import (
	"context"
	"time"

	"github.com/passgw/passgw/v2client"
)

// BudgetConfig is the per-device upstream budget (v2client.Budget): every v2
// call is planned inside Adobe's throttling allowance of the device address
// it is sent for (one call a second after a one-time burst of ten), a call
// waits at most MaxWait for the device's turn, and after an upstream 429 the
// device's calls are answered with v1's 429 by the gateway for a second
// without reaching Adobe. The gateway's own calls (DCR, configuration
// without a device) share its own address. Off sends every call at once.
type BudgetConfig struct {
	// Off switches the budget off.
	Off bool `yaml:"off"`
	// MaxWait defaults to v2client.DefaultBudgetMaxWait (2s); negative
	// means a call never waits (it is refused when no turn is free).
	MaxWait time.Duration `yaml:"max_wait"`
	// MaxDevices bounds the addresses remembered; default
	// v2client.DefaultBudgetDevices (1 Mi, about 150 MiB at most).
	MaxDevices int `yaml:"max_devices"`
}

func (b *BudgetConfig) provision(field string, bad func(field, format string, args ...any)) {
	if b.MaxDevices < 0 {
		bad(field+".max_devices", "must not be negative")
	}
}

// budget is the upstream budget of the configuration, nil when off; now and
// sleep (nil: the real clock) are its clock.
func (c *Config) budget(now func() time.Time, sleep func(context.Context, time.Duration) error) *v2client.Budget {
	if c.UpstreamBudget.Off {
		return nil
	}
	return &v2client.Budget{MaxWait: c.UpstreamBudget.MaxWait, MaxDevices: c.UpstreamBudget.MaxDevices, Now: now, Sleep: sleep}
}
