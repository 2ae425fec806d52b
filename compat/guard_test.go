package compat

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
)

// switches records what a Guard told its Switched hook.
type switches struct {
	mu  sync.Mutex
	got []string
}

func (s *switches) record(requestor string, fallback bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	to := "v1"
	if fallback {
		to = "translate"
	}
	s.got = append(s.got, requestor+"->"+to)
}

func (s *switches) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// deviceCall sends one checkauthn of device d through rt and returns the
// status and body.
func deviceCall(rt http.Handler, d string) (int, string) {
	r := httptest.NewRequest("GET", "/api/v1/checkauthn?requestor=REF30&deviceId="+d, nil)
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// closedURL is the URL of a server that no longer listens: connections
// are refused.
func closedURL(t *testing.T) *url.URL {
	dead := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(dead.URL)
	dead.Close()
	return u
}

// TestGuardDiverts proves that, in every mode that reaches v1, a v1 that
// stops answering in each way a decommissioned service does (refused
// connections, 5xx, 404 and 410 pages) diverts the requestor to translate
// once MinCalls calls were counted: from then on every call is answered
// through translate (no 502), v1 gets nothing more, and the switch is
// logged at error level, told to Switched once and listed by Status.
func TestGuardDiverts(t *testing.T) {
	failures := map[string]http.HandlerFunc{
		"503": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
		},
		"404 page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "<html><body><h1>Not Found</h1></body></html>")
		},
		"410 page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusGone)
			io.WriteString(w, "This service has been retired.")
		},
		"404 JSON not v1": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"no route"}`)
		},
		"refused": nil,
	}
	const minCalls = 6
	for name, answer := range failures {
		for _, mode := range []Mode{ModePassthrough, ModeShadow, ModeCanary} {
			t.Run(name+"/"+string(mode), func(t *testing.T) {
				var upstream *url.URL
				var v1 *fakeV1
				if answer == nil {
					upstream = closedURL(t)
				} else {
					v1 = newFakeV1(t, answer)
					upstream = v1.url(t)
				}
				logger, logs := testenv.DebugLogger(t)
				sw := &switches{}
				clock := testenv.NewClock(time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC))
				tr := &fakeTranslate{}
				shadow := &Shadow{}
				rt := &Router{
					Translate: tr,
					Policy:    onePolicy("REF30", Policy{Requestor: "REF30", Mode: mode, Upstream: upstream}),
					Shadow:    shadow,
					Guard:     &Guard{MinCalls: minCalls, Switched: sw.record, Now: clock.Now, Logger: logger},
					Logger:    logger,
				}
				for i := range minCalls {
					if code, _ := deviceCall(rt, "dev"); code < 400 {
						t.Fatalf("call %d: %d before the switch, want v1's failure", i, code)
					}
					clock.Advance(time.Second)
				}
				if got := sw.list(); len(got) != 1 || got[0] != "REF30->translate" {
					t.Fatalf("switches %v, want [REF30->translate]", got)
				}
				var before int
				if v1 != nil {
					before = len(v1.Calls())
				}
				for i := range 20 {
					code, body := deviceCall(rt, "dev")
					if code != 200 || body != "translated" {
						t.Fatalf("call %d after the switch: %d %q, want translate's answer", i, code, body)
					}
				}
				if v1 != nil && len(v1.Calls()) != before {
					t.Errorf("v1 got %d calls after the switch", len(v1.Calls())-before)
				}
				if n := len(tr.Calls()); n != 20 {
					t.Errorf("translate got %d calls, want 20", n)
				}
				shadow.Wait()
				if c := shadow.Counts(); len(c) != 0 {
					t.Errorf("shadow compared with a failing v1: %+v", c)
				}
				if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "requestor=REF30") ||
					!strings.Contains(logs.String(), "the v1 upstream stopped answering") {
					t.Errorf("no error line naming the requestor:\n%s", logs)
				}
				st := rt.Guard.Status()
				if len(st) != 1 || st[0].Requestor != "REF30" || !st[0].Since.Equal(clock.Now().Add(-time.Second)) {
					t.Errorf("Status %+v", st)
				}
			})
		}
	}
}

// TestGuardKeepsV1Answers proves answers of a live v1 divert nothing:
// v1 error bodies with 404 and 410 (unknown codes, expired sign-ins) in
// either format, 403s and 200s, however many.
func TestGuardKeepsV1Answers(t *testing.T) {
	answers := []struct {
		status      int
		ctype, body string
	}{
		{404, "application/xml; charset=utf-8", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><error><status>404</status><message>Not found</message></error>`},
		{404, "application/json", `{"status":404,"message":"Not Found"}`},
		{410, "application/xml", `<error><status>410</status><message>Gone</message></error>`},
		{403, "application/json", `{"status":403,"message":"User not authenticated"}`},
		{200, "application/xml", `<authentication/>`},
	}
	var n atomic.Int64
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {
		a := answers[int(n.Add(1))%len(answers)]
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	})
	sw := &switches{}
	rt := &Router{
		Translate: &fakeTranslate{},
		Policy:    onePolicy("REF30", Policy{Requestor: "REF30", Mode: ModePassthrough, Upstream: v1.url(t)}),
		Guard:     &Guard{MinCalls: 5, Share: 0.2, Switched: sw.record},
	}
	for range 50 {
		if _, body := deviceCall(rt, "dev"); body == "translated" {
			t.Fatal("a live v1 was diverted")
		}
	}
	if got := sw.list(); len(got) != 0 {
		t.Errorf("switches %v, want none", got)
	}
}

