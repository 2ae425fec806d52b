package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

// The long-run budget test: devices, each on its own address, call v1 at one
// call a second for a minute in the patterns of real apps, through the
// gateway with its v1 throttle and upstream budget as configured by
// default, to a sandbox throttling every address as Adobe does (one call a
// second after a one-time burst of ten; Adobe's "Throttling mechanism"
// page). Nothing may be throttled, upstream or on v1, and what each v1
// operation costs upstream is what the design gives (BENCHMARKS.md,
// "Upstream calls per v1 call").
//
// The run is on the rig's manual clock, shared by the devices, the gateway
// (its v1 throttle, upstream budget and caches) and the sandbox's throttle:
// each second every device makes its call, one device after another, and a
// budget wait for a device's turn moves the clock. One clock leaves no
// jitter between the gateway's reading and the sandbox's, so the run is the
// same on a loaded machine as on an idle one and takes a few seconds; the
// 50 ms the budget adds between two turns (v2client.DefaultBudgetSlack) is
// the margin for the jitter of a real network, which this run does not
// spend. With -longrun.realtime, TestUpstreamBudgetLongRunRealTime runs the
// same minute on the real clock instead, every device on its own goroutine,
// so that the time between the gateway's planning and the sandbox's count
// is a real one (it takes the minute). TestUpstreamBudgetLongRunTwoInstances
// runs the manual-clock minute on two instances sharing a redis-server,
// each device's calls alternating between them: the buckets kept in Redis
// count by the now each decision is given (store.TokenBuckets), the rig's
// clock, not Redis's TIME, so the same clock drives them.

var longRunRealTime = flag.Bool("longrun.realtime", false,
	"run TestUpstreamBudgetLongRunRealTime: the long-run budget test on the real clock (a minute)")

// longRunSeconds is the length of the run, in the devices' seconds.
const longRunSeconds = 60

// The run's permit reuse and profile cache: the defaults.
const (
	longRunPermitTTL  = 30 * time.Second
	longRunProfileTTL = 15 * time.Second
	longRunPollEvery  = 3 * time.Second
)

// longRunGuide is what a guide screen preauthorizes: seven resources, two
// chunks of v2's five.
var longRunGuide = []string{"news", "sports", "movies", "kids", "docs", "music", "weather"}

// opCost is what one v1 operation cost upstream over the run.
type opCost struct {
	calls    int            // v1 calls
	statuses map[int]int    // v1 answers by status
	v2       int            // v2 and DCR calls made for them
	routes   map[string]int // those by route template
}

// longRun drives the devices and keeps the costs.
type longRun struct {
	t *testing.T
	r *rig
	// gateways are the instances the devices call: r alone, or r and
	// instances of it on the same store, each device's calls going to them
	// in turn as a load balancer without affinity sends them.
	gateways []*rig
	start    time.Time
	sent     int        // the sandbox requests before the run
	mu       sync.Mutex // costs and throttled, when devices call at once
	costs    map[string]*opCost
	// throttled lists every 429, v1 or upstream, with when and who.
	throttled []string
}

// longRunDevice is one device (or login web app) of the run.
type longRunDevice struct {
	name, addr, userAgent string
	// tick makes the device's call of second k.
	tick func(k int)
	// calls counts the device's v1 calls: the next goes to instance
	// calls mod the number of instances.
	calls int
}

// gateway is the instance d's next v1 call goes to. A device makes one call
// at a time, so only its own goroutine counts its calls.
func (lr *longRun) gateway(d *longRunDevice) *rig {
	g := lr.gateways[d.calls%len(lr.gateways)]
	d.calls++
	return g
}

