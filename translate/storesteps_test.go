package translate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// TestCompletedInfoCache: the completed device information is what
// deviceInfo computes for the same input, is reused for a repeated input,
// differs when any input it depends on differs, and the cache stays bounded.
func TestCompletedInfoCache(t *testing.T) {
	g := benchGateway()
	base := v1model.Device{DeviceID: "d", DeviceInfo: json.RawMessage(benchDeviceInfo), UserAgent: benchUserAgent,
		IP: netip.MustParseAddr("198.18.0.7"), Port: 40000, AppID: "app", AppVersion: "1", DeviceType: "box"}
	first, err := g.completedInfo(&base)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := g.deviceInfo(&base)
	if string(first.json) != string(want) {
		t.Fatalf("cached %s, want %s", first.json, want)
	}
	again, _ := g.completedInfo(&base)
	if again != first {
		t.Error("a repeated input was completed again")
	}
	variants := map[string]func(*v1model.Device){
		"user agent":     func(d *v1model.Device) { d.UserAgent = "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)" },
		"address":        func(d *v1model.Device) { d.IP = netip.MustParseAddr("198.18.0.8") },
		"port":           func(d *v1model.Device) { d.Port = 40001 },
		"app version":    func(d *v1model.Device) { d.AppVersion = "2"; d.DeviceInfo = nil },
		"application id": func(d *v1model.Device) { d.AppID = "other" },
		"device type":    func(d *v1model.Device) { d.DeviceType = "stick"; d.DeviceInfo = nil },
		"no information": func(d *v1model.Device) { d.DeviceInfo = nil },
	}
	for name, change := range variants {
		d := base
		change(&d)
		got, err := g.completedInfo(&d)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := g.deviceInfo(&d)
		if string(got.json) != string(want) {
			t.Errorf("%s changed: cached %s, want %s", name, got.json, want)
		}
	}
	// Devices alike in all but their id share no headers: each is known to
	// v2 by its own fingerprint.
	twin := base
	twin.DeviceID = "twin"
	for _, d := range []v1model.Device{base, twin} {
		info, err := g.completedInfo(&d)
		if err != nil {
			t.Fatal(err)
		}
		got := headersOf(t, info.opts)
		if want := headersOf(t, deviceOptions(d.DeviceID, info.json, d.IP, d.UserAgent)); !maps.Equal(got, want) {
			t.Errorf("device %q: cached headers %v, want %v", d.DeviceID, got, want)
		}
	}
	bad := base
	bad.DeviceInfo = json.RawMessage(`[1]`)
	for range 2 {
		if _, err := g.completedInfo(&bad); err == nil {
			t.Error("device information that is not an object was accepted")
		}
	}
	for i := range 3 * recentSize {
		d := base
		d.DeviceID = fmt.Sprint(i)
		d.Port = uint16(i)
		if _, err := g.completedInfo(&d); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.infos.len(); n > 2*recentSize {
		t.Errorf("cache holds %d entries, want at most %d", n, 2*recentSize)
	}
}

// writeCounter counts the writes a gateway makes to its store.
type writeCounter struct {
	store.Store
	mu     sync.Mutex
	writes []string
}

func (w *writeCounter) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	w.mu.Lock()
	w.writes = append(w.writes, key)
	w.mu.Unlock()
	return w.Store.Set(ctx, key, value, ttl)
}

func (w *writeCounter) reset() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.writes
	w.writes = nil
	return n
}

// TestCachedProfilesWriteNothing: a call answered from the profile cache
// writes nothing to the store (the profile was remembered as seen when the
// cache was filled), yet the device's expired login is still told from no
// login once the profile is gone.
func TestCachedProfilesWriteNothing(t *testing.T) {
	var wc *writeCounter
	e := newEnv(t, envOption{gateway: func(c *GatewayConfig) {
		wc = &writeCounter{Store: c.Store}
		c.Store = wc
	}})
	d := testDevice("quiet")
	e.signIn(d, "AcmeCable", "alice")
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
		t.Fatal(err)
	}
	var seen bool
	for _, k := range wc.reset() {
		seen = seen || strings.HasPrefix(k, "seen:")
	}
	if !seen {
		t.Fatal("filling the profile cache did not remember the profile as seen")
	}
	for range 3 {
		if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
			t.Fatal(err)
		}
	}
	if w := wc.reset(); len(w) != 0 {
		t.Errorf("checkauthn from the profile cache wrote %v", w)
	}
	e.advance(25 * time.Hour) // past the sandbox profile's 24 h
	_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
	v1err(t, err, 403, v1model.CodeAuthenticationSessionExpired)
}

