package telemetry

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passgw/passgw/translate/store"
)

// Defaults of Progress's zero-valued fields.
const (
	DefaultProgressFlush   = 5 * time.Second
	DefaultProgressRefresh = 30 * time.Second
	DefaultProgressPending = 100_000
)

// Device states of the migration progress figures.
const (
	// StateSeen: the device made a v1 call.
	StateSeen = "seen"
	// StateSignedInV2: the device passed an authentication check answered
	// through translate (REST API v2).
	StateSignedInV2 = "signed_in_v2"
	// StateSignedInV1: the device passed an authentication check answered
	// by the v1 upstream (passthrough, shadow, canary's v1 share).
	StateSignedInV1 = "signed_in_v1"
	// StateV1Only: signed in on v1 and not (yet) through v2 in the window:
	// the devices whose users will have to sign in again.
	StateV1Only = "v1_only"
)

// ProgressWindows are the sliding windows of the figures: the last day, in
// hourly buckets, and the last week, in daily buckets (UTC). A window
// covers its buckets whole, so it reaches back up to one bucket further.
func ProgressWindows() []string { return []string{"1d", "7d"} }

// ProgressOther stands for requestors not configured, and PlatformOther
// and PlatformUnknown for platforms outside the documented list or not
// told, so that labels stay bounded.
const (
	ProgressOther   = "other"
	PlatformOther   = "other"
	PlatformUnknown = "unknown"
)

// Progress counts a fleet's migration: distinct devices seen, signed in
// through v2 and signed in on v1, per requestor and platform, over a day
// and a week. The sets are HyperLogLog estimates (store.DistinctCounter)
// in the store, so instances sharing a Redis count one fleet; devices
// enter them as a hash. Devices seen by a call are gathered in memory and
// added by Run every FlushInterval, and before the figures are read.
//
// It exports passgw_migration_devices and
// passgw_migration_platform_devices (register it on a prometheus
// registry) and answers Counts for the status endpoint.
type Progress struct {
	// Store holds the sets. When it is not a store.DistinctCounter (or is
	// nil), an in-process store.Memory does: the figures are then this
	// instance's own.
	Store store.Store
	// Requestors are the configured requestors; others count as
	// ProgressOther.
	Requestors []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FlushInterval is how often Run adds the devices seen to the store.
	// Zero means DefaultProgressFlush.
	FlushInterval time.Duration
	// RefreshInterval is how long counts read from the store are reused.
	// Zero means DefaultProgressRefresh.
	RefreshInterval time.Duration
	// MaxPending bounds the devices waiting in memory; past it, sightings
	// are dropped (and counted) until the next flush. Zero means
	// DefaultProgressPending.
	MaxPending int
	// Logger receives failed flushes and refreshes. Nil discards.
	Logger *slog.Logger

	once     sync.Once
	sets     store.DistinctCounter
	known    map[string]bool
	devices  *prometheus.Desc
	platform *prometheus.Desc
	dropped  prometheus.Counter

	mu      sync.Mutex
	pending map[pendingKey]*pendingDevice
	// npending counts the set memberships waiting: two per state of a
	// device (all platforms and its own).
	npending int

	flushMu sync.Mutex // one flush at a time

	refreshMu sync.Mutex // one refresh at a time
	snapMu    sync.Mutex
	snap      ProgressCounts
	snapAt    time.Time
	snapTried time.Time
}

// ProgressCounts are the figures: per requestor, per window, per state.
type ProgressCounts struct {
	// At is when the figures were read from the store.
	At         time.Time                    `json:"at"`
	Requestors map[string]RequestorProgress `json:"requestors"`
}

// RequestorProgress are the figures of one requestor: per window, the
// number of devices in each state, in all and per platform.
type RequestorProgress struct {
	Windows map[string]map[string]uint64 `json:"windows"`
	// Platforms[platform][window][state], for the platforms seen.
	Platforms map[string]map[string]map[string]uint64 `json:"platforms,omitempty"`
}

func (p *Progress) init() {
	p.once.Do(func() {
		if dc, ok := p.Store.(store.DistinctCounter); ok {
			p.sets = dc
		} else {
			p.sets = store.NewMemory(p.Now)
		}
		p.known = map[string]bool{}
		for _, r := range p.Requestors {
			p.known[r] = true
		}
		p.pending = map[pendingKey]*pendingDevice{}
		p.devices = prometheus.NewDesc("passgw_migration_devices",
			"Distinct devices of a requestor (estimated, fleet-wide through the store: take the max across instances, not the sum) over a sliding window, by state: seen, signed_in_v2, signed_in_v1, v1_only (signed in on v1, not yet through v2).",
			[]string{"requestor", "state", "window"}, nil)
		p.platform = prometheus.NewDesc("passgw_migration_platform_devices",
			"passgw_migration_devices per platform (the device information's osName, from Adobe's documented list; other, unknown).",
			[]string{"requestor", "platform", "state", "window"}, nil)
		p.dropped = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passgw_migration_progress_dropped_total",
			Help: "Device sightings not counted in the migration progress figures because too many were waiting to be added to the store.",
		})
	})
}

