package golden

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeScenario writes the named case texts into a fresh directory and
// loads it as one scenario.
func writeScenario(t *testing.T, files map[string]string) Scenario {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scenarios, err := LoadScenarios(dir)
	if err != nil || len(scenarios) != 1 {
		t.Fatalf("LoadScenarios: %d, %v", len(scenarios), err)
	}
	return scenarios[0]
}

// sleeps records the waits of a Runner instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

// throttlingTarget answers 429 to the first n calls of each path listed in
// limits (with Retry-After when retryAfter is set), then passes the call to
// next.
func throttlingTarget(limits map[string]int, retryAfter string, next http.HandlerFunc) *httptest.Server {
	var mu sync.Mutex
	seen := map[string]int{}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		throttle := seen[r.URL.Path] <= limits[r.URL.Path]
		mu.Unlock()
		if throttle {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, "<html>429 Too Many Requests</html>")
			return
		}
		next(w, r)
	}))
}

// TestRunnerThrottled proves a 429 is waited out as Adobe tells clients
// (at least 1 s, longer when Retry-After says so) and the request sent
// again; it is taken as the answer only by a case that expects it, and a
// request still throttled after the attempts is an error, never an answer.
func TestRunnerThrottled(t *testing.T) {
	target := throttlingTarget(map[string]int{"/a": 2, "/b": 1, "/expects": 1, "/never": 100}, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	})
	defer target.Close()
	sc := writeScenario(t, map[string]string{
		"01-a.txtar":       "-- request --\nGET /a HTTP/1.1\n\n",
		"02-b.txtar":       "-- request --\nGET /b HTTP/1.1\n\n-- response --\nHTTP/1.1 200 OK\nContent-Type: application/json\n\n{\"path\":\"/b\"}\n",
		"03-expects.txtar": "-- request --\nGET /expects HTTP/1.1\n\n-- response --\nHTTP/1.1 429 Too Many Requests\nContent-Type: text/html\n\n<html>429 Too Many Requests</html>\n",
		"04-never.txtar":   "-- request --\nGET /never HTTP/1.1\n\n",
		"05-after.txtar":   "-- request --\nGET /a HTTP/1.1\n\n",
	})
	var waits sleeps
	rn := &Runner{Target: target.URL, Attempts: 4, Sleep: waits.sleep}
	res := rn.Run(context.Background(), sc)
	if res[0].Err != nil || res[0].Got.Status != 200 || res[0].Throttled != 2 || !strings.Contains(string(res[0].Got.Body), `"/a"`) {
		t.Errorf("01: %v, status %d, throttled %d, %s", res[0].Err, res[0].Got.Status, res[0].Throttled, res[0].Got.Body)
	}
	if res[1].Err != nil || res[1].Diff != "" || res[1].Throttled != 1 {
		t.Errorf("02: %v, throttled %d, diff %s", res[1].Err, res[1].Throttled, res[1].Diff)
	}
	if res[2].Err != nil || res[2].Diff != "" || res[2].Throttled != 0 || res[2].Got.Status != 429 {
		t.Errorf("03 expects a 429: %v, status %d, throttled %d, diff %s", res[2].Err, res[2].Got.Status, res[2].Throttled, res[2].Diff)
	}
	if !errors.Is(res[3].Err, ErrThrottled) || res[3].Got.Status != 0 || res[3].Throttled != 4 {
		t.Errorf("04 never lets up: %v, status %d, throttled %d", res[3].Err, res[3].Got.Status, res[3].Throttled)
	}
	if !strings.Contains(res[4].Skipped, "04-never.txtar") {
		t.Errorf("05 after a failed step: %q", res[4].Skipped)
	}
	// Two waits for /a, one for /b, three between the four tries of /never.
	want := []time.Duration{time.Second, time.Second, time.Second, time.Second, time.Second, time.Second}
	if diff := cmp.Diff(want, waits.d); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

