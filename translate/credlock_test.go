package translate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

// sharedStore opens one gateway instance's handle on a store that every
// handle from the same sharedStore shares.
type sharedStore struct {
	name string
	open func(t *testing.T, now func() time.Time) func() store.Store
}

var sharedStores = []sharedStore{
	{"memory", func(t *testing.T, now func() time.Time) func() store.Store {
		s := store.NewMemory(now)
		return func() store.Store { return s }
	}},
	{"redis", func(t *testing.T, now func() time.Time) func() store.Store {
		srv := redistest.Start(t)
		return func() store.Store {
			s, err := redisstore.Open(srv.URL(), now)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}},
}

// watchedStore signals (without blocking) each time a caller finds a
// credential lock held.
type watchedStore struct {
	store.Store
	contended chan struct{}
}

func (w watchedStore) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ok, err := w.Store.SetNX(ctx, key, value, ttl)
	if err == nil && !ok && strings.HasPrefix(key, "v2lock:") {
		select {
		case w.contended <- struct{}{}:
		default:
		}
	}
	return ok, err
}

func drain(c chan struct{}) {
	select {
	case <-c:
	default:
	}
}

func TestCredentialsLock(t *testing.T) {
	for _, kind := range sharedStores {
		t.Run(kind.name, func(t *testing.T) {
			clock := newTestClock()
			open := kind.open(t, clock.Now)
			contended := make(chan struct{}, 1)
			instance := func() Credentials {
				return Credentials{Store: watchedStore{Store: open(), contended: contended}, Now: clock.Now}
			}
			a, b := instance(), instance()
			ctx := t.Context()

			unlockA, err := a.LockCredentials(ctx, "REF30")
			if err != nil {
				t.Fatal(err)
			}
			// Another service provider's lock is another lock.
			unlockOther, err := b.LockCredentials(ctx, "OTHER")
			if err != nil {
				t.Fatal(err)
			}
			unlockOther()

			type result struct {
				unlock func()
				err    error
			}
			got := make(chan result, 1)
			go func() {
				u, err := b.LockCredentials(ctx, "REF30")
				got <- result{u, err}
			}()
			<-contended
			select {
			case <-got:
				t.Fatal("a second instance took the lock while the first held it")
			default:
			}
			unlockA()
			r := <-got
			if r.err != nil {
				t.Fatalf("lock after release: %v", r.err)
			}

			// A holder that overran its lease loses the lock, and its late
			// unlock leaves the next holder's lease alone.
			clock.Advance(DefaultLockLease)
			unlockNext, err := a.LockCredentials(ctx, "REF30")
			if err != nil {
				t.Fatalf("lock after the lease ran out: %v", err)
			}
			r.unlock()
			drain(contended)
			wctx, cancel := context.WithCancel(ctx)
			go func() {
				<-contended
				cancel()
			}()
			if _, err := b.LockCredentials(wctx, "REF30"); !errors.Is(err, context.Canceled) {
				t.Fatalf("lock taken while held (after a stale unlock): %v", err)
			}
			unlockNext()
			unlock, err := b.LockCredentials(ctx, "REF30")
			if err != nil {
				t.Fatalf("lock after the last release: %v", err)
			}
			unlock()
		})
	}
}

// TestTokenSourcesShareOneRegistration: two gateway instances (each its own
// TokenSource, so its own in-process lock) starting at the same moment on an
// empty shared store register once with v2 and share one access token.
func TestTokenSourcesShareOneRegistration(t *testing.T) {
	for _, kind := range sharedStores {
		t.Run(kind.name, func(t *testing.T) {
			clock := newTestClock()
			sb, err := sandbox.NewServer(sandbox.Config{Now: clock.Now, IDs: sandbox.DeterministicIDs(7), DisableThrottling: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sb.Close)
			upstream, err := url.Parse(sb.URL)
			if err != nil {
				t.Fatal(err)
			}
			// Registrations wait at the proxy until the other instance has
			// either found the lock held or come to register as well.
			proxy := httputil.NewSingleHostReverseProxy(upstream)
			var registrations atomic.Int32
			gate, entered := make(chan struct{}), make(chan struct{}, 2)
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/o/client/register" {
					registrations.Add(1)
					entered <- struct{}{}
					<-gate
				}
				proxy.ServeHTTP(w, r)
			}))
			t.Cleanup(front.Close)

			open := kind.open(t, clock.Now)
			contended := make(chan struct{}, 1)
			instance := func() *v2client.TokenSource {
				return &v2client.TokenSource{
					Client: &v2client.Client{BaseURL: front.URL, Retries: -1},
					Statement: v2client.StaticStatements(map[string]v2client.RegisterRequest{
						testRequestor: {SoftwareStatement: "sandbox-statement"},
					}),
					Store: Credentials{Store: watchedStore{Store: open(), contended: contended}, Now: clock.Now},
					Now:   clock.Now,
				}
			}
			sources := []*v2client.TokenSource{instance(), instance()}
			tokens := make([]string, len(sources))
			errs := make([]error, len(sources))
			var wg sync.WaitGroup
			for i, ts := range sources {
				wg.Go(func() { tokens[i], errs[i] = ts.AccessToken(t.Context(), testRequestor) })
			}
			<-entered
			select {
			case <-contended:
			case <-entered:
			}
			close(gate)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("instance %d: %v", i, err)
				}
			}
			if n := registrations.Load(); n != 1 {
				t.Errorf("%d registrations, want 1", n)
			}
			if tokens[0] != tokens[1] {
				t.Error("the instances use different access tokens")
			}
			var ids []string
			for _, ts := range sources {
				cred, ok, err := ts.Store.LoadCredentials(t.Context(), testRequestor)
				if !ok || err != nil {
					t.Fatalf("stored credentials: %v %v", ok, err)
				}
				ids = append(ids, cred.ClientID)
			}
			if ids[0] != ids[1] {
				t.Errorf("instances see client ids %q", fmt.Sprint(ids))
			}
		})
	}
}
