package translate

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// Config implements GET /api/v1/config/{requestor}: the MVPD list of the v2
// configuration.
func (g *Gateway) Config(ctx context.Context, req *v1model.ConfigRequest) (*v1model.Config, error) {
	return forRequestor(ctx, g, "config", req.Device.Requestor, func(rq *Requestor) (*v1model.Config, error) {
		return g.mvpdList(ctx, rq, &req.Device)
	})
}

func (g *Gateway) mvpdList(ctx context.Context, rq *Requestor, caller *v1model.Device) (*v1model.Config, error) {
	c, err := g.configuration(ctx, rq, caller)
	if err != nil {
		return nil, err
	}
	out := &v1model.Config{Requestor: v1model.RequestorConfig{ID: rq.ID, Name: c.Requestor.Name}}
	for _, m := range c.AllMVPDs() {
		out.Requestor.MVPDs = append(out.Requestor.MVPDs, v1model.MVPD{
			ID:                      m.ID,
			DisplayName:             m.DisplayName,
			LogoURL:                 m.LogoURL,
			EnablePlatformServices:  m.EnablePlatformServices,
			DisplayInPlatformPicker: m.DisplayInPlatformPicker,
			BoardingStatus:          m.BoardingStatus,
			PlatformMappingID:       m.PlatformMappingID,
		})
	}
	return out, nil
}

// configuration returns the service provider's v2 configuration for the
// platform of caller, cached for ConfigCacheTTL as v2 asks of
// server-to-server callers; concurrent misses share one upstream call.
// Adobe's configuration is specific to a platform type ("Retrieve
// configuration for specific service provider"), so it is kept per service
// provider and platform (configPlatform), and fetched with the device
// headers of the caller whose call missed the cache, as the REST API v2
// checklist asks of every call.
func (g *Gateway) configuration(ctx context.Context, rq *Requestor, caller *v1model.Device) (*v2client.Configuration, error) {
	opts, platform := g.configHeaders(caller)
	cache := store.JSON[v2client.Configuration]{Store: g.store}
	key := store.Key("config", rq.ServiceProvider, platform)
	if c, err := cache.Get(ctx, key); err == nil {
		return &c, nil
	}
	v, err, _ := g.flights.Do("config\x00"+key, func() (any, error) {
		fctx := context.WithoutCancel(ctx)
		// A flight that finished just before this one began has filled
		// the cache.
		if c, err := cache.Get(fctx, key); err == nil {
			return &c, nil
		}
		c, err := g.client.Configuration(fctx, rq.ServiceProvider, opts...)
		if err != nil {
			return nil, err
		}
		// The cache only saves upstream calls: while the store is
		// unreachable the configuration is still answered, uncached.
		if err := cache.Set(fctx, key, *c, g.configTTL); err != nil {
			g.log.WarnContext(fctx, "caching the v2 configuration", "service_provider", rq.ServiceProvider, "error", err)
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*v2client.Configuration), nil
}

// configHeaders returns the v2 headers of caller for the configuration
// call (those of its other v2 calls: AP-Device-Identifier when it gave a
// deviceId, X-Device-Info, X-Forwarded-For, User-Agent) and its platform.
// v1's config call takes no device information, so device information that
// does not parse costs the call nothing: it goes with the caller's address
// and User-Agent only, as the configuration of an unknown platform.
func (g *Gateway) configHeaders(caller *v1model.Device) ([]v2client.Option, string) {
	info, err := g.completedInfo(caller)
	if err != nil {
		return browserOptions(caller), ""
	}
	return info.opts, configPlatform(info.json)
}

// configPlatform is the platform key of completed device information: its
// osName when it is one of the closed osName list of X-Device-Info (REST API
// v2 appendix, "Header - X-Device-Info"), else its osFamily when it is one
// of the families parseUserAgent finds for platforms that list has no
// osName for (Tizen, PlayStation), else "" (an unknown platform). Any
// other value shares the unknown platform's entry, which keeps the cache
// to a few entries per service provider whatever devices send.
func configPlatform(info []byte) string {
	var f struct {
		OSName   string `json:"osName"`
		OSFamily string `json:"osFamily"`
	}
	if json.Unmarshal(info, &f) != nil {
		return ""
	}
	switch strings.ToLower(f.OSName) {
	case "android", "chrome os", "linux", "mac os", "os x", "openbsd", "roku os", "windows", "ios", "tvos", "webos":
		return strings.ToLower(f.OSName)
	}
	switch strings.ToLower(f.OSFamily) {
	case "tizen", "playstation os":
		return strings.ToLower(f.OSFamily)
	}
	return ""
}
