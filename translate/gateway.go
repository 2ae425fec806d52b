// Package translate answers legacy Adobe Pass REST API v1 operations with
// REST API v2: one Gateway method per v1 operation, typed v1 request in,
// typed v1 answer or *v1model.Error out (the model is package v1model). It
// owns the gateway's state (registration records, kept decisions, caches)
// through package store.
package translate

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/passgw/passgw/translate/record"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// Defaults applied by GatewayConfig.Provision.
const (
	DefaultPreauthorizeChunk = 5
	DefaultProfileCacheTTL   = 15 * time.Second
	DefaultPermitReuseTTL    = 30 * time.Second
	DefaultConfigCacheTTL    = 2 * time.Minute
	DefaultExpiredMemory     = 24 * time.Hour
)

// ErrInvalidConfig is wrapped by every error of GatewayConfig.Provision.
var ErrInvalidConfig = errors.New("translate: invalid config")

// GatewayConfig configures a Gateway. Provision fills the defaults and
// rejects contradictions; New calls it.
type GatewayConfig struct {
	// Client calls Adobe Pass v2 with the gateway's own credentials. Required.
	Client *v2client.Client
	// Store keeps registrations, decisions and caches. Nil means an
	// in-memory store on Now. A shared store (Redis) lets several gateway
	// instances serve one device.
	Store store.Store
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives operator alerts (the gateway's v2 credentials refused,
	// upstream misconfiguration) and upstream failures. Nil discards.
	Logger *slog.Logger
	// NewID makes registration record ids. Nil means random version-4 UUIDs.
	NewID func() string
	// NewCode makes the registration codes the gateway issues itself, when
	// v2 answers a new session with "authorize" (the device is already signed
	// in) and so gives no code. Nil means 7 random characters of [A-Z0-9].
	NewCode func() string
	// Requestors lists the v1 requestors the gateway serves. Calls for any
	// other requestor get 400 Bad Request (invalid_requestor).
	Requestors []Requestor
	// ConfigCacheTTL is how long a service provider's v2 configuration is
	// reused. Zero means DefaultConfigCacheTTL.
	ConfigCacheTTL time.Duration
	// ExpiredMemory is how long the gateway remembers expired profiles and
	// decisions, so that it answers "expired" (410) rather than "none" (404)
	// as v1 did. Zero means DefaultExpiredMemory.
	ExpiredMemory time.Duration
	// CodePollInterval is the least time between two v2 polls of one
	// registration code, whatever the number of v1 callers polling it; in
	// between they are answered the last poll's outcome. Zero means
	// DefaultCodePollInterval; negative polls on every call.
	CodePollInterval time.Duration
	// DeviceDefaults complete the device information v2 requires when the
	// device sent none or an incomplete one.
	DeviceDefaults DeviceDefaults
	// ClusterKeys gives every key of one device's state one Redis Cluster
	// hash tag (store.DeviceKey), so that what a call reads together lives
	// on one node. Set it for a store spread over hash slots; off, the keys
	// are those earlier versions wrote (store.Key), which a store kept
	// across an upgrade still holds.
	ClusterKeys bool
	// RecordVersion is the format version of the records the gateway
	// writes (translate/record): record.Version, or 0, the form gateways
	// before format versions read, for the length of a rolling upgrade
	// from them. Nil means record.Version. Both are always read.
	RecordVersion *int
}

// Requestor is the configuration of one v1 requestor, as a requestor entry
// of passgw's YAML configuration names its fields (see CONFIG.md).
type Requestor struct {
	// ID is the v1 requestor id. Required, unique.
	ID string `yaml:"id"`
	// ServiceProvider is the v2 service provider. Empty means ID.
	ServiceProvider string `yaml:"service_provider"`
	// DomainName is sent as domainName on v2 sessions. Required.
	DomainName string `yaml:"domain_name"`
	// RedirectURL is where browsers land after an MVPD login or logout; sent
	// as redirectUrl on v2 sessions and logout. Required, an absolute URL
	// (see AbsoluteURL).
	RedirectURL string `yaml:"redirect_url"`
	// AllowedDomains are the domain_name values the second-screen
	// authenticate call may carry. Empty means DomainName only; otherwise it
	// must include DomainName.
	AllowedDomains []string `yaml:"allowed_domains"`
	// AllowedRedirectURLs are the redirect_url values the second-screen
	// authenticate call may carry: a value is allowed when its scheme and
	// host equal an entry's and its path lies under the entry's path. Empty
	// means RedirectURL only; otherwise RedirectURL must be allowed. Each is
	// an absolute URL.
	AllowedRedirectURLs []string `yaml:"allowed_redirect_urls"`
	// RegistrationURL is the login-app URL echoed in registration records
	// when the device sent none.
	RegistrationURL string `yaml:"registration_url"`
	// EnhancedErrors enables v1 Enhanced Error Codes for this requestor.
	// Off, errors carry only status, message and details.
	EnhancedErrors bool `yaml:"enhanced_errors"`
	// PreauthorizeChunk is the most resources sent in one v2 preauthorize
	// call. Zero means DefaultPreauthorizeChunk.
	PreauthorizeChunk int `yaml:"preauthorize_chunk"`
	// ProfileCacheTTL is how long v2 profiles are reused for a device (never
	// past a profile's notAfter). Zero means DefaultProfileCacheTTL;
	// negative disables the cache.
	ProfileCacheTTL time.Duration `yaml:"profile_cache_ttl"`
	// PermitReuseTTL is how long a permit of a v2 preauthorize answer
	// answers the device's later preauthorize calls for that resource
	// without asking v2 again (never past the permit's notAfter; dropped on
	// logout). Denials are always asked again, authorize always asks v2
	// (Adobe: authorize before every playback) and media tokens are never
	// reused. Zero means DefaultPermitReuseTTL; negative disables reuse.
	PermitReuseTTL time.Duration `yaml:"permit_reuse_ttl"`
	// TempPassMVPD is the TempPass MVPD used by free preview when the device
	// names none.
	TempPassMVPD string `yaml:"temppass_mvpd"`

	// clusterKeys is GatewayConfig.ClusterKeys, where the keys of a
	// device are built.
	clusterKeys bool
}

// Provision fills the defaults of r and checks it, calling bad for each
// contradiction with the YAML name of the field, prefixed by field (such as
// "requestors[0]"). It is the one validation of a requestor: passgw's
// configuration runs it, and so does GatewayConfig.Provision.
func (r *Requestor) Provision(field string, bad func(field, format string, args ...any)) {
	if r.ID == "" {
		bad(field+".id", "required")
	}
	if r.ServiceProvider == "" {
		r.ServiceProvider = r.ID
	}
	if r.DomainName == "" {
		bad(field+".domain_name", "required (sent as domainName on v2 sessions)")
	}
	if len(r.AllowedDomains) == 0 {
		r.AllowedDomains = []string{r.DomainName}
	} else if r.DomainName != "" && !slices.Contains(r.AllowedDomains, r.DomainName) {
		bad(field+".allowed_domains", "does not include domain_name %q", r.DomainName)
	}
	if !AbsoluteURL(r.RedirectURL) {
		bad(field+".redirect_url", "required, an absolute http(s) URL (got %q)", r.RedirectURL)
	}
	if len(r.AllowedRedirectURLs) == 0 {
		r.AllowedRedirectURLs = []string{r.RedirectURL}
	} else {
		for j, u := range r.AllowedRedirectURLs {
			if !AbsoluteURL(u) {
				bad(fmt.Sprintf("%s.allowed_redirect_urls[%d]", field, j), "not an absolute http(s) URL: %q", u)
			}
		}
		if AbsoluteURL(r.RedirectURL) && !redirectAllowed(r.AllowedRedirectURLs, r.RedirectURL) {
			bad(field+".allowed_redirect_urls", "does not allow redirect_url %q", r.RedirectURL)
		}
	}
	switch {
	case r.PreauthorizeChunk == 0:
		r.PreauthorizeChunk = DefaultPreauthorizeChunk
	case r.PreauthorizeChunk < 0:
		bad(field+".preauthorize_chunk", "must not be negative")
	}
	if r.ProfileCacheTTL == 0 {
		r.ProfileCacheTTL = DefaultProfileCacheTTL
	}
	if r.PermitReuseTTL == 0 {
		r.PermitReuseTTL = DefaultPermitReuseTTL
	}
}

// AbsoluteURL reports whether s is an absolute http or https URL with a
// host: the rule for every URL of the configuration (browser redirects,
// upstreams, the public URL).
func AbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// DeviceDefaults are values of the v2-required device information keys the
// operator knows for the whole fleet, used when neither the device's own
// information nor its User-Agent gives one. Empty fields send nothing: the
// key is left to Adobe's own extraction from the User-Agent rather than
// padded with a made-up value.
type DeviceDefaults struct {
	Model          string
	Version        string
	OSName         string
	OSVersion      string
	ConnectionType string
}

// Provision fills defaults and checks the configuration. Errors name the
// offending field and wrap ErrInvalidConfig.
func (c *GatewayConfig) Provision() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	if c.Client == nil {
		bad("Client", "required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Store == nil {
		c.Store = store.NewMemory(c.Now)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.NewID == nil {
		c.NewID = uuid.NewString
	}
	if c.NewCode == nil {
		c.NewCode = newCode
	}
	switch {
	case c.ConfigCacheTTL == 0:
		c.ConfigCacheTTL = DefaultConfigCacheTTL
	case c.ConfigCacheTTL < 0:
		bad("ConfigCacheTTL", "must not be negative")
	}
	switch {
	case c.ExpiredMemory == 0:
		c.ExpiredMemory = DefaultExpiredMemory
	case c.ExpiredMemory < 0:
		bad("ExpiredMemory", "must not be negative")
	}
	if c.CodePollInterval == 0 {
		c.CodePollInterval = DefaultCodePollInterval
	}
	if c.RecordVersion != nil {
		if err := record.CheckWritable(*c.RecordVersion); err != nil {
			bad("RecordVersion", "%v", err)
		}
	}
	if len(c.Requestors) == 0 {
		bad("requestors", "at least one requestor is required")
	}
	seen := map[string]bool{}
	for i := range c.Requestors {
		r := &c.Requestors[i]
		field := fmt.Sprintf("requestors[%d]", i)
		if r.ID != "" && seen[r.ID] {
			bad(field+".id", "duplicate requestor %q", r.ID)
		}
		seen[r.ID] = true
		r.Provision(field, bad)
	}
	return errors.Join(errs...)
}

// Gateway answers v1 operations through v2. It implements v1api.Backend.
// Build it with New; it is safe for concurrent use.
type Gateway struct {
	client     *v2client.Client
	store      store.Store
	now        func() time.Time
	log        *slog.Logger
	newID      func() string
	newCode    func() string
	requestors map[string]*Requestor
	configTTL  time.Duration
	expiredMem time.Duration
	// codePollInterval spaces the v2 polls of one code (0: no spacing).
	codePollInterval time.Duration
	defaults         DeviceDefaults
	// recordFormat is the format version records are written in.
	recordFormat store.Format

	// flights collapses identical concurrent upstream reads (profiles,
	// configuration) into one v2 call.
	flights singleflight.Group
	// infos keeps completed device information per device input.
	infos recent[*completedInfo]
	// storedProfiles keeps the last decoded cached profiles per device.
	storedProfiles recent[*decodedProfiles]
}

// New provisions cfg and returns a Gateway.
func New(cfg GatewayConfig) (*Gateway, error) {
	if err := cfg.Provision(); err != nil {
		return nil, err
	}
	g := &Gateway{
		client:           cfg.Client,
		store:            cfg.Store,
		now:              cfg.Now,
		log:              cfg.Logger,
		newID:            cfg.NewID,
		newCode:          cfg.NewCode,
		requestors:       map[string]*Requestor{},
		configTTL:        cfg.ConfigCacheTTL,
		expiredMem:       cfg.ExpiredMemory,
		codePollInterval: max(cfg.CodePollInterval, 0),
		defaults:         cfg.DeviceDefaults,
	}
	if cfg.RecordVersion != nil {
		g.recordFormat = store.FormatVersion(*cfg.RecordVersion)
	}
	for i := range cfg.Requestors {
		r := cfg.Requestors[i]
		r.AllowedDomains = slices.Clone(r.AllowedDomains)
		r.AllowedRedirectURLs = slices.Clone(r.AllowedRedirectURLs)
		r.clusterKeys = cfg.ClusterKeys
		g.requestors[r.ID] = &r
	}
	return g, nil
}

// requestor returns the configuration of id, or the v1 400 for an unknown
// requestor (always with its enhanced code: the requestor's own setting is
// unknown too).
func (g *Gateway) requestor(id string) (*Requestor, error) {
	if r, ok := g.requestors[id]; ok {
		return r, nil
	}
	if id == "" {
		return nil, v1model.ErrRequired("requestor", v1model.CodeInvalidRequestor)
	}
	return nil, v1model.ErrBadRequest(v1model.CodeInvalidRequestor)
}

// Enhanced reports whether the requestor enabled Enhanced Error Codes; it
// fits v1api's handler configuration hook of the same name. Unknown
// requestors get the legacy form.
func (g *Gateway) Enhanced(requestor string) bool {
	r, ok := g.requestors[requestor]
	return ok && r.EnhancedErrors
}
