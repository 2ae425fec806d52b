package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/passgw/passgw/internal/redisproc"
)

// ErrNoRedis is returned when redis-server is not installed.
var ErrNoRedis = redisproc.ErrNotInstalled

// startRedis starts a throwaway redis-server (no persistence) on a free
// loopback port with its files in dir.
func startRedis(dir string) (*proc, error) {
	s, err := redisproc.Launch(context.Background(), dir)
	if err != nil {
		if errors.Is(err, redisproc.ErrNotInstalled) {
			return nil, err
		}
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd := s.Cmd()
	p := &proc{name: "redis", pid: cmd.Process.Pid, cmd: cmd, done: make(chan struct{}), log: s.LogPath(), url: s.URL()}
	go func() {
		<-s.Done()
		close(p.done)
	}()
	return p, nil
}
