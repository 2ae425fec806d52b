package redistest

import (
	"context"
	"errors"
	"testing"
)

func TestLaunchAnswersUntilStopped(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("fresh server: %v", err)
	}
	s.Stop()
	if err := ping(s.Addr); err == nil {
		t.Fatal("stopped server still answers PING")
	}
	s.Restart()
	if err := ping(s.Addr); err != nil {
		t.Fatalf("restarted server: %v", err)
	}
}

func TestLaunchWithoutRedis(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Launch(context.Background(), t.TempDir()); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("error %v, want ErrNotInstalled", err)
	}
}