// TestGuardShareAndWindow proves the thresholds: failures under the share
// divert nothing, nor do failures spread over more than the window, nor
// fewer calls than MinCalls; failures at the share within the window do.
func TestGuardShareAndWindow(t *testing.T) {
	tests := []struct {
		name    string
		pattern string // one call per letter: f fails, o answers
		step    time.Duration
		divert  bool
	}{
		{"under the share", "foofoofoofoofoofoo", time.Second, false},
		{"at the share", "fofofofofo", time.Second, true},
		{"spread beyond the window", "ffffffffff", 20 * time.Second, false},
		{"fewer calls than MinCalls", "fffffffff", time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fail atomic.Bool
			v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {
				if fail.Load() {
					w.WriteHeader(http.StatusBadGateway)
				}
			})
			clock := testenv.NewClock(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
			g := &Guard{Window: time.Minute, Share: 0.5, MinCalls: 10, Now: clock.Now}
			rt := &Router{
				Translate: &fakeTranslate{},
				Policy:    onePolicy("REF30", Policy{Requestor: "REF30", Mode: ModePassthrough, Upstream: v1.url(t)}),
				Guard:     g,
			}
			for _, c := range tt.pattern {
				fail.Store(c == 'f')
				deviceCall(rt, "dev")
				clock.Advance(tt.step)
			}
			if got := len(g.Status()) == 1; got != tt.divert {
				t.Errorf("diverted %v, want %v", got, tt.divert)
			}
		})
	}
}

