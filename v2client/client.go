package v2client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/passgw/passgw/internal/wait"
)

// Base URLs of the Adobe Pass environments (OAS servers list). The client
// appends /api/v2 and /o itself.
const (
	ProductionURL        = "https://sp.auth.adobe.com"
	StagingURL           = "https://sp.auth-staging.adobe.com"
	PrequalProductionURL = "https://sp-prequal.auth.adobe.com"
	PrequalStagingURL    = "https://sp-prequal.auth-staging.adobe.com"
)

// Defaults used for zero-valued Client fields.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultRetries      = 1
	DefaultRetryBackoff = 200 * time.Millisecond
)

// maxBody bounds how much of an answer is read; the largest documented
// bodies (profiles with metadata, retrieve session) are a few KiB.
const maxBody = 4 << 20

// TokenProvider supplies the bearer token of a service provider. TokenSource
// is the implementation backed by DCR.
type TokenProvider interface {
	// AccessToken returns a token believed valid for sp.
	AccessToken(ctx context.Context, sp string) (string, error)
	// RefreshToken is called once after v2 answered 401 to rejected; it
	// returns a different token, or an error.
	RefreshToken(ctx context.Context, sp, rejected string) (string, error)
}

// Client calls Adobe Pass REST API v2 and DCR. The zero value talks to
// production without an Authorization header; set Tokens for real use. A
// Client is safe for concurrent use once configured; do not change its
// fields while calls are in flight.
type Client struct {
	// BaseURL is the scheme and host of the service, such as ProductionURL or
	// a sandbox's URL. Empty means ProductionURL. A path prefix is kept.
	BaseURL string

	// HTTPClient sends the requests. Nil means http.DefaultClient.
	HTTPClient *http.Client

	// Timeout bounds each HTTP attempt, including reading the answer. Zero
	// means DefaultTimeout; negative means no per-call timeout.
	Timeout time.Duration

	// Retries is how many extra attempts an idempotent GET (configuration,
	// profiles, retrieve session) gets after a connection failure or a 502,
	// 503 or 504. Zero means DefaultRetries; negative means none. POSTs and
	// logout are never retried, 429s and timeouts never.
	Retries int

	// RetryBackoff is the wait before the first retry; the n-th retry waits n
	// times as long. Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration

	// Logger receives one debug record per attempt (method, path, status,
	// duration), never a header value. Nil discards.
	Logger *slog.Logger

	// Tokens supplies the Authorization bearer of v2 calls. Nil sends none.
	Tokens TokenProvider

	// Breaker, when set, stops calls to the upstream host after repeated
	// failures (see Breaker); every attempt, retries and DCR calls
	// included, goes through it. Nil means no circuit breaking.
	Breaker *Breaker

	// Outcome, when set, is told how each call ended (see Outcome): the
	// Enhanced Error codes Adobe answers with, top-level and per decision.
	// It runs on the caller's goroutine and must be quick. Nil reports
	// nothing.
	Outcome func(ctx context.Context, o Outcome)

	// Budget, when set, keeps every attempt (retries and DCR calls
	// included) inside Adobe's throttling allowance of the device address
	// it is sent for, and holds an address after a 429 (see Budget). Nil
	// means no planning: every attempt is sent.
	Budget *Budget

	// lastBearer is the Authorization value of the last token sent.
	lastBearer atomic.Pointer[bearerHeader]
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return ProductionURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient == nil {
		return http.DefaultClient
	}
	return c.HTTPClient
}

func (c *Client) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Client) retries() int {
	switch {
	case c.Retries == 0:
		return DefaultRetries
	case c.Retries < 0:
		return 0
	}
	return c.Retries
}

func (c *Client) backoff(retry int) time.Duration {
	b := c.RetryBackoff
	if b <= 0 {
		b = DefaultRetryBackoff
	}
	return time.Duration(retry) * b
}

