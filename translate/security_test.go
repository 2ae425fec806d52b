package translate

import "testing"

// The second-screen authenticate call must never send the user's browser
// anywhere the requestor did not register: every redirect_url below is
// refused for a requestor that allows https://example.com/tv/done and
// http://localhost:8080/passgw/signed-in.
func TestRedirectAttacksRefused(t *testing.T) {
	allowed := []string{"https://example.com/tv/done", "http://localhost:8080/passgw/signed-in"}
	attacks := []string{
		// Other hosts and schemes.
		"https://evil.net/tv/done",
		"http://example.com/tv/done",
		"https://example.com:8443/tv/done",
		"//evil.net/tv/done",
		"///evil.net/tv/done",
		"/tv/done",
		"tv/done",
		"javascript:alert(1)//https://example.com/tv/done",
		"JaVaScRiPt:alert(document.domain)",
		"data:text/html,<script>alert(1)</script>",
		"https:evil.net/tv/done",
		"https:/evil.net/tv/done",
		// Look-alike hosts.
		"https://example.com.evil.net/tv/done",
		"https://evilexample.com/tv/done",
		"https://example.co/tv/done",
		"https://evil.net/https://example.com/tv/done",
		"https://evil.net?https://example.com/tv/done",
		"https://evil.net#https://example.com/tv/done",
		"http://localhost:8080.evil.net/passgw/signed-in",
		"http://localhost.evil.net:8080/passgw/signed-in",
		// Userinfo tricks.
		"https://example.com@evil.net/tv/done",
		"https://example.com:443@evil.net/tv/done",
		"https://example.com%40evil.net/tv/done",
		"https://@example.com/tv/done",
		"https://user:pass@example.com/tv/done",
		"http://localhost:8080@evil.net/passgw/signed-in",
		// Percent-encoded and mixed-case variants.
		"https://example.com%2eevil.net/tv/done",
		"https://example%2Ecom.evil.net/tv/done",
		"https:%2F%2Fevil.net/tv/done",
		"%68ttps://evil.net/tv/done",
		"HTTPS://EVIL.NET/tv/done",
		"https://EXAMPLE.COM.evil.net/tv/done",
		// Backslashes: browsers read them as slashes in http(s) URLs.
		"https://evil.net\\@example.com/tv/done",
		"https://example.com\\@evil.net/tv/done",
		"https:\\\\evil.net/tv/done",
		"https://example.com\\.evil.net/tv/done",
		"/\\evil.net/tv/done",
		// Tabs and newlines, which browsers strip before parsing.
		"https://exa\tmple.com@evil.net/tv/done",
		"https://example.com\n@evil.net/tv/done",
		"java\tscript:alert(1)",
		"https://example.com/tv/done\r\nSet-Cookie: x=1",
		"https://example.com/tv/done\x00.evil.net",
		// Leaving the registered path on the registered host.
		"https://example.com/tv/done/../../admin",
		"https://example.com/tv/done/%2e%2e/%2e%2e/admin",
		"https://example.com/tv/done/%2E%2E/admin",
		"https://example.com/tv/done/.%2e/admin",
		"https://example.com/tv/done/..%5c..%5cadmin",
		"https://example.com/tv/done/..\\..\\admin",
		"https://example.com/tv/done%2f..%2f..%2fadmin",
		"https://example.com/tv/donex",
		"https://example.com/tv",
		"https://example.com/TV/done",
		"",
	}
	for _, raw := range attacks {
		if redirectAllowed(allowed, raw) {
			t.Errorf("redirect_url %q allowed", raw)
		}
	}
	for _, ok := range []string{
		"https://example.com/tv/done",
		"https://EXAMPLE.com/tv/done",
		"HTTPS://example.com/tv/done",
		"https://example.com/tv/done/",
		"https://example.com/tv/done/step2?x=1#y",
		"https://example.com/tv/done?next=https://evil.net",
		"http://localhost:8080/passgw/signed-in",
	} {
		if !redirectAllowed(allowed, ok) {
			t.Errorf("registered redirect_url %q refused", ok)
		}
	}
}

func TestDomainAttacksRefused(t *testing.T) {
	allowed := []string{"example.com", "localhost"}
	for _, d := range []string{
		"evil.net", "example.com.evil.net", "evilexample.com", "example.com.", ".example.com", "sub.example.com",
		"example.com\r\nX: 1", "example.com\x00", "example.com@evil.net", "localhost:8080", "", "EXAMPLE.COM.evil.net",
		"%65xample.com", "example%2ecom",
	} {
		if domainAllowed(allowed, d) {
			t.Errorf("domain_name %q allowed", d)
		}
	}
	for _, d := range []string{"example.com", "EXAMPLE.com", "localhost"} {
		if !domainAllowed(allowed, d) {
			t.Errorf("registered domain_name %q refused", d)
		}
	}
}
