package translate

import (
	"context"

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

// configuration returns the service provider's v2 configuration, cached for
// ConfigCacheTTL as v2 asks of server-to-server callers; concurrent misses
// share one upstream call. The configuration
// varies by service provider and platform, not by device, so the call carries
// no device headers; like every v2 call it goes with the address of the
// caller it serves (the one whose call missed the cache).
func (g *Gateway) configuration(ctx context.Context, rq *Requestor, caller *v1model.Device) (*v2client.Configuration, error) {
	cache := store.JSON[v2client.Configuration]{Store: g.store}
	key := store.Key("config", rq.ServiceProvider)
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
		var opts []v2client.Option
		if caller.IP.IsValid() {
			opts = []v2client.Option{v2client.WithForwardedFor(caller.IP.Unmap().String())}
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
