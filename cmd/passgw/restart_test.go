package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/passgw/passgw/internal/redistest"
)

// TestRestartWithRedis: an instance killed with SIGKILL mid-flow and started
// again finds everything in Redis: the registration, the sign-in (its v2
// client registration is reused, so the profile is still the device's) and
// the kept decision.
func TestRestartWithRedis(t *testing.T) {
	redis := redistest.Start(t)
	sandbox := startSandboxProc(t)
	config := writeServeConfig(t, sandbox.URL, redis.URL())
	gw := startServe(t, "gateway", config, "127.0.0.1:0")
	base := gw.URL
	sports := url.Values{"resource": {"sports"}}

	d := newDevice(t, "restarted-device")
	code := d.regcode(base)
	browserSignIn(t, base, code, "alice")
	d.call("authorize", base, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)
	first := gw.stderr.String()

	gw.kill()
	gw = startServe(t, "gateway (restarted)", config, addrOf(t, base))

	d.call("regcode GET after restart", base, http.MethodGet, "/reggie/v1/REF30/regcode/"+code, nil, http.StatusOK)
	d.call("checkauthn after restart", base, http.MethodGet, "/api/v1/checkauthn/"+code, nil, http.StatusOK)
	d.call("tokens/authz after restart", base, http.MethodGet, "/api/v1/tokens/authz", sports, http.StatusOK)
	var m mediaToken
	d.call("mediatoken after restart", base, http.MethodGet, "/api/v1/mediatoken", sports, http.StatusOK).decode(t, &m)
	verifyMediaToken(t, sandbox.URL, m.SerializedToken, "sports")
	d.call("logout after restart", base, http.MethodDelete, "/api/v1/logout", nil, http.StatusNoContent)

	if n := countLines(first+gw.stderr.String(), `msg="client registered" component=tokens`); n != 1 {
		t.Errorf("registered with Adobe Pass %d times across the restart, want once", n)
	}
}

// TestRestartInMemory is the documented behaviour without Redis: a restart
// forgets registrations and kept decisions, and the gateway's own v2 client
// registration with them. v2 binds profiles to that registration, so every
// device is signed out: it must register and sign in again, and then works.
func TestRestartInMemory(t *testing.T) {
	sandbox := startSandboxProc(t)
	config := writeServeConfig(t, sandbox.URL, "memory")
	gw := startServe(t, "gateway", config, "127.0.0.1:0")
	base := gw.URL
	sports := url.Values{"resource": {"sports"}}

	d := newDevice(t, "forgotten-device")
	code := d.regcode(base)
	browserSignIn(t, base, code, "alice")
	d.call("authorize", base, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)

	gw.kill()
	gw = startServe(t, "gateway (restarted)", config, addrOf(t, base))

	d.call("regcode GET after restart", base, http.MethodGet, "/reggie/v1/REF30/regcode/"+code, nil, http.StatusNotFound)
	d.call("checkauthn after restart", base, http.MethodGet, "/api/v1/checkauthn", nil, http.StatusForbidden)
	d.call("tokens/authz after restart", base, http.MethodGet, "/api/v1/tokens/authz", sports, http.StatusPreconditionFailed)

	code = d.regcode(base)
	browserSignIn(t, base, code, "alice")
	d.call("checkauthn after signing in again", base, http.MethodGet, "/api/v1/checkauthn/"+code, nil, http.StatusOK)
	d.call("authorize after signing in again", base, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)
	d.call("mediatoken after signing in again", base, http.MethodGet, "/api/v1/mediatoken", sports, http.StatusOK)
	if n := countLines(gw.stderr.String(), `msg="client registered" component=tokens`); n != 1 {
		t.Errorf("the restarted gateway registered %d times, want once (a fresh registration)", n)
	}
}
