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

var encodingTime = time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC)

// sameJSON fails unless want and got have the same JSON form, which covers
// every field of the stored types (Millis' number-or-string form included).
func sameJSON(t *testing.T, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(w) != string(g) {
		t.Errorf("decoded value differs:\nwant %s\ngot  %s", w, g)
	}
}

func registrationRecords(t *testing.T) map[string]regRecord {
	t.Helper()
	g := benchGateway()
	info := func(d v1model.Device) []byte {
		b, err := g.deviceInfo(&d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	base, err := benchRecord(g, 7, encodingTime)
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string]regRecord{"as created": base}

	r := base
	r.Local = true
	r.Registration.MVPD = "AcmeCable"
	r.ServiceProvider = "REF30-sp"
	r.Registration.Info.SourceApplication = &v1model.SourceApplication{ID: "app", Name: "App", Version: "2"}
	r.Registration.Info.AuthorizationType = "OAUTH2"
	r.Registration.Info.RegistrationURL = "https://tv.example.com/activate"
	r.Registration.Info.DeviceUser = "user"
	r.FilledIP = true
	recs["local, own service provider, DCR caller"] = r

	r = base
	r.Registration.ID = "6F1C8C2E-0007-4F7A-9B1E-000000000007" // upper case: kept as sent
	r.SessionID = "not-a-uuid"
	r.IP = "2001:db8::7"
	r.UserAgent = "Mozilla/5.0 <TV> & co"
	r.Registration.Info.UserAgent = "other"
	r.Registration.Info.OriginalUserAgent = r.UserAgent
	r.DeviceInfo = info(v1model.Device{DeviceID: "x", DeviceInfo: json.RawMessage(`{"model":"A<B>","nested":{"a":[1,2.50]},"n":12}`),
		UserAgent: r.UserAgent, IP: netip.MustParseAddr("2001:db8::7"), Port: 1})
	r.Registration.Info.DeviceInfo = r.DeviceInfo
	r.FilledPort = true
	recs["IPv6, odd ids, nested device information"] = r

	r = base
	r.DeviceInfo = info(v1model.Device{DeviceID: "x", UserAgent: "Roku/DVP-9.10 (519.10E04111A)", IP: netip.MustParseAddr("203.0.113.7")})
	r.Registration.Info = v1model.RegistrationInfo{} // the code memory keeps no v1 info
	r.IP = "::ffff:203.0.113.7"
	recs["code memory, mapped address"] = r

	recs["empty"] = regRecord{}
	return recs
}

// TestRegistrationRecordEncoding: a registration record comes back from its
// stored form exactly, whichever of its fields repeat one another, and the
// stored form is a fraction of the JSON one.
func TestRegistrationRecordEncoding(t *testing.T) {
	for name, rec := range registrationRecords(t) {
		t.Run(name, func(t *testing.T) {
			b, err := rec.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			var got regRecord
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, rec, got)
			if !got.Registration.Generated.Equal(rec.Registration.Generated) {
				t.Errorf("generated %v, want %v (to the nanosecond)", got.Registration.Generated, rec.Registration.Generated)
			}
		})
	}
	rec := registrationRecords(t)["as created"]
	b, _ := rec.AppendBinary(nil)
	j, _ := json.Marshal(rec)
	if len(b) > 300 || 3*len(b) > len(j) {
		t.Errorf("stored record is %d bytes (JSON %d): want at most 300 and a third of the JSON", len(b), len(j))
	}
}

// TestStoredValuesReadJSON: values stored as JSON (by earlier versions)
// are still read.
func TestStoredValuesReadJSON(t *testing.T) {
	rec := registrationRecords(t)["as created"]
	j, _ := json.Marshal(rec)
	var got regRecord
	if err := got.UnmarshalBinary(j); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, rec, got)

	set := testProfileSet()
	j, _ = json.Marshal(set)
	var gotSet profileSet
	if err := gotSet.UnmarshalBinary(j); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, set, gotSet)

	k := keptDecision{Resource: "sports", MVPD: "AcmeCable", NotAfter: encodingTime}
	j, _ = json.Marshal(k)
	var gotK keptDecision
	if err := gotK.UnmarshalBinary(j); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, k, gotK)
}

