package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
)

// TestNoClientCache checks that a change made through one instance is what
// the next read on another instance sees — a logout must not linger in a
// client-side cache — and that the connection has no CLIENT TRACKING on.
func TestNoClientCache(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := open(t, srv.URL(), nil)
	b := open(t, srv.URL(), nil)
	if err := a.Set(ctx, "session", []byte("signed-in"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for range 3 { // reads a cache would keep
		if got, err := b.Get(ctx, "session"); err != nil || string(got) != "signed-in" {
			t.Fatalf("b.Get = %q, %v", got, err)
		}
	}
	if err := a.Delete(ctx, "session"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, "session"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("b.Get after a.Delete = %q, %v; want ErrNotFound", got, err)
	}
	vals, err := b.GetMany(ctx, "session")
	if err != nil || vals[0] != nil {
		t.Fatalf("b.GetMany after a.Delete = %q, %v; want no value", vals, err)
	}
	info, err := b.Client.Do(ctx, b.Client.B().ClientTrackinginfo().Build()).AsMap()
	if err != nil {
		t.Fatal(err)
	}
	f := info["flags"]
	flags, err := f.AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	if len(flags) != 1 || flags[0] != "off" {
		t.Fatalf("CLIENT TRACKINGINFO flags = %q, want [off]", flags)
	}
}

// stallProxy forwards TCP connections to a Redis server until stall is
// called; from then on it still reads what the client sends but passes
// nothing back, as a Redis that hangs.
type stallProxy struct {
	ln      net.Listener
	target  string
	stalled atomic.Bool
	// cut, when set, makes the proxy close the next connection that sends
	// a MULTI, before forwarding it (once).
	cut atomic.Bool

	mu   sync.Mutex
	sent bytes.Buffer // what clients sent after the stall
}

func startStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target}
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			connsMu.Lock()
			conns = append(conns, c, up)
			connsMu.Unlock()
			wg.Go(func() { p.forward(up, c, true) })
			wg.Go(func() { p.forward(c, up, false) })
		}
	})
	return p
}

// forward copies src to dst; the client's bytes are recorded once stalled,
// the server's dropped.
func (p *stallProxy) forward(dst, src net.Conn, fromClient bool) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && fromClient && bytes.Contains(buf[:n], []byte("MULTI")) && p.cut.CompareAndSwap(true, false) {
			src.Close()
			return
		}
		if n > 0 {
			switch {
			case !p.stalled.Load():
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			case fromClient:
				p.mu.Lock()
				p.sent.Write(buf[:n])
				p.mu.Unlock()
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stallProxy) URL() string { return "redis://" + p.ln.Addr().String() + "/0" }

func (p *stallProxy) stall() { p.stalled.Store(true) }

func (p *stallProxy) sentAfterStall() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.String()
}

// TestStalledServer checks that a call to a Redis that has stopped
// answering ends with the store's own bound, a deadline error (not
// ErrNotFound), although neither the caller's context nor the connection
// would end it soon.
func TestStalledServer(t *testing.T) {
	srv := redistest.Start(t)
	proxy := startStallProxy(t, srv.Addr)
	ctx := context.Background()
	s := open(t, proxy.URL()+"?dial_timeout=1m&read_timeout=1m", nil)
	s.Timeout = 100 * time.Millisecond
	if err := s.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set through the proxy: %v", err)
	}
	proxy.stall()
	done := make(chan error, 1)
	go func() {
		_, err := s.Get(ctx, "k")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get from a stalled Redis: %v, want a deadline error", err)
		}
	case <-time.After(stallHang):
		t.Fatalf("Get from a stalled Redis still waiting after %v, want it ended by the store's Timeout", stallHang)
	}
	if sent := proxy.sentAfterStall(); !strings.Contains(sent, "HMGET") {
		t.Fatalf("the server was sent %q after the stall, want the HMGET", sent)
	}
}

// stallHang is how long TestStalledServer waits before it calls a Get
// hung: far beyond the store's bound there, far below the connection's.
const stallHang = 10 * time.Second

