package translate

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/record"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v1model"
)

// writesStore is a store that keeps every value written under a key of the
// records' kinds, before handing it to the in-memory store.
type writesStore struct {
	store.Store
	mu     sync.Mutex
	writes map[string][][]byte // by key prefix
}

func (s *writesStore) keep(key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind, _, _ := strings.Cut(key, ":")
	s.writes[kind] = append(s.writes[kind], value)
}

func (s *writesStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.keep(key, value)
	return s.Store.Set(ctx, key, value, ttl)
}

func (s *writesStore) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	s.keep(key, value)
	return s.Store.SetNX(ctx, key, value, ttl)
}

// TestRecordVersionWritten: the records a signed-in device's calls write
// (registration, remembered registration, cached profiles, kept decision)
// are in the format version GatewayConfig.RecordVersion names, record.Version
// when it is nil, and the calls reading them back succeed.
func TestRecordVersionWritten(t *testing.T) {
	for _, tt := range []struct {
		name    string
		version *int
		want    int
	}{
		{"default", nil, record.Version},
		{"version 0", new(0), 0},
		{"version 1", new(1), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ws *writesStore
			e := newEnv(t, envOption{gateway: func(c *GatewayConfig) {
				ws = &writesStore{Store: c.Store, writes: map[string][][]byte{}}
				c.Store, c.RecordVersion = ws, tt.version
			}})
			d := testDevice("record-version")
			code := e.signIn(d, "AcmeCable", "alice")
			if _, err := e.gw.CheckAuthn(e.ctx, &v1model.CheckAuthnRequest{Device: d}); err != nil {
				t.Fatalf("CheckAuthn: %v", err)
			}
			if _, err := e.gw.Authorize(e.ctx, &v1model.AuthorizeRequest{Device: d, Resource: "news"}); err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if _, err := e.gw.AuthzToken(e.ctx, &v1model.AuthzTokenRequest{Device: d, Resource: "news"}); err != nil {
				t.Fatalf("tokens/authz from the kept decision: %v", err)
			}
			// Where the record starts in the stored value of each kind.
			for kind, start := range map[string]func([]byte) []byte{
				"reg":      func(b []byte) []byte { return b[1:] }, // store.Records' tag
				"regmem":   func(b []byte) []byte { return b },
				"profiles": untagged,
				"decision": untagged,
			} {
				ws.mu.Lock()
				writes := ws.writes[kind]
				ws.mu.Unlock()
				if len(writes) == 0 {
					t.Errorf("code %s: no %s record written", code, kind)
				}
				for _, w := range writes {
					rec := start(w)
					got := 0
					if len(rec) > 1 && rec[0]&0x80 != 0 {
						got = int(rec[1])
					}
					if got != tt.want {
						t.Errorf("%s record written in version %d, want %d: % x", kind, got, tt.want, rec[:min(len(rec), 4)])
					}
				}
			}
		})
	}
}

// untagged skips the generation tag of device state (tagGeneration).
func untagged(b []byte) []byte {
	n, w := binary.Uvarint(b)
	return b[w+int(n):]
}
