package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
)

func TestStoreConfig(t *testing.T) {
	tests := []struct {
		store   string
		want    string // the provisioned value; "" when provision must fail
		errText string
	}{
		{store: "", want: "memory"},
		{store: "memory", want: "memory"},
		{store: "redis://127.0.0.1:6379/0", want: "redis://127.0.0.1:6379/0"},
		{store: "rediss://user:pw@cache.example:6380/3", want: "rediss://user:pw@cache.example:6380/3"},
		{store: "memcached://127.0.0.1:11211", errText: "store:"},
		{store: "redis://:hunter2-secret@127.0.0.1:6379/zero", errText: "store:"},
	}
	for _, tt := range tests {
		t.Run(tt.store, func(t *testing.T) {
			cfg := &Config{Store: tt.store}
			err := cfg.provision(func(string) string { return "" })
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("provision = %v, want an error naming %q", err, tt.errText)
				}
				if strings.Contains(err.Error(), "hunter2-secret") {
					t.Fatalf("the error reveals the Redis password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Store != tt.want {
				t.Fatalf("store = %q, want %q", cfg.Store, tt.want)
			}
		})
	}
}

// TestOpenStore: memory gives the in-process store; a Redis URL gives a
// store on that server, even one not answering yet (it is logged, not
// fatal).
func TestOpenStore(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	ctx := context.Background()

	st, closeStore, err := openStore(ctx, &Config{Store: "memory"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	closeStore()
	if _, ok := st.(*store.Memory); !ok {
		t.Fatalf("memory store is a %T", st)
	}

	redis := redistest.Start(t)
	st, closeStore, err = openStore(ctx, &Config{Store: redis.URL()}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	other, err := redisstore.Open(redis.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got, err := other.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("the value is not in Redis: %q, %v", got, err)
	}
	closeStore()

	redis.Stop()
	st, closeStore, err = openStore(ctx, &Config{Store: redis.URL()}, logger)
	if err != nil {
		t.Fatalf("an unreachable Redis at start: %v, want a store that recovers later", err)
	}
	defer closeStore()
	if !strings.Contains(logs.String(), "redis store unreachable at start") {
		t.Errorf("the unreachable Redis was not logged:\n%s", logs)
	}
	redis.Restart()
	eventually(t, "store usable once Redis answers", recoveryWait, func() error {
		return st.Set(ctx, "k", []byte("v"), time.Minute)
	})
}
