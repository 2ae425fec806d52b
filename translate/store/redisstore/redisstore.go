// Package redisstore is the Redis implementation of store.Store, which lets
// several gateway instances share one memory: a device may register on one
// instance, sign in through a second and fetch its media token from a third.
//
// # Layout and expiry
//
// Each key is a Redis hash under Prefix with two fields: "v", the value, and
// "e", the expiry instant in microseconds since the Unix epoch ("0": never).
// Whether a value is live is judged against the store's Now clock, the same
// way store.Memory does, so that a test (or the gateway's injected clock)
// decides expiry; all instances then agree as far as their clocks agree.
// Redis' own key TTL (PEXPIRE) is set to the time to live plus ExpiryGrace
// and serves only to reclaim memory: an entry Redis still holds but Now says
// is past its expiry is treated as absent.
//
// # Atomicity
//
// SetNX, Replace and Take are Lua scripts, so each check-then-act runs as one
// step inside Redis, atomic against every other client of the database: of
// instances racing for a media token exactly one wins, and a deleted
// registration code cannot be brought back. The scripts are sent by SHA and
// resent in full when the server has lost them (after a restart).
//
// # Failures
//
// When Redis is unreachable every method returns an error (never
// store.ErrNotFound) after the client's bounded dial, read and write
// timeouts; the client reconnects by itself once Redis is back.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/passgw/passgw/translate/store"
)

// Defaults of the Store fields and of the client built by Open.
const (
	DefaultPrefix      = "passgw:"
	DefaultExpiryGrace = time.Minute
	// DefaultTimeout bounds dialing, each read and each write when the URL
	// names no timeout of its own: a stalled Redis must turn into a failed
	// request quickly, not a device waiting on a hung call.
	DefaultTimeout = 2 * time.Second
)

// Store is a store.Store on a Redis database. Build it with New or Open; the
// Client field is required.
type Store struct {
	// Client is the Redis connection. Required.
	Client redis.UniversalClient
	// Prefix is prepended to every key, so that other data (or another
	// deployment) can share the database. Empty means DefaultPrefix.
	Prefix string
	// Now is the clock expiry is judged against. Nil means time.Now.
	Now func() time.Time
	// ExpiryGrace is added to each time to live for Redis' own key expiry,
	// so that an instance whose clock lags a little still finds the entry,
	// and entries a frozen test clock considers live are not reclaimed
	// early. Zero means DefaultExpiryGrace.
	ExpiryGrace time.Duration
}

var _ store.Store = (*Store)(nil)

// New returns a Store on client that judges expiry by now (nil: time.Now).
func New(client redis.UniversalClient, now func() time.Time) *Store {
	return &Store{Client: client, Now: now}
}

// Open connects to the Redis database named by rawURL,
// redis://[USER:PASSWORD@]HOST:PORT/DB (rediss:// for TLS), with the query
// options of go-redis' ParseURL (dial_timeout, read_timeout, pool_size, ...).
// Timeouts the URL leaves out are DefaultTimeout, and max_retries is 1. Open does not contact the
// server; see Ping. Close the store to release its connections.
func Open(rawURL string, now func() time.Time) (*Store, error) {
	opts, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return New(redis.NewClient(opts), now), nil
}

// ParseURL returns the client options of a redis:// or rediss:// URL, with
// DefaultTimeout where the URL names no timeout. The error never contains the
// URL, which may hold a password.
func ParseURL(rawURL string) (*redis.Options, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: invalid redis URL: %w", redactURL(err, rawURL))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("redisstore: invalid redis URL")
	}
	q := u.Query()
	if !q.Has("dial_timeout") {
		opts.DialTimeout = DefaultTimeout
	}
	if !q.Has("read_timeout") {
		opts.ReadTimeout = DefaultTimeout
	}
	if !q.Has("write_timeout") {
		opts.WriteTimeout = DefaultTimeout
	}
	// An outage must fail calls quickly: one command retry (for a pooled
	// connection the server closed) and one dial attempt per call, not the
	// client's defaults of 3 retries each dialing 5 times. After repeated
	// dial failures the client fails at once and probes the server in the
	// background about every second, which is how it recovers by itself.
	if !q.Has("max_retries") {
		opts.MaxRetries = 1
	}
	opts.DialerRetries = 1
	// Cluster maintenance notifications concern managed Redis offerings;
	// probing for them on a plain server only adds a failed command per
	// connection.
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return opts, nil
}

