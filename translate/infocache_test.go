package translate

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/passgw/passgw/v1model"
)

// infoCacheBytes is what the completed-information cache holds in inputs and
// outputs: each entry's key, completed JSON and header.
func infoCacheBytes(g *Gateway) int {
	g.infos.mu.Lock()
	defer g.infos.mu.Unlock()
	n := 0
	for _, m := range []map[string]*completedInfo{g.infos.cur, g.infos.old} {
		for k, v := range m {
			n += len(k) + len(v.json) + len(v.header)
		}
	}
	return n
}

// TestCompletedInfoCacheBytes: devices sending device information far larger
// than any real device's get it completed correctly on every call, and the
// cache stays within its byte bound however many of them call; a device of
// ordinary size is still served from the cache.
func TestCompletedInfoCacheBytes(t *testing.T) {
	// Each cached entry holds its input (at most maxCachedInfoInput) about
	// three and a half times; four times leaves room for the keys v2
	// requires that completion adds.
	limit := 2 * recentSize * 4 * maxCachedInfoInput
	ip := netip.MustParseAddr("198.18.0.7")
	// Each test calls with enough distinct inputs that a cache without
	// the bound would hold about twice the limit or more.
	tests := []struct {
		name    string
		pad     int // bytes of padding in the device information
		devices int
	}{
		{"twice the bound", 2 * maxCachedInfoInput, 2 * recentSize},
		{"as large as a header allows", 48 << 10, 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := benchGateway()
			info := json.RawMessage(fmt.Sprintf(`{"model":"Roku Ultra","pad":%q}`, strings.Repeat("x", tt.pad)))
			for i := range tt.devices {
				d := v1model.Device{DeviceID: fmt.Sprint("large-", i), DeviceInfo: info, UserAgent: benchUserAgent, IP: ip, Port: 40000}
				got, err := g.completedInfo(&d)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					want, _ := g.deviceInfo(&d)
					again, err := g.completedInfo(&d)
					if err != nil {
						t.Fatal(err)
					}
					if string(got.json) != string(want) || string(again.json) != string(want) {
						t.Fatalf("completed %.80s..., then %.80s..., want %.80s...", got.json, again.json, want)
					}
				}
			}
			if held := infoCacheBytes(g); held > limit {
				t.Errorf("cache holds %d bytes of %d entries, want at most %d", held, g.infos.len(), limit)
			}
			small := v1model.Device{DeviceID: "small", DeviceInfo: json.RawMessage(benchDeviceInfo), UserAgent: benchUserAgent, IP: ip, Port: 40000}
			first, err := g.completedInfo(&small)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := g.completedInfo(&small); again != first {
				t.Error("device information of an ordinary size was completed again")
			}
		})
	}
}
