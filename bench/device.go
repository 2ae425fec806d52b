package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

// Op is one logical device operation. Each is one device-facing HTTP call,
// except OpSignIn: the user's browser on the second screen (the
// authenticate URL, the MVPD form and its redirects).
type Op string

// The operations of the device mix.
const (
	OpRegcode      Op = "regcode"
	OpSignIn       Op = "signin"
	OpCheckAuthn   Op = "checkauthn"
	OpAuthnToken   Op = "tokens/authn"
	OpAuthorize    Op = "authorize"
	OpMediaToken   Op = "mediatoken"
	OpPreauthorize Op = "preauthorize"
	OpLogout       Op = "logout"
)

// Sandbox fixture names the devices use: alice is entitled to everything,
// so every decision is a permit and any non-2xx answer is an error.
const (
	requestor    = "REF30"
	statement    = "sandbox-statement"
	mvpd         = "AcmeCable"
	user         = "alice"
	password     = "alice-pass"
	domainName   = "localhost"
	signedInPath = "/passgw/signed-in"
	// appRedirect is where a v2-native app's login ends; the browser stops
	// at the first redirect to it, unfetched.
	appRedirect = "https://app.invalid/signed-in"
)

// resources rotate through authorize and mediatoken; preauthorize asks for
// the first five at once.
var resources = [...]string{"news", "sports", "movies", "kids", "weather", "music", "docs", "series"}

const preauthorizeCount = 5

// mixCycle is what a signed-in device repeats; every logoutEvery cycles
// it logs out and registers again (regcode and sign-in).
var mixCycle = [...]Op{OpCheckAuthn, OpAuthnToken, OpAuthorize, OpMediaToken, OpPreauthorize}

const logoutEvery = 10

// mixPeriod is the length of the mix sequence: the cycles, then logout,
// regcode and sign-in.
const mixPeriod = len(mixCycle)*logoutEvery + 3

// mixOp is the step-th operation of the device mix.
func mixOp(step int) Op {
	i := step % mixPeriod
	switch n := len(mixCycle) * logoutEvery; {
	case i < n:
		return mixCycle[i%len(mixCycle)]
	case i == n:
		return OpLogout
	case i == n+1:
		return OpRegcode
	default:
		return OpSignIn
	}
}

// device performs operations as one device, keeping its own state (the
// current code). A device is used by one goroutine at a time.
type device interface {
	do(ctx context.Context, op Op) error
}

// deviceInfo is the X-Device-Info a smart TV app sends.
var deviceInfo = base64.StdEncoding.EncodeToString([]byte(
	`{"primaryHardwareType":"SetTopBox","model":"Roku Ultra","manufacturer":"Roku","version":"9.10","osName":"Roku OS","osVersion":"11.5","connectionType":"WiFi"}`))

const userAgent = "Roku/DVP-11.5 (11.5.0.4312-46)"

// opError is a failed operation: an unexpected status or a transport
// failure.
type opError struct {
	op     Op
	status int
	detail string
}

func (e *opError) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("%s: %s", e.op, e.detail)
	}
	return fmt.Sprintf("%s: status %d: %s", e.op, e.status, e.detail)
}

// v1Device is a legacy device calling the gateway's v1 API, in XML or
// JSON, and its user signing in on the second screen.
type v1Device struct {
	base    string // the gateway
	id      string
	json    bool
	ip      string // the device address a load balancer would forward
	client  *http.Client
	browser *http.Client
	code    string
	n       int // rotates resources
	query   string
}

func newV1Device(base, id string, jsonFormat bool, ip string, client, browser *http.Client) *v1Device {
	return &v1Device{base: base, id: id, json: jsonFormat, ip: ip, client: client, browser: browser,
		query: "requestor=" + requestor + "&deviceId=" + url.QueryEscape(id)}
}

func (d *v1Device) do(ctx context.Context, op Op) error {
	switch op {
	case OpRegcode:
		form := "deviceId=" + url.QueryEscape(d.id) + "&deviceType=Roku&appId=bench&appVersion=1.0"
		body, err := d.call(ctx, op, http.MethodPost, "/reggie/v1/"+requestor+"/regcode", form, http.StatusCreated)
		if err != nil {
			return err
		}
		code, err := d.regcode(body)
		if err != nil {
			return &opError{op: op, detail: err.Error()}
		}
		d.code = code
		return nil
	case OpSignIn:
		q := url.Values{
			"reg_code": {d.code}, "requestor_id": {requestor}, "mso_id": {mvpd}, "domain_name": {domainName},
			"redirect_url": {d.base + signedInPath}, "noflash": {"true"}, "no_iframe": {"false"},
		}
		return signIn(ctx, d.browser, d.base+"/api/v1/authenticate?"+q.Encode())
	case OpCheckAuthn:
		_, err := d.call(ctx, op, http.MethodGet, "/api/v1/checkauthn?"+d.query, "", http.StatusOK)
		return err
	case OpAuthnToken:
		_, err := d.call(ctx, op, http.MethodGet, "/api/v1/tokens/authn?"+d.query, "", http.StatusOK)
		return err
	case OpAuthorize, OpMediaToken:
		path := "/api/v1/authorize?"
		if op == OpMediaToken {
			path = "/api/v1/mediatoken?"
		} else {
			d.n++
		}
		_, err := d.call(ctx, op, http.MethodGet, path+d.query+"&resource="+resources[d.n%len(resources)], "", http.StatusOK)
		return err
	case OpPreauthorize:
		list := strings.Join(resources[:preauthorizeCount], ",")
		_, err := d.call(ctx, op, http.MethodGet, "/api/v1/preauthorize?"+d.query+"&resource="+url.QueryEscape(list), "", http.StatusOK)
		return err
	case OpLogout:
		_, err := d.call(ctx, op, http.MethodDelete, "/api/v1/logout?"+d.query, "", http.StatusNoContent)
		return err
	}
	return fmt.Errorf("unknown operation %q", op)
}

