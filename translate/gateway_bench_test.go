package translate

import (
	"encoding/json"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/passgw/passgw/v1model"
)

// BenchmarkGateway measures whole Gateway operations of a signed-in device
// against the sandbox, served in-process over HTTP: the v2 calls the
// gateway makes (request building, headers, body encoding, the answer's
// decoding), its store reads and writes, and the device identity. The
// figures include the sandbox's own work and both ends of the HTTP
// exchange; a memory profile restricted to the gateway's goroutines (see
// BENCHMARKS.md) tells the gateway's share.
func BenchmarkGateway(b *testing.B) {
	e := newEnv(b, envOption{gateway: func(c *GatewayConfig) { c.Logger = slog.New(slog.DiscardHandler) }})
	d := v1model.Device{
		Requestor:  testRequestor,
		DeviceID:   "bench-device-0001",
		DeviceInfo: json.RawMessage(benchDeviceInfo),
		IP:         netip.MustParseAddr("198.18.0.7"),
		Port:       40000,
		UserAgent:  benchUserAgent,
	}
	e.signIn(d, "AcmeCable", "alice")
	// The first call reads the profiles from v2 and caches them; the
	// operations below then find them cached, as a device's calls do.
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
		b.Fatalf("CheckAuthn: %v", err)
	}
	resources := []string{"news", "sports", "movies", "kids", "weather"}
	ops := []struct {
		name string
		call func() error
	}{
		{"checkauthn", func() error {
			_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
			return err
		}},
		{"tokens-authn", func() error {
			_, err := e.gw.AuthnToken(e.ctx, &v1model.AuthnTokenRequest{Device: d})
			return err
		}},
		{"authorize", func() error {
			_, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "sports"})
			return err
		}},
		{"mediatoken", func() error {
			_, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "sports"})
			return err
		}},
		{"preauthorize-5", func() error {
			p, err := e.gw.Preauthorize(e.ctx, &v1model.PreauthorizeRequest{Device: d, Resources: resources})
			if err == nil && len(p.Resources) != len(resources) {
				b.Fatalf("preauthorize answered %d resources, want %d", len(p.Resources), len(resources))
			}
			return err
		}},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := op.call(); err != nil {
					b.Fatalf("%s: %v", op.name, err)
				}
			}
		})
	}
}
