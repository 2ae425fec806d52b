package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/v2client"
)

// Config is the passgw configuration file, in YAML. Flags override the
// top-level fields; PASSGW_SOFTWARE_STATEMENT_<REQUESTOR> environment
// variables override software statements, so secrets need not live in the file.
// The zero Config serves requestor REF30 on the embedded sandbox.
type Config struct {
	// Addr is where the gateway listens. Default 127.0.0.1:8080.
	Addr string `yaml:"addr"`
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
	// ShutdownTimeout bounds how long in-flight requests may finish after
	// SIGTERM. Default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// LogFormat is "text" (default) or "json"; LogLevel is debug, info
	// (default), warn or error.
	LogFormat string `yaml:"log_format"`
	LogLevel  string `yaml:"log_level"`
	// Requestors are the v1 requestors served. Default (sandbox only): REF30.
	Requestors []RequestorConfig `yaml:"requestors"`
}

// RequestorConfig is one v1 requestor; see translate.Requestor for the
// meaning of each field.
type RequestorConfig struct {
	ID                  string        `yaml:"id"`
	ServiceProvider     string        `yaml:"service_provider"`
	SoftwareStatement   string        `yaml:"software_statement"`
	DomainName          string        `yaml:"domain_name"`
	RedirectURL         string        `yaml:"redirect_url"`
	AllowedDomains      []string      `yaml:"allowed_domains"`
	AllowedRedirectURLs []string      `yaml:"allowed_redirect_urls"`
	RegistrationURL     string        `yaml:"registration_url"`
	EnhancedErrors      bool          `yaml:"enhanced_errors"`
	PreauthorizeChunk   int           `yaml:"preauthorize_chunk"`
	ProfileCacheTTL     time.Duration `yaml:"profile_cache_ttl"`
	TempPassMVPD        string        `yaml:"temppass_mvpd"`
}

// sandboxStatement is the software statement the default sandbox fixture
// accepts for REF30.
const sandboxStatement = "sandbox-statement"

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
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
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
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	if !absURL(c.PublicURL) {
		bad("public_url", "not an absolute URL: %q", c.PublicURL)
	}
	if c.sandbox() {
		c.Upstream = "sandbox"
		if c.SandboxAddr == "" {
			c.SandboxAddr = "127.0.0.1:8081"
		}
	} else if _, ok := upstreams[c.Upstream]; !ok && !absURL(c.Upstream) {
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
	if len(c.Requestors) == 0 {
		if !c.sandbox() {
			bad("requestors", "at least one requestor is required with a real upstream")
		} else {
			c.Requestors = []RequestorConfig{{
				ID:                "REF30",
				SoftwareStatement: sandboxStatement,
				DomainName:        "localhost",
				RedirectURL:       strings.TrimSuffix(c.PublicURL, "/") + signedInPath,
				AllowedDomains:    []string{"localhost", "example.com"},
			}}
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
		if r.SoftwareStatement == "" {
			bad(fmt.Sprintf("requestors[%d].software_statement", i), "required (or PASSGW_SOFTWARE_STATEMENT_%s)", strings.ToUpper(r.ID))
		}
	}
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
		out = append(out, translate.Requestor{
			ID:                  r.ID,
			ServiceProvider:     r.ServiceProvider,
			DomainName:          r.DomainName,
			RedirectURL:         r.RedirectURL,
			AllowedDomains:      r.AllowedDomains,
			AllowedRedirectURLs: r.AllowedRedirectURLs,
			RegistrationURL:     r.RegistrationURL,
			EnhancedErrors:      r.EnhancedErrors,
			PreauthorizeChunk:   r.PreauthorizeChunk,
			ProfileCacheTTL:     r.ProfileCacheTTL,
			TempPassMVPD:        r.TempPassMVPD,
		})
	}
	return out
}

// statements maps each service provider to the software statement the
// gateway registers with.
func (c *Config) statements() map[string]v2client.RegisterRequest {
	m := map[string]v2client.RegisterRequest{}
	for _, r := range c.Requestors {
		sp := r.ServiceProvider
		if sp == "" {
			sp = r.ID
		}
		m[sp] = v2client.RegisterRequest{SoftwareStatement: r.SoftwareStatement}
	}
	return m
}

func absURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