func (p *Progress) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Progress) flushInterval() time.Duration {
	if p.FlushInterval > 0 {
		return p.FlushInterval
	}
	return DefaultProgressFlush
}

func (p *Progress) refreshInterval() time.Duration {
	if p.RefreshInterval > 0 {
		return p.RefreshInterval
	}
	return DefaultProgressRefresh
}

func (p *Progress) maxPending() int {
	if p.MaxPending > 0 {
		return p.MaxPending
	}
	return DefaultProgressPending
}

// authnChecks are the v1 operations whose 200 says the device holds a
// valid authentication.
func authnCheck(route string) bool {
	switch route {
	case "GET /api/v1/checkauthn", "GET /api/v1/tokens/authn", "GET /api/v1/authorize",
		"GET /api/v1/tokens/authz", "GET /api/v1/tokens/media", "GET /api/v1/mediatoken",
		"GET /api/v1/tokens/usermetadata":
		return true
	}
	return false
}

// Observe records an answered v1 call: route (template), its requestor and
// deviceId, its status and the backend that answered (BackendTranslate or
// BackendV1); info, when not nil, tells the platform, read only when the
// device is new since the last flush. Calls naming no device are not
// counted.
func (p *Progress) Observe(route, requestor, deviceID string, info DeviceInformer, status int, backend string) {
	if p == nil || deviceID == "" || requestor == "" {
		return
	}
	p.init()
	states := stateSeen
	if status == 200 && authnCheck(route) {
		states |= stateSignedInV2
		if backend == BackendV1 {
			states = stateSeen | stateSignedInV1
		}
	}
	p.add(states, p.requestor(requestor), deviceID, info)
}

// ObserveShadow records the translated answer of a shadow comparison: a
// 200 to an authentication check says the device is signed in through v2
// too, though v1 answered it.
func (p *Progress) ObserveShadow(route, requestor, deviceID string, info DeviceInformer, status int) {
	if p == nil || deviceID == "" || requestor == "" || status != 200 || !authnCheck(route) {
		return
	}
	p.init()
	p.add(stateSignedInV2, p.requestor(requestor), deviceID, info)
}

// requestor is the label of a requestor: itself when configured.
func (p *Progress) requestor(r string) string {
	if p.known[r] {
		return r
	}
	return ProgressOther
}

// stateBits are the states of a device waiting to be added to the sets,
// one bit each.
type stateBits uint8

const (
	stateSeen stateBits = 1 << iota
	stateSignedInV2
	stateSignedInV1
)

// lastState is the highest bit of stateBits.
const lastState = stateSignedInV1

// name is the state of one bit.
func (b stateBits) name() string {
	switch b {
	case stateSeen:
		return StateSeen
	case stateSignedInV2:
		return StateSignedInV2
	case stateSignedInV1:
		return StateSignedInV1
	}
	return ""
}

// pendingKey is a device of a requestor waiting to be added to the sets.
type pendingKey struct{ requestor, deviceID string }

// pendingDevice is what is known of a waiting device: the states it
// entered since the last flush and its platform.
type pendingDevice struct {
	states   stateBits
	platform string
}

