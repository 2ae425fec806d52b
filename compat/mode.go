package compat

import (
	"fmt"
	"net/url"
)

// Mode is how the calls of one requestor are answered.
type Mode string

// The migration modes, from the first day of a migration to the last.
const (
	// ModeTranslate answers every call through REST API v2 (the default).
	ModeTranslate Mode = "translate"
	// ModePassthrough proxies every call to the v1 upstream unchanged.
	ModePassthrough Mode = "passthrough"
	// ModeShadow answers from the v1 upstream and, for read-only calls,
	// also runs the translated path in the background and compares.
	ModeShadow Mode = "shadow"
	// ModeCanary sends a stable share of devices to translate and the rest
	// to the v1 upstream.
	ModeCanary Mode = "canary"
)

// ParseMode reads a mode name; "" is ModeTranslate.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "":
		return ModeTranslate, nil
	case ModeTranslate, ModePassthrough, ModeShadow, ModeCanary:
		return m, nil
	}
	return "", fmt.Errorf("compat: unknown mode %q (want translate, passthrough, shadow or canary)", s)
}

// NeedsUpstream reports whether m sends calls to the v1 upstream.
func (m Mode) NeedsUpstream() bool { return m == ModePassthrough || m == ModeShadow || m == ModeCanary }

// Policy is how one requestor's calls are answered.
type Policy struct {
	// Requestor is the configured requestor the policy is for; "" for the
	// policy of requestors the configuration does not name. The Guard
	// counts and diverts by it.
	Requestor string
	// Mode is the zero value (translate) unless set.
	Mode Mode
	// Upstream is the base URL of the v1 service (scheme, host and an
	// optional path prefix); required by every mode but translate.
	Upstream *url.URL
	// CanaryPercent is the share of devices, 0 to 100, that canary mode
	// sends to translate.
	CanaryPercent float64
}
