package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/translate/store"
)

// ShadowConfig tunes shadow mode: the background comparison of the v1
// upstream's answers with the translated ones.
type ShadowConfig struct {
	// Concurrency bounds the comparisons running at once; calls arriving
	// when all are busy are answered from v1 and not compared. Default 4.
	Concurrency int `yaml:"concurrency"`
	// Timeout bounds one translated call. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Ignore are the compat selectors of values not compared. Default:
	// golden.DefaultIgnore (what a live v1 varies: registration id, times
	// and device information, expiries, media tokens, traces).
	Ignore []string `yaml:"ignore"`
	// LogDir receives one txtar file per difference (the device's call,
	// credentials redacted, v1's answer, the translated answer and the
	// diff). Empty: differences are only counted.
	LogDir string `yaml:"log_dir"`
}

// V1GuardConfig is the v1 end-of-life guard (see MIGRATION.md, "The day
// v1 turns off"): when the v1 upstream of a requestor in passthrough,
// shadow or canary mode fails at least FailureShare of at least MinCalls
// calls within Window (no answer, a 5xx, or a 404 or 410 page that is not
// a v1 error), the requestor's calls are answered through translate.
type V1GuardConfig struct {
	// Off switches the guard off: calls go to v1 answered or not.
	Off bool `yaml:"off"`
	// Window is the span failures are counted over. Default 1m.
	Window time.Duration `yaml:"window"`
	// FailureShare is the share of failed calls (above 0, at most 1) that
	// diverts a requestor. Default 0.5.
	FailureShare float64 `yaml:"failure_share"`
	// MinCalls is the least number of v1 calls within Window before the
	// share counts. Default 20.
	MinCalls int `yaml:"min_calls"`
	// Sticky keeps a diverted requestor on translate until an operator
	// releases it, even when v1 answers again. Default false: v1 is asked
	// again every Recheck and the requestor goes back when it answers.
	Sticky bool `yaml:"sticky"`
	// Recheck is how often the v1 upstream of a diverted requestor is
	// asked again when not sticky. Default 1m.
	Recheck time.Duration `yaml:"recheck"`
}

func (g *V1GuardConfig) provision(bad func(field, format string, args ...any)) {
	if g.Window == 0 {
		g.Window = compat.DefaultGuardWindow
	}
	if g.FailureShare == 0 {
		g.FailureShare = compat.DefaultGuardShare
	}
	if g.MinCalls == 0 {
		g.MinCalls = compat.DefaultGuardMinCalls
	}
	if g.Recheck == 0 {
		g.Recheck = compat.DefaultGuardRecheck
	}
	if g.Window < 0 {
		bad("v1_guard.window", "must be positive")
	}
	if g.FailureShare <= 0 || g.FailureShare > 1 {
		bad("v1_guard.failure_share", "want a share above 0 and at most 1, got %v", g.FailureShare)
	}
	if g.MinCalls < 0 {
		bad("v1_guard.min_calls", "must not be negative")
	}
	if g.Recheck < 0 {
		bad("v1_guard.recheck", "must be positive")
	}
}

// v1Guard is the end-of-life guard of the configuration; nil when off or
// when no requestor leaves translate. A sticky guard keeps its switches in
// st, so that they survive a restart.
func (c *Config) v1Guard(st store.Store, now func() time.Time, switched func(string, bool), logger *slog.Logger) *compat.Guard {
	if c.V1Guard.Off || !c.migrating() {
		return nil
	}
	return &compat.Guard{
		Window:   c.V1Guard.Window,
		Share:    c.V1Guard.FailureShare,
		MinCalls: c.V1Guard.MinCalls,
		Sticky:   c.V1Guard.Sticky,
		Recheck:  c.V1Guard.Recheck,
		Switched: switched,
		Now:      now,
		Logger:   logger.With("component", "v1guard"),
		Memory:   compat.StoreGuardMemory{Store: st},
	}
}

// guarded names the requestors whose calls go to a v1 upstream, as the
// guard and passgw_v1_fallback name them (GuardDefault for those the
// configuration does not name).
func (c *Config) guarded() []string {
	policy := c.policies()
	var out []string
	if policy("").Mode.NeedsUpstream() {
		out = append(out, compat.GuardDefault)
	}
	for _, r := range c.Requestors {
		if policy(r.ID).Mode.NeedsUpstream() {
			out = append(out, r.ID)
		}
	}
	return out
}

// guardDetails are the readiness lines of the guard: one per requestor it
// answers through translate.
func guardDetails(g *compat.Guard) func() []string {
	return func() []string {
		var out []string
		for _, s := range g.Status() {
			line := fmt.Sprintf("v1 guard: requestor %s answered through translate since %s: %s", s.Requestor, s.Since.UTC().Format(time.RFC3339), s.Reason)
			if s.Sticky {
				line += " (sticky)"
			}
			out = append(out, line)
		}
		return out
	}
}

