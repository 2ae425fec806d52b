package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client/sandbox"
)

// The fault matrix runs in its short form under `go test`; the long form is
// the same test with more load:
//
//	go test ./cmd/passgw -run TestFaultMatrix -faults.devices 64 -faults.rounds 20 -faults.report RELIABILITY-run.md -v
var (
	faultDevices = flag.Int("faults.devices", 6, "signed-in devices running flows in each fault-matrix row")
	faultRounds  = flag.Int("faults.rounds", 2, "flows each device runs while the fault is active")
	faultReport  = flag.String("faults.report", "", "append the fault-matrix figures as a Markdown table to this `file`")
)

// Timing of the fault-matrix gateway: a short upstream timeout so that the
// latency row is quick, and a breaker that recovers quickly once the fault
// clears.
const (
	faultUpstreamTimeout = 300 * time.Millisecond
	faultBreakerCooldown = 100 * time.Millisecond
	// faultHang is how long a device waits before it counts an answer as a
	// hang: several upstream timeouts (a v1 call may make a few v2 calls,
	// one GET retry and one token refresh).
	faultHang = 5 * time.Second
	// faultGoroutineSlack is how many more goroutines than before the
	// fault may be left after recovery: connections the transports are
	// still closing.
	faultGoroutineSlack = 20
)

// faultRow is one row of the matrix: what goes wrong while the devices run
// their flows.
type faultRow struct {
	name string
	// inject starts the fault; the returned function ends it.
	inject func(t *testing.T, w *faultWorld) (clear func())
	// dead marks an upstream that fails every call: the breaker must keep
	// most device calls from reaching it.
	dead bool
	// redis runs the row's gateway on a Redis store of its own instead of
	// the in-memory one.
	redis bool
	// config, when set, changes the row's gateway configuration.
	config func(*Config)
}

// faultWorld is the world a row's fault acts on.
type faultWorld struct {
	*loopWorld
	// redis is the row's Redis server; nil unless the row asks for one.
	redis *redistest.Server
	// minCalls is the fewest calls the row's load makes: one per flow
	// (every flow stopping at its first call) plus the registration codes.
	minCalls int
	// onAnswer, when set by inject, is called with the n-th device call
	// of the load and its verdict as the call is counted, before the
	// device that made it makes another and while no other device call
	// is counted, so a fault can act part-way through the load.
	onAnswer func(n int, r callResult)
}

// rowFigures are what a row records.
type rowFigures struct {
	// Correct counts right answers: Succeeded of them the normal answer,
	// the others the v1 answer to an upstream failure (500, 429).
	Sent, Correct, Succeeded, Wrong, Hangs int
	// Upstream is how many requests reached the sandbox during the fault.
	Upstream int
	// GoroutinesBefore is taken with the world up and the devices signed
	// in; GoroutinesAfter once the devices recovered and idle connections
	// closed.
	GoroutinesBefore, GoroutinesAfter int
	HeapAfterMiB                      float64
	// Recovered: every device completed a whole flow after the fault
	// cleared; RecoveryCalls is how many calls that took in all.
	Recovered     bool
	RecoveryCalls int
	Wrongs        []string // the first few wrong answers, for the failure message
	// Goroutines is the stack dump when too many goroutines are left.
	Goroutines string
}

