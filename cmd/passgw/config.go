package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/translate/record"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v1api"
	"github.com/passgw/passgw/v1api/callerauth"
	"github.com/passgw/passgw/v2client"
)

// Config is the passgw configuration file, in YAML. Flags override the
// top-level fields; PASSGW_SOFTWARE_STATEMENT_<REQUESTOR> environment
// variables override software statements, so secrets need not live in the file.
// The zero Config serves requestor REF30 on the embedded sandbox.
type Config struct {
	// Addr is where the gateway listens. Default 127.0.0.1:8080.
	Addr string `yaml:"addr"`
	// Connections caps the connections held open on Addr, in total and
	// per client address.
	Connections ConnectionsConfig `yaml:"connections"`
	// PublicURL is the base URL devices and browsers reach the gateway at
	// (used for the default post-login landing page). Default http://Addr.
	PublicURL string `yaml:"public_url"`
	// Upstream is the Adobe Pass v2 service: "sandbox" (the embedded fake,
	// the default), "production", "staging", "prequal-production",
	// "prequal-staging", or a base URL.
	Upstream string `yaml:"upstream"`
	// SandboxAddr is where the embedded sandbox listens when Upstream is
	// "sandbox". Default 127.0.0.1:8081.
	SandboxAddr string `yaml:"sandbox_addr"`
	// SandboxFixture is a JSON fixture file for the embedded sandbox.
	// Default: the built-in fixture (REF30, AcmeCable, alice, ...).
	SandboxFixture string `yaml:"sandbox_fixture"`
	// TrustedProxies are the CIDR ranges allowed to name the device address
	// in X-Forwarded-For. Default: loopback only.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// UpstreamTimeout bounds each v2 call. Default 10s.
	UpstreamTimeout time.Duration `yaml:"upstream_timeout"`
	// UpstreamBreaker stops calling the v2 host after repeated failures.
	UpstreamBreaker BreakerConfig `yaml:"upstream_breaker"`
	// UpstreamBudget plans v2 calls inside each device's throttling
	// allowance at Adobe and honours its 429s.
	UpstreamBudget BudgetConfig `yaml:"upstream_budget"`
	// CodePollInterval is the least time between two v2 polls of one
	// registration code, whatever the number of v1 callers polling it.
	// Default 3s (Adobe: every 3 to 5 seconds); negative: every call polls.
	CodePollInterval time.Duration `yaml:"code_poll_interval"`
	// ShutdownTimeout bounds how long in-flight requests may finish after
	// SIGTERM. Default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// LogFormat is "text" (default) or "json"; LogLevel is debug, info
	// (default), warn or error.
	LogFormat string `yaml:"log_format"`
	LogLevel  string `yaml:"log_level"`
	// LogBuffer batches log lines in memory rather than writing each one
	// as it is logged; warnings and errors are written at once.
	LogBuffer LogBufferConfig `yaml:"log_buffer"`
	// Store is where the gateway keeps its state (registrations, kept
	// decisions, media-token marks, caches, nonces, its own v2 credentials):
	// "memory" (the default: one process, lost on restart) or
	// redis://[USER:PASSWORD@]HOST:PORT/DB (rediss:// for TLS), which
	// several instances share and which survives their restarts; or
	// redis+sentinel://SENTINEL,SENTINEL,.../MASTER_SET[/DB] and
	// redis+cluster://SEED,SEED,... for Redis Sentinel and Redis Cluster.
	Store string `yaml:"store"`
	// StoreMaxEntries caps the entries the in-memory store holds (store
	// memory): new registrations are then answered 429. Default
	// DefaultStoreMaxEntries; negative: no cap.
	StoreMaxEntries int `yaml:"store_max_entries"`
	// StoreCheck is what the gateway does at start when the Redis store's
	// settings can lose its state (no persistence, an evicting
	// maxmemory-policy): warn (default: an error line per problem), refuse
	// (the start fails) or off.
	StoreCheck string `yaml:"store_check"`
	// StoreRecordVersion is the format version of the records the gateway
	// writes to the store (registrations, cached profiles, kept decisions;
	// translate/record): 1 (the default) or 0, the form gateways before
	// format versions wrote and the only one they read. Set 0 while such
	// instances share the store during a rolling upgrade, then 1 once every
	// instance runs this release (a reload applies it). Both are always
	// read.
	StoreRecordVersion *int `yaml:"store_record_version"`
	// DCRKeys sign the client credentials and access tokens the gateway
	// issues to devices on /o/client/*, as "id:base64secret" (at least 16
	// bytes). The first signs; the others are still accepted, so a key can be
	// rotated without breaking live tokens. PASSGW_DCR_KEYS (comma-separated)
	// overrides. Default: a random key generated once and kept in the
	// gateway's store, so instances sharing a store share it (with the
	// in-memory store, device credentials end with the process).
	DCRKeys []string `yaml:"dcr_keys"`
	// StoreKeys seal the gateway's own v2 client secret and access tokens
	// before they reach the store (AES-256-GCM under a key derived from the
	// secret), as "id:base64secret" (at least 16 bytes). The first seals;
	// the others still open what they sealed, so a key can be rotated.
	// PASSGW_STORE_KEYS (comma-separated) overrides. Default: none, values
	// kept in clear (the gateway warns when the store is Redis).
	StoreKeys []string `yaml:"store_keys"`
	// Buckets is where the v1 throttle and the upstream budget keep each
	// device address's token bucket: shared (in the store, one bucket per
	// device for every instance; the default with Redis) or process (each
	// instance its own; the default, and the only choice, with memory).
	Buckets string `yaml:"buckets"`
	// Throttle is the per-device-IP limit on the v1 paths Adobe throttled,
	// for every requestor without its own. Default: 1 call/s after a
	// one-time burst of 10.
	Throttle ThrottleConfig `yaml:"throttle"`
	// Requestors are the v1 requestors served. Default (sandbox only): REF30.
	Requestors []RequestorConfig `yaml:"requestors"`
	// Progress tunes the migration progress figures.
	Progress ProgressConfig `yaml:"progress"`
	// Mode is the migration mode of requestors that set none and of calls
	// naming no requestor: translate (default), passthrough, shadow or
	// canary (see MIGRATION.md, "Phased rollout").
	Mode string `yaml:"mode"`
	// V1Upstream is the base URL of the v1 service the passthrough, shadow
	// and canary modes send calls to, for requestors that set none.
	V1Upstream string `yaml:"v1_upstream"`
	// CanaryPercent is the share of devices (0 to 100) canary mode answers
	// through translate, for requestors that set none.
	CanaryPercent float64 `yaml:"canary_percent"`
	// Shadow tunes the comparisons of shadow mode.
	Shadow ShadowConfig `yaml:"shadow"`
	// Ops is the operator side: a listener of its own and the token of the
	// /ops/ endpoints (reload).
	Ops OpsConfig `yaml:"ops"`
	// V1Guard answers through translate the requestors whose v1 upstream
	// stopped answering (Adobe turns v1 off at the end of 2026).
	V1Guard V1GuardConfig `yaml:"v1_guard"`
}