// redactURL keeps the password of rawURL out of err's text.
func redactURL(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.Client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Close closes the client's connections.
func (s *Store) Close() error { return s.Client.Close() }

func (s *Store) key(k string) string {
	if s.Prefix == "" {
		return DefaultPrefix + k
	}
	return s.Prefix + k
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) grace() time.Duration {
	if s.ExpiryGrace > 0 {
		return s.ExpiryGrace
	}
	return DefaultExpiryGrace
}

// expiryArgs returns the stored expiry instant and the Redis key TTL, both
// as script arguments, for a value stored now for ttl.
func (s *Store) expiryArgs(ttl time.Duration) (expires, px string) {
	if ttl == 0 {
		return "0", "0"
	}
	return strconv.FormatInt(s.now().Add(ttl).UnixMicro(), 10),
		strconv.FormatInt((ttl + s.grace()).Milliseconds(), 10)
}

func (s *Store) nowArg() string { return strconv.FormatInt(s.now().UnixMicro(), 10) }

// live is the Lua test shared by the scripts: the key exists and its
// expiry, if any, is after ARGV[1] (now, in microseconds).
const live = `
local function live(k, now)
  local e = redis.call('HGET', k, 'e')
  if not e then return false end
  e = tonumber(e)
  return e == 0 or tonumber(now) < e
end
`

// put stores ARGV[2] under KEYS[1] with expiry ARGV[3] and key TTL ARGV[4].
const put = `
local function put(k, v, e, px)
  redis.call('DEL', k)
  redis.call('HSET', k, 'v', v, 'e', e)
  if px ~= '0' then redis.call('PEXPIRE', k, px) end
end
`

var (
	setScript   = redis.NewScript(put + `put(KEYS[1], ARGV[2], ARGV[3], ARGV[4]) return 1`)
	setNXScript = redis.NewScript(live + put + `
if live(KEYS[1], ARGV[1]) then return 0 end
put(KEYS[1], ARGV[2], ARGV[3], ARGV[4])
return 1`)
	// HSET leaves both the "e" field and the key TTL as they were.
	replaceScript = redis.NewScript(live + `
if not live(KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
return 1`)
	// A dead entry is removed too, as store.Memory does.
	takeScript = redis.NewScript(live + `
local ok = live(KEYS[1], ARGV[1])
local v = redis.call('HGET', KEYS[1], 'v')
redis.call('DEL', KEYS[1])
if ok then return {1, v} end
return {0, ''}`)
)

func checkTTL(op, key string, ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("redisstore: %s %q: %w (%v)", op, key, store.ErrInvalidTTL, ttl)
	}
	return nil
}

func opErr(op, key string, err error) error {
	return fmt.Errorf("redisstore: %s %q: %w", op, key, err)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, opErr("get", key, err)
	}
	vals, err := s.Client.HMGet(ctx, s.key(key), "v", "e").Result()
	if err != nil {
		return nil, opErr("get", key, err)
	}
	v, err := s.liveValue(vals)
	if err != nil {
		return nil, opErr("get", key, err)
	}
	if v == nil {
		return nil, opErr("get", key, store.ErrNotFound)
	}
	return v, nil
}

// liveValue reads an HMGET v e answer: the value, or nil when the entry is
// absent or expired by Now.
func (s *Store) liveValue(vals []any) ([]byte, error) {
	if len(vals) != 2 {
		return nil, fmt.Errorf("unexpected answer of %d fields", len(vals))
	}
	v, vok := vals[0].(string)
	e, eok := vals[1].(string)
	if !vok || !eok {
		return nil, nil
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("malformed expiry %q", e)
	}
	if exp != 0 && s.now().UnixMicro() >= exp {
		return nil, nil
	}
	return []byte(v), nil
}

// GetMany implements store.ManyGetter: the reads are pipelined, one round
// trip for all keys.
func (s *Store) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: get: %w", err)
	}
	cmds := make([]*redis.SliceCmd, len(keys))
	_, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, s.key(k), "v", "e")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: get %d keys: %w", len(keys), err)
	}
	out := make([][]byte, len(keys))
	for i, c := range cmds {
		v, err := s.liveValue(c.Val())
		if err != nil {
			return nil, opErr("get", keys[i], err)
		}
		out[i] = v
	}
	return out, nil
}

// Set implements store.Store.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return opErr("set", key, err)
	}
	if err := checkTTL("set", key, ttl); err != nil {
		return err
	}
	e, px := s.expiryArgs(ttl)
	if err := setScript.Run(ctx, s.Client, []string{s.key(key)}, s.nowArg(), value, e, px).Err(); err != nil {
		return opErr("set", key, err)
	}
	return nil
}

// SetNX implements store.Store.
func (s *Store) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, opErr("setnx", key, err)
	}
	if err := checkTTL("setnx", key, ttl); err != nil {
		return false, err
	}
	e, px := s.expiryArgs(ttl)
	n, err := setNXScript.Run(ctx, s.Client, []string{s.key(key)}, s.nowArg(), value, e, px).Int()
	if err != nil {
		return false, opErr("setnx", key, err)
	}
	return n == 1, nil
}

// Replace implements store.Store.
func (s *Store) Replace(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return opErr("replace", key, err)
	}
	n, err := replaceScript.Run(ctx, s.Client, []string{s.key(key)}, s.nowArg(), value).Int()
	if err != nil {
		return opErr("replace", key, err)
	}
	if n == 0 {
		return opErr("replace", key, store.ErrNotFound)
	}
	return nil
}

// Take implements store.Store.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, opErr("take", key, err)
	}
	res, err := takeScript.Run(ctx, s.Client, []string{s.key(key)}, s.nowArg()).Slice()
	if err != nil {
		return nil, opErr("take", key, err)
	}
	if len(res) != 2 {
		return nil, opErr("take", key, fmt.Errorf("unexpected script answer of %d elements", len(res)))
	}
	if ok, _ := res[0].(int64); ok != 1 {
		return nil, opErr("take", key, store.ErrNotFound)
	}
	v, _ := res[1].(string)
	return []byte(v), nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return opErr("delete", key, err)
	}
	if err := s.Client.Del(ctx, s.key(key)).Err(); err != nil {
		return opErr("delete", key, err)
	}
	return nil
}
