package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the connection caps of the device listener. A device keeps
// one or two connections open (a v1 call at a time, kept alive between
// calls for idleTimeout); a household behind one NAT a few devices. 256 per
// address leaves room for a carrier-grade NAT while a single flooding host
// holds at most that many of the 10,000 in total, which at the net/http
// cost of an idle connection (a goroutine and its read and write buffers,
// about 10 KiB) keep the listener's memory near 100 MiB.
const (
	DefaultMaxConnections           = 10_000
	DefaultMaxConnectionsPerAddress = 256
)

// ConnectionsConfig caps the connections the device listener (addr) holds
// open at once. A connection beyond a cap is accepted and closed at once,
// with a TCP reset, before anything is read from it (see capListener).
type ConnectionsConfig struct {
	// Max is the cap on all connections together. Default
	// DefaultMaxConnections; negative: no cap.
	Max int `yaml:"max"`
	// MaxPerAddress is the cap on the connections of one client address:
	// the TCP peer's IPv4 address, or the /64 prefix of its IPv6 address
	// (what one subscriber is given). Behind a load balancer or a reverse
	// proxy the peer is the balancer, so set it to no cap (negative) there,
	// or above what the balancer opens, and cap per client on the balancer
	// (CONFIG.md, "Connection caps"). Default
	// DefaultMaxConnectionsPerAddress; negative: no cap.
	MaxPerAddress int `yaml:"max_per_address"`
}

func (c *ConnectionsConfig) provision(bad func(field, format string, args ...any)) {
	if c.Max == 0 {
		c.Max = DefaultMaxConnections
	}
	if c.MaxPerAddress == 0 {
		c.MaxPerAddress = DefaultMaxConnectionsPerAddress
	}
	if c.Max > 0 && c.MaxPerAddress > c.Max {
		bad("connections.max_per_address", "%d is more than connections.max (%d): one address could take every connection", c.MaxPerAddress, c.Max)
	}
}

// Reasons a connection is refused, as passgw_connections_refused_total
// names them.
const (
	refusedTotal      = "total"
	refusedPerAddress = "per_address"
)

// capListener is a listener that holds at most the configured number of
// connections open, in total and per client address.
//
// A connection beyond a cap is closed as soon as it is accepted, with
// SO_LINGER 0 (a TCP reset, no TIME_WAIT left on the gateway), before any
// byte is read: the refusal costs the gateway one accept and one close,
// no goroutine, no buffer, whatever the client does next. A v1-shaped 503
// would need the request read and parsed first, which is the very work a
// flood of slow or idle connections makes the process do. A device sees a
// connection reset, which v1 apps already retry as a network failure.
type capListener struct {
	net.Listener
	// limits are the caps in effect, read for each connection so that a
	// reload changes them.
	limits func() ConnectionsConfig
	// refused counts a refusal by reason; open reports the connections
	// held after each change. Either may be nil.
	refused func(reason string)
	open    func(n int)
	logger  *slog.Logger

	mu     sync.Mutex
	total  int
	byAddr map[netip.Addr]int
	// lastLog is when a refusal was last logged (unix nanoseconds): at
	// most one line a minute, the metric counts them all.
	lastLog atomic.Int64
}

// refusalLogInterval is the least time between two log lines about
// refused connections.
const refusalLogInterval = time.Minute

// capListener is ln under the caps of the configuration in effect
// (connections), counted in the gateway's metrics.
func (gw *gateway) capListener(ln net.Listener) *capListener {
	return &capListener{
		Listener: ln,
		limits:   func() ConnectionsConfig { return gw.cur.Load().cfg.Connections },
		refused:  gw.metrics.ConnectionRefused,
		open:     gw.metrics.ConnectionsOpen,
		logger:   gw.logger.With("component", "listener"),
		byAddr:   map[netip.Addr]int{},
	}
}

// Accept returns the next connection within the caps; connections beyond
// them are closed here and never returned.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := clientAddress(c.RemoteAddr())
		reason := l.admit(addr)
		if reason == "" {
			return &cappedConn{Conn: c, release: func() { l.release(addr) }}, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
		if l.refused != nil {
			l.refused(reason)
		}
		l.logRefusal(reason, addr)
	}
}

// admit takes a place for a connection from addr, or says which cap
// refuses it.
func (l *capListener) admit(addr netip.Addr) string {
	lim := l.limits()
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim.Max > 0 && l.total >= lim.Max {
		return refusedTotal
	}
	if lim.MaxPerAddress > 0 && l.byAddr[addr] >= lim.MaxPerAddress {
		return refusedPerAddress
	}
	l.total++
	l.byAddr[addr]++
	if l.open != nil {
		l.open(l.total)
	}
	return ""
}

func (l *capListener) release(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if n := l.byAddr[addr] - 1; n > 0 {
		l.byAddr[addr] = n
	} else {
		delete(l.byAddr, addr)
	}
	if l.open != nil {
		l.open(l.total)
	}
}

func (l *capListener) logRefusal(reason string, addr netip.Addr) {
	if l.logger == nil {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(refusalLogInterval) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	lim := l.limits()
	l.logger.Warn("connection refused at the listener's cap; further refusals are counted in passgw_connections_refused_total and logged at most once a minute",
		"cap", reason, "client_address", addr.String(), "max", lim.Max, "max_per_address", lim.MaxPerAddress)
}

// clientAddress is the address a connection counts against: the peer's
// IPv4 address, or its IPv6 address's /64 prefix, since one subscriber is
// given at least a /64 and could otherwise spread a flood over its
// addresses. A peer of another kind (not TCP) counts as one address.
func clientAddress(a net.Addr) netip.Addr {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip := ta.AddrPort().Addr().Unmap()
	if ip.Is6() {
		p, err := ip.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return ip
}

// cappedConn gives its place back once, when closed.
type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes the TCP connection, as net/http does before
// closing after an error answer so that the client reads it before the
// close; it is lost by the wrapping otherwise.
func (c *cappedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// fdReserve is the file descriptors kept out of connections.max's reach:
// the connections to Adobe (up to 512 idle ones), to Redis, the operator
// listener, log and trace exporters.
const fdReserve = 1024

// capAboveFileLimit says why connections.max can exhaust the open-file
// limit, or "" when it cannot: a listener that runs out of descriptors
// fails every accept, and the gateway its upstream and store calls, before
// the cap is reached.
func capAboveFileLimit(c ConnectionsConfig, limit uint64) string {
	if limit == 0 {
		return ""
	}
	if c.Max < 0 {
		return fmt.Sprintf("connections.max is off (no cap) with an open-file limit of %d", limit)
	}
	if uint64(c.Max)+fdReserve > limit {
		return fmt.Sprintf("connections.max (%d) plus %d descriptors for Adobe, Redis and the rest exceeds the open-file limit (%d)", c.Max, fdReserve, limit)
	}
	return ""
}
