//go:build !linux

package redisstore_test

import "time"

// processCPU and pidCPU are measured on Linux only; elsewhere the
// benchmarks report no CPU figures.
func processCPU() (time.Duration, bool)    { return 0, false }
func pidCPU(pid int) (time.Duration, bool) { return 0, false }