func faultRows() []faultRow {
	add := func(f ...sandbox.Fault) func(*testing.T, *faultWorld) func() {
		return func(t *testing.T, w *faultWorld) func() {
			for _, x := range f {
				if _, err := w.sandbox.AddFault(x); err != nil {
					t.Fatal(err)
				}
			}
			return w.sandbox.ClearFaults
		}
	}
	return []faultRow{
		{name: "latency beyond the upstream timeout", inject: add(sandbox.Fault{Kind: sandbox.FaultLatency, Path: "/api/v2/**", Latency: sandbox.Duration(time.Minute)}), dead: true},
		{name: "upstream 500", inject: add(sandbox.Fault{Kind: sandbox.FaultStatus, Path: "/api/v2/**", Status: 500}), dead: true},
		{name: "upstream 503", inject: add(sandbox.Fault{Kind: sandbox.FaultStatus, Path: "/api/v2/**", Status: 503}), dead: true},
		{name: "429 burst", inject: add(sandbox.Fault{Kind: sandbox.FaultThrottle, Path: "/api/v2/**", Count: 40})},
		{name: "dropped connections", inject: add(sandbox.Fault{Kind: sandbox.FaultDrop, Path: "/api/v2/**"}), dead: true},
		{name: "early token expiry", inject: add(sandbox.Fault{Kind: sandbox.FaultExpireTokens, Path: "/api/v2/**", Count: 4})},
		// The token endpoint refuses the refresh that the expiry forces.
		{name: "DCR 401 mid-flight", inject: add(
			sandbox.Fault{Kind: sandbox.FaultExpireTokens, Path: "/api/v2/**", Count: 1},
			sandbox.Fault{Kind: sandbox.FaultStatus, Path: "/o/client/token", Status: 401, Count: 3},
		)},
		// One spurious invalid_client: the gateway asks again before it
		// registers again (which would orphan every device's profile, v2
		// binding profiles to the client), so every device stays signed in.
		{name: "DCR invalid_client once", inject: add(
			sandbox.Fault{Kind: sandbox.FaultExpireTokens, Path: "/api/v2/**", Count: 1},
			sandbox.Fault{Kind: sandbox.FaultStatus, Path: "/o/client/token", Status: 400, Code: "invalid_client", Count: 1},
		)},
		{name: "slow clients holding connections", inject: holdSlowClients},
		{name: "oversized headers and bodies", inject: sendOversized},
		{name: "Redis down through the load", inject: redisDown, redis: true},
		{name: "Redis stopped and restarted mid-load", inject: redisBlink, redis: true},
		{name: "Redis frozen through the load", inject: redisFrozen, redis: true},
		{name: "connection flood from one address", inject: floodOneAddress, config: func(c *Config) {
			c.Connections.MaxPerAddress = faultFloodCap()
		}},
	}
}

// redisFrozen freezes Redis (SIGSTOP) before the load and thaws it
// (SIGCONT) once the load is over: its connections stay open and nothing is
// answered, as with a Redis host that hangs. Every call that needs shared
// state gets its v1 500 within the store's timeout (2 s), one bound for all
// the store work of the call, which the matrix's hang bound would catch
// were the timeout paid once per store operation.
func redisFrozen(t *testing.T, w *faultWorld) func() {
	return stallRedis(t, w.redis)
}

// faultFloodCap is connections.max_per_address in the flood row: room for
// the devices, which all call from 127.0.0.1, twice over (the client's
// kept-alive connections, the registration codes, the recovery) plus some.
// The flooding address opens three times as many connections, half idle
// and half sending half a request line, and holds them through the row.
func faultFloodCap() int { return 2**faultDevices + 20 }

