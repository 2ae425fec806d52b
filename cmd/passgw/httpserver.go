package main

import (
	"log/slog"
	"net/http"
	"time"
)

// Limits of the gateway's HTTP server. v1 requests are small (a query of a
// few parameters, a form of a few hundred bytes, a signed header or an
// X-Device-Info of at most a few KiB), so anything far larger is an attack or
// a broken client and is refused before it reaches a handler.
const (
	// maxHeaderBytes bounds the request line and headers; larger requests
	// get 431 from net/http.
	maxHeaderBytes = 64 << 10
	// readHeaderTimeout is how long a client may take to send its headers,
	// so a client trickling them cannot hold a connection.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading the whole request, body included (bodies
	// are capped by v1api at 256 KiB).
	readTimeout = 30 * time.Second
	// idleTimeout closes kept-alive connections with no request.
	idleTimeout = 2 * time.Minute
)

// newGatewayServer is the HTTP server of the gateway's handler, with the
// request limits above. There is no WriteTimeout: an answer may wait on
// several v2 calls, each bounded by the upstream timeout, and a write
// deadline would cut legitimate slow answers short; v1 answers are small
// enough to sit in socket buffers, so a client that stops reading does not
// hold a handler.
func newGatewayServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