// TestRunnerRetryAfter proves a longer Retry-After is honoured, in seconds
// or as a date, and capped; a shorter one still waits the second.
func TestRunnerRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		retryAfter string
		want, max  time.Duration // max zero: want + 1s
	}{
		{"3", 3 * time.Second, 0},
		{"0", time.Second, 0},
		{"3600", MaxThrottleWait, 0},
		{"soon", time.Second, 0},
		// A date 10 s ahead at the format's one-second resolution (9-10 s
		// ahead), read by the runner up to a second later on a loaded
		// machine.
		{time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat), 8 * time.Second, 10 * time.Second},
	} {
		if tt.max == 0 {
			tt.max = tt.want + time.Second
		}
		target := throttlingTarget(map[string]int{"/a": 1}, tt.retryAfter, func(w http.ResponseWriter, r *http.Request) {})
		var waits sleeps
		rn := &Runner{Target: target.URL, Sleep: waits.sleep}
		res := rn.Run(context.Background(), writeScenario(t, map[string]string{"01.txtar": "-- request --\nGET /a HTTP/1.1\n\n"}))
		target.Close()
		if res[0].Err != nil || len(waits.d) != 1 || waits.d[0] < tt.want || waits.d[0] > tt.max {
			t.Errorf("Retry-After %q: %v, waits %v, want %v", tt.retryAfter, res[0].Err, waits.d, tt.want)
		}
	}
}

