package v1api

import (
	"net/http"
	"net/netip"
	"strings"
)

// DeviceAddr returns the address of the device that sent r, by the rule
// the Handler applies (see deviceAddr). Nil trusted means loopback only, as
// for Config.TrustedProxies; an empty non-nil slice trusts no one.
func DeviceAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	if trusted == nil {
		trusted = defaultTrustedProxies()
	}
	addr, _ := deviceAddr(r, trusted)
	return addr
}

func defaultTrustedProxies() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// deviceAddr returns the device address of r. When the TCP peer is a
// trusted proxy, X-Forwarded-For is walked from the right and the first
// address that is not a trusted proxy is the device; otherwise the peer is
// the device (an untrusted peer cannot name another address). The port is
// known only when the device is the peer.
func deviceAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, uint16) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	var peerAddr netip.Addr
	var peerPort uint16
	if err == nil {
		peerAddr, peerPort = peer.Addr().Unmap(), peer.Port()
	} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		peerAddr = a.Unmap()
	}
	if !peerAddr.IsValid() || !isTrusted(peerAddr, trusted) {
		return peerAddr, peerPort
	}
	addr, port := peerAddr, peerPort
	// The hops are walked from the right in place: a device call should
	// not allocate for its address.
	values := r.Header.Values("X-Forwarded-For")
	for vi := len(values) - 1; vi >= 0; vi-- {
		v := values[vi]
		for v != "" {
			var hop string
			if i := strings.LastIndexByte(v, ','); i >= 0 {
				v, hop = v[:i], v[i+1:]
			} else {
				v, hop = "", v
			}
			if hop = strings.TrimSpace(hop); hop == "" {
				continue
			}
			a, ok := parseHop(hop)
			if !ok {
				// Whatever a trusted hop appended to the left of garbage is
				// not vouched for; the last trusted hop is the best we know.
				return addr, port
			}
			addr, port = a, 0
			if !isTrusted(a, trusted) {
				return addr, port
			}
		}
	}
	return addr, port
}

// parseHop reads one X-Forwarded-For entry: an address, optionally with a
// port (IPv6 then in brackets).
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