// ResolveURL resolves a url from an answer (sessions answer relative ones,
// logout either) against BaseURL.
func (c *Client) ResolveURL(ref string) (string, error) {
	base, err := url.Parse(c.base() + "/")
	if err != nil {
		return "", fmt.Errorf("v2client: base URL: %w", err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("v2client: url %q: %w", ref, err)
	}
	return base.ResolveReference(r).String(), nil
}

// AuthenticateURL is the absolute URL a user agent opens to log in with the
// authentication code (GET /api/v2/authenticate/{sp}/{code}).
func (c *Client) AuthenticateURL(sp, code string) string {
	return c.base() + apiPath("authenticate", sp, code)
}

// apiPath builds /api/v2/seg1/seg2/... with each segment path-escaped.
func apiPath(segments ...string) string {
	var b strings.Builder
	n := len("/api/v2")
	for _, s := range segments {
		n += 1 + len(s)
	}
	b.Grow(n) // escaping, rare, grows it once more
	b.WriteString("/api/v2")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// call describes one endpoint invocation.
type call struct {
	method      string
	sp          string // service provider whose token authorizes the call; "" for DCR
	path        string // escaped, relative to the base URL
	route       string // the endpoint's route template (see Routes)
	query       url.Values
	contentType string
	body        []byte
	idempotent  bool // safe to retry on connection failures and 502-504
	headers     headerSet
	opts        []Option
}

// name names the call in errors and log lines: its route template, as its
// path may carry a registration code.
func (cl *call) name() string {
	if cl.route != "" {
		return cl.route
	}
	return cl.method
}

func formCall(route, sp, path string, form url.Values, headers headerSet, opts []Option) *call {
	return &call{method: http.MethodPost, sp: sp, path: path, route: route, contentType: ContentTypeForm,
		body: []byte(form.Encode()), headers: headers, opts: opts}
}

func jsonCall(route, sp, path string, v any, headers headerSet, opts []Option) (*call, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("v2client: encoding %s body: %w", path, err)
	}
	return &call{method: http.MethodPost, sp: sp, path: path, route: route, contentType: ContentTypeJSON,
		body: body, headers: headers, opts: opts}, nil
}

func getCall(route, sp, path string, headers headerSet, opts []Option) *call {
	return &call{method: http.MethodGet, sp: sp, path: path, route: route, idempotent: true, headers: headers, opts: opts}
}

// answer is a fully read HTTP response.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// do runs cl, decoding a 2xx body into out. It retries idempotent calls on
// transient failures and any call once after a 401 with a refreshed token.
func (c *Client) do(ctx context.Context, cl *call, out any) error {
	ans, err := c.run(ctx, cl)
	if err == nil {
		err = decode(cl, &ans, out)
	}
	if err != nil {
		c.reportErr(ctx, cl, err)
		return err
	}
	c.report(ctx, Outcome{Route: cl.route, Method: cl.method, Path: cl.path})
	return nil
}

// run is do without the decoding: it returns the 2xx answer.
func (c *Client) run(ctx context.Context, cl *call) (answer, error) {
	if err := checkPath(cl.path); err != nil {
		return answer{}, fmt.Errorf("v2client: %s: %w", cl.method, err)
	}
	auth := cl.headers&dcrCall == 0 && c.Tokens != nil
	var token string
	if auth {
		t, err := c.Tokens.AccessToken(ctx, cl.sp)
		if err != nil {
			return answer{}, fmt.Errorf("v2client: %s: %w", cl.name(), err)
		}
		token = t
	}
	refreshed := false
	for retry := 0; ; {
		ans, err := c.attempt(ctx, cl, token, retry)
		if err != nil {
			if cl.idempotent && retry < c.retries() && transient(ctx, err) {
				retry++
				if werr := c.wait(ctx, retry); werr != nil {
					return answer{}, err
				}
				continue
			}
			return answer{}, err
		}
		if ans.status == http.StatusUnauthorized && auth && !refreshed {
			refreshed = true
			t, err := c.Tokens.RefreshToken(ctx, cl.sp, token)
			if err != nil {
				return answer{}, errors.Join(c.httpError(cl, &ans), fmt.Errorf("v2client: refreshing access token: %w", err))
			}
			token = t
			continue
		}
		if ans.status >= 200 && ans.status < 300 {
			return ans, nil
		}
		if cl.idempotent && retry < c.retries() && retryableStatus(ans.status) {
			retry++
			if werr := c.wait(ctx, retry); werr != nil {
				return answer{}, c.httpError(cl, &ans)
			}
			continue
		}
		return answer{}, c.httpError(cl, &ans)
	}
}

func (c *Client) wait(ctx context.Context, retry int) error {
	return wait.For(ctx, c.backoff(retry))
}

// send performs one HTTP attempt under the per-call timeout.
func (c *Client) send(ctx context.Context, cl *call, token string, retry int) (answer, error) {
	u := c.base() + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	actx := ctx
	if d := c.timeout(); d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}

	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(&routeContext{Context: actx, route: cl.route}, cl.method, u, body)
	if err != nil {
		return answer{}, fmt.Errorf("v2client: %s: %w", cl.name(), err)
	}
	var bearer string
	if token != "" {
		bearer = c.bearer(token)
	}
	dropped := fillHeader(req.Header, cl.contentType, bearer, cl.headers, cl.opts)
	log := c.Logger
	if len(dropped) > 0 && log != nil {
		log.LogAttrs(ctx, slog.LevelDebug, "headers not listed for endpoint, not sent",
			slog.String("route", cl.name()), slog.Any("headers", dropped))
	}

	start := time.Now()
	resp, err := c.httpClient().Do(req)
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL may carry a registration code: the error names the
		// route instead, as it may be logged.
		ue.URL = c.base() + routePath(cl.route)
	}
	if err == nil {
		var b []byte
		b, err = readBody(resp)
		resp.Body.Close()
		if err == nil {
			if log != nil && log.Enabled(ctx, slog.LevelDebug) {
				log.LogAttrs(ctx, slog.LevelDebug, "adobe pass call",
					slog.String("method", cl.method), slog.String("route", routePath(cl.route)),
					slog.Int("status", resp.StatusCode), slog.Int("retry", retry),
					slog.Float64("duration_ms", durationMS(time.Since(start))))
			}
			return answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}, nil
		}
	}
	if log != nil {
		log.LogAttrs(ctx, slog.LevelDebug, "adobe pass call failed",
			slog.String("method", cl.method), slog.String("route", routePath(cl.route)),
			slog.Int("retry", retry), slog.Float64("duration_ms", durationMS(time.Since(start))), slog.Any("error", err))
	}
	if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return answer{}, fmt.Errorf("v2client: %s: %w after %s: %w", cl.name(), ErrTimeout, c.timeout(), err)
	}
	return answer{}, fmt.Errorf("v2client: %s: %w", cl.name(), err)
}

