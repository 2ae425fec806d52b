package compat

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passgw/passgw/compat/golden"
)

const configXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><config><requestor>REF30</requestor><mvpds><mvpd><id>AcmeCable</id><displayName>Acme Cable</displayName></mvpd></mvpds></config>`

// TestShadow proves shadow mode answers every call from v1, replays only
// read-only calls through translate, counts matches and differences per
// endpoint (volatile values ignored), and writes each differing pair, with
// credentials redacted, as a reviewable case.
func TestShadow(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Adobe-Request-Id", "v1-req")
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v1/config/"):
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			io.WriteString(w, configXML)
		case r.URL.Path == "/api/v1/tokens/authn":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, `{"requestor":"REF30","mvpd":"AcmeCable","userId":"u1","expires":"1772532000000"}`)
		default:
			w.WriteHeader(204)
		}
	})
	tr := &fakeTranslate{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Adobe-Request-Id", "gw-req")
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v1/config/"):
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			body := configXML
			if r.URL.Query().Get("seed") == "diff" {
				body = strings.Replace(body, "Acme Cable", "Acme", 1)
			}
			io.WriteString(w, body)
		case r.URL.Path == "/api/v1/tokens/authn":
			// Only the expiry (volatile, ignored) differs.
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, `{"requestor":"REF30","mvpd":"AcmeCable","userId":"u1","expires":"1772539999999"}`)
		default:
			t.Errorf("translate got state-changing %s %s", r.Method, r.URL.Path)
		}
	}}
	dir := t.TempDir()
	sh := &Shadow{Record: DiffDir(dir).Record, Now: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }}
	var mu sync.Mutex
	var told []string
	sh.Compared = func(ep string, match bool) {
		mu.Lock()
		defer mu.Unlock()
		if !match {
			told = append(told, ep)
		}
	}
	rt := &Router{Translate: tr, Shadow: sh, Policy: onePolicy("REF30", Policy{Mode: ModeShadow, Upstream: v1.url(t)})}

	calls := []struct{ method, target, body string }{
		{"GET", "/api/v1/config/REF30", ""},
		{"GET", "/api/v1/config/REF30?seed=diff&access_token=SECRET1", ""},
		{"POST", "/api/v1/config/REF30?seed=diff", "format=xml&access_token=SECRET2"},
		{"GET", "/api/v1/tokens/authn?requestor=REF30&deviceId=d", ""},
		// State-changing: v1 only.
		{"POST", "/reggie/v1/REF30/regcode", "deviceId=d"},
		{"DELETE", "/reggie/v1/REF30/regcode/ABC", ""},
		{"GET", "/api/v1/authenticate?requestor_id=REF30&reg_code=ABC", ""},
		{"GET", "/api/v1/authorize?requestor=REF30&deviceId=d&resource=r", ""},
		{"GET", "/api/v1/tokens/media?requestor=REF30&deviceId=d&resource=r", ""},
		{"POST", "/api/v1/authenticate/freepreview", "requestor_id=REF30&deviceId=d&mso_id=TP"},
		{"DELETE", "/api/v1/logout?requestor=REF30&deviceId=d", ""},
	}
	for _, c := range calls {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", "Bearer SECRET3")
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if w.Header().Get("Adobe-Request-Id") != "v1-req" {
			t.Errorf("%s %s: the device did not get v1's answer", c.method, c.target)
		}
	}
	sh.Wait()

	if got := len(v1.Calls()); got != len(calls) {
		t.Errorf("v1 got %d calls, want each of the %d once", got, len(calls))
	}
	wantTranslated := []string{
		"GET /api/v1/config/REF30 ",
		"GET /api/v1/config/REF30?seed=diff&access_token=SECRET1 ",
		"GET /api/v1/tokens/authn?requestor=REF30&deviceId=d ",
		"POST /api/v1/config/REF30?seed=diff format=xml&access_token=SECRET2",
	}
	if diff := cmp.Diff(wantTranslated, sortedCopy(tr.Calls())); diff != "" {
		t.Errorf("translate calls (-want +got):\n%s", diff)
	}
	want := map[string]ShadowCount{
		"GET /api/v1/config/{requestor}":  {Match: 1, Differ: 1},
		"POST /api/v1/config/{requestor}": {Differ: 1},
		"GET /api/v1/tokens/authn":        {Match: 1},
	}
	if diff := cmp.Diff(want, sh.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if len(told) != 2 {
		t.Errorf("Compared told of %d differences, want 2", len(told))
	}

	files, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if len(files) != 2 {
		t.Fatalf("%d difference files, want 2", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "SECRET") {
			t.Errorf("%s holds a credential:\n%s", f, data)
		}
		c, err := golden.ParseCase(filepath.Base(f), data)
		if err != nil {
			t.Fatal(err)
		}
		if c.Response.Status != 200 || !strings.Contains(string(c.Response.Body), "Acme Cable") {
			t.Errorf("%s: response is not v1's answer: %s", f, c.Response.Format())
		}
		var sections []string
		for _, x := range c.Extra {
			sections = append(sections, x.Name)
			if x.Name == SectionDiff && !strings.Contains(string(x.Data), `-/config/mvpds/mvpd/displayName = "Acme Cable"`) {
				t.Errorf("%s: diff does not name the change:\n%s", f, x.Data)
			}
		}
		if !cmp.Equal(sections, []string{SectionTranslate, SectionDiff}) {
			t.Errorf("%s: sections %v", f, sections)
		}
		if !strings.HasPrefix(c.Comment, "Shadow difference on ") || c.Request.Header.Get("Authorization") != redacted {
			t.Errorf("%s: comment %q, Authorization %q", f, c.Comment, c.Request.Header.Get("Authorization"))
		}
	}
}

// TestShadowBounded proves a call arriving while every comparison slot is
// busy is answered from v1 and counted as skipped, never queued.
func TestShadowBounded(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "v1")
	})
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	tr := &fakeTranslate{serve: func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "v1")
	}}
	var skipped []string
	sh := &Shadow{Concurrency: 1, Skipped: func(endpoint string) { skipped = append(skipped, endpoint) }}
	rt := &Router{Translate: tr, Shadow: sh, Policy: onePolicy("REF30", Policy{Mode: ModeShadow, Upstream: v1.url(t)})}
	do := func() string {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d", nil))
		return w.Body.String()
	}
	if do() != "v1" {
		t.Fatal("first call not answered from v1")
	}
	<-started // the only slot is taken
	if do() != "v1" {
		t.Fatal("second call not answered from v1")
	}
	close(release)
	sh.Wait()
	want := map[string]ShadowCount{"GET /api/v1/checkauthn": {Match: 1, Skipped: 1}}
	if diff := cmp.Diff(want, sh.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if !slices.Equal(skipped, []string{"GET /api/v1/checkauthn"}) {
		t.Errorf("Skipped told of %q, want the second call's route", skipped)
	}
}

// TestShadowFailed: a translated call that gives no answer within Timeout
// counts as failed, and Failed is told of its route; nothing is compared.
func TestShadowFailed(t *testing.T) {
	v1 := newFakeV1(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "v1")
	})
	tr := &fakeTranslate{serve: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }}
	var failed []string
	compared := 0
	sh := &Shadow{Timeout: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		Failed:   func(endpoint string) { failed = append(failed, endpoint) },
		Compared: func(string, bool) { compared++ }}
	rt := &Router{Translate: tr, Shadow: sh, Policy: onePolicy("REF30", Policy{Mode: ModeShadow, Upstream: v1.url(t)})}
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d", nil))
	if w.Body.String() != "v1" {
		t.Fatalf("answered %q, want v1's answer", w.Body)
	}
	sh.Wait()
	want := map[string]ShadowCount{"GET /api/v1/checkauthn": {Failed: 1}}
	if diff := cmp.Diff(want, sh.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if !slices.Equal(failed, []string{"GET /api/v1/checkauthn"}) || compared != 0 {
		t.Errorf("Failed told of %q, Compared %d times; want the call's route, and no comparison", failed, compared)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
