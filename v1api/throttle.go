package v1api

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/passgw/passgw/internal/tokenbucket"
)

// Defaults of Throttle, from Adobe's throttling page
// (help/authentication/integration-guide-programmers/throttling-mechanism.md):
// one request per second plus a one-time burst of ten; buckets idle for ten
// minutes are forgotten.
const (
	DefaultThrottleInterval = tokenbucket.DefaultInterval
	DefaultThrottleBurst    = tokenbucket.DefaultBurst
	DefaultThrottleIdle     = tokenbucket.DefaultIdle
	DefaultThrottleDevices  = tokenbucket.DefaultMaxKeys
)

// ThrottleLimit is the allowance of one device: one call per Interval, the
// first Interval starting at its first call, plus a one-time Burst of extra
// calls that never refills.
type ThrottleLimit struct {
	Interval time.Duration
	Burst    int
}

// DefaultThrottleLimit is 1 call/s with a one-time burst of 10.
func DefaultThrottleLimit() ThrottleLimit {
	return ThrottleLimit{Interval: DefaultThrottleInterval, Burst: DefaultThrottleBurst}
}

// Throttle is Adobe's token bucket (package tokenbucket) per device IP, the
// way Adobe throttled v1: each whole Interval since a device's first call
// allows one call, extra calls within an Interval spend the burst, and with
// neither left the call is answered 429 (which spends nothing). Only the
// paths Adobe listed are counted (ThrottledPath).
//
// Devices whose requestors share a limit share one bucket per IP, as at
// Adobe; a requestor with a limit of its own has its own buckets.
//
// Memory is bounded: a bucket idle for IdleTimeout is forgotten, and beyond
// MaxDevices buckets the least recently used goes. A forgotten device that
// returns gets a fresh burst; after that much idleness its rate allowance
// has caught up anyway, so only the ten-call burst is granted anew.
//
// The zero value is ready to use (default limit for every requestor). Do
// not change its fields once calls are in flight.
type Throttle struct {
	// Limit returns the allowance for calls naming requestor ("" when the
	// call names none); false means those calls are not throttled. Nil
	// means DefaultThrottleLimit for every call.
	Limit func(requestor string) (ThrottleLimit, bool)

	// TrustedProxies are used by Wrap to find the device address (see
	// Config.TrustedProxies); a Handler uses its own Config instead. Nil
	// means loopback only.
	TrustedProxies []netip.Prefix

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// IdleTimeout forgets buckets unused that long; zero means
	// DefaultThrottleIdle.
	IdleTimeout time.Duration

	// MaxDevices bounds the number of buckets; zero means
	// DefaultThrottleDevices.
	MaxDevices int

	// Shared, when set, keeps the buckets in the store every gateway
	// instance shares, so that a device spends one bucket whichever
	// instance it calls: Adobe's limit holds once for the fleet, not once
	// per instance. A decision Shared cannot make (the store down, or
	// slower than its Timeout) is made in this process's buckets instead.
	Shared *tokenbucket.Shared

	once    sync.Once
	buckets tokenbucket.Buckets[bucketKey]
}

type bucketKey struct {
	addr  netip.Addr
	limit ThrottleLimit
}

func (t *Throttle) init() {
	t.once.Do(func() {
		t.buckets.Now, t.buckets.IdleTimeout, t.buckets.MaxKeys = t.Now, t.IdleTimeout, t.MaxDevices
	})
}

// Allow reports whether a call from addr naming requestor may proceed, and
// counts it if so.
func (t *Throttle) Allow(ctx context.Context, addr netip.Addr, requestor string) bool {
	limit, ok := DefaultThrottleLimit(), true
	if t.Limit != nil {
		limit, ok = t.Limit(requestor)
	}
	if !ok {
		return true
	}
	if limit.Interval <= 0 {
		limit.Interval = DefaultThrottleInterval
	}
	t.init()
	key := bucketKey{addr: addr.Unmap(), limit: limit}
	r := tokenbucket.Request{Limit: tokenbucket.Limit{Interval: limit.Interval, Burst: limit.Burst}}
	if t.Shared != nil {
		r.Now = t.now()
		if d, err := t.Shared.Apply(ctx, key.String(), r); err == nil {
			return d.OK
		}
	}
	return t.buckets.Apply(key, r).OK
}

