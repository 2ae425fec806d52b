package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
)

// fleet is gateway processes sharing one redis-server and one sandbox
// process, started, killed and replaced one by one.
type fleet struct {
	t       *testing.T
	redis   *redistest.Server
	sandbox *proc
	config  string
	live    map[string]*proc
	logs    []*proc // every process started, for their logs
}

func (f *fleet) start(name string) {
	f.t.Helper()
	p := startServe(f.t, name, f.config, "127.0.0.1:0")
	f.live[name] = p
	f.logs = append(f.logs, p)
}

func (f *fleet) kill(name string) {
	f.t.Helper()
	f.live[name].kill()
	delete(f.live, name)
}

// registrations is what the sandbox counted: DCR clients by service
// provider.
func (f *fleet) registrations() map[string]int {
	f.t.Helper()
	resp, err := http.Get(f.sandbox.URL + "/_sandbox/registrations")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var n map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// storedCredentials reports whether Redis holds the gateway's v2 client
// credentials of REF30.
func (f *fleet) storedCredentials() bool {
	f.t.Helper()
	n, err := f.redis.Do("EXISTS", "passgw:v2cred:REF30")
	if err != nil {
		f.t.Fatal(err)
	}
	return n == int64(1)
}

// agree asks every live instance for the sign-in of every device
// (tokens/authn, then checkauthn) and fails unless each device gets the
// same answer from every instance, and that answer is the sign-in.
func (f *fleet) agree(step string, devices []*device) {
	f.t.Helper()
	for _, d := range devices {
		var first []byte
		var firstFrom string
		for name, p := range f.live {
			a := d.call(fmt.Sprintf("%s: tokens/authn of %s on %s", step, d.id, name), p.URL, http.MethodGet, "/api/v1/tokens/authn", nil, http.StatusOK)
			d.call(fmt.Sprintf("%s: checkauthn of %s on %s", step, d.id, name), p.URL, http.MethodGet, "/api/v1/checkauthn", nil, http.StatusOK)
			if first == nil {
				first, firstFrom = a.Body, name
				continue
			}
			if !bytes.Equal(a.Body, first) {
				f.t.Fatalf("%s: %s got %s from %s but %s from %s", step, d.id, a.Body, name, first, firstFrom)
			}
		}
	}
}

// TestOneIdentityWhateverRedisLoses: instances sharing Redis keep one v2
// client registration whatever Redis loses. Redis flushed, Redis restarted
// empty, an instance added and every instance replaced in turn: every
// signed-in device gets the same answer (its sign-in) from every instance
// at every step, and the sandbox saw exactly one registration.
func TestOneIdentityWhateverRedisLoses(t *testing.T) {
	f := &fleet{t: t, redis: redistest.Start(t), sandbox: startSandboxProc(t), live: map[string]*proc{}}
	f.config = writeServeConfig(t, f.sandbox.URL, f.redis.URL())
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range f.logs {
				t.Logf("%s stderr:\n%s", p.name, p.stderr)
			}
		}
	})
	f.start("A")
	f.start("B")

	var devices []*device
	for i, via := range []string{"A", "B", "A"} {
		d := newDevice(t, fmt.Sprintf("device-%d", i))
		code := d.regcode(f.live[via].URL)
		browserSignIn(t, f.live[via].URL, code, "alice")
		d.call("authorize", f.live[via].URL, http.MethodGet, "/api/v1/authorize", url.Values{"resource": {"sports"}}, http.StatusOK)
		devices = append(devices, d)
	}
	f.agree("signed in", devices)

	if _, err := f.redis.Do("FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	f.agree("after FLUSHALL", devices)
	testenv.Eventually(t, "credentials written back after FLUSHALL", 10*time.Second, func() error {
		if !f.storedCredentials() {
			return fmt.Errorf("redis holds no v2 credentials")
		}
		return nil
	})
	f.start("C") // an instance added adopts the credentials written back
	f.agree("instance C added", devices)

	f.redis.Restart() // empty: it persists nothing
	// Started at once, before any instance wrote back: it waits for them.
	f.kill("A")
	f.start("A2")
	f.agree("redis restarted empty, A replaced", devices)
	for _, r := range [][2]string{{"B", "B2"}, {"C", "C2"}, {"A2", "A3"}} {
		f.kill(r[0])
		f.start(r[1])
		f.agree(r[0]+" replaced by "+r[1], devices)
	}
	// A device signing in now uses the same registration too.
	d := newDevice(t, "device-late")
	code := d.regcode(f.live["A3"].URL)
	browserSignIn(t, f.live["B2"].URL, code, "alice")
	f.agree("a device signed in at the end", append(devices, d))

	if n := f.registrations(); len(n) != 1 || n["REF30"] != 1 {
		t.Errorf("the sandbox counted registrations %v, want exactly one for REF30", n)
	}
}

// TestPinnedAndSealedCredentials: credentials pinned in the environment
// (as from Adobe's TVE dashboard) are used as they are, so the gateway
// never registers; with store keys set, the access token it keeps in Redis
// is sealed, and nothing in Redis holds the client secret.
func TestPinnedAndSealedCredentials(t *testing.T) {
	redis := redistest.Start(t)
	sandbox := startSandboxProc(t)
	// The operator's client, registered outside the gateway.
	req, err := http.NewRequest(http.MethodPost, sandbox.URL+"/o/client/register",
		strings.NewReader(`{"software_statement":"`+sandboxStatement+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Device-Info", base64.StdEncoding.EncodeToString([]byte(`{"model":"dashboard"}`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var client struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	err = json.NewDecoder(resp.Body).Decode(&client)
	resp.Body.Close()
	if err != nil || client.Secret == "" {
		t.Fatalf("registering the operator's client: %d %v", resp.StatusCode, err)
	}
	t.Setenv("PASSGW_V2_CLIENT_ID_REF30", client.ID)
	t.Setenv("PASSGW_V2_CLIENT_SECRET_REF30", client.Secret)
	t.Setenv("PASSGW_STORE_KEYS", "s1:"+base64.StdEncoding.EncodeToString([]byte("store-key-of-the-test-0123456789")))

	f := &fleet{t: t, redis: redis, sandbox: sandbox, live: map[string]*proc{}}
	f.config = writeServeConfig(t, sandbox.URL, redis.URL())
	f.start("A")
	d := newDevice(t, "pinned-device")
	code := d.regcode(f.live["A"].URL)
	browserSignIn(t, f.live["A"].URL, code, "alice")
	if _, err := redis.Do("FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	f.start("B")
	f.agree("pinned credentials", []*device{d})

	if n := f.registrations(); n["REF30"] != 1 {
		t.Errorf("the sandbox counted registrations %v, want only the operator's", n)
	}
	if f.storedCredentials() {
		t.Error("pinned credentials were stored in redis")
	}
	// The token the instances hold is written back too, sealed.
	var tok string
	testenv.Eventually(t, "access token written back", 10*time.Second, func() (err error) {
		tok, err = redis.DoString("HGET", "passgw:v2token:REF30", "v")
		return err
	})
	if !strings.HasPrefix(tok, "sealed:v1:s1:") {
		t.Errorf("the access token is stored as %q, want it sealed with s1", tok)
	}
	keys, err := redis.Do("KEYS", "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.([]any) {
		v, _ := redis.DoString("HGET", k.(string), "v")
		if strings.Contains(v, client.Secret) {
			t.Errorf("redis key %s holds the client secret", k)
		}
	}
	for _, p := range f.logs {
		if strings.Contains(p.stderr.String(), client.Secret) {
			t.Errorf("%s logged the client secret", p.name)
		}
	}
}
