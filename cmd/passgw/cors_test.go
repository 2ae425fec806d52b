package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passgw/passgw/translate"
)

// TestConfigCORS reads the cors settings of each requestor: the default
// origins from its domains and URLs, added origins, the explicit "*", off,
// and the origins a call naming no requestor gets.
func TestConfigCORS(t *testing.T) {
	file := filepath.Join(t.TempDir(), "passgw.yaml")
	yaml := `
requestors:
  - id: A
    software_statement: s
    domain_name: a.example
    redirect_url: https://tv.a.example/done
    allowed_domains: [a.example, partner.example]
    allowed_redirect_urls: ["https://tv.a.example/", "https://sso.other.example:8443/back"]
    registration_url: https://activate.elsewhere.example/tv
    cors:
      allowed_origins: ["http://localhost:3000", "https://*.cdn.example"]
  - id: B
    software_statement: s
    domain_name: b.example
    redirect_url: https://b.example/done
    cors:
      allowed_origins: ["*"]
  - id: C
    software_statement: s
    domain_name: c.example
    redirect_url: https://c.example/done
    cors:
      off: true
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.provision(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	allowed := cfg.cors().Allowed
	for _, tt := range []struct {
		requestor, origin string
		want              bool
	}{
		{"A", "https://a.example", true},
		{"A", "https://login.a.example:9000", true},
		{"A", "http://www.partner.example", true},
		{"A", "https://sso.other.example:8443", true},
		{"A", "https://sso.other.example", false},
		{"A", "https://activate.elsewhere.example", true},
		{"A", "http://localhost:3000", true},
		{"A", "http://localhost:3001", false},
		{"A", "https://x.cdn.example", true},
		{"A", "https://b.example", false},
		{"B", "https://anything.test", true},
		{"C", "https://c.example", false},
		{"C", "https://anything.test", false},
		{"NOPE", "https://a.example", false},
		{"", "https://a.example", true},
		{"", "https://anything.test", true}, // B opens every origin
	} {
		if got := allowed(tt.requestor, tt.origin); got != tt.want {
			t.Errorf("Allowed(%q, %q) = %v, want %v", tt.requestor, tt.origin, got, tt.want)
		}
	}
}

// TestConfigCORSRejects: a malformed origin, or off with origins, stops
// provisioning with the field named.
func TestConfigCORSRejects(t *testing.T) {
	cfg := &Config{Requestors: []RequestorConfig{
		{
			Requestor: translate.Requestor{
				ID:          "A",
				DomainName:  "a.example",
				RedirectURL: "https://a.example/done",
			},
			SoftwareStatement: "s",
			CORS:              CORSConfig{AllowedOrigins: []string{"https://a.example", "https://a.example/path"}},
		},
		{
			Requestor: translate.Requestor{
				ID:          "B",
				DomainName:  "b.example",
				RedirectURL: "https://b.example/done",
			},
			SoftwareStatement: "s",
			CORS:              CORSConfig{Off: true, AllowedOrigins: []string{"*"}},
		},
	}}
	err := cfg.provision(func(string) string { return "" })
	for _, want := range []string{"requestors[0].cors.allowed_origins[1]:", "requestors[1].cors: off and allowed_origins"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("provision: %v, want it to name %q", err, want)
		}
	}
}