// provisionModes checks the migration settings: the mode of every
// requestor (inherited from the top-level mode), the v1 upstream each
// non-translate mode needs, and canary percentages.
func (c *Config) provisionModes(bad func(field, format string, args ...any)) {
	if _, err := compat.ParseMode(c.Mode); err != nil {
		bad("mode", "want translate, passthrough, shadow or canary, got %q", c.Mode)
	}
	if c.V1Upstream != "" && !translate.AbsoluteURL(c.V1Upstream) {
		bad("v1_upstream", "not an absolute http(s) URL: %q", c.V1Upstream)
	}
	if c.CanaryPercent < 0 || c.CanaryPercent > 100 {
		bad("canary_percent", "want 0 to 100, got %v", c.CanaryPercent)
	}
	if c.Shadow.Concurrency < 0 || c.Shadow.Timeout < 0 {
		bad("shadow", "concurrency and timeout must not be negative")
	}
	c.V1Guard.provision(bad)
	if m, _ := compat.ParseMode(c.Mode); m.NeedsUpstream() && c.V1Upstream == "" {
		bad("v1_upstream", "required by mode %s", m)
	}
	for i, r := range c.Requestors {
		field := fmt.Sprintf("requestors[%d]", i)
		mode := r.Mode
		if mode == "" {
			mode = c.Mode
		}
		m, err := compat.ParseMode(mode)
		if err != nil {
			bad(field+".mode", "want translate, passthrough, shadow or canary, got %q", r.Mode)
			continue
		}
		if r.V1Upstream != "" && !translate.AbsoluteURL(r.V1Upstream) {
			bad(field+".v1_upstream", "not an absolute http(s) URL: %q", r.V1Upstream)
		}
		if m.NeedsUpstream() && r.V1Upstream == "" && c.V1Upstream == "" {
			bad(field+".v1_upstream", "required by mode %s (or set the top-level v1_upstream)", m)
		}
		if p := r.CanaryPercent; p != nil && (*p < 0 || *p > 100) {
			bad(field+".canary_percent", "want 0 to 100, got %v", *p)
		}
	}
}

// migrating reports whether any requestor (or the default) leaves
// translate mode.
func (c *Config) migrating() bool {
	if m, _ := compat.ParseMode(c.Mode); m != compat.ModeTranslate {
		return true
	}
	for _, r := range c.Requestors {
		if m, _ := compat.ParseMode(r.Mode); r.Mode != "" && m != compat.ModeTranslate {
			return true
		}
	}
	return false
}

// policies maps each requestor to its compat.Policy; calls naming no
// requestor, or one not configured, get the top-level mode.
func (c *Config) policies() func(requestor string) compat.Policy {
	parse := func(s string) *url.URL {
		if s == "" {
			return nil
		}
		u, _ := url.Parse(s) // checked by provision
		return u
	}
	mode, _ := compat.ParseMode(c.Mode)
	def := compat.Policy{Mode: mode, Upstream: parse(c.V1Upstream), CanaryPercent: c.CanaryPercent}
	per := map[string]compat.Policy{}
	for _, r := range c.Requestors {
		p := def
		p.Requestor = r.ID
		if r.Mode != "" {
			p.Mode, _ = compat.ParseMode(r.Mode)
		}
		if r.V1Upstream != "" {
			p.Upstream = parse(r.V1Upstream)
		}
		if r.CanaryPercent != nil {
			p.CanaryPercent = *r.CanaryPercent
		}
		per[r.ID] = p
	}
	return func(requestor string) compat.Policy {
		if p, ok := per[requestor]; ok {
			return p
		}
		return def
	}
}

// setUpShadow fills the fields of shadow left zero from the shadow
// settings; a gateway does it once, as they change only with a restart.
func (c *Config) setUpShadow(shadow *compat.Shadow, metrics *telemetry.Metrics, logger *slog.Logger) (*compat.Shadow, error) {
	if shadow == nil {
		shadow = &compat.Shadow{}
	}
	if shadow.Concurrency == 0 {
		shadow.Concurrency = c.Shadow.Concurrency
	}
	if shadow.Timeout == 0 {
		shadow.Timeout = c.Shadow.Timeout
	}
	if shadow.Ignore == nil && c.Shadow.Ignore != nil {
		shadow.Ignore = c.Shadow.Ignore
	}
	if shadow.Record == nil && c.Shadow.LogDir != "" {
		if err := os.MkdirAll(c.Shadow.LogDir, 0o755); err != nil {
			return nil, fmt.Errorf("shadow.log_dir: %w", err)
		}
		shadow.Record = compat.DiffDir(c.Shadow.LogDir).Record
	}
	if shadow.Compared == nil {
		shadow.Compared = metrics.ShadowCompared
	}
	if shadow.Skipped == nil {
		shadow.Skipped = metrics.ShadowSkipped
	}
	if shadow.Failed == nil {
		shadow.Failed = metrics.ShadowFailed
	}
	if shadow.Logger == nil {
		shadow.Logger = logger.With("component", "shadow")
	}
	return shadow, nil
}

// migrationRouter puts the compat router in front of the v1 surface when
// the configuration migrates any requestor; otherwise v1 is served as is.
// shadow, when set, is the comparison state to use, set up (setUpShadow);
// nil sets up a fresh one.
// guard, when set, diverts requestors whose v1 upstream stopped answering.
func (c *Config) migrationRouter(v1 http.Handler, st store.Store, shadow *compat.Shadow, guard *compat.Guard, metrics *telemetry.Metrics, logger *slog.Logger) (http.Handler, error) {
	if !c.migrating() {
		return v1, nil
	}
	if shadow == nil {
		var err error
		if shadow, err = c.setUpShadow(&compat.Shadow{}, metrics, logger); err != nil {
			return nil, err
		}
	}
	logger.Info("migration modes in effect: some v1 calls are answered by the v1 upstream", "default_mode", c.Mode)
	return &compat.Router{
		Translate:      v1,
		Policy:         c.policies(),
		TrustedProxies: c.trustedProxies(),
		Shadow:         shadow,
		Guard:          guard,
		Store:          st,
		Logger:         logger.With("component", "compat"),
	}, nil
}
