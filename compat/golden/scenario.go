package golden

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"golang.org/x/tools/txtar"

	"github.com/passgw/passgw/internal/wait"
)

// Sections of a scenario step that act before its request.
const (
	// SectionClock advances the target's clock, e.g. "+25h".
	SectionClock = "clock"
	// SectionBrowser drives a browser: "signin USER PASSWORD" follows the
	// Location of the previous answer through the MVPD login.
	SectionBrowser = "browser"
)

// Scenario is a directory of cases run in name order: later steps use
// what earlier ones produced (registration codes, sign-ins).
type Scenario struct {
	Dir   string
	Steps []Step
}

// Step is one case of a scenario and the file it came from.
type Step struct {
	Path string
	Case *Case
}

// LoadScenarios reads every directory under root (root included) that
// holds .txtar files as a scenario, in path order.
func LoadScenarios(root string) ([]Scenario, error) {
	byDir := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".txtar") {
			byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	var out []Scenario
	for dir, files := range byDir {
		slices.Sort(files)
		sc := Scenario{Dir: dir}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("golden: %w", err)
			}
			c, err := ParseCase(filepath.Base(f), data)
			if err != nil {
				return nil, err
			}
			sc.Steps = append(sc.Steps, Step{Path: f, Case: c})
		}
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b Scenario) int { return cmp.Compare(a.Dir, b.Dir) })
	if len(out) == 0 {
		return nil, fmt.Errorf("golden: no .txtar cases under %s", root)
	}
	return out, nil
}