// stepCounter records each store step a gateway takes.
type stepCounter struct {
	*store.Memory
	mu    sync.Mutex
	steps []string
}

func (s *stepCounter) step(op string) {
	s.mu.Lock()
	s.steps = append(s.steps, op)
	s.mu.Unlock()
}

func (s *stepCounter) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.steps
	s.steps = nil
	return n
}

func (s *stepCounter) Get(ctx context.Context, key string) ([]byte, error) {
	s.step("get " + strings.SplitN(key, ":", 2)[0])
	return s.Memory.Get(ctx, key)
}

func (s *stepCounter) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	var names []string
	for _, k := range keys {
		names = append(names, strings.SplitN(k, ":", 2)[0])
	}
	s.step("getmany " + strings.Join(names, "+"))
	return s.Memory.GetMany(ctx, keys...)
}

func (s *stepCounter) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.step("set " + strings.SplitN(key, ":", 2)[0])
	return s.Memory.Set(ctx, key, value, ttl)
}

func (s *stepCounter) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	s.step("setnx " + strings.SplitN(key, ":", 2)[0])
	return s.Memory.SetNX(ctx, key, value, ttl)
}

// TestStoreStepsPerCall: the calls a device repeats take few store steps —
// each one a round trip on a shared store: the device's generation is read
// together with the first value of its state.
func TestStoreStepsPerCall(t *testing.T) {
	var sc *stepCounter
	e := newEnv(t, envOption{gateway: func(c *GatewayConfig) {
		sc = &stepCounter{Memory: c.Store.(*store.Memory)}
		c.Store = sc
	}})
	d := testDevice("steps")
	e.signIn(d, "AcmeCable", "alice")
	if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
		t.Fatal(err)
	}
	sc.take()
	calls := []struct {
		name string
		call func() error
		want []string
	}{
		{"checkauthn", func() error {
			_, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d})
			return err
		}, []string{"getmany gen+profiles"}},
		{"authorize", func() error {
			_, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"})
			return err
		}, []string{"getmany gen+profiles", "set decision"}},
		{"mediatoken after authorize", func() error {
			_, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "news"})
			return err
		}, []string{"getmany gen+decision", "setnx media"}},
		// The kept token is spent: a fresh authorization, whose token goes
		// to the caller and so is not kept to be claimed again.
		{"mediatoken again", func() error {
			_, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "news"})
			return err
		}, []string{"getmany gen+decision", "setnx media", "get profiles", "set decision", "setnx media"}},
		{"mediatoken once more", func() error {
			_, err := e.gw.MediaToken(e.ctx, &v1model.MediaTokenRequest{Device: d, Resource: "news"})
			return err
		}, []string{"getmany gen+decision", "get profiles", "set decision", "setnx media"}},
	}
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := sc.take(); strings.Join(got, ", ") != strings.Join(c.want, ", ") {
			t.Errorf("%s took store steps %q, want %q", c.name, got, c.want)
		}
	}
}

// headersOf returns the device headers opts put on a v2 call, as an
// upstream receives them.
func headersOf(t *testing.T, opts []v2client.Option) map[string]string {
	t.Helper()
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"profiles":{}}`)
	}))
	defer srv.Close()
	c := &v2client.Client{BaseURL: srv.URL, Retries: -1}
	if _, err := c.Profiles(t.Context(), testRequestor, opts...); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range []string{v2client.HeaderDeviceIdentifier, v2client.HeaderDeviceInfo, v2client.HeaderForwardedFor, v2client.HeaderUserAgent} {
		out[name] = got.Get(name)
	}
	return out
}