// call sends one v1 request and reads the whole answer.
func (d *v1Device) call(ctx context.Context, op Op, method, path, form string, want int) ([]byte, error) {
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, body)
	if err != nil {
		return nil, err
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if d.json {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("X-Device-Info", deviceInfo)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("X-Forwarded-For", d.ip)
	return send(d.client, req, op, want)
}

func (d *v1Device) regcode(body []byte) (string, error) {
	var reg struct {
		Code string `json:"code" xml:"code"`
	}
	var err error
	if d.json {
		err = json.Unmarshal(body, &reg)
	} else {
		err = xml.Unmarshal(body, &reg)
	}
	if err == nil && reg.Code == "" {
		err = errors.New("no code in the registration record")
	}
	return reg.Code, err
}

// v2Device is a v2-native app doing the same logical work with REST API v2
// (directly, or through the baseline proxy), and its user signing in.
type v2Device struct {
	client  *v2client.Client
	browser *http.Client
	opts    []v2client.Option
	code    string
	n       int
}

func newV2Device(client *v2client.Client, id string, browser *http.Client) *v2Device {
	return &v2Device{client: client, browser: browser, opts: []v2client.Option{
		v2client.WithDeviceID(id), v2client.WithDeviceInfo(deviceInfo), v2client.WithUserAgent(userAgent),
	}}
}

func (d *v2Device) do(ctx context.Context, op Op) error {
	var err error
	switch op {
	case OpRegcode:
		var s *v2client.Session
		s, err = d.client.CreateSession(ctx, requestor, v2client.SessionParams{MVPD: mvpd, DomainName: domainName, RedirectURL: appRedirect}, d.opts...)
		if err == nil {
			if s.Code == "" {
				return &opError{op: op, detail: "session without a code (action " + s.ActionName + ")"}
			}
			d.code = s.Code
		}
	case OpSignIn:
		return signIn(ctx, d.browser, d.client.AuthenticateURL(requestor, d.code))
	case OpCheckAuthn, OpAuthnToken:
		var p *v2client.Profiles
		p, err = d.client.Profiles(ctx, requestor, d.opts...)
		if err == nil && len(p.Profiles) == 0 {
			return &opError{op: op, status: http.StatusOK, detail: "no profile"}
		}
	case OpAuthorize, OpMediaToken:
		if op == OpAuthorize {
			d.n++
		}
		var dec *v2client.Decisions
		dec, err = d.client.Authorize(ctx, requestor, mvpd, []string{resources[d.n%len(resources)]}, d.opts...)
		if err == nil && (len(dec.Decisions) != 1 || !dec.Decisions[0].Authorized) {
			return &opError{op: op, status: http.StatusOK, detail: "not authorized"}
		}
	case OpPreauthorize:
		_, err = d.client.Preauthorize(ctx, requestor, mvpd, resources[:preauthorizeCount], d.opts...)
	case OpLogout:
		_, err = d.client.Logout(ctx, requestor, mvpd, appRedirect, d.opts...)
	default:
		return fmt.Errorf("unknown operation %q", op)
	}
	if err != nil {
		return &opError{op: op, status: v2client.StatusCode(err), detail: err.Error()}
	}
	return nil
}

// signIn plays the user's browser: the authenticate URL, the MVPD form
// (alice), and the redirects back.
func signIn(ctx context.Context, browser *http.Client, start string) error {
	if _, err := sandbox.SignIn(ctx, browser, start, user, password); err != nil {
		return &opError{op: OpSignIn, detail: err.Error()}
	}
	return nil
}

// send does req and reads the whole answer; a status other than want is
// an error.
func send(c *http.Client, req *http.Request, op Op, want int) ([]byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, &opError{op: op, detail: err.Error()}
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, &opError{op: op, detail: err.Error()}
	}
	if resp.StatusCode != want {
		b := buf.Bytes()
		if len(b) > 200 {
			b = b[:200]
		}
		return nil, &opError{op: op, status: resp.StatusCode, detail: string(b)}
	}
	return buf.Bytes(), nil
}
