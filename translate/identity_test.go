package translate

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/passgw/passgw/v1model"
)

func TestDeviceInfo(t *testing.T) {
	g := &Gateway{defaults: DeviceDefaults{Model: "unknown", Version: "unknown", OSName: "Linux", OSVersion: "unknown", ConnectionType: "unknown"}}
	ip := netip.MustParseAddr("203.0.113.7")
	tests := []struct {
		name string
		d    v1model.Device
		want map[string]any
	}{
		{"nothing sent: user agent and defaults", v1model.Device{UserAgent: "Mozilla/5.0 (Linux; Android 11; SHIELD Android TV Build/RQ1A) AppleWebKit", IP: ip, Port: 4000},
			map[string]any{"model": "SHIELD Android TV", "osName": "Android", "osVersion": "11", "version": "unknown",
				"connectionType": "unknown", "connectionIp": "203.0.113.7", "connectionPort": "4000"}},
		{"device values kept", v1model.Device{DeviceInfo: json.RawMessage(`{"model":"AppleTV6,2","osName":"tvOS","osVersion":"17.1","version":"3.2","connectionType":"WiFi","connectionIp":"10.0.0.5","displayWidth":1920}`),
			UserAgent: "AppleTV11,1/11.1", IP: ip},
			map[string]any{"model": "AppleTV6,2", "osName": "tvOS", "osVersion": "17.1", "version": "3.2", "connectionType": "WiFi",
				"connectionIp": "10.0.0.5", "displayWidth": json.Number("1920")}},
		{"partial info completed", v1model.Device{DeviceInfo: json.RawMessage(`{"model":"X1","osName":""}`), AppVersion: "9.9", UserAgent: "Roku/DVP-12.5 (x)"},
			map[string]any{"model": "X1", "osName": "Roku OS", "osVersion": "12.5", "version": "9.9", "connectionType": "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := g.deviceInfo(&tt.d)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if n, ok := want.(json.Number); ok {
					want, _ = n.Float64()
				}
				if got[k] != want {
					t.Errorf("%s = %v, want %v (all: %s)", k, got[k], want, b)
				}
			}
		})
	}
	_, err := g.deviceInfo(&v1model.Device{DeviceInfo: json.RawMessage(`[1,2]`)})
	v1err(t, err, 400, v1model.CodeInvalidDeviceInfo)
}