func TestParseURLOptions(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string // a part of the error; "" when none
		check   func(o rueidis.ClientOption) string
	}{
		{url: "redis://cache.example", check: func(o rueidis.ClientOption) string {
			if o.InitAddress[0] != "cache.example:6379" || o.SelectDB != 0 {
				return "want cache.example:6379, database 0"
			}
			if !o.DisableCache || !o.ForceSingleClient || o.DisableRetry {
				return "want no client cache, a single server and retries"
			}
			if o.ConnWriteTimeout != redisstore.DefaultTimeout || o.Dialer.Timeout != redisstore.DefaultTimeout {
				return "want the default timeouts"
			}
			if o.MaxFlushDelay != redisstore.DefaultFlushDelay {
				return "want the default flush delay"
			}
			return ""
		}},
		{url: "redis://u:pw@[::1]:7000/3", check: func(o rueidis.ClientOption) string {
			if o.InitAddress[0] != "[::1]:7000" || o.SelectDB != 3 || o.Username != "u" || o.Password != "pw" {
				return "want [::1]:7000, database 3, user u, password pw"
			}
			return ""
		}},
		{url: "rediss://cache.example:6380?db=4&skip_verify=true", check: func(o rueidis.ClientOption) string {
			if o.TLSConfig == nil || o.TLSConfig.ServerName != "cache.example" || !o.TLSConfig.InsecureSkipVerify || o.SelectDB != 4 {
				return "want TLS to cache.example without verification, database 4"
			}
			return ""
		}},
		{url: "redis://h/0?read_timeout=5&write_timeout=500ms&max_retries=0&pool_size=20&conn_max_lifetime=1h&client_name=gw&protocol=2",
			check: func(o rueidis.ClientOption) string {
				if o.ConnWriteTimeout != 5*time.Second || !o.DisableRetry || o.ConnLifetime != time.Hour || o.ClientName != "gw" || !o.AlwaysRESP2 {
					return "want a 5 s read bound, no retry, 1 h lifetime, name gw, RESP2"
				}
				return ""
			}},
		{url: "redis://h?flush_delay=0", check: func(o rueidis.ClientOption) string {
			if o.MaxFlushDelay != 0 {
				return "want no flush delay"
			}
			return ""
		}},
		{url: "redis://h?flush_delay=200us", check: func(o rueidis.ClientOption) string {
			if o.MaxFlushDelay != 200*time.Microsecond {
				return "want a 200µs flush delay"
			}
			return ""
		}},
		{url: "redis://h?flush_delay=5ms", wantErr: "flush_delay"},
		{url: "unix:///run/redis.sock?db=2", check: func(o rueidis.ClientOption) string {
			if o.InitAddress[0] != "/run/redis.sock" || o.DialCtxFn == nil || o.SelectDB != 2 {
				return "want the socket path, a unix dialer, database 2"
			}
			return ""
		}},
		{url: "redis+sentinel://u:pw@s1,s2:26380,[::1]:26381,[::2]/mymaster/2?sentinel_password=spw&dial_timeout=1s",
			check: func(o rueidis.ClientOption) string {
				want := []string{"s1:26379", "s2:26380", "[::1]:26381", "[::2]:26379"}
				if !slices.Equal(o.InitAddress, want) || o.Sentinel.MasterSet != "mymaster" || o.SelectDB != 2 {
					return fmt.Sprintf("want sentinels %v, master set mymaster, database 2", want)
				}
				if o.Username != "u" || o.Password != "pw" || o.Sentinel.Password != "spw" || o.Sentinel.Username != "" {
					return "want user u/pw on the servers, password spw on the sentinels"
				}
				if o.ForceSingleClient || o.Sentinel.TopologyRefreshInterval <= 0 || o.Sentinel.Dialer.Timeout != time.Second {
					return "want a sentinel client refreshing its topology, dialing sentinels within 1s"
				}
				return ""
			}},
		{url: "rediss+sentinel://s1/m", check: func(o rueidis.ClientOption) string {
			if o.TLSConfig == nil || o.Sentinel.TLSConfig == nil || o.Sentinel.MasterSet != "m" {
				return "want TLS to the sentinels and the servers"
			}
			return ""
		}},
		{url: "redis+cluster://n1:7000,n2:7001,n3", check: func(o rueidis.ClientOption) string {
			if !slices.Equal(o.InitAddress, []string{"n1:7000", "n2:7001", "n3:6379"}) || o.ForceSingleClient || o.Sentinel.MasterSet != "" {
				return "want three seeds and a cluster client"
			}
			return ""
		}},
		{url: "redis+sentinel://s1,s2", wantErr: "MASTER_SET"},
		{url: "redis+sentinel://s1/m/x", wantErr: "database"},
		{url: "redis+cluster://n1,n2/3", wantErr: "database 0 only"},
		{url: "redis+cluster://n1,::1", wantErr: "brackets"},
		{url: "redis+cluster://n1:0", wantErr: "invalid host"},
		{url: "redis+cluster://:s3cret-pw@/", wantErr: "no host"},
		{url: "redis://h/0?sentinel_password=x", wantErr: "unknown option sentinel_password"},
		{url: "redis://h/0?cache=yes", wantErr: "unknown option cache"},
		{url: "redis://h/0?read_timeout=0", wantErr: "read_timeout"},
		{url: "redis://h/0?pool_size=many", wantErr: "pool_size"},
		{url: "redis://h/1/2", wantErr: "path"},
		{url: "unix://", wantErr: "socket"},
		{url: "redis://:s3cret-pw@h:port/0", wantErr: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			o, err := redisstore.ParseURL(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseURL error = %v, want one naming %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret-pw") {
					t.Fatalf("error %q reveals the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(o); msg != "" {
				t.Errorf("ParseURL = %+v: %s", o, msg)
			}
		})
	}
}

