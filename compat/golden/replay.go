package golden

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/passgw/passgw/v1api"
)

// Replay serves recorded cases as a stand-in v1 upstream. A request is
// matched by method, path, query parameters (in any order) and, when the
// case has one, body (form fields in any order); a {{name}} in a recorded
// request matches any value there, but cases recorded with the very values
// asked for win over those. Of several matching cases, the first that has
// not answered yet answers, and once all have, the last repeats: a scenario
// asking the same thing before and after a change of state gets both
// answers in order. In answers, {{gateway}} is
// the replay's own base URL and each {{codeN}} a stand-in registration
// code of its own (ReplayCode), the same in every answer, so that a device
// reads back a code it can send. An unmatched request gets a 404 and a log
// line.
type Replay struct {
	// Logger receives a line per unmatched request. Nil means
	// slog.Default().
	Logger *slog.Logger

	cases []*Case
	mu    sync.Mutex
	used  map[*Case]bool
	hits  []Hit
}

// Hit is one request the replay received.
type Hit struct {
	Method string
	Target string
	Header http.Header
	Body   []byte
	// Case is the name of the case that answered; "" when none matched.
	Case string
}

// NewReplay returns a Replay answering from cases, matched in the order
// given.
func NewReplay(cases []*Case, logger *slog.Logger) *Replay {
	return &Replay{cases: cases, Logger: logger, used: map[*Case]bool{}}
}

// Hits returns every request received so far, in order.
func (rp *Replay) Hits() []Hit {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return slices.Clone(rp.hits)
}

// ServeHTTP implements http.Handler.
func (rp *Replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, v1api.DefaultMaxBodyBytes))
	query := v1api.ParseQuery(r.URL.RawQuery)
	form := v1api.ParseForm(r.Header.Get("Content-Type"), body)
	var matching []*Case
	for _, c := range rp.cases {
		if rp.matches(c, r, query, body, form) {
			matching = append(matching, c)
		}
	}
	// A case recorded with the very values asked for beats one that
	// matches through a {{placeholder}}.
	var exact []*Case
	for _, c := range matching {
		if !strings.Contains(c.Request.Target+string(c.Request.Body), "{{") {
			exact = append(exact, c)
		}
	}
	if len(exact) > 0 {
		matching = exact
	}
	hit := Hit{Method: r.Method, Target: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body}
	rp.mu.Lock()
	var c *Case
	if len(matching) > 0 {
		c = matching[len(matching)-1]
		for _, m := range matching {
			if !rp.used[m] {
				c = m
				break
			}
		}
		rp.used[c] = true
		hit.Case = c.Name
	}
	rp.hits = append(rp.hits, hit)
	rp.mu.Unlock()
	if c == nil {
		logger := rp.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.WarnContext(r.Context(), "no recorded case matches", "method", r.Method, "path", r.URL.Path)
		http.Error(w, "no recorded case matches "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	self := "http://" + r.Host
	for k, vs := range c.Response.Header {
		for _, v := range vs {
			w.Header().Add(k, ReplayText(v, self))
		}
	}
	out := []byte(ReplayText(string(c.Response.Body), self))
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(c.Response.Status)
	_, _ = w.Write(out)
}

// recordedCode is a registration code as a Runner writes it back.
var recordedCode = regexp.MustCompile(`\{\{code[0-9]+\}\}`)

// ReplayText is what a Replay at base URL self answers for the recorded
// text s (a header value or a body): {{gateway}} is self, each {{codeN}}
// ReplayCode(N).
func ReplayText(s, self string) string {
	s = strings.ReplaceAll(s, "{{gateway}}", self)
	return recordedCode.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(m[len("{{code") : len(m)-len("}}")])
		return ReplayCode(n)
	})
}

// ReplayCode is the stand-in a Replay answers for {{codeN}}: seven
// characters of [A-Z0-9], like a code v2 issues.
func ReplayCode(n int) string {
	return fmt.Sprintf("RPLY%03d", n%1000)
}

func (rp *Replay) matches(c *Case, r *http.Request, query url.Values, body []byte, form url.Values) bool {
	if c.Response.Status == 0 || c.Request.Method != r.Method {
		return false
	}
	path, rawQuery, _ := strings.Cut(c.Request.Target, "?")
	if !matchTemplate(path, r.URL.EscapedPath()) {
		return false
	}
	if !matchValues(v1api.ParseQuery(rawQuery), query) {
		return false
	}
	if len(c.Request.Body) == 0 {
		return len(body) == 0
	}
	if recorded := v1api.ParseForm(c.Request.Header.Get("Content-Type"), c.Request.Body); recorded != nil && form != nil {
		return matchValues(recorded, form)
	}
	return matchTemplate(string(c.Request.Body), string(body))
}

// matchValues reports whether got holds exactly the parameters of want,
// each value matching its template.
func matchValues(want, got url.Values) bool {
	if len(want) != len(got) {
		return false
	}
	for k, wv := range want {
		gv := got[k]
		if len(gv) != len(wv) {
			return false
		}
		for i := range wv {
			if !matchTemplate(wv[i], gv[i]) {
				return false
			}
		}
	}
	return true
}

// matchTemplate matches s against a recorded text in which {{name}}
// stands for any run of characters.
func matchTemplate(template, s string) bool {
	if !strings.Contains(template, "{{") {
		return template == s
	}
	parts := placeholder.Split(template, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re, err := regexp.Compile("^" + strings.Join(parts, ".+?") + "$")
	return err == nil && re.MatchString(s)
}
