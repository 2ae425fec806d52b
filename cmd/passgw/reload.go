package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1api"
	"github.com/passgw/passgw/v1api/callerauth"
	"github.com/passgw/passgw/v2client"
)

// gateway is the running gateway. What lives as long as the process is
// built once: the store, the v2 client (its connections, circuit breaker
// and token source), the throttle's buckets, the shadow comparisons, the
// log level and telemetry. What the configuration file decides is a
// generation: provisioned and built in full, then swapped in whole by
// reload. A call runs to its end on the generation it started on, so a
// reload drops none.
type gateway struct {
	upstreamURL string
	logger      *slog.Logger
	hooks       hooks
	store       store.Store
	client      *v2client.Client
	throttle    *v1api.Throttle
	shadow      *compat.Shadow
	metrics     *telemetry.Metrics
	// level is the logger's level, set by each generation; nil when the
	// logger was not made with one (tests).
	level *slog.LevelVar
	// source reads the configuration again; nil refuses reloads.
	source *configSource
	// opsApart reports that the operator endpoints have a listener of
	// their own (ops.addr), so the device listener does not serve /ops/.
	opsApart bool
	// callScope opens a store call scope for each device call
	// (store.WithCallBound), so that a stalled Redis holds a device at most
	// the store's timeout whatever the number of store operations its call
	// needs. The in-memory store does not stall.
	callScope bool

	// dcrKey is the device DCR key kept in the store (when no dcr_keys
	// are configured), resolved once for the life of the process so that
	// a reload on an emptied store does not sign with another; nil until
	// first needed.
	dcrKey atomic.Pointer[callerauth.Key]

	mu  sync.Mutex // one reload at a time
	cur atomic.Pointer[generation]
}

// generation is one configuration in effect, immutable once built.
type generation struct {
	cfg  *Config
	hash string
	// handler serves the device listener; ops the operator listener.
	handler, ops http.Handler
	guard        *compat.Guard
	policy       func(requestor string) compat.Policy
	statements   func(ctx context.Context, sp string) (v2client.RegisterRequest, error)
	limit        func(requestor string) (v1api.ThrottleLimit, bool)
}

// ServeHTTP answers on the device listener.
func (gw *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !gw.opsApart && strings.HasPrefix(r.URL.Path, opsPrefix) {
		gw.serveOps(w, r)
		return
	}
	if gw.callScope {
		r = r.WithContext(store.WithCallBound(r.Context()))
	}
	gw.cur.Load().handler.ServeHTTP(w, r)
}

// opsHandler answers on the operator listener (ops.addr): /healthz,
// /readyz, /metrics and the /ops/ endpoints.
func (gw *gateway) opsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, opsPrefix) {
			gw.serveOps(w, r)
			return
		}
		gw.cur.Load().ops.ServeHTTP(w, r)
	})
}

const opsPrefix = "/ops/"

