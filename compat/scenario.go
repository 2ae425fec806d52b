package compat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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

	"golang.org/x/tools/txtar"
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
		return nil, fmt.Errorf("compat: %w", err)
	}
	var out []Scenario
	for dir, files := range byDir {
		slices.Sort(files)
		sc := Scenario{Dir: dir}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("compat: %w", err)
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
		return nil, fmt.Errorf("compat: no .txtar cases under %s", root)
	}
	return out, nil
}

// Runner plays scenarios against a live target. In requests, {{gateway}}
// is the target's base URL, {{code}} the latest registration code of the
// scenario and {{code1}}, {{code2}}, ... each one in order, and every
// name of Vars its value; in answers, the values of gateway and Vars are
// written back as their {{names}}, so recordings do not depend on where
// the servers ran.
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
}

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
	codes := 0
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
			res.Got, res.Err = rn.send(ctx, client, st.Case.Request, st.Case.Response.Header, vars)
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
					codes++
					vars["code"] = code
					vars["code"+strconv.Itoa(codes)] = code
				}
			}
			anonymise(&res.Got, vars)
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

// send makes the request r and reads the answer's RecordedHeaders and the
// headers the recording holds (want), so that a recorded header outside
// the default set is compared too.
func (rn *Runner) send(ctx context.Context, client *http.Client, r Request, want http.Header, vars map[string]string) (Response, error) {
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		}
		return s
	}
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
		return Response{}, fmt.Errorf("unknown placeholder %s (give its value as a variable)", m)
	}
	req, err := r.NewHTTPRequest(ctx, rn.Target)
	if err != nil {
		return Response{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		// Not the url.Error itself: its URL may carry an access_token.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return Response{}, fmt.Errorf("compat: %s %s: %w", r.Method, req.URL.Path, err)
	}
	headers := RecordedHeaders()
	for k := range want {
		headers = append(headers, k)
	}
	return ReadResponse(resp, headers)
}

// anonymise writes the values of vars (raw or query-escaped) in r back as
// their {{names}}, longest value first so a URL is not half replaced by a
// shorter one it starts with. Codes are left alone: they are the answers.
func anonymise(r *Response, vars map[string]string) {
	type kv struct{ k, v string }
	var list []kv
	for k, v := range vars {
		if v != "" && !codeVar.MatchString(k) {
			list = append(list, kv{k, v})
		}
	}
	slices.SortFunc(list, func(a, b kv) int { return cmp.Compare(len(b.v), len(a.v)) })
	replace := func(s string) string {
		for _, e := range list {
			s = strings.ReplaceAll(s, e.v, "{{"+e.k+"}}")
			s = strings.ReplaceAll(s, url.QueryEscape(e.v), "{{"+e.k+"}}")
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