func (t *Throttle) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

// String names the bucket in a shared store: the address and the limit
// (requestors with limits of their own have buckets of their own).
func (k bucketKey) String() string {
	return k.addr.String() + "/" + strconv.FormatInt(int64(k.limit.Interval), 10) + "/" + strconv.Itoa(k.limit.Burst)
}

// Len is the number of buckets held.
func (t *Throttle) Len() int {
	t.init()
	return t.buckets.Len()
}

// Wrap throttles the calls of next on covered paths (such as the DCR
// issuer's /o/client/register and /o/client/token), with the device
// address from TrustedProxies and the requestor from the requestor or
// requestor_id query parameter.
func (t *Throttle) Wrap(next http.Handler) http.Handler {
	trusted := t.TrustedProxies
	if trusted == nil {
		trusted = defaultTrustedProxies()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ThrottledPath(r.URL.Path) {
			addr, _ := deviceAddr(r, trusted)
			q := r.URL.Query()
			requestor := q.Get("requestor")
			if requestor == "" {
				requestor = q.Get("requestor_id")
			}
			if !t.Allow(r.Context(), addr, requestor) {
				writeThrottled(w)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ThrottledPath reports whether calls to path count against the device's
// allowance: the endpoint list of Adobe's throttling page, each entry
// matched as a prefix (its two regular expressions included).
func ThrottledPath(path string) bool {
	// The plain prefixes of the page. The browser call /api/v1/authenticate
	// (no slash) is not among them, and /reggie/v1/regcode/ is the gateway's
	// addition: the same regcode calls without the requestor segment (both
	// forms are served).
	prefixes := [...]string{
		"/o/client/register", "/o/client/token", "/o/client/scopes", "/o/client/validate",
		"/api/v2/",
		"/api/v1/tokens/usermetadata", "/api/v1/tokens/authn", "/api/v1/tokens/authz", "/api/v1/tokens/media",
		"/api/v1/config/", "/api/v1/checkauthn", "/api/v1/logout", "/api/v1/authorize", "/api/v1/preauthorize",
		"/api/v1/mediatoken", "/api/v1/authenticate/freepreview", "/api/v1/authenticate/", "/api/v1/identities",
		"/adobe-services/config/",
		"/reggie/v1/regcode/",
	}
	for _, p := range prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	// /api/v1/.+/profile-requests/.+
	if rest, ok := strings.CutPrefix(path, "/api/v1/"); ok {
		if i := strings.Index(rest, "/profile-requests/"); i > 0 && len(rest) > i+len("/profile-requests/") {
			return true
		}
	}
	// /reggie/v1/.+/regcode (and /reggie/v1/.+/regcode/.+, which it covers)
	if rest, ok := strings.CutPrefix(path, "/reggie/v1/"); ok {
		if i := strings.Index(rest, "/regcode"); i > 0 {
			return true
		}
	}
	return false
}

// allowed applies the configured throttle to a call on a covered path.
func (h *Handler) allowed(c *call, vars *pathVars) bool {
	t := h.cfg.Throttle
	if t == nil || !ThrottledPath(c.r.URL.Path) {
		return true
	}
	requestor := vars.get("requestor")
	for _, name := range [...]string{"requestor", "requestor_id"} {
		if requestor == "" {
			requestor = c.params.Get(name)
		}
	}
	if requestor == "" {
		requestor = SignedHeaderRequestor(c.r.Header.Get("Authorization"))
	}
	addr, _ := deviceAddr(c.r, h.cfg.TrustedProxies)
	return t.Allow(c.r.Context(), addr, requestor)
}