// ThrottleConfig is a token bucket per device IP: one call per Interval
// after a one-time Burst. Off switches throttling off.
type ThrottleConfig struct {
	Off      bool          `yaml:"off"`
	Interval time.Duration `yaml:"interval"`
	Burst    int           `yaml:"burst"`
}

// LogBufferConfig is how log lines are batched: written at least every
// Interval (default 200ms), at once from warn level up, and at exit. Off
// writes every line as it is logged.
type LogBufferConfig struct {
	Off      bool          `yaml:"off"`
	Interval time.Duration `yaml:"interval"`
}

// RequestorConfig is one v1 requestor: the translation settings of
// translate.Requestor (inline: id, domain_name, redirect_url, ...) and what
// the rest of the gateway needs of it.
type RequestorConfig struct {
	translate.Requestor `yaml:",inline"`
	SoftwareStatement   string `yaml:"software_statement"`
	// CallerAuth is none (default), optional (credentials checked when
	// present) or required (401 without a valid one).
	CallerAuth string `yaml:"caller_auth"`
	// V2ClientID and V2ClientSecret pin the gateway's v2 client
	// credentials for the requestor's service provider (from Adobe's TVE
	// dashboard): the gateway then never registers with DCR for it, and
	// software_statement is not needed. PASSGW_V2_CLIENT_ID_<REQUESTOR> and
	// PASSGW_V2_CLIENT_SECRET_<REQUESTOR> override them.
	V2ClientID     string `yaml:"v2_client_id"`
	V2ClientSecret string `yaml:"v2_client_secret"`
	// DeviceStatements are the software statements the requestor's apps
	// register with on the gateway's /o/client/register.
	DeviceStatements []string `yaml:"device_statements"`
	// SigningKeys verify the legacy signed Authorization header: public key
	// -> private key, as the apps were provisioned.
	SigningKeys map[string]string `yaml:"signing_keys"`
	// Throttle overrides the top-level throttle for this requestor.
	Throttle *ThrottleConfig `yaml:"throttle"`
	// Mode, V1Upstream and CanaryPercent override the top-level migration
	// settings for this requestor.
	Mode          string   `yaml:"mode"`
	V1Upstream    string   `yaml:"v1_upstream"`
	CanaryPercent *float64 `yaml:"canary_percent"`
	// CORS is which web origins (login web apps) may call the v1 API and
	// /o/client/* from a browser for this requestor.
	CORS CORSConfig `yaml:"cors"`
}