// TestOpenUnreachable: Open gives a store even when nothing listens, whose
// calls fail with a connection error until a server answers.
func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := open(t, "redis://"+addr+"/0", nil)
	_, err = s.Get(context.Background(), "k")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get with nothing listening: %v, want a connection error", err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("Ping with nothing listening succeeded")
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) && !errors.Is(err, io.EOF) {
		t.Fatalf("Get error %v is not a connection error", err)
	}
}

// TestSetResentAfterConnectionLoss: Set, a transaction the client does not
// resend by itself, is sent again once when its connection is lost, unless
// Retries says none.
func TestSetResentAfterConnectionLoss(t *testing.T) {
	srv := redistest.Start(t)
	for _, tt := range []struct {
		name    string
		retries int
		wantErr bool
	}{{"default", 0, false}, {"none", -1, true}} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := startStallProxy(t, srv.Addr)
			s := open(t, proxy.URL(), nil)
			s.Retries = tt.retries
			ctx := context.Background()
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			proxy.cut.Store(true)
			key := "resent-" + tt.name
			err := s.Set(ctx, key, []byte("v"), time.Minute)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set across a lost connection: %v, want error %t", err, tt.wantErr)
			}
			if proxy.cut.Load() {
				t.Fatal("the connection was not cut: the test proves nothing")
			}
			v, gerr := s.Get(ctx, key)
			switch {
			case tt.wantErr && !errors.Is(gerr, store.ErrNotFound):
				t.Errorf("after a failed Set: %q, %v, want not found", v, gerr)
			case !tt.wantErr && (gerr != nil || string(v) != "v"):
				t.Errorf("after a resent Set: %q, %v, want v", v, gerr)
			}
		})
	}
}

// TestOpenRetries: Open takes Set's resends from max_retries, as the client
// takes the scripts'.
func TestOpenRetries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for query, want := range map[string]int{"": redisstore.DefaultMaxRetries, "?max_retries=0": -1, "?max_retries=3": 3} {
		if s := open(t, "redis://"+addr+"/0"+query, nil); s.Retries != want {
			t.Errorf("%q: Retries = %d, want %d", query, s.Retries, want)
		}
	}
}