func testProfileSet() profileSet {
	return profileSet{
		Profiles: map[string]v2client.Profile{
			"AcmeCable": {NotBefore: v2client.MillisFromInt(1772445600000), NotAfter: v2client.MillisFromInt(1772532000000).Quoted(),
				Issuer: "AcmeCable", Type: "regular", Attributes: map[string]v2client.Attribute{
					"userID":      {Value: json.RawMessage(`"alice"`)},
					"zip":         {Value: json.RawMessage(`["10001","10002"]`)},
					"householdID": {Value: json.RawMessage(`"c2VjcmV0"`), State: v2client.StateEncrypted},
				}},
			"TempPass_REF30": {NotAfter: v2client.MillisFromInt(1772446800000), Issuer: "Adobe", Type: "temporary"},
		},
		Pending:      &tempPass{MVPD: "TempPass_REF30", Identity: "promo", Until: encodingTime},
		TempPassOver: true,
		TempPass:     &tempPass{MVPD: "TempPass_REF30"},
		Seen:         &seenProfile{MVPD: "AcmeCable", NotAfter: encodingTime.Add(time.Hour)},
	}
}

// TestProfileSetAndDecisionEncoding: cached profiles and kept decisions come
// back from their stored form exactly.
func TestProfileSetAndDecisionEncoding(t *testing.T) {
	for name, set := range map[string]profileSet{"full": testProfileSet(), "empty": {}} {
		t.Run(name, func(t *testing.T) {
			b, err := set.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			var got profileSet
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, set, got)
		})
	}
	for name, k := range map[string]keptDecision{
		"permit with media token": {Resource: "<rss/>", MVPD: "AcmeCable", UserID: "alice", NotAfter: encodingTime,
			MediaToken: "tok", MediaNotAfter: encodingTime.Add(time.Minute)},
		"no media token": {Resource: "sports", MVPD: "AcmeCable", NotAfter: encodingTime},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := k.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			var got keptDecision
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, k, got)
		})
	}
}

// TestStoredValuesMalformed: a cut or unknown stored value is an error,
// never a panic or a partly filled value.
func TestStoredValuesMalformed(t *testing.T) {
	rec := registrationRecords(t)["IPv6, odd ids, nested device information"]
	set := testProfileSet()
	k := keptDecision{Resource: "sports", MVPD: "AcmeCable", NotAfter: encodingTime, MediaToken: "tok"}
	type codec interface{ UnmarshalBinary([]byte) error }
	cases := []struct {
		name  string
		value interface{ AppendBinary([]byte) ([]byte, error) }
		fresh func() codec
	}{
		{"registration", rec, func() codec { return &regRecord{} }},
		{"profiles", set, func() codec { return &profileSet{} }},
		{"decision", k, func() codec { return &keptDecision{} }},
	}
	for _, c := range cases {
		b, err := c.value.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			if err := c.fresh().UnmarshalBinary(b[:n]); err == nil {
				t.Errorf("%s cut to %d of %d bytes: decoded without error", c.name, n, len(b))
			}
		}
		if err := c.fresh().UnmarshalBinary(append(b, 0)); err == nil {
			t.Errorf("%s with a trailing byte: decoded without error", c.name)
		}
		other := append([]byte{0x7f}, b[1:]...)
		if err := c.fresh().UnmarshalBinary(other); err == nil {
			t.Errorf("%s with an unknown format tag: decoded without error", c.name)
		}
	}
}

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

// TestCanonicalUUID: only the canonical lower-case form is stored as 16
// bytes, so that a stored id reads back as the same string.
func TestCanonicalUUID(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", false},
		{"0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d", false},
		{"{0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}", false},
		{"urn:uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", false},
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g", false},
		{"0a1b2c3d-4e5f-4a6b-8c7d+9e0f1a2b3c4d", false},
		{"", false},
	} {
		raw, ok := canonicalUUID(tt.in)
		if ok != tt.ok {
			t.Errorf("canonicalUUID(%q) ok = %t, want %t", tt.in, ok, tt.ok)
			continue
		}
		if ok && raw.String() != tt.in {
			t.Errorf("canonicalUUID(%q) formats back as %q", tt.in, raw.String())
		}
	}
}

func FuzzCanonicalUUID(f *testing.F) {
	f.Add("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
	f.Add("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4")
	f.Fuzz(func(t *testing.T, s string) {
		if raw, ok := canonicalUUID(s); ok && raw.String() != s {
			t.Fatalf("canonicalUUID(%q) formats back as %q", s, raw.String())
		}
	})
}