// sandboxStatement is the software statement the default sandbox fixture
// accepts for REF30.
const sandboxStatement = "sandbox-statement"

// sandboxRequestor is requestor id of the sandbox's service provider REF30,
// with its login web app on localhost (example.com allowed too) and the
// user's browser sent back to publicURL's signed-in page: the requestor a
// configuration without any gets on the sandbox.
func sandboxRequestor(id, publicURL string) RequestorConfig {
	return RequestorConfig{
		Requestor: translate.Requestor{
			ID:              id,
			ServiceProvider: "REF30",
			DomainName:      "localhost",
			RedirectURL:     strings.TrimSuffix(publicURL, "/") + signedInPath,
			AllowedDomains:  []string{"localhost", "example.com"},
		},
		SoftwareStatement: sandboxStatement,
	}
}

var upstreams = map[string]string{
	"production":         v2client.ProductionURL,
	"staging":            v2client.StagingURL,
	"prequal-production": v2client.PrequalProductionURL,
	"prequal-staging":    v2client.PrequalStagingURL,
}

// loadConfig reads a YAML configuration file, refusing unknown fields.
func loadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, b)
}

// parseConfig decodes the YAML configuration b read from path, refusing
// unknown fields.
func parseConfig(path string, b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, configError(path, b, err)
	}
	return &c, nil
}

// sandbox reports whether the embedded sandbox is the upstream.
func (c *Config) sandbox() bool { return c.Upstream == "" || c.Upstream == "sandbox" }