// add records that the device entered states. A device already waiting
// in them costs one map lookup under the lock: a fleet's devices call many
// times between two flushes, and only the first call of each reads the
// platform.
func (p *Progress) add(states stateBits, requestor, deviceID string, info DeviceInformer) {
	k := pendingKey{requestor, deviceID}
	p.mu.Lock()
	if d := p.pending[k]; d != nil {
		p.addLocked(d, states)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	platform := PlatformUnknown
	if info != nil {
		platform = PlatformOf(info.DeviceInfo())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.pending[k]
	if d == nil {
		d = &pendingDevice{platform: platform}
		if p.addLocked(d, states); d.states == 0 {
			return // nothing fitted: the device does not wait
		}
		p.pending[k] = d
		return
	}
	p.addLocked(d, states)
}

// addLocked adds to d the states it is not in yet, as far as MaxPending
// allows; the others are dropped and counted. p.mu is held.
func (p *Progress) addLocked(d *pendingDevice, states stateBits) {
	for bit := stateSeen; bit <= lastState; bit <<= 1 {
		if states&bit == 0 || d.states&bit != 0 {
			continue
		}
		if p.npending+2 > p.maxPending() {
			p.dropped.Inc()
			continue
		}
		d.states |= bit
		p.npending += 2
	}
}

// setBase is the key of a set before its bucket: the state, requestor and
// platform ("" for all platforms).
func setBase(state, requestor, platform string) string {
	return store.Key("progress", state, requestor, platform)
}

// bucketKey is the key of base's n-th bucket of unit ("h" hours, "d"
// days, since the Unix epoch).
func bucketKey(base, unit string, n int64) string {
	return base + ":" + unit + strconv.FormatInt(n, 10)
}

func hourOf(t time.Time) int64 { return t.Unix() / 3600 }
func dayOf(t time.Time) int64  { return t.Unix() / 86400 }

// windowKeys are the keys of base's buckets that window covers at now.
func windowKeys(base, window string, now time.Time) []string {
	var keys []string
	switch window {
	case "1d":
		h := hourOf(now)
		for i := int64(0); i < 24; i++ {
			keys = append(keys, bucketKey(base, "h", h-i))
		}
	case "7d":
		d := dayOf(now)
		for i := int64(0); i < 7; i++ {
			keys = append(keys, bucketKey(base, "d", d-i))
		}
	}
	return keys
}

// Run adds the devices seen to the store every FlushInterval until ctx
// ends, then once more within grace: the figures of other instances
// include this one's within FlushInterval.
func (p *Progress) Run(ctx context.Context, grace time.Duration) {
	if p == nil {
		return
	}
	t := time.NewTicker(p.flushInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			p.Flush(fctx)
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, p.flushInterval())
			p.Flush(fctx)
			cancel()
		}
	}
}

// Flush adds the devices waiting in memory to the store. When the store
// fails they are dropped (and the failure logged): the sets are estimates
// of who was seen, and a device calls again.
func (p *Progress) Flush(ctx context.Context) {
	if p == nil {
		return
	}
	p.init()
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	pending := p.pending
	p.pending = map[pendingKey]*pendingDevice{}
	p.npending = 0
	p.mu.Unlock()
	// Devices enter the sets as a hash: nothing in the store names one.
	sets := map[setKey][]string{}
	for k, d := range pending {
		if d.states == 0 {
			continue
		}
		member := HashDeviceID(k.deviceID)
		for bit := stateSeen; bit <= lastState; bit <<= 1 {
			if d.states&bit == 0 {
				continue
			}
			all := setKey{bit.name(), k.requestor, ""}
			own := setKey{bit.name(), k.requestor, d.platform}
			sets[all] = append(sets[all], member)
			sets[own] = append(sets[own], member)
		}
	}
	now := p.now()
	h, d := hourOf(now), dayOf(now)
	hourEnd := time.Unix((h+25)*3600, 0)
	dayEnd := time.Unix((d+8)*86400, 0)
	for k, members := range sets {
		base := setBase(k.state, k.requestor, k.platform)
		for _, b := range []struct {
			key     string
			expires time.Time
		}{{bucketKey(base, "h", h), hourEnd}, {bucketKey(base, "d", d), dayEnd}} {
			if err := p.sets.AddDistinct(ctx, b.key, b.expires, members...); err != nil {
				if p.Logger != nil {
					p.Logger.WarnContext(ctx, "adding devices to the store failed; they are not counted", "error", err.Error())
				}
				return
			}
		}
	}
}

// setKey names a set: a state of a requestor's devices, of one platform
// or ("") all.
type setKey struct{ state, requestor, platform string }

// Counts returns the figures, read from the store at most every
// RefreshInterval (after adding the devices waiting in memory). When the
// store fails, the last figures read are returned with the error.
func (p *Progress) Counts(ctx context.Context) (ProgressCounts, error) {
	p.init()
	p.refreshMu.Lock()
	defer p.refreshMu.Unlock()
	p.snapMu.Lock()
	fresh := !p.snapTried.IsZero() && p.now().Sub(p.snapTried) < p.refreshInterval()
	snap := p.snap
	p.snapMu.Unlock()
	if fresh {
		return snap, nil
	}
	p.Flush(ctx)
	counts, err := p.read(ctx)
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	p.snapTried = p.now()
	if err != nil {
		if p.Logger != nil {
			p.Logger.WarnContext(ctx, "reading the counts failed", "error", err.Error())
		}
		return p.snap, err
	}
	p.snap = counts
	return counts, nil
}