// call makes one v1 call of op for d and charges to op the upstream calls
// made meanwhile for d's address: a device makes one call at a time.
func (lr *longRun) call(d *longRunDevice, op, method, target, form string) (int, string) {
	lr.t.Helper()
	header := http.Header{"X-Forwarded-For": {d.addr}, "User-Agent": {d.userAgent}, "Accept": {"application/json"}}
	from := lr.r.upstreamCount()
	resp, body := lr.gateway(d).do(method, target, header, form)
	lr.mu.Lock()
	defer lr.mu.Unlock()
	c := lr.cost(d.name, op)
	c.calls++
	c.statuses[resp.StatusCode]++
	if resp.StatusCode == http.StatusTooManyRequests {
		lr.throttled = append(lr.throttled, fmt.Sprintf("t=%s %s %s: v1 429", lr.at(), d.name, op))
	}
	lr.charge(d.name+" "+op, c, forAddr(lr.r.upstreamSince(from), d.addr))
	return resp.StatusCode, body
}

// forAddr keeps the requests forwarded for addr ("" for the gateway's own).
func forAddr(reqs []sandbox.Request, addr string) []sandbox.Request {
	return slices.DeleteFunc(reqs, func(q sandbox.Request) bool { return q.Header.Get("X-Forwarded-For") != addr })
}

// cost is the row of device's op; lr.mu is held.
func (lr *longRun) cost(device, op string) *opCost {
	key := device + " " + op
	c := lr.costs[key]
	if c == nil {
		c = &opCost{statuses: map[int]int{}, routes: map[string]int{}}
		lr.costs[key] = c
	}
	return c
}

// at is the time into the run.
func (lr *longRun) at() time.Duration { return lr.r.clock.Now().Sub(lr.start).Round(time.Millisecond) }

// charge adds the upstream requests made for what to c; lr.mu is held.
func (lr *longRun) charge(what string, c *opCost, upstream []sandbox.Request) {
	for _, q := range upstream {
		row := c
		row.v2++
		row.routes[sandboxRoute(q)]++
		if q.Status == http.StatusTooManyRequests {
			lr.throttled = append(lr.throttled, fmt.Sprintf("t=%s %s: upstream 429 on %s %s", lr.at(), what, q.Method, q.Path))
		}
	}
}

// alternating is the tick of a device calling, answered 200, the GET even
// gives (an operation and its target) on even seconds and odd's on odd ones.
func (lr *longRun) alternating(d *longRunDevice, even, odd func(k int) (op, target string)) func(k int) {
	return func(k int) {
		call := even
		if k%2 == 1 {
			call = odd
		}
		op, target := call(k)
		status, body := lr.call(d, op, http.MethodGet, target, "")
		lr.want(d, op, status, body, http.StatusOK)
	}
}

// want fails the test unless status is one of ok.
func (lr *longRun) want(d *longRunDevice, op string, status int, body string, ok ...int) {
	lr.t.Helper()
	if !slices.Contains(ok, status) {
		lr.t.Errorf("t=%s %s %s: status %d, want %v; body %s", lr.at(), d.name, op, status, ok, body)
	}
}

// sandboxRoute names a sandbox request by the v2client route template its
// path matches ("other" for none).
func sandboxRoute(q sandbox.Request) string {
	segs := strings.Split(strings.Trim(q.Path, "/"), "/")
	for _, route := range v2client.Routes() {
		method, path, _ := strings.Cut(route, " ")
		tmpl := strings.Split(strings.Trim(path, "/"), "/")
		if method != q.Method || len(tmpl) != len(segs) {
			continue
		}
		match := true
		for i, s := range tmpl {
			if !strings.HasPrefix(s, "{") && s != segs[i] {
				match = false
				break
			}
		}
		if match {
			return route
		}
	}
	return "other " + q.Method + " " + q.Path
}

// signInFrom signs deviceID in as alice from setup addresses of its
// own (the device and its user's browser), leaving the device's address of
// the run untouched, as for a device signed in the day before.
func (r *rig) signInFrom(deviceID, deviceAddr, browserAddr string) {
	r.t.Helper()
	resp, body := r.do(http.MethodPost, "/reggie/v1/REF30/regcode?format=json",
		http.Header{"X-Forwarded-For": {deviceAddr}}, "deviceId="+url.QueryEscape(deviceID))
	r.want(resp, body, http.StatusCreated)
	var reg struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal([]byte(body), &reg); err != nil || reg.Code == "" {
		r.t.Fatalf("regcode body %s: %v", body, err)
	}
	r.browserSignIn(reg.Code, browserAddr, "Mozilla/5.0 (setup)")
}