// TestGuardRecheck proves how a diverted requestor comes back: when not
// sticky, once v1 answers again a recheck (after Recheck, in the
// background, one GET of the requestor's configuration) sends it back;
// when sticky it stays on translate until Release.
func TestGuardRecheck(t *testing.T) {
	for _, sticky := range []bool{false, true} {
		t.Run(map[bool]string{false: "recheck", true: "sticky"}[sticky], func(t *testing.T) {
			var down atomic.Bool
			down.Store(true)
			v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {
				if down.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				io.WriteString(w, "v1")
			})
			clock := testenv.NewClock(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
			sw := &switches{}
			g := &Guard{MinCalls: 3, Recheck: time.Minute, Sticky: sticky, Switched: sw.record, Now: clock.Now}
			rt := &Router{
				Translate: &fakeTranslate{},
				Policy:    onePolicy("REF30", Policy{Requestor: "REF30", Mode: ModePassthrough, Upstream: v1.url(t)}),
				Guard:     g,
			}
			for range 3 {
				deviceCall(rt, "dev")
			}
			if len(g.Status()) != 1 {
				t.Fatal("not diverted")
			}
			down.Store(false)
			calls := len(v1.Calls())
			deviceCall(rt, "dev") // before Recheck: no recheck
			clock.Advance(time.Minute)
			if _, body := deviceCall(rt, "dev"); body != "translated" {
				t.Fatalf("the call that starts a recheck got %q, want translate's answer", body)
			}
			if sticky {
				time.Sleep(50 * time.Millisecond)
				if n := len(v1.Calls()); n != calls {
					t.Errorf("a sticky guard asked v1 %d times", n-calls)
				}
				if _, body := deviceCall(rt, "dev"); body != "translated" {
					t.Fatalf("sticky: %q after v1 came back, want translate", body)
				}
				if !g.Release("REF30", "released by an operator") {
					t.Fatal("Release of a diverted requestor reported false")
				}
			} else {
				deadline := time.Now().Add(5 * time.Second)
				for len(g.Status()) != 0 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				got := v1.Calls()
				if len(got) != calls+1 || got[calls].method != "GET" || got[calls].uri != "/api/v1/config/REF30" {
					t.Fatalf("v1 got %+v after the switch, want one GET /api/v1/config/REF30", got[calls:])
				}
			}
			if _, body := deviceCall(rt, "dev"); body != "v1" {
				t.Errorf("back: %q, want v1's answer", body)
			}
			if got := sw.list(); len(got) != 2 || got[1] != "REF30->v1" {
				t.Errorf("switches %v, want translate then v1", got)
			}
			if g.Release("REF30", "released by an operator") {
				t.Error("Release of a requestor not diverted reported true")
			}
		})
	}
}

// TestGuardPerRequestor proves one requestor's dead v1 diverts it alone.
func TestGuardPerRequestor(t *testing.T) {
	live := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "v1") })
	dead := closedURL(t)
	g := &Guard{MinCalls: 3}
	rt := &Router{
		Translate: &fakeTranslate{},
		Policy: func(r string) Policy {
			if r == "DEAD" {
				return Policy{Requestor: r, Mode: ModePassthrough, Upstream: dead}
			}
			return Policy{Requestor: r, Mode: ModePassthrough, Upstream: live.url(t)}
		},
		Guard: g,
	}
	call := func(req string) string {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/config/"+req, nil))
		return w.Body.String()
	}
	for range 5 {
		call("DEAD")
		call("LIVE")
	}
	if call("DEAD") != "translated" || call("LIVE") != "v1" {
		t.Errorf("DEAD %q, LIVE %q", call("DEAD"), call("LIVE"))
	}
	if st := g.Status(); len(st) != 1 || st[0].Requestor != "DEAD" {
		t.Errorf("Status %+v", st)
	}
}

// TestGuardContinue proves a Guard built for a new configuration takes
// over its predecessor's memory: a diverted requestor stays diverted, and
// counts go on while the window is the same and restart when it changed.
func TestGuardContinue(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
	prev := &Guard{MinCalls: 2, Now: clock.Now}
	prev.observe("GONE", "v1", true)
	prev.observe("GONE", "v1", true)
	prev.observe("HALF", "v1", true)

	same := &Guard{MinCalls: 2, Now: clock.Now}
	same.Continue(prev)
	if d, _ := same.divert("GONE"); !d {
		t.Error("a diverted requestor is no longer diverted after Continue")
	}
	same.observe("HALF", "v1", true)
	if st := same.Status(); len(st) != 2 {
		t.Errorf("counts did not go on: %+v", st)
	}

	other := &Guard{MinCalls: 2, Window: 5 * time.Minute, Now: clock.Now}
	other.Continue(same)
	other.Release("HALF", "test")
	other.observe("HALF", "v1", true)
	if d, _ := other.divert("HALF"); d {
		t.Error("counts survived a change of window")
	}
	if d, _ := other.divert("GONE"); !d {
		t.Error("a change of window released a diverted requestor")
	}
}
