package golden

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustCase(t *testing.T, name, text string) *Case {
	t.Helper()
	c, err := ParseCase(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReplayServer proves the stand-in v1 upstream matches method, path, query
// in any order and form body, lets {{name}} match anything, answers cases
// asked twice in order, writes its own URL for {{gateway}}, and answers an
// unmatched request 404 while logging it.
func TestReplayServer(t *testing.T) {
	cases := []*Case{
		mustCase(t, "a", "-- request --\nGET /api/v1/checkauthn?requestor=REF30&deviceId=d1 HTTP/1.1\n\n-- response --\nHTTP/1.1 401 Unauthorized\nContent-Type: application/xml\n\n<error/>\n"),
		mustCase(t, "b", "-- request --\nGET /api/v1/checkauthn?requestor=REF30&deviceId=d1 HTTP/1.1\n\n-- response --\nHTTP/1.1 200 OK\nContent-Type: application/xml\n\n<ok/>\n"),
		mustCase(t, "c", "-- request --\nPOST /reggie/v1/REF30/regcode HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\ndeviceId=d1&ttl=60\n-- response --\nHTTP/1.1 201 Created\nContent-Type: application/json\n\n{\"code\":\"C1\"}\n"),
		mustCase(t, "d", "-- request --\nGET /api/v1/authenticate?reg_code={{code}}&redirect_url={{gateway}}%2Fdone HTTP/1.1\n\n-- response --\nHTTP/1.1 302 Found\nLocation: {{gateway}}/mvpd\n\n"),
		mustCase(t, "e", "-- request --\nGET /not/recorded/yet HTTP/1.1\n\n"),
	}
	var logs strings.Builder
	rp := NewReplay(cases, slog.New(slog.NewTextHandler(&logs, nil)))
	srv := httptest.NewServer(rp)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, target, body string) (int, string, string) {
		req, _ := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	tests := []struct {
		method, target, body string
		status               int
		location, respBody   string
	}{
		{"GET", "/api/v1/checkauthn?deviceId=d1&requestor=REF30", "", 401, "", "<error/>"},
		{"GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d1", "", 200, "", "<ok/>"},
		{"GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d1", "", 200, "", "<ok/>"},
		{"POST", "/reggie/v1/REF30/regcode", "ttl=60&deviceId=d1", 201, "", `{"code":"C1"}`},
		{"POST", "/reggie/v1/REF30/regcode", "ttl=60&deviceId=d2", 404, "", ""},
		{"GET", "/api/v1/authenticate?reg_code=XYZ&redirect_url=http%3A%2F%2Fapp%2Fdone", "", 302, srv.URL + "/mvpd", ""},
		{"GET", "/api/v1/checkauthn?requestor=REF30&deviceId=d1&extra=1", "", 404, "", ""},
		{"GET", "/not/recorded/yet", "", 404, "", ""},
	}
	for i, tt := range tests {
		status, loc, body := do(tt.method, tt.target, tt.body)
		if status != tt.status || loc != tt.location || (tt.status != 404 && body != tt.respBody) {
			t.Errorf("%d: %s %s: got %d %q %q, want %d %q %q", i, tt.method, tt.target, status, loc, body, tt.status, tt.location, tt.respBody)
		}
	}
	var got []string
	for _, h := range rp.Hits() {
		got = append(got, h.Case)
	}
	if diff := cmp.Diff([]string{"a", "b", "b", "c", "", "d", "", ""}, got); diff != "" {
		t.Errorf("hit log cases (-want +got):\n%s", diff)
	}
	if n := strings.Count(logs.String(), "no recorded case matches"); n != 3 {
		t.Errorf("%d log lines for unmatched requests, want 3:\n%s", n, logs.String())
	}
}

// TestRunner plays a scenario against a live fake target: the registration
// code feeds later requests and is written back as {{code1}}, the
// target's URL is written back as {{gateway}}, default headers are added, a recorded answer that differs
// gets a diff, and a clock section without a clock skips the rest.
func TestRunner(t *testing.T) {
	var gotXFF []string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotXFF = append(gotXFF, r.Header.Get("X-Forwarded-For"))
		switch {
		case r.Method == "POST":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			io.WriteString(w, `{"code":"ZX81"}`)
		case r.URL.Path == "/reggie/v1/REF30/regcode/ZX81":
			w.Header().Set("Location", "http://"+r.Host+"/next")
			w.WriteHeader(302)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"n":1}`)
		}
	}))
	defer target.Close()
	files := map[string]string{
		"01-create.txtar": "-- request --\nPOST /reggie/v1/REF30/regcode HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\ndeviceId=d\n-- response --\nHTTP/1.1 201 Created\nContent-Type: application/json\n\n{\"code\":\"{{code1}}\"}\n",
		"02-get.txtar":    "-- request --\nGET /reggie/v1/REF30/regcode/{{code}} HTTP/1.1\nX-Forwarded-For: 198.51.100.2\n\n-- response --\nHTTP/1.1 302 Found\nLocation: {{gateway}}/next\n\n",
		"03-diff.txtar":   "-- request --\nGET /x HTTP/1.1\n\n-- response --\nHTTP/1.1 200 OK\nContent-Type: application/json\n\n{\"n\":2}\n",
		"04-clock.txtar":  "-- clock --\n+25h\n-- request --\nGET /y HTTP/1.1\n\n-- response --\nHTTP/1.1 200 OK\nContent-Type: application/json\n\n{\"n\":1}\n",
		"05-after.txtar":  "-- request --\nGET /z HTTP/1.1\n\n",
	}
	sc := writeScenario(t, files)
	rn := &Runner{Target: target.URL, Header: http.Header{"X-Forwarded-For": {"203.0.113.7"}}}
	res := rn.Run(context.Background(), sc)
	var summary []string
	for _, r := range res {
		s := filepath.Base(r.Step.Path) + ":"
		switch {
		case r.Err != nil:
			s += " error " + r.Err.Error()
		case r.Skipped != "":
			s += " skipped"
		case r.Diff != "":
			s += " differs"
		default:
			s += " ok"
		}
		summary = append(summary, s)
	}
	want := []string{"01-create.txtar: ok", "02-get.txtar: ok", "03-diff.txtar: differs", "04-clock.txtar: skipped", "05-after.txtar: skipped"}
	if diff := cmp.Diff(want, summary); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if d := res[2].Diff; !strings.Contains(d, "-$.n number 2\n+$.n number 1\n") {
		t.Errorf("diff of 03:\n%s", d)
	}
	if !strings.Contains(res[3].Skipped, "clock") || !strings.Contains(res[4].Skipped, "earlier step was skipped") {
		t.Errorf("skip reasons: %q, %q", res[3].Skipped, res[4].Skipped)
	}
	if diff := cmp.Diff([]string{"203.0.113.7", "198.51.100.2", "203.0.113.7"}, gotXFF); diff != "" {
		t.Errorf("X-Forwarded-For the target got (-want +got):\n%s", diff)
	}

	// With a clock, the step runs after the clock moved.
	var moved time.Duration
	rn.Clock = func(_ context.Context, d time.Duration) error { moved = d; return nil }
	res = rn.Run(context.Background(), sc)
	if res[3].Skipped != "" || res[3].Diff != "" || moved != 25*time.Hour {
		t.Errorf("04 with a clock: skipped %q, diff %q, clock moved %v", res[3].Skipped, res[3].Diff, moved)
	}
	if res[4].Diff != "(no recorded response)\n" {
		t.Errorf("05 without a response: diff %q", res[4].Diff)
	}
}

// TestReplayCodes proves a recorded {{codeN}} is answered as a stand-in
// code of the shape v2 issues, the same for the same N in every answer, so
// a device reads back a code it can send on.
func TestReplayCodes(t *testing.T) {
	rp := NewReplay([]*Case{
		mustCase(t, "reg", "-- request --\nPOST /reggie/v1/REF30/regcode HTTP/1.1\n\n-- response --\nHTTP/1.1 201 Created\nContent-Type: application/json\n\n{\"code\":\"{{code2}}\"}\n"),
		mustCase(t, "auth", "-- request --\nGET /api/v1/authenticate?reg_code={{code}} HTTP/1.1\n\n-- response --\nHTTP/1.1 302 Found\nLocation: {{gateway}}/login/{{code2}}\n\n"),
	}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(rp)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(srv.URL+"/reggie/v1/REF30/regcode", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"code":"` + ReplayCode(2) + `"}`; string(b) != want {
		t.Errorf("regcode answer %s, want %s", b, want)
	}
	resp, err = client.Get(srv.URL + "/api/v1/authenticate?reg_code=" + ReplayCode(2))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get("Location"), srv.URL+"/login/"+ReplayCode(2); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if c := ReplayCode(2); len(c) != 7 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		t.Errorf("stand-in code %q is not 7 characters of [A-Z0-9]", c)
	}
}