// serveOps serves the endpoints that change the running gateway, each
// behind the ops.token bearer token: POST /ops/reload and POST
// /ops/v1-guard/release?requestor=ID.
func (gw *gateway) serveOps(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	token := gw.cur.Load().cfg.Ops.Token
	if token == "" {
		http.Error(w, "operator endpoints are off: set ops.token (or PASSGW_OPS_TOKEN)", http.StatusNotFound)
		return
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="passgw operations"`)
		http.Error(w, "a valid ops.token bearer token is required", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case opsPrefix + "reload":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		hash, err := gw.reload("endpoint")
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprintf(w, "reload refused; the running configuration stays:\n%v\n", err)
			return
		}
		fmt.Fprintf(w, "configuration reloaded: hash %s\n", hash)
	case opsPrefix + "v1-guard/release":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		requestor := r.URL.Query().Get("requestor")
		if !gw.cur.Load().guard.Release(requestor, "released by an operator") {
			http.Error(w, fmt.Sprintf("requestor %q is not answered through translate by the v1 guard", requestor), http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, "requestor %s goes back to its mode\n", requestor)
	default:
		http.NotFound(w, r)
	}
}

// reload reads the configuration again and, when it provisions and builds
// in full and changes nothing that needs a restart, puts it in effect;
// otherwise the running configuration stays. trigger names what asked
// (SIGHUP, endpoint) in the log. It returns the hash now in effect.
func (gw *gateway) reload(trigger string) (string, error) {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	prev := gw.cur.Load()
	next, err := gw.prepare(prev)
	if err != nil {
		gw.metrics.ConfigReload(false)
		gw.logger.Error("configuration reload refused; the running configuration stays",
			"trigger", trigger, "hash", prev.hash, "error", err.Error())
		return "", err
	}
	gw.cur.Store(next)
	gw.settle(prev, next)
	gw.metrics.ConfigReload(true)
	gw.logger.Info("configuration reloaded", "trigger", trigger, "hash", next.hash, "previous_hash", prev.hash,
		"requestors", len(next.cfg.Requestors), "mode", next.cfg.Mode)
	return next.hash, nil
}

func (gw *gateway) prepare(prev *generation) (*generation, error) {
	if gw.source == nil || gw.source.path == "" {
		return nil, errors.New("no configuration file to read again: serve was started without --config")
	}
	cfg, raw, err := gw.source.read()
	if err != nil {
		return nil, err
	}
	if err := cfg.provision(os.Getenv); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if fields := restartOnly(prev.cfg, cfg); len(fields) > 0 {
		return nil, fmt.Errorf("these settings change only with a restart: %s", strings.Join(fields, ", "))
	}
	next, err := gw.build(cfg, prev)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	next.hash = configHash(raw)
	return next, nil
}

// settle finishes a swap from prev to next: the log level, the hash
// metric, and the v1 guard's requestors the new configuration no longer
// sends to v1, which go back (their gauge to 0).
func (gw *gateway) settle(prev, next *generation) {
	gw.setLevel(next.cfg)
	gw.metrics.ConfigInEffect(next.hash)
	if prev.guard == nil {
		return
	}
	if next.guard == nil {
		for _, s := range prev.guard.Status() {
			prev.guard.Release(s.Requestor, "the configuration no longer sends it to v1, or v1_guard is off")
		}
		return
	}
	known := map[string]bool{compat.GuardDefault: true}
	for _, r := range next.cfg.Requestors {
		known[r.ID] = true
	}
	for _, s := range next.guard.Status() {
		id := s.Requestor
		if id == compat.GuardDefault {
			id = ""
		}
		if !known[s.Requestor] || !next.policy(id).Mode.NeedsUpstream() {
			next.guard.Release(s.Requestor, "the configuration no longer sends it to v1")
		}
	}
}

func (gw *gateway) setLevel(cfg *Config) {
	if gw.level != nil {
		gw.level.Set(logLevel(cfg))
	}
}

// restartOnly names the settings that differ between the running
// configuration and the new one but are fixed for the life of the
// process: the listeners, the v2 upstream and its client, the store (and
// the in-memory store's cap, set when it is made) and
// the keys sealing what the gateway keeps there, the pinned v2
// credentials, the log's form, the shadow comparisons' bounds, the
// device-address rule.
func restartOnly(running, next *Config) []string {
	fixed := []struct {
		name string
		get  func(*Config) any
	}{
		{"addr", func(c *Config) any { return c.Addr }},
		{"upstream", func(c *Config) any { return c.Upstream }},
		{"sandbox_addr", func(c *Config) any { return c.SandboxAddr }},
		{"sandbox_fixture", func(c *Config) any { return c.SandboxFixture }},
		{"trusted_proxies", func(c *Config) any { return c.TrustedProxies }},
		{"upstream_timeout", func(c *Config) any { return c.UpstreamTimeout }},
		{"upstream_breaker", func(c *Config) any { return c.UpstreamBreaker }},
		{"upstream_budget", func(c *Config) any { return c.UpstreamBudget }},
		{"shutdown_timeout", func(c *Config) any { return c.ShutdownTimeout }},
		{"log_format", func(c *Config) any { return c.LogFormat }},
		{"log_buffer", func(c *Config) any { return c.LogBuffer }},
		{"store", func(c *Config) any { return c.Store }},
		{"store_max_entries", func(c *Config) any { return c.StoreMaxEntries }},
		{"buckets", func(c *Config) any { return c.Buckets }},
		{"store_keys", func(c *Config) any { return c.StoreKeys }},
		{"requestors[].v2_client_id and v2_client_secret", func(c *Config) any { return c.pinned() }},
		{"shadow", func(c *Config) any { return c.Shadow }},
		{"progress", func(c *Config) any { return c.Progress }},
		{"ops.addr", func(c *Config) any { return c.Ops.Addr }},
	}
	var out []string
	for _, f := range fixed {
		if !reflect.DeepEqual(f.get(running), f.get(next)) {
			out = append(out, f.name)
		}
	}
	return out
}

// configHash is the hash the passgw_config_info metric shows: the first
// 16 hex digits of the SHA-256 of the configuration file ("" for none), as
// `sha256sum` prints it.
func configHash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])[:16]
}

// configSource is where serve's configuration comes from, read at start
// and again on each reload: the file, if any, then the flags over it.
type configSource struct {
	path string
	// flags are the values of --addr, --upstream, --sandbox-addr and
	// --store ("" when not given), by the field they override.
	addr, upstream, sandboxAddr, store string
	// requested and bound: when addr asked for a free port (port 0), the
	// address actually bound, which a reload reading the same addr keeps.
	requested, bound string
}

// read returns the configuration, unprovisioned, and the file's bytes.
func (s *configSource) read() (*Config, []byte, error) {
	cfg := &Config{}
	var raw []byte
	if s.path != "" {
		var err error
		if raw, err = os.ReadFile(s.path); err != nil {
			return nil, nil, err
		}
		if cfg, err = parseConfig(s.path, raw); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range []struct{ flag, field *string }{
		{&s.addr, &cfg.Addr}, {&s.upstream, &cfg.Upstream}, {&s.sandboxAddr, &cfg.SandboxAddr}, {&s.store, &cfg.Store},
	} {
		if *f.flag != "" {
			*f.field = *f.flag
		}
	}
	if s.bound != "" && cfg.Addr == s.requested {
		cfg.Addr = s.bound
	}
	return cfg, raw, nil
}

// OpsConfig is the operator side of the gateway.
type OpsConfig struct {
	// Addr, when set, is a listener of its own for the operator endpoints
	// (/healthz, /readyz, /metrics, /ops/...); the device listener then
	// serves no /ops/ endpoint. Default: all on the device listener.
	Addr string `yaml:"addr"`
	// Token is the bearer token the /ops/ endpoints require; without one
	// they are off. PASSGW_OPS_TOKEN overrides.
	Token string `yaml:"token"`
}

func (o *OpsConfig) provision(getenv func(string) string, bad func(field, format string, args ...any)) {
	if v := getenv("PASSGW_OPS_TOKEN"); v != "" {
		o.Token = v
	}
	if o.Token != "" && len(o.Token) < 16 {
		bad("ops.token", "at least 16 characters")
	}
	if o.Addr != "" {
		if _, _, err := net.SplitHostPort(o.Addr); err != nil {
			bad("ops.addr", "%v", err)
		}
	}
}