// readBody reads the answer's body, at most maxBody bytes of it. A body of
// announced length is read into a buffer of exactly that size; io.ReadAll
// would grow its buffer several times over for a typical answer.
func readBody(resp *http.Response) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > maxBody {
		return io.ReadAll(io.LimitReader(resp.Body, maxBody))
	}
	// One byte more than announced, for the read that finds the end: it
	// lets the transport reuse the connection.
	b := make([]byte, n+1)
	if _, err := io.ReadFull(resp.Body, b[:n]); err != nil {
		return nil, err
	}
	if _, err := resp.Body.Read(b[n:]); err != nil && err != io.EOF {
		return nil, err
	}
	return b[:n:n], nil
}

// bearer returns the Authorization value of token. The last one built is
// kept, since every call of a service provider carries the same token until
// it is refreshed, and a JWT is long enough for the copy to matter.
func (c *Client) bearer(token string) string {
	if b := c.lastBearer.Load(); b != nil && b.token == token {
		return b.header
	}
	b := &bearerHeader{token: token, header: "Bearer " + token}
	c.lastBearer.Store(b)
	return b.header
}

// bearerHeader is an access token and its Authorization header value.
type bearerHeader struct {
	token, header string
}

// transient reports whether a transport failure may be retried: not our own
// timeout (the device is already waiting), not the caller giving up, not an
// open circuit (the upstream is known to be down) and not a Budget refusal
// (the device is held, or its turn is beyond MaxWait: asking again at once
// is refused again).
func transient(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !IsTimeout(err) && !errors.Is(err, ErrCircuitOpen) && !errors.Is(err, ErrOverBudget)
}

func retryableStatus(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

func decode(cl *call, ans *answer, out any) error {
	if out == nil {
		return nil
	}
	if len(bytes.TrimSpace(ans.body)) == 0 {
		return fmt.Errorf("v2client: %s: %d with an empty body", cl.name(), ans.status)
	}
	if err := json.Unmarshal(ans.body, out); err != nil {
		return fmt.Errorf("v2client: %s: decoding %d %s answer: %w", cl.name(), ans.status, ans.contentType, err)
	}
	return nil
}

// httpError builds the error of a non-2xx answer, decoding an Enhanced Error
// or DCR error body when there is one.
func (c *Client) httpError(cl *call, ans *answer) *HTTPError {
	he := &HTTPError{StatusCode: ans.status, Method: cl.method, Path: cl.path, Route: cl.route, ContentType: ans.contentType}
	if mt, _, err := mime.ParseMediaType(ans.contentType); err == nil && mt == "text/html" {
		return he
	}
	trimmed := bytes.TrimSpace(ans.body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return he
	}
	var probe struct {
		DCR json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return he
	}
	var dcrCode string
	if len(probe.DCR) > 0 && json.Unmarshal(probe.DCR, &dcrCode) == nil && dcrCode != "" {
		var d DCRError
		if json.Unmarshal(trimmed, &d) == nil {
			he.DCR = &d
		}
		return he
	}
	var e Error
	if json.Unmarshal(trimmed, &e) == nil && e.Code != "" {
		if e.Status == 0 {
			e.Status = ans.status
		}
		he.Enhanced = &e
	}
	return he
}