// TestRunnerPlaceholders proves every value the scenario captured is
// written back as its placeholder wherever it appears in an answer,
// headers included: each registration code as {{codeN}} (never inside a
// longer word), the target's URL, and the v2 service's URL learned from
// the authenticate redirect; so the same scenario against two targets
// records the same answers.
func TestRunnerPlaceholders(t *testing.T) {
	record := func(codes []string) []Response {
		upstream := httptest.NewServer(http.NotFoundHandler())
		defer upstream.Close()
		n := 0
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPost:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(201)
				fmt.Fprintf(w, `{"code":%q}`, codes[n])
				n++
			case r.URL.Path == "/api/v1/authenticate":
				code := r.URL.Query().Get("reg_code")
				w.Header().Set("Location", upstream.URL+"/api/v2/authenticate/REF30/"+code+"?back="+
					url.QueryEscape(r.URL.Query().Get("redirect_url")))
				w.WriteHeader(302)
			default:
				// The first code, alone, inside a token, in a number.
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"first":%q,"token":"x%sx","n":"1%s","at":"http://%s/r/%s"}`, codes[0], codes[0], codes[0], r.Host, codes[1])
			}
		}))
		defer target.Close()
		sc := writeScenario(t, map[string]string{
			"01.txtar": "-- request --\nPOST /reggie/v1/REF30/regcode HTTP/1.1\n\n",
			"02.txtar": "-- request --\nPOST /reggie/v1/REF30/regcode HTTP/1.1\n\n",
			"03.txtar": "-- request --\nGET /api/v1/authenticate?reg_code={{code}}&redirect_url={{gateway}}%2Fdone HTTP/1.1\n\n",
			"04.txtar": "-- request --\nGET /api/v1/other HTTP/1.1\n\n",
		})
		var out []Response
		for _, r := range (&Runner{Target: target.URL}).Run(context.Background(), sc) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			out = append(out, r.Got)
		}
		return out
	}
	a := record([]string{"1234567", "ABCDEFG"})
	b := record([]string{"XYZ0001", "QRS0002"})
	// The last answer holds the first code inside longer words on purpose.
	if diff := cmp.Diff(a[:3], b[:3]); diff != "" {
		t.Errorf("the recordings of two targets differ (-a +b):\n%s", diff)
	}
	if got, want := a[2].Header.Get("Location"), "{{sandbox}}/api/v2/authenticate/REF30/{{code2}}?back={{gateway}}%2Fdone"; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if got, want := string(a[3].Body), `{"first":"{{code1}}","token":"x1234567x","n":"11234567","at":"{{gateway}}/r/{{code2}}"}`; got != want {
		t.Errorf("body %s, want %s", got, want)
	}
	if got, want := string(a[1].Body), `{"code":"{{code2}}"}`; got != want {
		t.Errorf("regcode body %s, want %s", got, want)
	}
}

// TestThrottleRetry proves the transport for calls around a scenario's own
// waits out a 429, sends the request again with its body, and returns the
// last 429 once the attempts are spent.
func TestThrottleRetry(t *testing.T) {
	var bodies []string
	target := throttlingTarget(map[string]int{"/form": 2, "/never": 100}, "", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
	})
	defer target.Close()
	var waits sleeps
	client := &http.Client{Transport: &ThrottleRetry{Attempts: 3, Sleep: waits.sleep}}
	resp, err := client.Post(target.URL+"/form", "application/x-www-form-urlencoded", strings.NewReader("user=alice"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /form: %v %v", resp, err)
	}
	resp.Body.Close()
	if diff := cmp.Diff([]string{"user=alice"}, bodies); diff != "" || len(waits.d) != 2 {
		t.Errorf("bodies (-want +got):\n%s\nwaits %v", diff, waits.d)
	}
	resp, err = client.Get(target.URL + "/never")
	if err != nil || resp.StatusCode != 429 {
		t.Fatalf("GET /never: %v %v", resp, err)
	}
	resp.Body.Close()
	if len(waits.d) != 4 {
		t.Errorf("waits %v, want 2 more", waits.d)
	}
}

// TestRunnerUndecided proves a preauthorize answer with resources left
// undecided by a throttle (an item-level 429, JSON or XML, or the mark
// Adobe-Response-Confidence: partial on a legacy answer) is asked again
// like a 429, and kept when the recorded answer holds one too.
func TestRunnerUndecided(t *testing.T) {
	partial := map[string]string{
		"json":   `{"resources":[{"id":"a","authorized":true},{"id":"b","authorized":false,"error":{"status":429,"message":"Too Many Requests"}}]}`,
		"xml":    `<resources><resource><id>a</id><authorized>true</authorized></resource><resource><id>b</id><authorized>false</authorized><error><status>429</status><message>Too Many Requests</message></error></resource></resources>`,
		"legacy": `<resources><resource><id>a</id><authorized>true</authorized></resource><resource><id>b</id><authorized>false</authorized></resource></resources>`,
	}
	whole := map[string]string{
		"json":   `{"resources":[{"id":"a","authorized":true},{"id":"b","authorized":true}]}`,
		"xml":    `<resources><resource><id>a</id><authorized>true</authorized></resource><resource><id>b</id><authorized>true</authorized></resource></resources>`,
		"legacy": `<resources><resource><id>a</id><authorized>true</authorized></resource><resource><id>b</id><authorized>true</authorized></resource></resources>`,
	}
	seen := map[string]int{}
	var mu sync.Mutex
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := r.URL.Query().Get("format")
		mu.Lock()
		seen[r.URL.RawQuery]++
		n := seen[r.URL.RawQuery]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/"+strings.TrimPrefix(f, "legacy"))
		if f == "legacy" {
			w.Header().Set("Content-Type", "application/xml")
			w.Header().Set("Adobe-Response-Confidence", "full")
		}
		if n == 1 || r.URL.Query().Get("always") != "" {
			if f == "legacy" {
				w.Header().Set("Adobe-Response-Confidence", "partial")
			}
			io.WriteString(w, partial[f])
			return
		}
		io.WriteString(w, whole[f])
	}))
	defer target.Close()
	sc := writeScenario(t, map[string]string{
		"01-json.txtar":    "-- request --\nGET /api/v1/preauthorize?format=json HTTP/1.1\n\n",
		"02-xml.txtar":     "-- request --\nGET /api/v1/preauthorize?format=xml HTTP/1.1\n\n",
		"02a-legacy.txtar": "-- request --\nGET /api/v1/preauthorize?format=legacy HTTP/1.1\n\n",
		"03-expected.txtar": "-- request --\nGET /api/v1/preauthorize?format=json&always=1 HTTP/1.1\n\n-- response --\nHTTP/1.1 200 OK\nContent-Type: application/json\n\n" +
			partial["json"] + "\n",
	})
	var waits sleeps
	res := (&Runner{Target: target.URL, Sleep: waits.sleep}).Run(context.Background(), sc)
	for i, f := range []string{"json", "xml", "legacy"} {
		if res[i].Err != nil || res[i].Throttled != 1 || string(res[i].Got.Body) != whole[f] {
			t.Errorf("%s: %v, throttled %d, answer %s", f, res[i].Err, res[i].Throttled, res[i].Got.Body)
		}
	}
	if res[3].Err != nil || res[3].Throttled != 0 || res[3].Diff != "" {
		t.Errorf("expected partial answer: %v, throttled %d, diff %s", res[3].Err, res[3].Throttled, res[3].Diff)
	}
	if len(waits.d) != 3 || waits.d[0] != time.Second {
		t.Errorf("waits %v, want three of a second", waits.d)
	}
}
