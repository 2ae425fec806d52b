package bench

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoRedis is returned when redis-server is not installed.
var ErrNoRedis = errors.New("redis-server not found in PATH")

// startRedis starts a throwaway redis-server (no persistence) on a free
// loopback port with its files in dir.
func startRedis(dir string) (*proc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRedis, err)
	}
	var lastErr error
	// A port found free may be taken before redis-server binds it.
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		logPath := filepath.Join(dir, "redis.log")
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", logPath)
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		p := &proc{name: "redis", pid: cmd.Process.Pid, cmd: cmd, done: make(chan struct{}), log: logPath,
			url: "redis://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/0"}
		go func() {
			_ = cmd.Wait()
			close(p.done)
		}()
		if lastErr = waitRedis(p, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); lastErr == nil {
			return p, nil
		}
		p.stop()
	}
	return nil, fmt.Errorf("starting redis-server: %w", lastErr)
}

func waitRedis(p *proc, addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := pingRedis(addr); err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited: %s", tail(p.log))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer", addr)
		}
	}
}

func pingRedis(addr string) error {
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
