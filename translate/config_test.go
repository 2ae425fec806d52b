package translate

import (
	"errors"
	"net/netip"
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
		{"record version 0", func(c *GatewayConfig) { c.RecordVersion = new(0) }, ""},
		{"record version 1", func(c *GatewayConfig) { c.RecordVersion = new(1) }, ""},
		{"record version 2", func(c *GatewayConfig) { c.RecordVersion = new(2) }, "RecordVersion"},
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

// TestConfigPerPlatform: the v2 configuration is fetched with the device
// headers of the device whose call missed the cache, and kept per service
// provider and platform: two platforms cost two upstream calls and get
// their own answers, a platform already asked for is answered from the
// cache whichever device asks, and platforms outside the closed lists share
// one entry.
func TestConfigPerPlatform(t *testing.T) {
	e := newEnv(t)
	rq, err := e.gw.requestor(testRequestor)
	if err != nil {
		t.Fatal(err)
	}
	roku := testDevice("roku-1") // Roku OS, from its User-Agent
	webOS := testDevice("lg-1")
	webOS.IP = netip.MustParseAddr("203.0.113.80")
	webOS.DeviceInfo = []byte(`{"osName":"webOS","model":"OLED55"}`)
	otherRoku := testDevice("roku-2")
	otherRoku.IP = netip.MustParseAddr("203.0.113.99")
	odd1, odd2 := testDevice("odd-1"), testDevice("odd-2")
	odd1.UserAgent, odd1.DeviceInfo = "Mystery/1.0", []byte(`{"osName":"MysteryOS"}`)
	odd2.UserAgent, odd2.DeviceInfo = "Mystery/1.0", []byte(`{"osName":"OtherOS"}`)
	byID := map[string]*v1model.Device{}
	for _, d := range []*v1model.Device{&roku, &webOS, &otherRoku, &odd1, &odd2} {
		byID[d.DeviceID] = d
	}

	steps := []struct {
		name   string
		dev    v1model.Device
		calls  int    // upstream configuration calls in total after the step
		os     string // the answer's os
		sentBy string // deviceId whose headers the last upstream call carries
	}{
		{"first Roku", roku, 1, "Roku OS", "roku-1"},
		{"first webOS", webOS, 2, "webOS", "lg-1"},
		{"another Roku, cached", otherRoku, 2, "Roku OS", "lg-1"},
		{"webOS again, cached", webOS, 2, "webOS", "lg-1"},
		{"unlisted platform", odd1, 3, "MysteryOS", "odd-1"},
		{"another unlisted platform shares its entry", odd2, 3, "MysteryOS", "odd-1"},
	}
	for _, st := range steps {
		c, err := e.gw.configuration(e.ctx, rq, &st.dev)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if c.OS != st.os {
			t.Errorf("%s: configuration os = %q, want %q", st.name, c.OS, st.os)
		}
		if _, err := e.gw.Config(e.ctx, &v1model.ConfigRequest{Device: st.dev}); err != nil {
			t.Fatalf("%s: Config: %v", st.name, err)
		}
		calls := e.upstream("/configuration")
		if len(calls) != st.calls {
			t.Fatalf("%s: %d upstream configuration calls, want %d", st.name, len(calls), st.calls)
		}
		last := calls[len(calls)-1]
		sender := byID[st.sentBy]
		want, err := e.gw.completedInfo(sender)
		if err != nil {
			t.Fatal(err)
		}
		h := last.Header
		if id := h.Get(v2client.HeaderDeviceIdentifier); !strings.HasPrefix(id, "fingerprint ") {
			t.Errorf("%s: AP-Device-Identifier = %q", st.name, id)
		}
		if got := h.Get(v2client.HeaderDeviceInfo); got != want.header {
			t.Errorf("%s: X-Device-Info = %q, want %q (%s)", st.name, got, want.header, want.json)
		}
		if got, wantIP := h.Get(v2client.HeaderForwardedFor), sender.IP.String(); got != wantIP {
			t.Errorf("%s: X-Forwarded-For = %q, want %q", st.name, got, wantIP)
		}
	}
	// Each device's own fingerprint went with its fetch.
	calls := e.upstream("/configuration")
	if calls[0].Header.Get(v2client.HeaderDeviceIdentifier) == calls[1].Header.Get(v2client.HeaderDeviceIdentifier) {
		t.Errorf("the Roku and webOS fetches carried the same AP-Device-Identifier %q", calls[0].Header.Get(v2client.HeaderDeviceIdentifier))
	}
}

func TestConfigPlatform(t *testing.T) {
	tests := []struct{ info, want string }{
		{`{"osName":"Roku OS"}`, "roku os"},
		{`{"osName":"ANDROID","osFamily":"Android"}`, "android"},
		{`{"osFamily":"Tizen","osVendor":"Samsung"}`, "tizen"},
		{`{"osName":"Linux","osFamily":"Tizen"}`, "linux"},
		{`{"osName":"MysteryOS","osFamily":"Mystery"}`, ""},
		{`{}`, ""},
		{`not json`, ""},
	}
	for _, tt := range tests {
		if got := configPlatform([]byte(tt.info)); got != tt.want {
			t.Errorf("configPlatform(%s) = %q, want %q", tt.info, got, tt.want)
		}
	}
}
