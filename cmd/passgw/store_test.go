package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/redistest"
	"github.com/passgw/passgw/internal/testenv"
	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v2client"
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

// TestStoreRecordVersionConfig: store_record_version is 1 unless set, 0 or
// 1 when set, and any other value is refused naming the field; the value
// reaches the gateway's record writer (translate.GatewayConfig).
func TestStoreRecordVersionConfig(t *testing.T) {
	for _, tt := range []struct {
		yaml    string
		want    int
		errText string // "" when provision must succeed
	}{
		{yaml: "", want: 1},
		{yaml: "store_record_version: 1\n", want: 1},
		{yaml: "store_record_version: 0\n", want: 0},
		{yaml: "store_record_version: 2\n", errText: "store_record_version: want 1 (the default) or 0"},
		{yaml: "store_record_version: -1\n", errText: "store_record_version: want 1 (the default) or 0"},
		{yaml: "store_record_version: one\n", errText: "store_record_version"},
	} {
		t.Run(tt.yaml, func(t *testing.T) {
			cfg, err := parseConfig("passgw.yaml", []byte("upstream: sandbox\n"+tt.yaml))
			if err == nil {
				err = cfg.provision(func(string) string { return "" })
			}
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("provision = %v, want an error saying %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.StoreRecordVersion == nil || *cfg.StoreRecordVersion != tt.want {
				t.Fatalf("store_record_version = %v, want %d", cfg.StoreRecordVersion, tt.want)
			}
			gc := translate.GatewayConfig{Client: &v2client.Client{}, Requestors: cfg.translateRequestors(), RecordVersion: cfg.StoreRecordVersion}
			if err := gc.Provision(); err != nil {
				t.Fatalf("the gateway refuses the provisioned version: %v", err)
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
	testenv.Eventually(t, "store usable once Redis answers", recoveryWait, func() error {
		return st.Set(ctx, "k", []byte("v"), time.Minute)
	})
}

// TestCredentialConfig: pinned v2 credentials and store keys, from the file
// or the environment, and the contradictions provision rejects.
func TestCredentialConfig(t *testing.T) {
	const key = "s1:c3RvcmUta2V5LW9mLXRoZS10ZXN0LTAxMjM0NTY3ODk"
	req := func(mod func(*RequestorConfig)) []RequestorConfig {
		r := RequestorConfig{Requestor: translate.Requestor{ID: "REF30", DomainName: "example.com", RedirectURL: "https://example.com/done"}, SoftwareStatement: "st"}
		mod(&r)
		return []RequestorConfig{r}
	}
	tests := []struct {
		name    string
		cfg     Config
		env     map[string]string
		errText string // "" when provision must succeed
		pinned  string // the client id pinned for REF30
	}{
		{name: "pinned in the file, no statement needed",
			cfg:    Config{Requestors: req(func(r *RequestorConfig) { r.SoftwareStatement, r.V2ClientID, r.V2ClientSecret = "", "id", "secret" })},
			pinned: "id"},
		{name: "pinned from the environment",
			cfg:    Config{Requestors: req(func(r *RequestorConfig) {})},
			env:    map[string]string{"PASSGW_V2_CLIENT_ID_REF30": "env-id", "PASSGW_V2_CLIENT_SECRET_REF30": "env-secret"},
			pinned: "env-id"},
		{name: "id without secret",
			cfg:     Config{Requestors: req(func(r *RequestorConfig) { r.V2ClientID = "id" })},
			errText: "requestors[0].v2_client_id"},
		{name: "neither statement nor pin",
			cfg:     Config{Requestors: req(func(r *RequestorConfig) { r.SoftwareStatement = "" })},
			errText: "requestors[0].software_statement"},
		{name: "one service provider, two pins",
			cfg: Config{Requestors: append(req(func(r *RequestorConfig) { r.V2ClientID, r.V2ClientSecret = "a", "s" }),
				req(func(r *RequestorConfig) {
					r.ID, r.ServiceProvider, r.V2ClientID, r.V2ClientSecret = "REF30E", "REF30", "b", "s"
				})...)},
			errText: "requestors[1].v2_client_id"},
		{name: "store keys",
			cfg: Config{StoreKeys: []string{key}, Requestors: req(func(r *RequestorConfig) {})}},
		{name: "store key too short",
			cfg:     Config{Requestors: req(func(r *RequestorConfig) {})},
			env:     map[string]string{"PASSGW_STORE_KEYS": "s1:c2hvcnQ"},
			errText: "store_keys"},
		{name: "store_check unknown",
			cfg:     Config{StoreCheck: "maybe", Requestors: req(func(r *RequestorConfig) {})},
			errText: "store_check"},
		{name: "store keys listed twice",
			cfg:     Config{StoreKeys: []string{key, key}, Requestors: req(func(r *RequestorConfig) {})},
			errText: "store_keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			err := cfg.provision(func(k string) string { return tt.env[k] })
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("provision = %v, want an error naming %s", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.pinned()["REF30"].ClientID; got != tt.pinned {
				t.Errorf("pinned client id %q, want %q", got, tt.pinned)
			}
			if s, err := cfg.sealer(); err != nil || (s == nil) != (len(cfg.StoreKeys) == 0) {
				t.Errorf("sealer = %v, %v for store_keys %d", s, err, len(cfg.StoreKeys))
			}
		})
	}
}

// TestRedisStartCheck: at start the gateway reads a real redis-server's
// persistence and eviction settings, says loudly which would lose its
// state, and refuses to start on them when store_check is refuse.
func TestRedisStartCheck(t *testing.T) {
	tests := []struct {
		name  string
		args  []string // redis-server configuration
		warns []string // what the log must say; none when the settings are safe
	}{
		{name: "no persistence", warns: []string{"no persistence"}},
		{name: "aof", args: []string{"--appendonly", "yes"}},
		{name: "rdb snapshots", args: []string{"--save", "60 1000"}},
		{name: "allkeys-lru", args: []string{"--appendonly", "yes", "--maxmemory-policy", "allkeys-lru"}, warns: []string{"maxmemory-policy allkeys-lru evicts any key"}},
		{name: "allkeys-random without persistence", args: []string{"--maxmemory-policy", "allkeys-random"},
			warns: []string{"maxmemory-policy allkeys-random evicts any key", "no persistence"}},
		{name: "volatile-ttl", args: []string{"--save", "60 1000", "--maxmemory-policy", "volatile-ttl"}, warns: []string{"maxmemory-policy volatile-ttl evicts keys with a time to live"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			redis := redistest.Start(t, tt.args...)
			for _, mode := range []string{"warn", "refuse", "off"} {
				logs := &syncBuffer{}
				logger := slog.New(slog.NewTextHandler(logs, nil))
				_, closeStore, err := openStore(t.Context(), &Config{Store: redis.URL(), StoreCheck: mode}, logger)
				if err == nil {
					closeStore()
				}
				loud := countLines(logs.String(), "REDIS CAN LOSE THE GATEWAY'S STATE")
				switch {
				case mode == "off":
					if loud != 0 || err != nil {
						t.Errorf("store_check off: %d warnings, error %v; want neither", loud, err)
					}
				case len(tt.warns) == 0:
					if loud != 0 || err != nil {
						t.Errorf("store_check %s on safe settings: warnings %d, error %v:\n%s", mode, loud, err, logs)
					}
				default:
					if loud != len(tt.warns) {
						t.Errorf("store_check %s: %d loud lines, want %d:\n%s", mode, loud, len(tt.warns), logs)
					}
					for _, w := range tt.warns {
						if !strings.Contains(logs.String(), w) {
							t.Errorf("store_check %s: the log does not say %q:\n%s", mode, w, logs)
						}
						if mode == "refuse" && (err == nil || !strings.Contains(err.Error(), w)) {
							t.Errorf("store_check refuse: error %v, want one saying %q", err, w)
						}
					}
					if mode == "warn" && err != nil {
						t.Errorf("store_check warn: %v, want a start", err)
					}
				}
			}
		})
	}
}

// TestRegcodeFloodCapped: a flood of registration codes for unique devices
// fills a capped in-memory store to its cap and no further; past the
// reserve, new registrations get v1's 429, and a device registered before
// the flood still signs in and is authorized.
func TestRegcodeFloodCapped(t *testing.T) {
	const maxEntries = 60
	m := &store.Memory{MaxEntries: maxEntries}
	w := startWorld(t, nil, nil, hooks{Store: m})
	accept := map[string]string{"Accept": "application/json"}
	resp, body := w.do("POST", "/reggie/v1/REF30/regcode", accept, "deviceId=early-device")
	expectJSON(t, "regcode before the flood", resp, body, http.StatusCreated, nil)
	var reg struct{ Code string }
	if err := json.Unmarshal(body, &reg); err != nil || reg.Code == "" {
		t.Fatalf("regcode before the flood: %s: %v", body, err)
	}

	created, refused := 0, 0
	for i := range 200 {
		resp, body := w.do("POST", "/reggie/v1/REF30/regcode", accept, fmt.Sprintf("deviceId=flood-%d", i))
		switch resp.StatusCode {
		case http.StatusCreated:
			created++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("flood regcode %d: %d %s", i, resp.StatusCode, body)
		}
		if n := m.Len(); n > maxEntries {
			t.Fatalf("after %d registrations the store holds %d entries, over its cap of %d", i+1, n, maxEntries)
		}
	}
	if refused == 0 || created == 0 {
		t.Fatalf("%d created, %d refused: want the flood cut off at the cap", created, refused)
	}
	if !strings.Contains(w.logs.String(), "store full: new registrations refused") {
		t.Error("the refusals were not logged")
	}
	secondScreen(t, w, reg.Code, "REF30", "alice")
	dev := "requestor=REF30&deviceId=early-device"
	resp, body = w.do("GET", "/api/v1/checkauthn/"+reg.Code+"?"+dev, accept, "")
	expectJSON(t, "checkauthn of the early device", resp, body, http.StatusOK, nil)
	resp, body = w.do("GET", "/api/v1/authorize?"+dev+"&resource=sports", accept, "")
	expectJSON(t, "authorize of the early device", resp, body, http.StatusOK, nil)
	t.Logf("%d registrations created, %d refused; %d entries held of %d", created, refused, m.Len(), maxEntries)
}
