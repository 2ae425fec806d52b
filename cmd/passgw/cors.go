package main

import (
	"fmt"

	"github.com/passgw/passgw/v1api"
)

// CORSConfig is which web origins may call the v1 API and /o/client/* from
// a browser on behalf of a requestor, as a second-screen login web app
// does. By default: the requestor's domain_name and allowed_domains (http
// or https, the domain or any subdomain, any port) and the origins of its
// redirect_url, allowed_redirect_urls and registration_url.
type CORSConfig struct {
	// Off grants no origin for this requestor.
	Off bool `yaml:"off"`
	// AllowedOrigins are added to the default: origins
	// ("https://login.example.com"), subdomain patterns
	// ("https://*.example.com"), bare domains, or "*" for any origin.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

func (c *CORSConfig) provision(field string, bad func(field, format string, args ...any)) {
	for i, o := range c.AllowedOrigins {
		if _, err := v1api.ParseOrigins([]string{o}); err != nil {
			bad(fmt.Sprintf("%s.allowed_origins[%d]", field, i), "%v", err)
		}
	}
	if c.Off && len(c.AllowedOrigins) > 0 {
		bad(field, "off and allowed_origins contradict each other")
	}
}

// corsOrigins is the origin set of r: its configured origins and the
// default ones. Nil when r.CORS.Off.
func (r *RequestorConfig) corsOrigins() *v1api.Origins {
	if r.CORS.Off {
		return nil
	}
	o, err := v1api.ParseOrigins(r.CORS.AllowedOrigins)
	if err != nil {
		return nil // checked by provision
	}
	o.AddDomain(r.DomainName)
	for _, d := range r.AllowedDomains {
		o.AddDomain(d)
	}
	o.AddOriginOf(r.RedirectURL)
	for _, u := range r.AllowedRedirectURLs {
		o.AddOriginOf(u)
	}
	o.AddOriginOf(r.RegistrationURL)
	return o
}

// cors is the CORS policy of the configuration: an origin is allowed for a
// requestor by that requestor's set, and for a call naming no requestor by
// any requestor's.
func (c *Config) cors() *v1api.CORS {
	per := make(map[string]*v1api.Origins, len(c.Requestors))
	for i := range c.Requestors {
		per[c.Requestors[i].ID] = c.Requestors[i].corsOrigins()
	}
	return &v1api.CORS{Allowed: func(requestor, origin string) bool {
		if requestor != "" {
			return per[requestor].Allows(origin)
		}
		for _, o := range per {
			if o.Allows(origin) {
				return true
			}
		}
		return false
	}}
}