// floodOneAddress floods the gateway's listener from 127.0.0.2 while the
// devices call from 127.0.0.1: the address holds its cap (until the
// server's header timeout closes them), the rest are reset at once.
func floodOneAddress(t *testing.T, w *faultWorld) func() {
	var conns []net.Conn
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	limit := faultFloodCap()
	for i := range 3 * limit {
		c, err := d.Dial("tcp", w.Addr)
		if errors.Is(err, syscall.ECONNRESET) {
			continue // refused at once
		}
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			_, _ = io.WriteString(c, "GET /api/v1/checkauthn?requestor=REF30 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		}
		conns = append(conns, c)
	}
	if got := held(conns); got != limit {
		t.Errorf("the flooding address holds %d connections, want its cap %d", got, limit)
	}
	return func() { closeAll(conns) }
}

// redisDown stops Redis before the load and starts it again, empty, once
// the load is over: every call that needs shared state meanwhile gets a v1
// 500 (action retry), and the gateway, never restarted, must reconnect by
// itself.
func redisDown(t *testing.T, w *faultWorld) func() {
	w.redis.Stop()
	return w.redis.Restart
}

// redisBlink stops Redis once a quarter of the row's fewest calls were
// answered and starts it again, empty, once half of them were and a device
// was told to retry since the stop, so that the gateway loses and regains
// its store while devices keep calling.
//
// Both happen while the call that triggers them is counted: no device
// starts a call meanwhile, so every call started after the stop finds
// Redis down. With two rounds or more, more calls remain than devices
// could have in flight at the stop, so some device sees the outage.
func redisBlink(t *testing.T, w *faultWorld) func() {
	var stopped, restarted bool
	retries := 0
	w.onAnswer = func(n int, r callResult) {
		switch {
		case !stopped && n >= w.minCalls/4:
			w.redis.Stop()
			stopped = true
		case stopped && !restarted:
			if !r.success && !r.hang && r.wrong == "" {
				retries++
			}
			if retries > 0 && n >= w.minCalls/2 {
				// A Redis that cannot start again fails the
				// test through the server's t.
				w.redis.Restart()
				restarted = true
			}
		}
	}
	return func() {
		w.onAnswer = nil
		if !restarted {
			w.redis.Restart()
		}
	}
}

// TestFaultMatrix runs device flows through each fault and checks that no
// answer is wrong, none hangs, and every device completes a flow once the
// fault clears.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("fault matrix skipped in -short mode")
	}
	var table []string
	for _, row := range faultRows() {
		t.Run(row.name, func(t *testing.T) {
			fig := runFaultRow(t, row)
			table = append(table, fmt.Sprintf("| %s | %d | %d (%d ok) | %d | %d | %d | %d → %d | %.1f | %v (%d calls) |",
				row.name, fig.Sent, fig.Correct, fig.Succeeded, fig.Wrong, fig.Hangs, fig.Upstream,
				fig.GoroutinesBefore, fig.GoroutinesAfter, fig.HeapAfterMiB, fig.Recovered, fig.RecoveryCalls))
			if fig.Wrong > 0 {
				t.Errorf("%d wrong answers: %s", fig.Wrong, strings.Join(fig.Wrongs, "; "))
			}
			if fig.Hangs > 0 {
				t.Errorf("%d answers took longer than %s", fig.Hangs, faultHang)
			}
			if !fig.Recovered {
				t.Errorf("devices did not complete their flows after the fault cleared")
			}
			if row.redis && fig.Succeeded == fig.Correct {
				t.Errorf("no device call failed while Redis was down: the row did not reach the store")
			}
			if row.dead && fig.Upstream > fig.Sent/2 {
				t.Errorf("%d upstream calls for %d device calls to a dead upstream: the breaker did not hold them back", fig.Upstream, fig.Sent)
			}
			if fig.GoroutinesAfter > fig.GoroutinesBefore+faultGoroutineSlack {
				t.Errorf("goroutines: %d before the fault, %d after recovery:\n%s", fig.GoroutinesBefore, fig.GoroutinesAfter, fig.Goroutines)
			}
		})
	}
	header := fmt.Sprintf("fault matrix (%d devices x %d rounds, upstream timeout %s, hang bound %s)\n\n"+
		"| fault | requests | correct | wrong | hangs | upstream calls | goroutines | heap MiB | recovered |\n"+
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n", *faultDevices, *faultRounds, faultUpstreamTimeout, faultHang)
	t.Log("\n" + header + strings.Join(table, "\n"))
	if *faultReport != "" {
		f, err := os.OpenFile(*faultReport, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fmt.Fprintf(f, "%s%s\n\n", header, strings.Join(table, "\n"))
	}
}

func runFaultRow(t *testing.T, row faultRow) rowFigures {
	opts := loopOptions{config: func(c *Config) {
		c.UpstreamTimeout = faultUpstreamTimeout
		c.UpstreamBreaker = BreakerConfig{Cooldown: faultBreakerCooldown}
		// The sandbox requestor with enhanced errors, so that every 500
		// says what the device should do.
		ref30 := sandboxRequestor("REF30", c.PublicURL)
		ref30.EnhancedErrors = true
		c.Requestors = []RequestorConfig{ref30}
	}}
	if row.config != nil {
		base := opts.config
		opts.config = func(c *Config) { base(c); row.config(c) }
	}
	var redis *redistest.Server
	if row.redis {
		redis = redistest.Start(t)
		st, err := redisstore.Open(redis.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		opts.store = st
	}
	w := &faultWorld{loopWorld: newLoopWorld(t, opts), redis: redis,
		minCalls: *faultDevices**faultRounds + *faultRounds*2}
	w.client.Timeout = faultHang
	ctx := t.Context()
	devices := make([]string, *faultDevices)
	for i := range devices {
		devices[i] = fmt.Sprintf("fault-dev-%d", i)
		if err := w.signIn(ctx, devices[i]); err != nil {
			t.Fatalf("sign-in before the fault: %v", err)
		}
	}
	closeIdleConnections(w.loopWorld)
	var fig rowFigures
	fig.GoroutinesBefore = runtime.NumGoroutine()

	var mu sync.Mutex
	tally := func(res []callResult) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range res {
			fig.Sent++
			if w.onAnswer != nil {
				w.onAnswer(fig.Sent, r)
			}
			switch {
			case r.hang:
				fig.Hangs++
			case r.wrong != "":
				fig.Wrong++
				if len(fig.Wrongs) < 5 {
					fig.Wrongs = append(fig.Wrongs, r.wrong)
				}
			default:
				fig.Correct++
				if r.success {
					fig.Succeeded++
				}
			}
		}
	}

	upBefore := w.up.count()
	clear := row.inject(t, w)
	var wg sync.WaitGroup
	for _, d := range devices {
		wg.Go(func() {
			for range *faultRounds {
				tally(deviceFlow(ctx, w.loopWorld, d))
			}
		})
	}
	// A device that is not signed in asks for registration codes.
	wg.Go(func() {
		for i := range *faultRounds * 2 {
			tally([]callResult{w.regcodeCall(ctx, fmt.Sprintf("fault-new-%d", i))})
		}
	})
	wg.Wait()
	clear()
	fig.Upstream = w.up.count() - upBefore

	// Recovery: each device must complete a whole flow. Calls refused
	// while the breaker still cools down, or while the store reconnects,
	// are retried, as devices do; a wrong answer or a hang on the way
	// counts as one.
	fig.Recovered = true
	for _, d := range devices {
		deadline := time.Now().Add(recoveryWait)
		ok := false
		for !ok && time.Now().Before(deadline) {
			res := deviceFlow(ctx, w.loopWorld, d)
			fig.RecoveryCalls += len(res)
			ok = true
			for _, r := range res {
				if !r.success {
					ok = false
				}
			}
			tallyRecovery(&fig, res)
			if !ok {
				time.Sleep(faultBreakerCooldown / 2)
			}
		}
		if !ok {
			fig.Recovered = false
		}
	}
	if r := w.regcodeCall(ctx, "fault-new-after"); !r.success {
		fig.Recovered = false
	}

	closeIdleConnections(w.loopWorld)
	fig.GoroutinesAfter = settledGoroutines(fig.GoroutinesBefore)
	if fig.GoroutinesAfter > fig.GoroutinesBefore+faultGoroutineSlack {
		buf := make([]byte, 1<<20)
		fig.Goroutines = string(buf[:runtime.Stack(buf, true)])
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fig.HeapAfterMiB = float64(ms.HeapAlloc) / (1 << 20)
	return fig
}

// tallyRecovery counts the wrong answers and hangs of calls made after the
// fault cleared; the other figures describe the fault itself.
func tallyRecovery(fig *rowFigures, res []callResult) {
	for _, r := range res {
		switch {
		case r.hang:
			fig.Hangs++
		case r.wrong != "":
			fig.Wrong++
			if len(fig.Wrongs) < 5 {
				fig.Wrongs = append(fig.Wrongs, "after the fault: "+r.wrong)
			}
		}
	}
}

// closeIdleConnections closes the keep-alive connections of the devices to
// the gateway and of the gateway to the sandbox before goroutines are
// counted: they are a pool, not a leak (three goroutines each on loopback,
// and the gateway keeps up to 256 for 90 s, some dialled under load and
// never used). It is called when no device call is pending, and every
// upstream call is bounded by the upstream timeout, so no call the gateway
// still owes an answer is cut.
func closeIdleConnections(w *loopWorld) {
	w.client.CloseIdleConnections()
	w.sandboxServer.CloseClientConnections()
}

// settledGoroutines waits (briefly) for goroutines of finished connections
// to exit and returns the count.
func settledGoroutines(target int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 200 && n > target; i++ {
		time.Sleep(25 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// callResult is the verdict on one device call.
type callResult struct {
	success bool   // the answer the call gives when nothing fails
	hang    bool   // no answer within faultHang
	wrong   string // why the answer is wrong; "" when it is right
}

// verdict judges an answer: success when it matches want, acceptable when
// it is the v1 answer to an upstream or store failure (500 with a v1 error
// body telling the device to retry, 429), wrong otherwise — a signed-in device told it is signed out, a
// malformed body, a success without the expected content.
func verdict(what string, r *reply, err error, want func(xmlDoc) bool) callResult {
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return callResult{hang: true}
		}
		return callResult{wrong: fmt.Sprintf("%s: transport error %v", what, err)}
	}
	switch r.Status {
	case http.StatusOK, http.StatusCreated:
		doc, perr := decodeXML(r.Body)
		if perr != nil || !want(doc) {
			return callResult{wrong: fmt.Sprintf("%s: %d %.200s", what, r.Status, r.Body)}
		}
		return callResult{success: true}
	case http.StatusInternalServerError:
		doc, perr := decodeXML(r.Body)
		if perr != nil || !doc.has("error") || first(doc, "action") != "retry" {
			return callResult{wrong: fmt.Sprintf("%s: 500 without a v1 error body with action retry: %.200s", what, r.Body)}
		}
		return callResult{}
	case http.StatusTooManyRequests:
		return callResult{}
	}
	return callResult{wrong: fmt.Sprintf("%s: %d %.200s", what, r.Status, r.Body)}
}

// deviceFlow is what a signed-in device does: checkauthn, authorize, media
// token. After a failure the flow stops, as a device's would.
func deviceFlow(ctx context.Context, w *loopWorld, device string) []callResult {
	steps := []struct {
		name string
		path string
		want func(xmlDoc) bool
	}{
		{"checkauthn", "/api/v1/checkauthn?" + deviceQuery(device), func(d xmlDoc) bool {
			return d.has("authentication") && first(d, "mvpd") == "AcmeCable"
		}},
		{"authorize", "/api/v1/authorize?" + deviceQuery(device, "resource", "news"), func(d xmlDoc) bool {
			return d.has("authorization") && first(d, "resource") == "news"
		}},
		{"tokens/media", "/api/v1/tokens/media?" + deviceQuery(device, "resource", "news"), func(d xmlDoc) bool {
			return d.has("play") && first(d, "resource") == "news" && first(d, "serializedToken") != ""
		}},
	}
	var out []callResult
	for _, s := range steps {
		r, err := w.send(ctx, http.MethodGet, s.path, nil, "")
		res := verdict(device+" "+s.name, r, err, s.want)
		out = append(out, res)
		if !res.success {
			break
		}
	}
	return out
}

// regcodeCall asks for a registration code for a new device.
func (w *loopWorld) regcodeCall(ctx context.Context, device string) callResult {
	r, err := w.send(ctx, http.MethodPost, "/reggie/v1/REF30/regcode", nil, "deviceId="+device)
	return verdict(device+" regcode", r, err, func(d xmlDoc) bool {
		return d.has("regcode") && first(d, "code") != ""
	})
}

func first(d xmlDoc, name string) string {
	if v := d.texts[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// holdSlowClients opens connections that send half a request and then
// nothing, plus connections that promise a body and trickle it, for the
// duration of the row.
func holdSlowClients(t *testing.T, w *faultWorld) func() {
	var conns []net.Conn
	for i := range 40 {
		c, err := net.Dial("tcp", w.Addr)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			io.WriteString(c, "GET /api/v1/checkauthn?requestor=REF30 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		} else {
			io.WriteString(c, "POST /reggie/v1/REF30/regcode HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\ndeviceId=")
		}
		conns = append(conns, c)
	}
	return func() {
		for _, c := range conns {
			c.Close()
		}
	}
}

// sendOversized keeps sending oversized requests (huge headers, huge
// bodies) on the side for the duration of the row; each must be refused
// with 431 or 400.
func sendOversized(t *testing.T, w *faultWorld) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var bad []string
	var mu sync.Mutex
	for i := range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				var r *reply
				var err error
				want := http.StatusRequestHeaderFieldsTooLarge
				if i%2 == 0 {
					r, err = w.send(ctx, http.MethodGet, "/api/v1/checkauthn?"+deviceQuery("big"), http.Header{"X-Pad": {strings.Repeat("h", 200<<10)}}, "")
				} else {
					want = http.StatusBadRequest
					r, err = w.send(ctx, http.MethodPost, "/reggie/v1/REF30/regcode", nil, "deviceId=big&pad="+strings.Repeat("b", 1<<20))
				}
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				if err != nil {
					bad = append(bad, err.Error())
				} else if r.Status != want {
					bad = append(bad, fmt.Sprintf("status %d, want %d", r.Status, want))
				}
				mu.Unlock()
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
		if len(bad) > 0 {
			t.Errorf("oversized requests not refused: %d, first %s", len(bad), bad[0])
		}
	}
}
