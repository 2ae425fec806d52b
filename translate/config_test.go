package translate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

func TestProvision(t *testing.T) {
	valid := func() GatewayConfig {
		return GatewayConfig{
			Client:     &v2client.Client{},
			Requestors: []Requestor{{ID: "REF30", DomainName: "example.com", RedirectURL: "https://example.com/done"}},
		}
	}
	tests := []struct {
		name   string
		mutate func(*GatewayConfig)
		field  string // "" means valid
	}{
		{"valid", func(*GatewayConfig) {}, ""},
		{"no client", func(c *GatewayConfig) { c.Client = nil }, "Client"},
		{"no requestors", func(c *GatewayConfig) { c.Requestors = nil }, "requestors"},
		{"no id", func(c *GatewayConfig) { c.Requestors[0].ID = "" }, "requestors[0].id"},
		{"duplicate id", func(c *GatewayConfig) { c.Requestors = append(c.Requestors, c.Requestors[0]) }, "requestors[1].id"},
		{"no domain", func(c *GatewayConfig) { c.Requestors[0].DomainName = "" }, "requestors[0].domain_name"},
		{"relative redirect", func(c *GatewayConfig) { c.Requestors[0].RedirectURL = "/done" }, "requestors[0].redirect_url"},
		{"redirect not http(s)", func(c *GatewayConfig) { c.Requestors[0].RedirectURL = "ftp://example.com/done" }, "requestors[0].redirect_url"},
		{"allowed redirect not http(s)", func(c *GatewayConfig) {
			c.Requestors[0].AllowedRedirectURLs = []string{"https://example.com/", "myapp://example.com/"}
		}, "requestors[0].allowed_redirect_urls[1]"},
		{"domain not allowed", func(c *GatewayConfig) { c.Requestors[0].AllowedDomains = []string{"other.com"} }, "requestors[0].allowed_domains"},
		{"redirect not allowed", func(c *GatewayConfig) {
			c.Requestors[0].AllowedRedirectURLs = []string{"https://other.com/"}
		}, "requestors[0].allowed_redirect_urls"},
		{"bad allowed redirect", func(c *GatewayConfig) {
			c.Requestors[0].AllowedRedirectURLs = []string{"https://example.com/", "nope"}
		}, "requestors[0].allowed_redirect_urls[1]"},
		{"negative chunk", func(c *GatewayConfig) { c.Requestors[0].PreauthorizeChunk = -1 }, "requestors[0].preauthorize_chunk"},
		{"negative config ttl", func(c *GatewayConfig) { c.ConfigCacheTTL = -time.Second }, "ConfigCacheTTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(&c)
			err := c.Provision()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Provision: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field+":") {
				t.Fatalf("Provision = %v, want an ErrInvalidConfig naming %s", err, tt.field)
			}
		})
	}
}

func TestProvisionDefaults(t *testing.T) {
	c := GatewayConfig{
		Client:     &v2client.Client{},
		Requestors: []Requestor{{ID: "REF30", DomainName: "example.com", RedirectURL: "https://example.com/done"}},
	}
	if err := c.Provision(); err != nil {
		t.Fatal(err)
	}
	r := c.Requestors[0]
	if r.ServiceProvider != "REF30" || r.PreauthorizeChunk != 5 || r.ProfileCacheTTL != 15*time.Second ||
		len(r.AllowedDomains) != 1 || r.AllowedDomains[0] != "example.com" ||
		len(r.AllowedRedirectURLs) != 1 || r.AllowedRedirectURLs[0] != "https://example.com/done" {
		t.Errorf("requestor defaults = %+v", r)
	}
	if c.ConfigCacheTTL != 2*time.Minute || c.Store == nil || c.Now == nil || c.Logger == nil || c.DeviceDefaults != (DeviceDefaults{}) {
		t.Errorf("gateway defaults = %+v", c)
	}
}

func TestRedirectAllowed(t *testing.T) {
	allowed := []string{"https://example.com/tv/", "https://login.example.com:8443"}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://example.com/tv/", true},
		{"https://example.com/tv/done?x=1", true},
		{"https://EXAMPLE.com/tv/done", true},
		{"https://example.com/tvx", false},
		{"https://example.com/", false},
		{"https://example.com/tv/../admin", false},
		{"http://example.com/tv/", false},
		{"https://example.com.evil.com/tv/", false},
		{"https://evil.com/https://example.com/tv/", false},
		{"https://user@example.com/tv/", false},
		{"https://login.example.com:8443/anything", true},
		{"https://login.example.com/anything", false},
		{"//example.com/tv/", false},
		{"javascript:alert(1)", false},
	}
	for _, tt := range tests {
		if got := redirectAllowed(allowed, tt.url); got != tt.want {
			t.Errorf("redirectAllowed(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestAuthenticateRefusesOpenRedirects(t *testing.T) {
	e := newEnv(t)
	reg, err := e.gw.CreateRegcode(e.ctx, &v1model.CreateRegcodeRequest{Device: testDevice("tv")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ domain, redirect string }{
		{"evil.com", testRedirect},
		{testDomain, "https://evil.com/steal"},
	} {
		_, err := e.gw.Authenticate(e.ctx, &v1model.AuthenticateRequest{Device: v1model.Device{Requestor: testRequestor},
			MVPD: "AcmeCable", Code: reg.Code, DomainName: tt.domain, RedirectURL: tt.redirect})
		v1err(t, err, 400, v1model.CodeInvalidRequestor)
	}
	if n := len(e.upstream("/sessions/" + reg.Code)); n != 0 {
		t.Errorf("a refused authenticate reached v2 %d times", n)
	}
}

// TestAbsoluteURL is the one rule for the URLs of the configuration.
func TestAbsoluteURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://example.com/done":  true,
		"http://localhost:8080":     true,
		"HTTPS://example.com":       true, // schemes are case-insensitive
		"/done":                     false,
		"example.com/done":          false,
		"ftp://example.com/":        false,
		"myapp://callback":          false,
		"https:///no-host":          false,
		"":                          false,
		"http://[::1]:8080/signed":  true,
		"https://exa mple.com/done": false,
	} {
		if got := AbsoluteURL(s); got != want {
			t.Errorf("AbsoluteURL(%q) = %v, want %v", s, got, want)
		}
	}
}