// browserSignIn is a login web app's browser at addr opening the v1
// authenticate URL of code and signing alice in on the sandbox's MVPD page;
// Adobe sees the browser's own requests from addr too.
func (r *rig) browserSignIn(code, addr, userAgent string) {
	r.t.Helper()
	q := url.Values{
		"reg_code": {code}, "requestor_id": {"REF30"}, "mso_id": {"AcmeCable"}, "domain_name": {"localhost"},
		"redirect_url": {r.URL + signedInPath}, "noflash": {"true"}, "no_iframe": {"false"},
	}
	browser := &http.Client{Timeout: 10 * time.Second, Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.Header.Set("X-Forwarded-For", addr)
		req.Header.Set("User-Agent", userAgent)
		return http.DefaultTransport.RoundTrip(req)
	})}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	landed, err := sandbox.SignIn(ctx, browser, r.URL+"/api/v1/authenticate?"+q.Encode(), "alice", "alice-pass")
	if err != nil {
		r.t.Fatalf("sign in: %v", err)
	}
	if !strings.HasPrefix(landed, r.URL+signedInPath) {
		r.t.Fatalf("browser landed on %s, want the gateway's signed-in page", landed)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestUpstreamBudgetLongRun: six callers, each on its own address, call v1 at
// one call a second for a minute (BENCHMARKS.md, "Upstream calls per v1
// call"):
//   - a guide screen preauthorizing the seven resources it shows every other
//     second, checking its sign-in in between;
//   - a player authorizing and taking the media token, one after the other;
//   - a home screen polling checkauthn and tokens/authn;
//   - a TempPass device: a free preview, then authorize and media token;
//   - a device signing in with a code: regcode, then polling
//     checkauthn/{code} until its user has signed in, then tokens/authn,
//     authorize and media token;
//   - the login web app of that code, on its own address: it reads the
//     registration, signs the user in (the resume, then the MVPD page) and
//     polls checkauthn/{code} too.
//
// No call is throttled, upstream or on v1, and each operation costs upstream
// what the design gives.
func TestUpstreamBudgetLongRun(t *testing.T) {
	t.Parallel()
	runLongRun(t, longRunForm{})
}

// TestUpstreamBudgetLongRunTwoInstances is TestUpstreamBudgetLongRun with
// two gateway instances on one redis-server, the v1 throttle and the
// upstream budget shared through it (buckets: shared, the default with
// Redis), and each device's calls alternating between the instances as a
// load balancer without affinity sends them: the fleet spends each device's
// allowance once, so nothing is throttled, and each operation costs what it
// costs on one instance, within the same bounds. The store's buckets count
// by the time the gateway gives each decision, here the rig's clock, so the
// run is on that clock, as exact as the single instance's.
func TestUpstreamBudgetLongRunTwoInstances(t *testing.T) {
	t.Parallel()
	runLongRun(t, longRunForm{redisURL: redistest.Start(t).URL(), instances: 2})
}

// TestUpstreamBudgetLongRunRealTime is TestUpstreamBudgetLongRun on the real
// clock (-longrun.realtime): the devices call at once, each on its own
// goroutine, for a minute.
func TestUpstreamBudgetLongRunRealTime(t *testing.T) {
	if !*longRunRealTime {
		t.Skip("a minute on the real clock: run with -longrun.realtime")
	}
	runLongRun(t, longRunForm{realTime: true})
}

// longRunForm is how a long run is deployed and timed.
type longRunForm struct {
	// realTime runs the devices on the real clock, not the rig's manual one.
	realTime bool
	// redisURL, when set, is the redis-server of the gateway's store (and
	// so of its buckets, shared by default); empty, the in-memory store.
	redisURL string
	// instances is the number of gateway instances on the store (0: one).
	instances int
}

// runLongRun runs the long-run budget test in form.
func runLongRun(t *testing.T, form longRunForm) {
	configure := func(c *Config) {
		c.Throttle = ThrottleConfig{}     // v1's throttle, as deployed
		c.UpstreamBudget = BudgetConfig{} // the default budget
		for i := range c.Requestors {
			c.Requestors[i].CallerAuth = "none"
		}
	}
	var r *rig
	if form.redisURL != "" {
		r = newRigOnRedis(t, form.redisURL, configure)
	} else {
		r = newRig(t, configure)
	}
	gateways := []*rig{r}
	for len(gateways) < form.instances {
		gateways = append(gateways, r.instance())
	}
	r.sandbox.SetThrottling(true)

	// Devices signed in the day before, from addresses of their own.
	for i, id := range []string{"lr-guide", "lr-player", "lr-home"} {
		r.signInFrom(id, fmt.Sprintf("198.18.0.%d", i+1), fmt.Sprintf("198.18.1.%d", i+1))
	}
	r.clock.Advance(12 * time.Hour)

	lr := &longRun{t: t, r: r, gateways: gateways, start: r.clock.Now(), sent: r.upstreamCount(), costs: map[string]*opCost{}}
	q := func(id string, more ...string) string {
		v := url.Values{"requestor": {"REF30"}, "deviceId": {id}, "format": {"json"}}
		for i := 0; i+1 < len(more); i += 2 {
			v.Set(more[i], more[i+1])
		}
		return v.Encode()
	}

	guide := &longRunDevice{name: "guide", addr: "203.0.113.11", userAgent: "Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) 94.0.4606.31/7.0 TV Safari/537.36"}
	guide.tick = lr.alternating(guide,
		func(int) (string, string) {
			return "preauthorize", "/api/v1/preauthorize?" + q("lr-guide", "resource", strings.Join(longRunGuide, ","))
		},
		func(int) (string, string) { return "checkauthn", "/api/v1/checkauthn?" + q("lr-guide") })

	// A new resource every two seconds.
	playing := func(k int) string { return longRunGuide[(k/2)%len(longRunGuide)] }
	player := &longRunDevice{name: "player", addr: "203.0.113.12", userAgent: "Roku/DVP-12.5 (12.5.0.4178)"}
	player.tick = lr.alternating(player,
		func(k int) (string, string) {
			return "authorize", "/api/v1/authorize?" + q("lr-player", "resource", playing(k))
		},
		func(k int) (string, string) {
			return "tokens/media", "/api/v1/tokens/media?" + q("lr-player", "resource", playing(k))
		})

	home := &longRunDevice{name: "home", addr: "203.0.113.13", userAgent: "Mozilla/5.0 (Linux; Android 11; AFTKA Build/RS8128) AppleWebKit/537.36 (KHTML, like Gecko) Silk/112.5.1 like Chrome/112.0.5615.213 Safari/537.36"}
	home.tick = lr.alternating(home,
		func(int) (string, string) { return "checkauthn", "/api/v1/checkauthn?" + q("lr-home") },
		func(int) (string, string) { return "tokens/authn", "/api/v1/tokens/authn?" + q("lr-home") })

	temp := &longRunDevice{name: "temppass", addr: "203.0.113.14", userAgent: "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 WebAppManager"}
	temp.tick = func(k int) {
		switch {
		case k == 0:
			form := url.Values{"requestor_id": {"REF30"}, "deviceId": {"lr-temppass"}, "mso_id": {"TempPass_REF30"}, "domain_name": {"localhost"}}
			status, body := lr.call(temp, "freepreview", http.MethodPost, "/api/v1/authenticate/freepreview", form.Encode())
			lr.want(temp, "freepreview", status, body, http.StatusNoContent)
		case k%2 == 1:
			status, body := lr.call(temp, "authorize", http.MethodGet, "/api/v1/authorize?"+q("lr-temppass", "resource", "news"), "")
			lr.want(temp, "authorize", status, body, http.StatusOK)
		default:
			status, body := lr.call(temp, "tokens/media", http.MethodGet, "/api/v1/tokens/media?"+q("lr-temppass", "resource", "news"), "")
			lr.want(temp, "tokens/media", status, body, http.StatusOK)
		}
	}

	var code atomic.Pointer[string] // the login device's, for its web app
	code.Store(new(string))
	signedIn := -1 // the second the device learnt of its sign-in
	login := &longRunDevice{name: "login device", addr: "203.0.113.15", userAgent: "AppleCoreMedia/1.0.0.21J354 (Apple TV; U; CPU OS 17_0 like Mac OS X; en_us)"}
	login.tick = func(k int) {
		switch {
		case k == 0:
			status, body := lr.call(login, "regcode", http.MethodPost, "/reggie/v1/REF30/regcode?format=json", "deviceId=lr-login")
			lr.want(login, "regcode", status, body, http.StatusCreated)
			var reg struct {
				Code string `json:"code"`
			}
			if err := json.Unmarshal([]byte(body), &reg); err != nil || reg.Code == "" {
				t.Errorf("regcode body %s: %v", body, err)
			}
			code.Store(&reg.Code)
		case signedIn < 0:
			status, body := lr.call(login, "checkauthn/{code}", http.MethodGet, "/api/v1/checkauthn/"+*code.Load()+"?"+q("lr-login"), "")
			lr.want(login, "checkauthn/{code}", status, body, http.StatusOK, http.StatusForbidden)
			if status == http.StatusOK {
				signedIn = k
			}
		case k == signedIn+1:
			status, body := lr.call(login, "tokens/authn", http.MethodGet, "/api/v1/tokens/authn?"+q("lr-login"), "")
			lr.want(login, "tokens/authn", status, body, http.StatusOK)
		case (k-signedIn)%2 == 0:
			status, body := lr.call(login, "authorize", http.MethodGet, "/api/v1/authorize?"+q("lr-login", "resource", "sports"), "")
			lr.want(login, "authorize", status, body, http.StatusOK)
		default:
			status, body := lr.call(login, "tokens/media", http.MethodGet, "/api/v1/tokens/media?"+q("lr-login", "resource", "sports"), "")
			lr.want(login, "tokens/media", status, body, http.StatusOK)
		}
	}

	const signInAt = 5 // the second the user signs in on the web app
	webAppDone := false
	webApp := &longRunDevice{name: "login web app", addr: "198.51.100.16", userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"}
	webApp.tick = func(k int) {
		switch {
		case k < 2 || webAppDone:
		case k == 2:
			status, body := lr.call(webApp, "regcode/{code}", http.MethodGet, "/reggie/v1/REF30/regcode/"+*code.Load()+"?format=json", "")
			lr.want(webApp, "regcode/{code}", status, body, http.StatusOK)
		case k == signInAt:
			// The v1 authenticate call (its resume) is the gateway's; the
			// browser's own requests to Adobe (the authenticate page, the
			// MVPD's) count against the same address in Adobe's throttle.
			from := r.upstreamCount()
			lr.gateway(webApp).browserSignIn(*code.Load(), webApp.addr, webApp.userAgent)
			lr.mu.Lock()
			defer lr.mu.Unlock()
			authn, browser := lr.cost(webApp.name, "authenticate"), lr.cost(webApp.name, "browser at Adobe")
			authn.calls++
			authn.statuses[http.StatusFound]++
			for _, q := range forAddr(r.upstreamSince(from), webApp.addr) {
				row := browser
				if strings.HasPrefix(sandboxRoute(q), "POST ") || q.Header.Get("AP-Device-Identifier") != "" {
					row = authn
				}
				lr.charge(webApp.name+" sign-in", row, []sandbox.Request{q})
			}
		default:
			status, body := lr.call(webApp, "checkauthn/{code}", http.MethodGet, "/api/v1/checkauthn/"+*code.Load()+"?format=json&requestor=REF30", "")
			lr.want(webApp, "checkauthn/{code}", status, body, http.StatusOK, http.StatusForbidden)
			webAppDone = status == http.StatusOK
		}
	}

	devices := []*longRunDevice{guide, player, home, temp, login, webApp}
	if form.realTime {
		lr.runRealTime(devices)
	} else {
		for k := range longRunSeconds {
			if next := lr.start.Add(time.Duration(k) * time.Second); r.clock.Now().Before(next) {
				r.clock.Advance(next.Sub(r.clock.Now()))
			}
			for _, d := range devices {
				d.tick(k)
			}
		}
	}
	elapsed := r.clock.Now().Sub(lr.start)
	// The gateway's own calls (DCR) name no device address.
	lr.charge("the gateway's own calls", lr.cost("gateway", "own calls"), forAddr(r.upstreamSince(lr.sent), ""))

	if len(lr.throttled) > 0 {
		t.Errorf("%d calls throttled in %s:\n%s", len(lr.throttled), elapsed, strings.Join(lr.throttled, "\n"))
	}
	for op, c := range lr.costs {
		if n := c.statuses[http.StatusTooManyRequests]; n > 0 {
			t.Errorf("%s: %d v1 429s", op, n)
		}
	}
	lr.report()
	if form.redisURL != "" {
		lr.wantBucketsInRedis(len(devices))
	}
	t.Logf("budget waits: %v; run %s on the devices' clock", r.waits.all(), elapsed)

	// What each operation costs upstream. Exact where the design fixes it:
	// authorize always asks v2 and a media token after it never does;
	// the guide's permits are asked for once per permit_reuse_ttl, two
	// chunks of five; regcode, the resume and freepreview (its session
	// and the trial's start) cost what they are.
	calls := func(row string) int { return lr.costs[row].calls }
	exact := map[string]map[string]int{
		"guide preauthorize":              {v2client.RoutePreauthorize: 2 * ceilDiv(longRunSeconds*time.Second, longRunPermitTTL)},
		"guide checkauthn":                {},
		"player authorize":                {v2client.RouteAuthorize: calls("player authorize")},
		"player tokens/media":             {},
		"home checkauthn":                 {},
		"home tokens/authn":               {},
		"temppass freepreview":            {v2client.RouteCreateSession: 1, v2client.RouteAuthorize: 1},
		"temppass authorize":              {v2client.RouteAuthorize: calls("temppass authorize")},
		"temppass tokens/media":           {},
		"login device regcode":            {v2client.RouteCreateSession: 1},
		"login device checkauthn/{code}":  {},
		"login device tokens/authn":       {},
		"login device authorize":          {v2client.RouteAuthorize: calls("login device authorize")},
		"login device tokens/media":       {},
		"login web app regcode/{code}":    {},
		"login web app authenticate":      {v2client.RouteResumeSession: 1},
		"login web app checkauthn/{code}": {},
		"gateway own calls":               {},
	}
	// Bounded where a cache decides, per device over all its operations:
	// one profile read per profile cache lifetime (the TempPass device
	// reads its TempPass profile with it), none for the login device
	// until its poll's profile has aged; one code poll per
	// code_poll_interval whoever polls, and one more when the login
	// starts; the gateway's own token at most once.
	perLifetime := ceilDiv(longRunSeconds*time.Second, longRunProfileTTL)
	bounds := map[string]map[string]int{
		"guide":    {v2client.RouteProfiles: perLifetime},
		"player":   {v2client.RouteProfiles: perLifetime},
		"home":     {v2client.RouteProfiles: perLifetime},
		"temppass": {v2client.RouteProfiles: perLifetime, v2client.RouteProfile: perLifetime},
		"login device": {
			v2client.RouteProfiles:      ceilDiv(time.Duration(longRunSeconds-signedIn)*time.Second, longRunProfileTTL),
			v2client.RouteProfileByCode: int(time.Duration(signedIn-1)*time.Second/longRunPollEvery) + 2,
		},
		"gateway": {v2client.RouteToken: 1},
	}
	exact["login web app browser at Adobe"] = nil // the browser's, not the gateway's
	spent := map[string]map[string]int{}
	for row, c := range lr.costs {
		want, known := exact[row]
		if !known {
			t.Errorf("%s: no expectation", row)
			continue
		}
		if want == nil {
			continue
		}
		for route, n := range want {
			if c.routes[route] != n {
				t.Errorf("%s: %d calls of %s, want %d", row, c.routes[route], route, n)
			}
		}
		device, _, _ := strings.Cut(row, " ")
		if strings.HasPrefix(row, "login ") {
			device = "login device" // the web app polls the device's code
		}
		for route, n := range c.routes {
			if _, ok := want[route]; ok {
				continue
			}
			if _, ok := bounds[device][route]; !ok {
				t.Errorf("%s: %d unexpected calls of %s", row, n, route)
				continue
			}
			if spent[device] == nil {
				spent[device] = map[string]int{}
			}
			spent[device][route] += n
		}
	}
	for device, routes := range spent {
		for route, n := range routes {
			if max := bounds[device][route]; n > max {
				t.Errorf("%s: %d calls of %s over the run, want at most %d", device, n, route, max)
			}
		}
	}
}

// wantBucketsInRedis fails the test unless the v1 throttle and the upstream
// budget decided in the store: a bucket of each kind in Redis for each of
// the devices (and no decision counted in an instance's own bucket
// instead).
func (lr *longRun) wantBucketsInRedis(devices int) {
	lr.t.Helper()
	rs, ok := lr.r.store.(*redisstore.Store)
	if !ok {
		lr.t.Fatalf("the rig's store is a %T, not Redis", lr.r.store)
	}
	for _, kind := range []string{"throttle", "budget"} {
		keys, err := rs.Client.Do(context.Background(), rs.Client.B().Keys().Pattern(redisstore.DefaultPrefix+"bucket:"+kind+":*").Build()).AsStrSlice()
		if err != nil {
			lr.t.Fatal(err)
		}
		if len(keys) < devices {
			lr.t.Errorf("%d %s buckets in Redis, want one for each of the %d devices at least", len(keys), kind, devices)
		}
	}
	if n := strings.Count(lr.r.logs.String(), "shared token buckets unavailable"); n > 0 {
		lr.t.Errorf("%d fallbacks to an instance's own buckets, want none", n)
	}
}

// ceilDiv is how many spans of d a run of total begins.
func ceilDiv(total, d time.Duration) int { return int((total + d - 1) / d) }

// runRealTime runs the devices on the real clock, each on its own
// goroutine; the rig's clock follows the real one (to the millisecond) and
// the budget waits on real timers. A device's first call starts the count
// of the v1 throttle (one call per whole second since a device's first, as
// Adobe counts); its later calls go half a second into each following
// second, so that the jitter of a loaded machine (up to half a second) never
// puts two in one second, as it would with calls on the second.
func (lr *longRun) runRealTime(devices []*longRunDevice) {
	r := lr.r
	r.waits.mu.Lock()
	r.waits.real = true
	r.waits.mu.Unlock()
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	realStart := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if d := lr.start.Add(time.Since(realStart)).Sub(r.clock.Now()); d > 0 {
				r.clock.Advance(d)
			}
		}
	})
	var calls sync.WaitGroup
	for _, d := range devices {
		calls.Go(func() {
			for k := range longRunSeconds {
				at := time.Duration(k) * time.Second
				if k > 0 {
					at += time.Second / 2
				}
				time.Sleep(time.Until(realStart.Add(at)))
				d.tick(k)
			}
		})
	}
	calls.Wait()
	stop()
	wg.Wait()
}

// report logs the cost of each operation.
func (lr *longRun) report() {
	ops := make([]string, 0, len(lr.costs))
	for op := range lr.costs {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	for _, op := range ops {
		c := lr.costs[op]
		per := "-"
		if c.calls > 0 {
			per = fmt.Sprintf("%.3f", float64(c.v2)/float64(c.calls))
		}
		fmt.Fprintf(&b, "%-32s v1 %3d  v2 %3d  per v1 call %-5s  %v  v1 statuses %v\n", op, c.calls, c.v2, per, c.routes, c.statuses)
	}
	lr.t.Logf("upstream calls per v1 operation:\n%s", b.String())
}
