package main

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/passgw/passgw/internal/redistest"
)

// cluster is two `passgw serve` processes sharing one redis-server and one
// sandbox process, as behind a load balancer.
type cluster struct {
	redis      *redistest.Server
	sandbox    *proc
	config     string
	a, b       *proc
	sandboxURL string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{redis: redistest.Start(t), sandbox: startSandboxProc(t)}
	c.sandboxURL = c.sandbox.URL
	c.config = writeServeConfig(t, c.sandboxURL, c.redis.URL())
	c.a = startServe(t, "instance A", c.config, "127.0.0.1:0")
	c.b = startServe(t, "instance B", c.config, "127.0.0.1:0")
	return c
}

// TestMultiInstance: a device hops between two instances at every call and
// its flow completes; when both instances are asked for the media token at
// once, no token is handed out twice.
func TestMultiInstance(t *testing.T) {
	c := startCluster(t)
	twoInstanceFlows(t, c.a.URL, c.b.URL, c.sandboxURL)

	// Instance B used the v2 client registration A made and stored.
	if n := countLines(c.a.stderr.String()+c.b.stderr.String(), `msg="client registered" component=tokens`); n != 1 {
		t.Errorf("the gateway registered with Adobe Pass %d times across instances, want once", n)
	}
}

// twoInstanceFlows runs a device hopping between the instances at A and B
// at every call, and two instances racing for one device's media token.
func twoInstanceFlows(t *testing.T, A, B, sandboxURL string) {
	sports := url.Values{"resource": {"sports"}}

	t.Run("AlternatingFlow", func(t *testing.T) {
		d := newDevice(t, "hopping-device")
		code := d.regcode(A)
		// The registration made on A is visible on B.
		var reg struct{ Code string }
		d.call("regcode GET on B", B, http.MethodGet, "/reggie/v1/REF30/regcode/"+code, nil, http.StatusOK).decode(t, &reg)
		if reg.Code != code {
			t.Fatalf("regcode GET on B = %q, want %q", reg.Code, code)
		}
		browserSignIn(t, A, code, "alice")
		d.call("checkauthn on B", B, http.MethodGet, "/api/v1/checkauthn/"+code, nil, http.StatusOK)
		d.call("authorize on A", A, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)
		// B answers tokens/authz from the decision A kept, without v2.
		d.call("tokens/authz on B", B, http.MethodGet, "/api/v1/tokens/authz", sports, http.StatusOK)
		var m mediaToken
		d.call("mediatoken on B", B, http.MethodGet, "/api/v1/mediatoken", sports, http.StatusOK).decode(t, &m)
		if m.MVPDID != "AcmeCable" || m.Resource != "sports" {
			t.Fatalf("mediatoken on B = %+v", m)
		}
		verifyMediaToken(t, sandboxURL, m.SerializedToken, "sports")
		d.call("logout on A", A, http.MethodDelete, "/api/v1/logout", nil, http.StatusNoContent)
		// A's logout dropped the decision it kept for every instance.
		var e v1ErrorBody
		d.call("tokens/authz on B after logout", B, http.MethodGet, "/api/v1/tokens/authz", sports, http.StatusPreconditionFailed).decode(t, &e)
		d.call("checkauthn on B after logout", B, http.MethodGet, "/api/v1/checkauthn", nil, http.StatusForbidden)
	})

	t.Run("MediaTokenOnce", func(t *testing.T) {
		d := newDevice(t, "racing-device")
		code := d.regcode(B)
		browserSignIn(t, B, code, "alice")
		seen := map[string]string{}
		const rounds = 15
		for round := range rounds {
			d.call("authorize", A, http.MethodGet, "/api/v1/authorize", sports, http.StatusOK)
			var wg sync.WaitGroup
			tokens := make([]mediaToken, 2)
			for i, base := range []string{A, B} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, err := d.try(base, http.MethodGet, "/api/v1/mediatoken", sports)
					if err != nil || a.Status != http.StatusOK {
						t.Errorf("round %d: mediatoken on instance %d: %v %d %s", round, i, err, a.Status, a.Body)
						return
					}
					a.decode(t, &tokens[i])
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			for i, m := range tokens {
				who := fmt.Sprintf("round %d instance %d", round, i)
				if m.SerializedToken == "" {
					t.Fatalf("%s: empty media token", who)
				}
				if prev, dup := seen[m.SerializedToken]; dup {
					t.Fatalf("media token handed out twice: to %s and to %s", prev, who)
				}
				seen[m.SerializedToken] = who
			}
		}
	})
}
