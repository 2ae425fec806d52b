package translate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
)

// benchDeviceInfo is the device information a set-top box sends.
const benchDeviceInfo = `{"primaryHardwareType":"SetTopBox","model":"Roku Ultra","manufacturer":"Roku","version":"9.10","osName":"Roku OS","osVersion":"11.5","connectionType":"WiFi"}`

const benchUserAgent = "Roku/DVP-11.5 (11.5.0.4312-46)"

func benchGateway() *Gateway {
	return &Gateway{}
}

// BenchmarkDeviceIdentity measures what every v2 call of a device costs
// before it is sent: completing its device information, deriving the v2
// headers (the AP-Device-Identifier fingerprint among them) and the store
// keys of its state.
func BenchmarkDeviceIdentity(b *testing.B) {
	g := benchGateway()
	ip := netip.MustParseAddr("198.18.0.7")
	b.Run("deviceinfo/sent", func(b *testing.B) {
		d := &v1model.Device{DeviceID: "bench-device-0001", DeviceInfo: json.RawMessage(benchDeviceInfo), UserAgent: benchUserAgent, IP: ip, Port: 40000}
		b.ReportAllocs()
		for b.Loop() {
			if info, err := g.deviceInfo(d); err != nil || len(info) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("deviceinfo/cached", func(b *testing.B) {
		d := &v1model.Device{DeviceID: "bench-device-0001", DeviceInfo: json.RawMessage(benchDeviceInfo), UserAgent: benchUserAgent, IP: ip, Port: 40000}
		b.ReportAllocs()
		for b.Loop() {
			if info, err := g.completedInfo(d); err != nil || len(info.header) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("deviceinfo/from-user-agent", func(b *testing.B) {
		d := &v1model.Device{DeviceID: "bench-device-0001", UserAgent: benchUserAgent, IP: ip, Port: 40000}
		b.ReportAllocs()
		for b.Loop() {
			if info, err := g.deviceInfo(d); err != nil || len(info) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("useragent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if f := parseUserAgent(benchUserAgent); f.get("osName") == "" {
				b.Fatal("Roku not recognised")
			}
		}
	})
	b.Run("fingerprint-and-headers", func(b *testing.B) {
		info := []byte(benchDeviceInfo)
		b.ReportAllocs()
		for b.Loop() {
			if opts := deviceOptions("bench-device-0001", info, ip, benchUserAgent); len(opts) != 4 {
				b.Fatalf("%d options", len(opts))
			}
		}
	})
	b.Run("storekey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if k := store.Key("authz", "REF30", "bench-device-0001", "0", "sports"); len(k) == 0 {
				b.Fatal("empty key")
			}
		}
	})
}

// benchRecord is a registration record as CreateRegcode keeps it for a
// device that sent its device information.
func benchRecord(g *Gateway, i int, now time.Time) (regRecord, error) {
	id := fmt.Sprintf("bench-device-%07d", i)
	info, err := g.deviceInfo(&v1model.Device{DeviceID: id, DeviceInfo: json.RawMessage(benchDeviceInfo), UserAgent: benchUserAgent,
		IP: netip.MustParseAddr("198.18.0.7"), Port: 40000})
	if err != nil {
		return regRecord{}, err
	}
	return regRecord{
		Registration: v1model.Registration{
			ID: fmt.Sprintf("6f1c8c2e-%04x-4f7a-9b1e-%012x", i&0xffff, i), Code: fmt.Sprintf("%07X", i), Requestor: "REF30",
			Generated: now, Expires: now.Add(30 * time.Minute),
			Info: v1model.RegistrationInfo{DeviceID: []byte(id), DeviceType: "Roku", AppID: "bench", AppVersion: "1.0",
				DeviceInfo: info, UserAgent: benchUserAgent, OriginalUserAgent: benchUserAgent},
		},
		ServiceProvider: "REF30",
		SessionID:       fmt.Sprintf("2b0e7f4a-%04x-4c1d-8e2f-%012x", i&0xffff, i),
		DeviceID:        id,
		DeviceInfo:      info,
		IP:              "198.18.0.7",
		UserAgent:       benchUserAgent,
	}, nil
}

// BenchmarkRegistrationRecordMemory fills the in-memory store with
// registration records (1,000,000; 10,000 with -short) and reports the
// heap they hold, per record, and the size of one stored value. It
// measures memory, not time: run it with -benchtime=1x.
func BenchmarkRegistrationRecordMemory(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 10_000
	}
	g := benchGateway()
	now := time.Now()
	ctx := context.Background()
	var perRecord, stored float64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		st := store.NewMemory(nil)
		recs := store.Records[regRecord]{Store: st}
		b.StartTimer()
		var total int
		for i := range n {
			rec, err := benchRecord(g, i, now)
			if err != nil {
				b.Fatal(err)
			}
			if i == 0 {
				v, err := rec.AppendBinary(nil)
				if err != nil {
					b.Fatal(err)
				}
				total = len(v)
			}
			if err := recs.Create(ctx, regKey(rec.Registration.Code), rec, 30*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perRecord = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
		stored = float64(total)
		// Keep the store reachable until it is measured.
		if _, err := recs.Get(ctx, regKey(fmt.Sprintf("%07X", n-1))); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(perRecord, "heap-bytes/record")
	b.ReportMetric(stored, "value-bytes/record")
}

// get returns the value of key, or "".
func (f userAgentFacts) get(key string) string {
	for _, kv := range f {
		if kv.key == key {
			return kv.value
		}
	}
	return ""
}
