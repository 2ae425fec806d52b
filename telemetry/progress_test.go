package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate/store"
)

func deviceInfo(osName string) []byte {
	return []byte(`{"model":"m","osName":"` + osName + `","osVersion":"1","version":"1","connectionType":"wifi"}`)
}

func TestPlatformOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", PlatformUnknown},
		{"not json", PlatformUnknown},
		{`{"model":"m"}`, PlatformUnknown},
		{`{"osName":"Roku OS"}`, "roku_os"},
		{`{"osName":"tvOS"}`, "tvos"},
		{`{"osName":" Android "}`, "android"},
		{`{"osName":"TempleOS"}`, PlatformOther},
	}
	for _, tt := range tests {
		if got := PlatformOf([]byte(tt.in)); got != tt.want {
			t.Errorf("PlatformOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestProgressFigures: devices seen, signed in through v2 and on v1 count
// once each per requestor, window and platform; v1_only is the devices
// signed in on v1 and not through v2; requestors not configured count as
// "other"; a day later the day window is empty and the week's is not.
func TestProgressFigures(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC))
	p := &Progress{Store: store.NewMemory(clock.Now), Requestors: []string{"REF30"}, Now: clock.Now, RefreshInterval: time.Nanosecond}
	platform := func(os string) DeviceInformer { return DeviceInfo(deviceInfo(os)) }
	for i := range 50 {
		id := fmt.Sprintf("device-%d", i)
		os := "Roku OS"
		if i%2 == 1 {
			os = "Android"
		}
		// Every device calls twice: still one device.
		p.Observe("GET /api/v1/config/{requestor}", "REF30", id, platform(os), 200, BackendTranslate)
		p.Observe("GET /api/v1/checkauthn", "REF30", id, platform(os), 403, BackendTranslate)
		switch {
		case i < 20: // signed in through v2
			p.Observe("GET /api/v1/tokens/authn", "REF30", id, platform(os), 200, BackendTranslate)
		case i < 30: // signed in on v1, and through v2 as the shadow saw
			p.Observe("GET /api/v1/checkauthn", "REF30", id, platform(os), 200, BackendV1)
			p.ObserveShadow("GET /api/v1/checkauthn", "REF30", id, platform(os), 200)
		case i < 42: // signed in on v1 only
			p.Observe("GET /api/v1/authorize", "REF30", id, platform(os), 200, BackendV1)
			p.ObserveShadow("GET /api/v1/authorize", "REF30", id, platform(os), 403)
		}
	}
	p.Observe("GET /api/v1/checkauthn", "NOT-CONFIGURED", "stray", nil, 403, BackendTranslate)
	p.Observe("GET /api/v1/checkauthn", "REF30", "", nil, 200, BackendTranslate) // no device: not counted

	counts, err := p.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{StateSeen: 50, StateSignedInV2: 30, StateSignedInV1: 22, StateV1Only: 12}
	for _, w := range ProgressWindows() {
		if diff := cmp.Diff(want, counts.Requestors["REF30"].Windows[w]); diff != "" {
			t.Errorf("REF30 %s (-want +got):\n%s", w, diff)
		}
	}
	roku := counts.Requestors["REF30"].Platforms["roku_os"]["7d"]
	if want := (map[string]uint64{StateSeen: 25, StateSignedInV2: 15, StateSignedInV1: 11, StateV1Only: 6}); !cmp.Equal(want, roku) {
		t.Errorf("REF30 roku_os 7d = %v, want %v", roku, want)
	}
	if n := len(counts.Requestors["REF30"].Platforms); n != 2 {
		t.Errorf("%d platforms, want android and roku_os: %v", n, counts.Requestors["REF30"].Platforms)
	}
	if got := counts.Requestors[ProgressOther].Windows["1d"][StateSeen]; got != 1 {
		t.Errorf("other requestors: %d devices seen, want 1", got)
	}

	// The same figures on /metrics.
	m := NewMetrics("test")
	m.Registry().MustRegister(p)
	got := scrape(t, m)
	for state, n := range want {
		k := testenv.MetricSeries("passgw_migration_devices", map[string]string{"requestor": "REF30", "state": state, "window": "7d"})
		if got[k] != float64(n) {
			t.Errorf("%s = %v, want %d", k, got[k], n)
		}
	}
	k := testenv.MetricSeries("passgw_migration_platform_devices", map[string]string{"requestor": "REF30", "platform": "android", "state": StateSeen, "window": "1d"})
	if got[k] != 25 {
		t.Errorf("%s = %v, want 25", k, got[k])
	}

	// A day and a half later: out of the day window, still in the week's.
	clock.Advance(36 * time.Hour)
	counts, err = p.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := counts.Requestors["REF30"].Windows; got["1d"][StateSeen] != 0 || got["7d"][StateSeen] != 50 {
		t.Errorf("36h later: seen 1d %d (want 0), 7d %d (want 50)", got["1d"][StateSeen], got["7d"][StateSeen])
	}
	clock.Advance(8 * 24 * time.Hour)
	counts, _ = p.Counts(context.Background())
	if got := counts.Requestors["REF30"].Windows["7d"][StateSeen]; got != 0 {
		t.Errorf("9 days later: seen 7d %d, want 0", got)
	}
}

// TestProgressBounded: past MaxPending, sightings are dropped and counted
// until the next flush.
func TestProgressBounded(t *testing.T) {
	p := &Progress{Store: store.NewMemory(nil), Requestors: []string{"REF30"}, MaxPending: 10}
	for i := range 20 {
		p.Observe("GET /api/v1/config/{requestor}", "REF30", fmt.Sprint(i), nil, 200, BackendTranslate)
	}
	m := NewMetrics("test")
	m.Registry().MustRegister(p)
	got := scrape(t, m)
	// Each device waits in two sets (all platforms and its own): 5 fit.
	if got["passgw_migration_progress_dropped_total"] != 15 {
		t.Errorf("dropped %v, want 15", got["passgw_migration_progress_dropped_total"])
	}
	k := testenv.MetricSeries("passgw_migration_devices", map[string]string{"requestor": "REF30", "state": StateSeen, "window": "1d"})
	if got[k] != 5 {
		t.Errorf("%s = %v, want 5", k, got[k])
	}
}

// informedCall is a parsed v1 call that knows its device information.
type informedCall struct {
	fakeCall
	info []byte
}

func (c informedCall) DeviceInfo() []byte { return c.info }

// TestHandlerFeedsProgress: each call served by Handler counts its device,
// with the platform of the device information the call carries, and a 200
// to an authentication check signs it in through v2 (no migration router:
// translate answered).
func TestHandlerFeedsProgress(t *testing.T) {
	p := &Progress{Store: store.NewMemory(nil), Requestors: []string{"REF30"}}
	tel := &Telemetry{Metrics: NewMetrics("test"), Progress: p}
	h := tel.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), func(r *http.Request) Call {
		return informedCall{fakeCall{route: "GET /api/v1/checkauthn", requestor: "REF30", deviceID: r.URL.Query().Get("deviceId")}, deviceInfo("Roku OS")}
	})
	for _, id := range []string{"tv-1", "tv-2", "tv-1"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/checkauthn?deviceId="+id, nil))
	}
	counts, err := p.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{StateSeen: 2, StateSignedInV2: 2, StateSignedInV1: 0, StateV1Only: 0}
	if diff := cmp.Diff(want, counts.Requestors["REF30"].Platforms["roku_os"]["1d"]); diff != "" {
		t.Errorf("REF30 roku_os 1d (-want +got):\n%s", diff)
	}
}

// BenchmarkProgressObserve counts answered v1 calls of 64 devices, as every
// call does; between two flushes each device calls many times, so what a
// call pays is a device already waiting. authorize is an authentication
// check (seen and signed in), config is not.
func BenchmarkProgressObserve(b *testing.B) {
	for _, route := range []string{"GET /api/v1/authorize", "GET /api/v1/config/{requestor}"} {
		b.Run(route, func(b *testing.B) {
			p := &Progress{Store: store.NewMemory(nil), Requestors: []string{"REF30"}}
			ids := make([]string, 64)
			for i := range ids {
				ids[i] = fmt.Sprintf("device-%d", i)
			}
			var info DeviceInformer = DeviceInfo(deviceInfo("Android"))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.Observe(route, "REF30", ids[i%len(ids)], info, 200, BackendTranslate)
				i++
			}
		})
	}
}