// read counts every set: for each requestor, window and state, over all
// platforms and each platform with devices seen in the week.
func (p *Progress) read(ctx context.Context) (ProgressCounts, error) {
	now := p.now()
	out := ProgressCounts{At: now, Requestors: map[string]RequestorProgress{}}
	requestors := append(slices.Clone(p.Requestors), ProgressOther)
	platforms := append(documentedPlatforms(), PlatformOther, PlatformUnknown)
	for _, rq := range requestors {
		all, err := p.readSets(ctx, rq, "", now)
		if err != nil {
			return out, err
		}
		if all["7d"][StateSeen] == 0 && rq == ProgressOther {
			continue
		}
		rp := RequestorProgress{Windows: all}
		for _, pl := range platforms {
			seen, err := p.sets.CountDistinct(ctx, windowKeys(setBase(StateSeen, rq, pl), "7d", now)...)
			if err != nil {
				return out, err
			}
			if seen == 0 {
				continue
			}
			if rp.Platforms == nil {
				rp.Platforms = map[string]map[string]map[string]uint64{}
			}
			if rp.Platforms[pl], err = p.readSets(ctx, rq, pl, now); err != nil {
				return out, err
			}
		}
		out.Requestors[rq] = rp
	}
	return out, nil
}

func (p *Progress) readSets(ctx context.Context, requestor, platform string, now time.Time) (map[string]map[string]uint64, error) {
	out := map[string]map[string]uint64{}
	for _, w := range ProgressWindows() {
		out[w] = map[string]uint64{}
		for _, st := range []string{StateSeen, StateSignedInV2, StateSignedInV1} {
			n, err := p.sets.CountDistinct(ctx, windowKeys(setBase(st, requestor, platform), w, now)...)
			if err != nil {
				return nil, err
			}
			out[w][st] = n
		}
		// |v1 \ v2| = |v1 ∪ v2| - |v2|: the union's own error carries over.
		union, err := p.sets.CountDistinct(ctx, append(windowKeys(setBase(StateSignedInV1, requestor, platform), w, now),
			windowKeys(setBase(StateSignedInV2, requestor, platform), w, now)...)...)
		if err != nil {
			return nil, err
		}
		if v2 := out[w][StateSignedInV2]; union > v2 {
			out[w][StateV1Only] = union - v2
		} else {
			out[w][StateV1Only] = 0
		}
	}
	return out, nil
}

// Describe implements prometheus.Collector.
func (p *Progress) Describe(ch chan<- *prometheus.Desc) {
	p.init()
	ch <- p.devices
	ch <- p.platform
	p.dropped.Describe(ch)
}

// collectWait bounds how long a scrape waits for figures being read; a
// scrape that does not get them in time exports the last ones read, so
// that a slow or stopped store never stalls /metrics.
const collectWait = 500 * time.Millisecond

// Collect implements prometheus.Collector: the figures of Counts, read in
// the background when stale. Nothing is exported before the first
// successful read.
func (p *Progress) Collect(ch chan<- prometheus.Metric) {
	p.init()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = p.Counts(ctx)
	}()
	t := time.NewTimer(collectWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	p.snapMu.Lock()
	counts := p.snap
	p.snapMu.Unlock()
	for rq, rp := range counts.Requestors {
		for w, states := range rp.Windows {
			for st, n := range states {
				ch <- prometheus.MustNewConstMetric(p.devices, prometheus.GaugeValue, float64(n), rq, st, w)
			}
		}
		for pl, windows := range rp.Platforms {
			for w, states := range windows {
				for st, n := range states {
					ch <- prometheus.MustNewConstMetric(p.platform, prometheus.GaugeValue, float64(n), rq, pl, st, w)
				}
			}
		}
	}
	p.dropped.Collect(ch)
}

// documentedPlatforms are the osName values Adobe lists for X-Device-Info
// (testdata/spec/v2.md §4), as labels.
func documentedPlatforms() []string {
	return []string{"android", "chrome_os", "linux", "mac_os", "os_x", "openbsd", "roku_os", "windows", "ios", "tvos", "webos"}
}

// PlatformOf reads the platform label of a device information JSON
// object (decoded from the v1 device_info parameter or X-Device-Info
// header): its osName when Adobe documents it, PlatformOther for another,
// PlatformUnknown when there is none.
func PlatformOf(deviceInfo []byte) string {
	var info struct {
		OSName string `json:"osName"`
	}
	if len(deviceInfo) == 0 || json.Unmarshal(deviceInfo, &info) != nil || strings.TrimSpace(info.OSName) == "" {
		return PlatformUnknown
	}
	label := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(info.OSName)), " ", "_")
	if slices.Contains(documentedPlatforms(), label) {
		return label
	}
	return PlatformOther
}

// DeviceInformer is implemented by a Call that knows the device
// information it carries (decoded JSON, nil for none): the migration
// progress figures read its platform from it.
type DeviceInformer interface {
	DeviceInfo() []byte
}

// DeviceInfo is a DeviceInformer of a device information already decoded.
type DeviceInfo []byte

// DeviceInfo implements DeviceInformer.
func (d DeviceInfo) DeviceInfo() []byte { return d }
