package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"

	"github.com/passgw/passgw/compat/golden"
	"github.com/passgw/passgw/v2client/sandbox"
)

const deviceUsage = `usage: passgw device [flags]

A legacy v1 device in a command, for a first run and for smoke tests of a deployed gateway (the
sandbox, staging or production). It makes the calls a Clientless device makes, printing each v1
answer: checkauthn at start; a registration code, and the exact sign-in URL a second screen opens
for it; then it polls tokens/authn until the user has signed in, authorizes a resource and fetches
a media token. On the sandbox, --sign-in USER:PASSWORD signs in by itself on the mock MVPD page;
elsewhere, open the printed URL in a browser and sign in there. A 429 is waited out (at least 1 s,
or Retry-After) and the call made again, as Adobe tells devices to.

The last line is a summary. Exit status: 0 when a media token was obtained, 1 when the gateway
refused a call or nobody signed in within --wait, 2 on a usage error, 3 when the gateway could not
be reached (or stayed throttled).
`

// Exit statuses of passgw device besides 0 and the usage error.
const (
	exitDeviceRefused     = 1
	exitDeviceUnreachable = 3
)

// deviceRun is one run of passgw device.
type deviceRun struct {
	gateway, requestor, deviceID, resource, format string
	client                                         *http.Client
	out                                            io.Writer
	calls                                          int
	throttled                                      atomic.Int64
}

func runDevice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, deviceUsage)
	gateway := gatewayFlag(fs, "base `URL` of the gateway (or of any v1 service)", false)
	requestor := fs.String("requestor", "REF30", "the requestor `ID`")
	deviceID := fs.String("device-id", "", "the device's `ID` (default: a new one each run, so each run signs in afresh)")
	resource := fs.String("resource", "news", "the `RESOURCE` to authorize and fetch a media token for")
	format := fs.String("format", "xml", "answer format: xml or json")
	mvpd := fs.String("mvpd", "AcmeCable", "the MVPD `ID` the sign-in URL names")
	domain := fs.String("domain-name", "localhost", "the login web app's domain the sign-in URL names (one the requestor allows)")
	redirect := fs.String("redirect-url", "", "where the browser lands after the sign-in `URL` (default GATEWAY/passgw/signed-in, the gateway's own page)")
	signIn := fs.String("sign-in", "", "`USER:PASSWORD` to sign in by itself on the sandbox's mock MVPD page (e.g. alice:alice-pass)")
	poll := fs.Duration("poll", 5*time.Second, "how often to ask whether the user has signed in (at least 1s)")
	wait := fs.Duration("wait", 10*time.Minute, "how long to wait for the sign-in")
	timeout := fs.Duration("timeout", 30*time.Second, "bound on each call")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		fs.Usage()
		return usageError("device: "+format, args...)
	}
	base, err := url.Parse(*gateway)
	user, password, ok := strings.Cut(*signIn, ":")
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case *format != "xml" && *format != "json":
		return bad("--format %q: want xml or json", *format)
	case *poll < time.Second:
		return bad("--poll %v: at least 1s (Adobe throttles a device to one call a second)", *poll)
	case err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "":
		return bad("--gateway %q: want an absolute http(s) URL", *gateway)
	case *signIn != "" && (!ok || user == ""):
		return bad("--sign-in %q: want USER:PASSWORD", *signIn)
	}
	if *deviceID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		*deviceID = "passgw-device-" + hex.EncodeToString(b[:])
	}
	if *redirect == "" {
		*redirect = strings.TrimSuffix(*gateway, "/") + signedInPath
	}
	d := &deviceRun{
		gateway: strings.TrimSuffix(*gateway, "/"), requestor: *requestor, deviceID: *deviceID,
		resource: *resource, format: *format, out: stdout,
	}
	d.client = &http.Client{
		Timeout: *timeout,
		// A device reads a redirect; it does not follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &golden.ThrottleRetry{Waited: func(time.Duration) { d.throttled.Add(1) }},
	}
	err = d.run(ctx, func(code string) error {
		// In the order of Adobe's examples, which url.Values would sort.
		signInURL := d.gateway + "/api/v1/authenticate?reg_code=" + url.QueryEscape(code) +
			"&requestor_id=" + url.QueryEscape(*requestor) + "&mso_id=" + url.QueryEscape(*mvpd) +
			"&domain_name=" + url.QueryEscape(*domain) + "&redirect_url=" + url.QueryEscape(*redirect)
		fmt.Fprintf(stdout, "\nsign in: open %s\n", signInURL)
		if *signIn == "" {
			fmt.Fprintf(stdout, "  in a browser and sign in; waiting up to %v, asking every %v\n\n", *wait, *poll)
			return nil
		}
		fmt.Fprintf(stdout, "  signing in as %s on the sandbox's MVPD page\n\n", user)
		browser := &http.Client{Timeout: *timeout, Transport: &golden.ThrottleRetry{Waited: func(time.Duration) { d.throttled.Add(1) }}}
		if _, err := sandbox.SignIn(ctx, browser, signInURL, user, password); err != nil {
			return &exitError{code: exitDeviceRefused, err: fmt.Errorf("sign-in as %s: %w", user, err)}
		}
		return nil
	}, *poll, *wait)
	if err != nil {
		fmt.Fprintf(stdout, "passgw device: FAILED: %v (%s)\n", err, d.tally())
		return err
	}
	return nil
}

