package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/v1model"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// deviceFamilies are User-Agents of the common device families, as their
// platforms send them.
var deviceFamilies = []struct{ name, userAgent string }{
	{"Roku", "Roku/DVP-12.5 (125.00E04170A)"},
	{"Samsung Tizen TV", "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36"},
	{"LG webOS TV", "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager"},
	{"Apple TV (tvOS)", "AppleTV11,1/16.4"},
	{"Apple TV (AppleCoreMedia)", "AppleCoreMedia/1.0.0.20K71 (Apple TV; U; CPU OS 16_1 like Mac OS X; en_us)"},
	{"Android TV", "Mozilla/5.0 (Linux; Android 11; SHIELD Android TV Build/RQ1A.210105.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/108.0.5359.128 Mobile Safari/537.36"},
	{"Fire TV (Fire OS)", "Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633.3445N; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/108.0.5359.160 Mobile Safari/537.36"},
	{"Android, reduced User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"},
	{"PlayStation 5", "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15"},
	{"PlayStation 4", "Mozilla/5.0 (PlayStation 4 8.52) AppleWebKit/605.1.15 (KHTML, like Gecko)"},
	{"Xbox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.82 Safari/537.36 Edge/20.02"},
	{"iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"},
	{"Windows browser", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"},
	{"Mac browser", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"},
	{"unrecognised set-top box", "AcmeBox/3.1 (Linux; STB)"},
	{"no User-Agent", ""},
}

// partialInfo is what many legacy apps send: a few keys, some empty.
const partialInfo = `{"model":"Custom-1","version":"4.2.0","osName":"","connectionType":"WiFi"}`

// TestDeviceInfoGolden records the device information sent upstream for
// each device family, without and with the device's own X-Device-Info, in
// testdata/deviceinfo.golden (MIGRATION.md sums it up). The device is behind
// the trusted proxy, forwarded for 203.0.113.7.
func TestDeviceInfoGolden(t *testing.T) {
	g := &Gateway{}
	var out bytes.Buffer
	out.WriteString("# The X-Device-Info JSON passgw sends for each device family (TestDeviceInfoGolden).\n")
	out.WriteString("# Device forwarded for 203.0.113.7 through a trusted proxy (no port seen).\n")
	for _, f := range deviceFamilies {
		fmt.Fprintf(&out, "\n## %s\nUser-Agent: %s\n", f.name, f.userAgent)
		for _, sent := range []string{"", partialInfo} {
			d := v1model.Device{UserAgent: f.userAgent, IP: netip.MustParseAddr("203.0.113.7")}
			label := "without X-Device-Info"
			if sent != "" {
				d.DeviceInfo, label = json.RawMessage(sent), "with X-Device-Info "+sent
			}
			b, err := g.deviceInfo(&d)
			if err != nil {
				t.Fatalf("%s, %s: %v", f.name, label, err)
			}
			fmt.Fprintf(&out, "%s:\n  %s\n", label, b)
		}
	}
	path := filepath.Join("testdata", "deviceinfo.golden")
	if *updateGolden {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./translate -run DeviceInfoGolden -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("device information differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestDeviceInfo(t *testing.T) {
	g := &Gateway{}
	ip := netip.MustParseAddr("203.0.113.7")
	tests := []struct {
		name   string
		d      v1model.Device
		want   map[string]any
		absent []string
	}{
		{"nothing sent: the User-Agent's facts, the connection seen", v1model.Device{UserAgent: "Mozilla/5.0 (Linux; Android 11; SHIELD Android TV Build/RQ1A) AppleWebKit", IP: ip, Port: 4000},
			map[string]any{"model": "SHIELD Android TV", "osName": "Android", "osVersion": "11", "connectionIp": "203.0.113.7", "connectionPort": "4000"},
			[]string{"version", "connectionType"}},
		{"device values kept, a LAN address replaced by the forwarded one", v1model.Device{DeviceInfo: json.RawMessage(`{"model":"AppleTV6,2","osName":"tvOS","osVersion":"17.1","version":"3.2","connectionType":"WiFi","connectionIp":"10.0.0.5","connectionPort":"7000","displayWidth":1920}`),
			UserAgent: "AppleTV11,1/11.1", IP: ip},
			map[string]any{"model": "AppleTV6,2", "osName": "tvOS", "osVersion": "17.1", "version": "3.2", "connectionType": "WiFi",
				"connectionIp": "203.0.113.7", "displayWidth": json.Number("1920")},
			[]string{"connectionPort"}},
		{"a connection that agrees is kept", v1model.Device{DeviceInfo: json.RawMessage(`{"connectionIp":"203.0.113.7","connectionPort":"7000"}`), IP: ip, Port: 9},
			map[string]any{"connectionIp": "203.0.113.7", "connectionPort": "7000"}, nil},
		{"partial info completed, never padded", v1model.Device{DeviceInfo: json.RawMessage(`{"model":"X1","osName":""}`), AppVersion: "9.9", DeviceType: "roku", UserAgent: "Roku/DVP-12.5 (x)"},
			map[string]any{"model": "X1", "osName": "Roku OS", "osVersion": "12.5"},
			[]string{"version", "connectionType", "connectionIp"}},
		{"the operator's defaults", v1model.Device{UserAgent: "AcmeBox/1.0"},
			map[string]any{"connectionType": "LAN"}, []string{"osName", "model"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g
			if tt.want["connectionType"] == "LAN" {
				g = &Gateway{defaults: DeviceDefaults{ConnectionType: "LAN"}}
			}
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
			for _, k := range tt.absent {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %v, want it left out (all: %s)", k, v, b)
				}
			}
		})
	}
	_, err := g.deviceInfo(&v1model.Device{DeviceInfo: json.RawMessage(`[1,2]`)})
	v1err(t, err, 400, v1model.CodeInvalidDeviceInfo)
}
