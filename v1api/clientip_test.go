package v1api

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/passgw/passgw/v1model"
)

func TestDeviceAddr(t *testing.T) {
	def := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	lb := append([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, def...)
	tests := []struct {
		name     string
		remote   string
		xff      []string
		trusted  []netip.Prefix
		wantIP   string
		wantPort uint16
	}{
		{"direct device", "203.0.113.7:5555", nil, def, "203.0.113.7", 5555},
		{"spoofed XFF from an untrusted peer is ignored", "203.0.113.7:5555", []string{"198.51.100.1"}, def, "203.0.113.7", 5555},
		{"trusted sidecar names the device", "127.0.0.1:40000", []string{"198.51.100.1"}, def, "198.51.100.1", 0},
		{"rightmost untrusted wins over a spoofed left entry", "127.0.0.1:1", []string{"6.6.6.6, 198.51.100.1"}, def, "198.51.100.1", 0},
		{"trusted chain is skipped", "127.0.0.1:1", []string{"198.51.100.1, 10.1.2.3", "10.9.9.9"}, lb, "198.51.100.1", 0},
		{"untrusted hop inside the chain stops the walk", "10.0.0.1:1", []string{"198.51.100.1, 192.0.2.9, 10.1.2.3"}, lb, "192.0.2.9", 0},
		{"all trusted: leftmost", "127.0.0.1:1", []string{"10.1.1.1"}, lb, "10.1.1.1", 0},
		{"trusted peer without XFF is the device", "127.0.0.1:8080", nil, def, "127.0.0.1", 8080},
		{"garbage stops at the last trusted hop", "10.0.0.1:1", []string{"198.51.100.1, garbage, 10.2.2.2"}, lb, "10.2.2.2", 0},
		{"empty entries and headers are skipped", "127.0.0.1:1", []string{"198.51.100.3, ,", "", ",10.4.4.4,"}, lb, "198.51.100.3", 0},
		{"XFF with port and IPv6", "[::1]:9", []string{"[2001:db8::5]:443"}, def, "2001:db8::5", 0},
		{"IPv4-mapped peer", "[::ffff:127.0.0.1]:9", []string{"198.51.100.2"}, def, "198.51.100.2", 0},
		{"nothing trusted", "127.0.0.1:9", []string{"198.51.100.2"}, []netip.Prefix{}, "127.0.0.1", 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			ip, port := deviceAddr(r, tt.trusted)
			if ip.String() != tt.wantIP || port != tt.wantPort {
				t.Errorf("got %s:%d, want %s:%d", ip, port, tt.wantIP, tt.wantPort)
			}
		})
	}
}

// TestDeviceIPReachesBackend proves the rule end to end with the default
// (loopback-only) trust.
func TestDeviceIPReachesBackend(t *testing.T) {
	for _, tt := range []struct{ remote, want string }{
		{"203.0.113.7:5555", "203.0.113.7"},
		{"127.0.0.1:5555", "198.51.100.1"},
	} {
		b := newRecordingBackend()
		h := newTestHandler(t, b, nil)
		serve(h, testRequest{target: "/api/v1/checkauthn?requestor=R&deviceId=d", remote: tt.remote,
			header: map[string]string{"X-Forwarded-For": "198.51.100.1"}})
		_, req := b.last()
		if got := req.(*v1model.CheckAuthnRequest).Device.IP.String(); got != tt.want {
			t.Errorf("peer %s: device IP %s, want %s", tt.remote, got, tt.want)
		}
	}
}
