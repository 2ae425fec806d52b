package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// closeGrace bounds how long Close waits for calls in flight (an injected
// latency, a client that stopped reading) before it cuts their connections.
const closeGrace = 5 * time.Second

// listener serves a Server on its own loopback address with net/http alone,
// so that the sandbox links no test machinery into the binaries that embed it.
type listener struct {
	ln     net.Listener
	srv    *http.Server
	served chan struct{}

	mu sync.Mutex
	// fresh holds the connections accepted that have not sent a request:
	// http.Server.Shutdown would wait seconds for them, httptest.Server.Close
	// does not.
	fresh map[net.Conn]struct{}
}

func listen(s *Server) (*listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen: %w", err)
	}
	l := &listener{ln: ln, served: make(chan struct{}), fresh: map[net.Conn]struct{}{}}
	l.srv = &http.Server{Handler: s, ConnState: l.track, ReadHeaderTimeout: time.Minute}
	go func() {
		defer close(l.served)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sandbox listener stopped", "err", err)
		}
	}()
	return l, nil
}

func (l *listener) track(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == http.StateNew {
		l.fresh[c] = struct{}{}
	} else {
		delete(l.fresh, c)
	}
}

func (l *listener) close() {
	l.srv.SetKeepAlivesEnabled(false)
	l.ln.Close()
	l.mu.Lock()
	for c := range l.fresh {
		c.Close()
	}
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	if err := l.srv.Shutdown(ctx); err != nil {
		l.srv.Close()
	}
	<-l.served
}