// Runner plays scenarios against a live target. In requests, {{gateway}}
// is the target's base URL, {{code}} the latest registration code of the
// scenario and {{code1}}, {{code2}}, ... each one in order, {{sandbox}} the
// base URL of the v2 service the target signs users in on, and every name
// of Vars its value. In answers, all of these values are written back as
// their {{names}} wherever they appear, headers included (registration
// codes always as {{codeN}}), so a recording holds nothing that depends on
// where or when the servers ran, and is portable from one target to
// another.
//
// Unless Vars sets it, {{sandbox}} is learned from the first redirect to a
// v2 authenticate URL (ORIGIN/api/v2/authenticate/...): the sandbox's, for
// a gateway on the sandbox.
//
// A 429 Too Many Requests is never taken as an answer unless the case
// expects one: the Runner waits as Adobe tells clients to (testdata/spec/v1.md
// §1.11: at least one second; longer when Retry-After says so) and sends
// the request again, at most Attempts times in all. So is a preauthorize
// answer that left resources undecided (Undecided), unless the recorded
// answer did too.
type Runner struct {
	// Target is the base URL requests are sent to. Required.
	Target string
	// Client sends the requests; it must not follow redirects. Nil means
	// a client that does not, with a 30 s timeout.
	Client *http.Client
	// Vars are further placeholders, such as sandbox.
	Vars map[string]string
	// Header is added to every request that does not set the same header,
	// such as an X-Forwarded-For naming a fixed device address.
	Header http.Header
	// Ignore are the selectors Compare leaves out.
	Ignore Ignore
	// Clock advances the target's clock for a clock section. Nil means a
	// live target whose clock cannot move: the step and the rest of its
	// scenario are skipped.
	Clock func(ctx context.Context, d time.Duration) error
	// Browser signs in for a browser section, starting at location (the
	// previous answer's Location). Nil means the step and the rest of its
	// scenario are skipped.
	Browser func(ctx context.Context, location, user, password string) error
	// Headers are answer headers recorded besides RecordedHeaders (and
	// those a case's recorded answer holds).
	Headers []string
	// Attempts bounds the tries of one request while it is answered 429;
	// zero means DefaultAttempts.
	Attempts int
	// Sleep waits d before a request is sent again, or until ctx ends. Nil
	// means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Throttle handling of a Runner.
const (
	// DefaultAttempts is how often a Runner sends a request answered 429
	// before it gives up on the step: with Adobe's limit of one call a
	// second, one wait of a second is enough for the caller itself, and
	// the rest leaves room for calls of others from the same address.
	DefaultAttempts = 10
	// MinThrottleWait is the least wait after a 429 (testdata/spec/v1.md §1.11).
	MinThrottleWait = time.Second
	// MaxThrottleWait caps the wait a Retry-After asks for.
	MaxThrottleWait = 30 * time.Second
)

// ErrThrottled is the error of a step still answered 429 after the
// Runner's attempts.
var ErrThrottled = errors.New("still answered 429 Too Many Requests")

// Result is the outcome of one step.
type Result struct {
	Step Step
	// Got is the target's answer, placeholders written back.
	Got Response
	// Diff is Compare(recorded, Got); "" when they agree. A step without a
	// recorded response has Diff "(no recorded response)".
	Diff string
	// Skipped says why the step was not run; "" when it ran.
	Skipped string
	// Err is why the step could not run to an answer.
	Err error
	// Throttled counts the 429 answers waited out before the answer.
	Throttled int
}

var (
	placeholder = regexp.MustCompile(`\{\{[A-Za-z0-9_]+\}\}`)
	codeVar     = regexp.MustCompile(`^code[0-9]*$`)
)

// Run plays one scenario, from fresh variables, and returns one Result per
// step. A step that fails to run ends the scenario (its later steps are
// reported skipped): they depend on it.
func (rn *Runner) Run(ctx context.Context, sc Scenario) []Result {
	client := rn.Client
	if client == nil {
		client = &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	vars := map[string]string{"gateway": strings.TrimSuffix(rn.Target, "/")}
	for k, v := range rn.Vars {
		vars[k] = v
	}
	var out []Result
	var lastLocation string
	var codes []string
	stop := ""
	for _, st := range sc.Steps {
		res := Result{Step: st}
		if stop != "" {
			res.Skipped = stop
			out = append(out, res)
			continue
		}
		for _, x := range st.Case.Extra {
			if res.Skipped, res.Err = rn.act(ctx, x, lastLocation); res.Skipped != "" || res.Err != nil {
				break
			}
		}
		if res.Skipped == "" && res.Err == nil {
			res.Got, res.Throttled, res.Err = rn.send(ctx, client, st.Case, vars)
		}
		switch {
		case res.Skipped != "":
			stop = "an earlier step was skipped: " + res.Skipped
		case res.Err != nil:
			stop = fmt.Sprintf("an earlier step failed (%s)", filepath.Base(st.Path))
		default:
			lastLocation = res.Got.Header.Get("Location")
			if res.Got.Status == http.StatusCreated && strings.Contains(st.Case.Request.Target, "/regcode") {
				if code := RegistrationCode(res.Got); code != "" {
					codes = append(codes, code)
					vars["code"] = code
					vars["code"+strconv.Itoa(len(codes))] = code
				}
			}
			if _, ok := vars["sandbox"]; !ok {
				if base := v2AuthenticateBase(lastLocation); base != "" {
					vars["sandbox"] = base
				}
			}
			anonymise(&res.Got, vars, codes)
			if st.Case.Response.Status == 0 {
				res.Diff = "(no recorded response)\n"
			} else {
				res.Diff = Compare(st.Case.Response, res.Got, rn.Ignore)
			}
		}
		out = append(out, res)
	}
	return out
}

// v2AuthenticateBase is the origin of a v2 authenticate URL (Adobe's
// /api/v2/authenticate/{serviceProvider}/{code}), or "".
func v2AuthenticateBase(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.Scheme == "" || u.Host == "" || !strings.HasPrefix(u.Path, "/api/v2/authenticate/") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// act runs a section that comes before the request; other sections are
// notes for readers and ignored.
func (rn *Runner) act(ctx context.Context, x txtar.File, lastLocation string) (skipped string, err error) {
	text := strings.TrimSpace(string(x.Data))
	switch x.Name {
	case SectionClock:
		d, err := time.ParseDuration(strings.TrimPrefix(text, "+"))
		if err != nil || d <= 0 {
			return "", fmt.Errorf("clock: want a positive duration such as +25h, got %q", text)
		}
		if rn.Clock == nil {
			return "needs the target's clock moved " + text + " (only a gateway on a test clock can)", nil
		}
		return "", rn.Clock(ctx, d)
	case SectionBrowser:
		f := strings.Fields(text)
		if len(f) != 3 || f[0] != "signin" {
			return "", fmt.Errorf("browser: want \"signin USER PASSWORD\", got %q", text)
		}
		if rn.Browser == nil {
			return "needs a browser sign-in (enable it for a target on the sandbox)", nil
		}
		if lastLocation == "" {
			return "", errors.New("browser: no Location to follow: the previous step did not redirect")
		}
		return "", rn.Browser(ctx, lastLocation, f[1], f[2])
	}
	return "", nil
}

// send makes the case's request, variables expanded, and returns the
// answer; a 429 the case does not expect is waited out and the request sent
// again (see Runner), and throttled counts those 429s.
func (rn *Runner) send(ctx context.Context, client *http.Client, c *Case, vars map[string]string) (got Response, throttled int, err error) {
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		}
		return s
	}
	r := c.Request
	r.Target = expand(r.Target)
	r.Body = []byte(expand(string(r.Body)))
	h := http.Header{}
	for k, vs := range r.Header {
		for _, v := range vs {
			h.Add(k, expand(v))
		}
	}
	for k, vs := range rn.Header {
		if len(h.Values(k)) == 0 {
			h[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
		}
	}
	r.Header = h
	if m := placeholder.FindString(r.Target + string(r.Body)); m != "" {
		return Response{}, 0, fmt.Errorf("unknown placeholder %s (give its value as a variable)", m)
	}
	// The recorded headers, and those the recording holds besides, so
	// that a recorded header outside the default set is compared too.
	headers := append(RecordedHeaders(), rn.Headers...)
	for k := range c.Response.Header {
		headers = append(headers, k)
	}
	attempts := rn.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	for {
		req, err := r.NewHTTPRequest(ctx, rn.Target)
		if err != nil {
			return Response{}, throttled, err
		}
		resp, err := client.Do(req)
		if err != nil {
			// Not the url.Error itself: its URL may carry an access_token.
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err
			}
			return Response{}, throttled, fmt.Errorf("golden: %s %s: %w", r.Method, req.URL.Path, err)
		}
		wait, again := throttleWait(resp)
		got, err := ReadResponse(resp, headers)
		if err == nil && !again && Undecided(got) && !Undecided(c.Response) {
			// A preauthorize answer whose resources were partly left
			// undecided because the target was throttled: asked again,
			// it is answered whole.
			wait, again = MinThrottleWait, true
		}
		if err != nil || !again || c.Response.Status == http.StatusTooManyRequests {
			return got, throttled, err
		}
		throttled++
		if throttled >= attempts {
			return Response{}, throttled, fmt.Errorf("golden: %s %s: %w (%d attempts)", r.Method, req.URL.Path, ErrThrottled, attempts)
		}
		if err := rn.sleep(ctx, wait); err != nil {
			return Response{}, throttled, fmt.Errorf("golden: %s %s: waiting out a 429: %w", r.Method, req.URL.Path, err)
		}
	}
}

// Undecided reports whether r is a preauthorize answer that left some
// resources undecided because the target was throttled: it says
// Adobe-Response-Confidence: partial (the gateway's mark, in either error
// format), or an item-level error has status 429 (JSON or XML).
func Undecided(r Response) bool {
	if r.Status != http.StatusOK {
		return false
	}
	if r.Header.Get("Adobe-Response-Confidence") == "partial" {
		return true
	}
	if !bytes.Contains(r.Body, []byte("429")) {
		return false
	}
	var j struct {
		Resources []struct {
			Error *struct {
				Status json.Number `json:"status"`
			} `json:"error"`
		} `json:"resources"`
	}
	if json.Unmarshal(r.Body, &j) == nil {
		for _, res := range j.Resources {
			if res.Error != nil && res.Error.Status == "429" {
				return true
			}
		}
		return false
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(r.Body) != nil {
		return false
	}
	for _, st := range doc.FindElements("//resource/error/status") {
		if strings.TrimSpace(st.Text()) == "429" {
			return true
		}
	}
	return false
}

// throttleWait reports whether resp is a 429 and how long to wait before
// asking again: Retry-After (seconds or a date) when it says longer than
// MinThrottleWait, at most MaxThrottleWait.
func throttleWait(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	wait := MinThrottleWait
	if ra := strings.TrimSpace(resp.Header.Get("Retry-After")); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil {
			wait = max(wait, time.Duration(secs)*time.Second)
		} else if at, err := http.ParseTime(ra); err == nil {
			wait = max(wait, time.Until(at))
		}
	}
	return min(wait, MaxThrottleWait), true
}

func (rn *Runner) sleep(ctx context.Context, d time.Duration) error {
	if rn.Sleep != nil {
		return rn.Sleep(ctx, d)
	}
	return wait.For(ctx, d)
}

// anonymise writes the values of vars (raw or query-escaped) in r back as
// their {{names}}, longest value first so a URL is not half replaced by a
// shorter one it starts with; then each registration code of codes, where
// it stands as a word of its own (not inside a token or a number), as
// {{codeN}}: the numbered name, which means the same code wherever it
// appears in the scenario.
func anonymise(r *Response, vars map[string]string, codes []string) {
	type kv struct{ k, v string }
	var list []kv
	for k, v := range vars {
		if v != "" && !codeVar.MatchString(k) {
			list = append(list, kv{k, v})
		}
	}
	slices.SortFunc(list, func(a, b kv) int {
		return cmp.Or(cmp.Compare(len(b.v), len(a.v)), cmp.Compare(a.k, b.k))
	})
	replace := func(s string) string {
		for _, e := range list {
			s = strings.ReplaceAll(s, e.v, "{{"+e.k+"}}")
			s = strings.ReplaceAll(s, url.QueryEscape(e.v), "{{"+e.k+"}}")
		}
		for i, code := range codes {
			s = replaceWord(s, code, "{{code"+strconv.Itoa(i+1)+"}}")
		}
		return s
	}
	for k, vs := range r.Header {
		for i, v := range vs {
			r.Header[k][i] = replace(v)
		}
	}
	if len(r.Body) > 0 {
		r.Body = []byte(replace(string(r.Body)))
	}
}

// replaceWord replaces each occurrence of word in s that no letter or digit
// touches on either side.
func replaceWord(s, word, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, word)
		if i < 0 {
			break
		}
		end := i + len(word)
		if (i > 0 && isAlnum(s[i-1])) || (end < len(s) && isAlnum(s[end])) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(with)
		s = s[end:]
	}
	b.WriteString(s)
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// ThrottleRetry is an http.RoundTripper that waits out a 429 Too Many
// Requests the way a Runner does (at least MinThrottleWait, or Retry-After)
// and sends the request again, at most Attempts times in all; the last 429
// is returned as the answer. A request whose body cannot be read again
// (no GetBody) is not sent again. For the calls around the scenario's own,
// such as a browser's way through a sign-in.
type ThrottleRetry struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Attempts bounds the tries; zero means DefaultAttempts.
	Attempts int
	// Sleep waits d or until ctx ends; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Waited, when set, is called before each wait, to count them.
	Waited func(d time.Duration)
}

// RoundTrip implements http.RoundTripper.
func (t *ThrottleRetry) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	attempts := t.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	rn := Runner{Sleep: t.Sleep}
	for n := 1; ; n++ {
		resp, err := base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		wait, again := throttleWait(resp)
		if !again || n >= attempts || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if t.Waited != nil {
			t.Waited(wait)
		}
		if err := rn.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		next := req.Clone(req.Context())
		if req.GetBody != nil {
			if next.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = next
	}
}