// provision fills defaults and rejects contradictions, naming the field.
func (c *Config) provision(getenv func(string) string) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%v", err)
	}
	c.Connections.provision(bad)
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	if !translate.AbsoluteURL(c.PublicURL) {
		bad("public_url", "not an absolute URL: %q", c.PublicURL)
	}
	if c.sandbox() {
		c.Upstream = "sandbox"
		if c.SandboxAddr == "" {
			c.SandboxAddr = "127.0.0.1:8081"
		}
	} else if _, ok := upstreams[c.Upstream]; !ok && !translate.AbsoluteURL(c.Upstream) {
		bad("upstream", "want sandbox, production, staging, prequal-production, prequal-staging or a URL; got %q", c.Upstream)
	}
	for i, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			bad(fmt.Sprintf("trusted_proxies[%d]", i), "%v", err)
		}
	}
	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = 10 * time.Second
	}
	if c.UpstreamBreaker.Threshold < 0 || c.UpstreamBreaker.Cooldown < 0 {
		bad("upstream_breaker", "threshold and cooldown must not be negative")
	}
	c.UpstreamBudget.provision("upstream_budget", bad)
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	switch c.LogFormat {
	case "":
		c.LogFormat = "text"
	case "text", "json":
	default:
		bad("log_format", "want text or json, got %q", c.LogFormat)
	}
	switch strings.ToLower(c.LogLevel) {
	case "":
		c.LogLevel = "info"
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.LogBuffer.Interval == 0 {
		c.LogBuffer.Interval = telemetry.DefaultLogInterval
	}
	if c.LogBuffer.Interval < 0 {
		bad("log_buffer.interval", "must be positive")
	}
	if c.Store == "" {
		c.Store = "memory"
	}
	if c.Store != "memory" {
		if _, err := redisstore.ParseURL(c.Store); err != nil {
			bad("store", "want memory, redis://HOST:PORT/DB, redis+sentinel://HOST:PORT,.../MASTER_SET or redis+cluster://HOST:PORT,...: %v", err)
		}
	}
	c.provisionBuckets(bad)
	if c.StoreMaxEntries == 0 {
		c.StoreMaxEntries = DefaultStoreMaxEntries
	}
	switch {
	case c.StoreRecordVersion == nil:
		c.StoreRecordVersion = new(record.Version)
	case record.CheckWritable(*c.StoreRecordVersion) != nil:
		bad("store_record_version", "want %d (the default) or 0 (while instances of a gateway before record format versions share the store), got %d",
			record.Version, *c.StoreRecordVersion)
	}
	switch c.StoreCheck {
	case "":
		c.StoreCheck = "warn"
	case "warn", "refuse", "off":
	default:
		bad("store_check", "want warn, refuse or off, got %q", c.StoreCheck)
	}
	if v := getenv("PASSGW_DCR_KEYS"); v != "" {
		c.DCRKeys = strings.Split(v, ",")
	}
	for i, k := range c.DCRKeys {
		if _, err := callerauth.ParseKey(strings.TrimSpace(k)); err != nil {
			bad(fmt.Sprintf("dcr_keys[%d]", i), "%v", err)
		}
	}
	if v := getenv("PASSGW_STORE_KEYS"); v != "" {
		c.StoreKeys = strings.Split(v, ",")
	}
	if _, err := c.sealer(); err != nil {
		bad("store_keys", "%v", err)
	}
	c.Throttle.provision("throttle", bad)
	c.Progress.provision(bad)
	if len(c.Requestors) == 0 {
		if !c.sandbox() {
			bad("requestors", "at least one requestor is required with a real upstream")
		} else {
			c.Requestors = []RequestorConfig{sandboxRequestor("REF30", c.PublicURL)}
		}
	}
	for i := range c.Requestors {
		r := &c.Requestors[i]
		if r.ID == "" {
			bad(fmt.Sprintf("requestors[%d].id", i), "required")
			continue
		}
		if v := getenv("PASSGW_SOFTWARE_STATEMENT_" + strings.ToUpper(r.ID)); v != "" {
			r.SoftwareStatement = v
		}
		if v := getenv("PASSGW_V2_CLIENT_ID_" + strings.ToUpper(r.ID)); v != "" {
			r.V2ClientID = v
		}
		if v := getenv("PASSGW_V2_CLIENT_SECRET_" + strings.ToUpper(r.ID)); v != "" {
			r.V2ClientSecret = v
		}
		if (r.V2ClientID == "") != (r.V2ClientSecret == "") {
			bad(fmt.Sprintf("requestors[%d].v2_client_id", i), "v2_client_id and v2_client_secret are pinned together (or neither)")
		}
		if r.SoftwareStatement == "" && r.V2ClientID == "" {
			bad(fmt.Sprintf("requestors[%d].software_statement", i), "required (or PASSGW_SOFTWARE_STATEMENT_%s), unless v2_client_id and v2_client_secret are pinned", strings.ToUpper(r.ID))
		}
		if r.CallerAuth == "" {
			r.CallerAuth = string(callerauth.ModeNone)
		}
		if _, err := callerauth.ParseMode(r.CallerAuth); err != nil {
			bad(fmt.Sprintf("requestors[%d].caller_auth", i), "%v", err)
		}
		r.Requestor.Provision(fmt.Sprintf("requestors[%d]", i), bad)
		if r.Throttle != nil {
			r.Throttle.provision(fmt.Sprintf("requestors[%d].throttle", i), bad)
		}
		r.CORS.provision(fmt.Sprintf("requestors[%d].cors", i), bad)
	}
	c.provisionPins(bad)
	c.provisionModes(bad)
	c.Ops.provision(getenv, bad)
	return errors.Join(errs...)
}