// run makes the device's calls; signIn prints the sign-in URL for the
// registration code and, when asked, signs in.
func (d *deviceRun) run(ctx context.Context, signIn func(code string) error, poll, wait time.Duration) error {
	ans, err := d.call(ctx, "checkauthn", http.MethodGet, "/api/v1/checkauthn", nil, http.StatusOK, http.StatusForbidden)
	if err != nil {
		return err
	}
	if ans.status == http.StatusForbidden {
		ans, err = d.call(ctx, "regcode", http.MethodPost, "/reggie/v1/"+url.PathEscape(d.requestor)+"/regcode", nil, http.StatusCreated)
		if err != nil {
			return err
		}
		code := golden.RegistrationCode(golden.Response{Body: ans.body})
		if code == "" {
			return &exitError{code: exitDeviceRefused, err: errors.New("regcode: the answer holds no code")}
		}
		if err := signIn(code); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(d.out, "the device is signed in already: no registration code needed\n\n")
	}
	authn, err := d.pollAuthn(ctx, poll, wait)
	if err != nil {
		return err
	}
	if _, err := d.call(ctx, "authorize", http.MethodGet, "/api/v1/authorize", url.Values{"resource": {d.resource}}, http.StatusOK); err != nil {
		return err
	}
	media, err := d.call(ctx, "tokens/media", http.MethodGet, "/api/v1/tokens/media", url.Values{"resource": {d.resource}}, http.StatusOK)
	if err != nil {
		return err
	}
	if answerField(media.body, "serializedToken") == "" {
		return &exitError{code: exitDeviceRefused, err: errors.New("tokens/media: the answer holds no serializedToken")}
	}
	fmt.Fprintf(d.out, "passgw device: ok: %s signed in as %s on %s, %s authorized, media token obtained (%s)\n",
		d.deviceID, answerField(authn.body, "userId"), answerField(authn.body, "mvpd"), d.resource, d.tally())
	return nil
}

// pollAuthn asks tokens/authn, as a device polls, until the sign-in shows
// (200, the answer returned); 404 means not yet.
func (d *deviceRun) pollAuthn(ctx context.Context, every, wait time.Duration) (deviceAnswer, error) {
	deadline := time.Now().Add(wait)
	for {
		ans, err := d.call(ctx, "tokens/authn", http.MethodGet, "/api/v1/tokens/authn", nil, http.StatusOK, http.StatusNotFound)
		if err != nil || ans.status == http.StatusOK {
			return ans, err
		}
		if time.Now().Add(every).After(deadline) {
			return ans, &exitError{code: exitDeviceRefused, err: fmt.Errorf("nobody signed in within %v", wait)}
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return ans, &exitError{code: exitDeviceRefused, err: fmt.Errorf("stopped while waiting for the sign-in: %w", ctx.Err())}
		case <-t.C:
		}
	}
}

// deviceAnswer is a v1 answer.
type deviceAnswer struct {
	status int
	body   []byte
}

// call makes one v1 call naming the requestor and device, prints it and
// its answer, and fails unless the status is one of want.
func (d *deviceRun) call(ctx context.Context, step, method, path string, params url.Values, want ...int) (deviceAnswer, error) {
	q := url.Values{"requestor": {d.requestor}, "deviceId": {d.deviceID}}
	if d.format == "json" {
		q.Set("format", "json")
	}
	for k, v := range params {
		q[k] = v
	}
	target := d.gateway + path
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(q.Encode())
	} else {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return deviceAnswer{}, &exitError{code: exitDeviceUnreachable, err: fmt.Errorf("%s: %w", step, err)}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	d.calls++
	fmt.Fprintf(d.out, "> %s %s\n", method, strings.TrimPrefix(target, d.gateway))
	resp, err := d.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return deviceAnswer{}, &exitError{code: exitDeviceUnreachable, err: fmt.Errorf("%s: the gateway did not answer: %w", step, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return deviceAnswer{}, &exitError{code: exitDeviceUnreachable, err: fmt.Errorf("%s: reading the answer: %w", step, err)}
	}
	fmt.Fprintf(d.out, "< %d %s\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	if len(b) > 0 {
		d.out.Write(bytes.TrimRight(b, "\r\n"))
		fmt.Fprintln(d.out)
	}
	fmt.Fprintln(d.out)
	ans := deviceAnswer{status: resp.StatusCode, body: b}
	for _, w := range want {
		if resp.StatusCode == w {
			return ans, nil
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return ans, &exitError{code: exitDeviceUnreachable, err: fmt.Errorf("%s: still throttled (429) after waiting", step)}
	}
	msg := answerField(b, "message")
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	if details := answerField(b, "details"); details != "" {
		msg += ": " + details
	}
	return ans, &exitError{code: exitDeviceRefused, err: fmt.Errorf("%s: the gateway answered %d (%s)", step, resp.StatusCode, msg)}
}

// tally is the count of calls for the summary line.
func (d *deviceRun) tally() string {
	return fmt.Sprintf("%d calls, %d retried after 429", d.calls, d.throttled.Load())
}

// answerField reads a top-level field of a v1 answer, JSON or XML ("" when
// absent).
func answerField(body []byte, name string) string {
	var j map[string]any
	if json.Unmarshal(body, &j) == nil {
		if v, ok := j[name]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(body) == nil && doc.Root() != nil {
		if e := doc.Root().SelectElement(name); e != nil {
			return e.Text()
		}
	}
	return ""
}
