package main

import (
	"net"
)

// listenFreePort listens on addr when its port is 0, so that the chosen
// port is known before anything derived from the address is computed; it
// returns nil for any other address (and for an empty one, which means the
// default port).
func listenFreePort(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if port != "0" {
		return nil, nil
	}
	return net.Listen("tcp", addr)
}
