package redisproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startWait bounds how long a fresh redis-server may take to answer PING.
const startWait = 10 * time.Second

// ErrNotInstalled is returned by Launch when redis-server (or
// redis-sentinel) is not on PATH.
var ErrNotInstalled = errors.New("redis-server not found in PATH")

// Server is a throwaway redis-server process.
type Server struct {
	// Addr is the server's HOST:PORT; it stays the same across Restart.
	Addr string

	bin      string
	sentinel string   // the configuration file of a redis-sentinel; "" for a server
	args     []string // configuration beyond the defaults
	dir      string
	port     int
	cmd      *exec.Cmd
	done     chan struct{}
}

// Launch starts a redis-server on a free loopback port, with its files
// (no data: it persists nothing unless args say so) in dir, and returns
// once it answers PING. args are configuration directives as redis-server
// takes them on its command line ("--appendonly", "yes"), after and so
// overriding the defaults. ctx bounds the start only. The caller stops the
// server with Stop.
func Launch(ctx context.Context, dir string, args ...string) (*Server, error) {
	return launch(ctx, &Server{dir: dir, args: args}, "redis-server")
}

// LaunchSentinel starts a redis-sentinel on a free loopback port with the
// configuration file conf (which it rewrites, as sentinels do) and its log in
// dir, and returns once it answers PING. The caller stops it with Stop.
func LaunchSentinel(ctx context.Context, dir, conf string) (*Server, error) {
	return launch(ctx, &Server{dir: dir, sentinel: conf}, "redis-sentinel")
}

// launch starts s, a redis-server or (with s.sentinel) a redis-sentinel,
// on a free port.
func launch(ctx context.Context, s *Server, program string) (*Server, error) {
	bin, err := exec.LookPath(program)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	s.bin = bin
	var lastErr error
	// A free port found by listening may be taken again before
	// redis-server binds it; try a few.
	for range 3 {
		s.port, err = freePort()
		if err != nil {
			return nil, err
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if lastErr = s.start(ctx); lastErr == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("starting %s: %w", program, lastErr)
}

// URL is the server's address as a --store value, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// LogPath is the file redis-server logs to.
func (s *Server) LogPath() string { return filepath.Join(s.dir, "redis.log") }

// Cmd is the running redis-server process, for a caller that watches or
// signals it; nil after Stop.
func (s *Server) Cmd() *exec.Cmd { return s.cmd }

// Done is closed when the running process exits.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop kills the server (SIGKILL: as abrupt as an outage) and waits for it
// to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port, after a Stop: empty,
// unless its configuration persists data.
func (s *Server) Restart(ctx context.Context) error {
	s.Stop()
	if err := s.start(ctx); err != nil {
		return fmt.Errorf("restarting redis-server on %s: %w", s.Addr, err)
	}
	return nil
}

// Port is the server's TCP port (the port of Addr).
func (s *Server) Port() int { return s.port }

func (s *Server) start(ctx context.Context) error {
	logPath := s.LogPath()
	var args []string
	if s.sentinel != "" {
		args = []string{s.sentinel}
	}
	args = append(args, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir, "--logfile", logPath)
	if s.sentinel == "" {
		args = append(args, "--save", "", "--appendonly", "no")
	}
	args = append(args, s.args...)
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	kill := func() {
		_ = cmd.Process.Kill()
		<-done
	}
	deadline := time.Now().Add(startWait)
	for {
		if err := ping(s.Addr); err == nil {
			s.cmd, s.done = cmd, done
			return nil
		}
		select {
		case <-done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("redis-server exited on %s: %s", s.Addr, lastLines(string(log), 5))
		case <-ctx.Done():
			kill()
			return fmt.Errorf("redis-server on %s: %w", s.Addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			kill()
			return fmt.Errorf("redis-server on %s did not answer within %v", s.Addr, startWait)
		}
	}
}

// ping sends an inline PING and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