// upstreamURL is the v2 base URL, given the sandbox's when it is embedded.
func (c *Config) upstreamURL(sandboxURL string) string {
	if c.sandbox() {
		return sandboxURL
	}
	if u, ok := upstreams[c.Upstream]; ok {
		return u
	}
	return strings.TrimSuffix(c.Upstream, "/")
}

func (c *Config) trustedProxies() []netip.Prefix {
	if c.TrustedProxies == nil {
		return nil // v1api's default: loopback only
	}
	out := make([]netip.Prefix, 0, len(c.TrustedProxies))
	for _, p := range c.TrustedProxies {
		out = append(out, netip.MustParsePrefix(p)) // checked by provision
	}
	return out
}

func (c *Config) translateRequestors() []translate.Requestor {
	out := make([]translate.Requestor, 0, len(c.Requestors))
	for _, r := range c.Requestors {
		out = append(out, r.Requestor)
	}
	return out
}

// serviceProvider is the v2 service provider of r.
func (r *RequestorConfig) serviceProvider() string {
	if r.ServiceProvider == "" {
		return r.ID
	}
	return r.ServiceProvider
}

// statements maps each service provider to the software statement the
// gateway registers with.
func (c *Config) statements() map[string]v2client.RegisterRequest {
	m := map[string]v2client.RegisterRequest{}
	for _, r := range c.Requestors {
		if r.SoftwareStatement != "" {
			m[r.serviceProvider()] = v2client.RegisterRequest{SoftwareStatement: r.SoftwareStatement}
		}
	}
	return m
}

func (t *ThrottleConfig) provision(field string, bad func(field, format string, args ...any)) {
	if t.Interval == 0 {
		t.Interval = v1api.DefaultThrottleInterval
	}
	if t.Burst == 0 {
		t.Burst = v1api.DefaultThrottleBurst
	}
	if t.Interval < 0 {
		bad(field+".interval", "must be positive")
	}
	if t.Burst < 0 {
		bad(field+".burst", "must not be negative")
	}
}

// throttleLimit is the v1api.Throttle limit hook of the configuration.
func (c *Config) throttleLimit() func(requestor string) (v1api.ThrottleLimit, bool) {
	per := map[string]ThrottleConfig{}
	for _, r := range c.Requestors {
		if r.Throttle != nil {
			per[r.ID] = *r.Throttle
		}
	}
	return func(requestor string) (v1api.ThrottleLimit, bool) {
		t, ok := per[requestor]
		if !ok {
			t = c.Throttle
		}
		return v1api.ThrottleLimit{Interval: t.Interval, Burst: t.Burst}, !t.Off
	}
}

// keyRing is the DCR key ring of the configured dcr_keys or, when none
// is configured, of shared(), the key kept in the store.
func (c *Config) keyRing(shared func() (callerauth.Key, error)) (*callerauth.KeyRing, error) {
	if len(c.DCRKeys) == 0 {
		k, err := shared()
		if err != nil {
			return nil, err
		}
		return callerauth.NewKeyRing(k)
	}
	keys := make([]callerauth.Key, 0, len(c.DCRKeys))
	for _, s := range c.DCRKeys {
		k, err := callerauth.ParseKey(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return callerauth.NewKeyRing(keys[0], keys[1:]...)
}
