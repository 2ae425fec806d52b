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
// resent in full when the server has lost them (after a restart). Set, which
// checks nothing, is a MULTI/EXEC transaction (HSET, then PEXPIRE or
// PERSIST): as atomic, and far cheaper for Redis than running a script.
//
// # Connections
//
// The client (rueidis) pipelines automatically: commands that goroutines
// issue at the same time share one connection and go out in one write,
// their answers come back in one read, so a loaded gateway pays far fewer
// system calls per command than one connection per call would, and so does
// Redis.
//
// There is no client-side caching (no CLIENT TRACKING, no DoCache): every
// read goes to Redis, so that what one instance changes — a logout, a
// handed-out media token — is what the next call on any instance sees.
//
// # Failures
//
// When Redis is unreachable every method returns an error (never
// store.ErrNotFound): each call is bounded by Timeout, dialing by the dial
// timeout, and a connection whose server stops answering is closed after the
// read timeout. The client dials again on the next call, so the store works
// again as soon as Redis is back, without being rebuilt.
package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/passgw/passgw/translate/store"
)

// Defaults of the Store fields and of the client built by Open.
const (
	DefaultPrefix      = "passgw:"
	DefaultExpiryGrace = time.Minute
	// DefaultTimeout bounds dialing, each call and the wait for the server
	// when the URL names no timeout of its own: a stalled Redis must turn
	// into a failed request quickly, not a device waiting on a hung call.
	DefaultTimeout = 2 * time.Second
	// DefaultFlushDelay is how long the connection's writer pauses after
	// each write to gather the commands of other calls into the next one
	// (rueidis' MaxFlushDelay): up to this much latency per command buys
	// fewer system calls in both the gateway and redis-server. In the
	// device mix of `passgw bench` 50µs raised the Redis store's throughput
	// from 0.70 to 0.73 of the in-memory store's (three runs each,
	// alternated).
	DefaultFlushDelay = 50 * time.Microsecond
)

// Store is a store.Store on a Redis database. Build it with New or Open; the
// Client field is required.
type Store struct {
	// Client is the Redis connection. Required. It must not use client-side
	// caching.
	Client rueidis.Client
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
	// Timeout bounds each call whose context has no earlier deadline, and
	// all the calls made under one call scope (store.WithCallBound)
	// together. Zero means DefaultTimeout; negative, no bound beyond the
	// context's.
	Timeout time.Duration
	// Retries is how many times Set is sent again, at once, after a
	// connection error (the client resends the scripts itself, as
	// ParseURL's max_retries says). Zero means DefaultMaxRetries;
	// negative, none.
	Retries int
}

var _ store.Store = (*Store)(nil)

// New returns a Store on client that judges expiry by now (nil: time.Now).
func New(client rueidis.Client, now func() time.Time) *Store {
	return &Store{Client: client, Now: now}
}

// Open connects to the Redis database named by rawURL (see ParseURL for the
// forms and options). It dials once, but a server that does not answer is
// not an error: the client dials again on each call until it does (see
// Ping). Close the store to release its connections.
func Open(rawURL string, now func() time.Time) (*Store, error) {
	opt, retries, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	client, err := rueidis.NewClient(opt)
	if client == nil {
		// Only a configuration the client refuses gets here: with
		// ForceSingleClient a failed dial still yields a client.
		return nil, fmt.Errorf("redisstore: %w", redactURL(err, rawURL))
	}
	s := New(client, now)
	s.Timeout, s.Retries = opt.ConnWriteTimeout, retries
	return s, nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.do(ctx, s.Client.B().Ping().Build()).Error(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Close closes the client's connections, after the calls in flight.
func (s *Store) Close() error {
	s.Client.Close()
	return nil
}

// bound returns ctx limited to Timeout, unless it ends by then anyway;
// under a call scope (store.WithCallBound), to what the call's earlier
// store operations left of Timeout.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.Timeout
	if d == 0 {
		d = DefaultTimeout
	}
	if d < 0 {
		return ctx, func() {}
	}
	return store.BoundCall(ctx, d)
}

// await returns call's result, or, under a call scope, failed(ctx.Err())
// as soon as ctx ends if call has not returned by then. The client honours
// a context's end while a command waits for its answer, but not while it
// waits for a connection another caller is dialing (its handshake bounded
// by that caller's context): a device's call must not wait out another
// call's bound on a stalled server. The abandoned call ends by itself
// within its own bounds.
func await[T any](ctx context.Context, call func() T, failed func(error) T) T {
	if !store.InCallScope(ctx) {
		return call()
	}
	done := make(chan T, 1)
	go func() { done <- call() }()
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		select {
		case r := <-done: // answered in the same instant: keep the answer
			return r
		default:
			return failed(ctx.Err())
		}
	}
}

// do is Client.Do under await.
func (s *Store) do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	return await(ctx, func() rueidis.RedisResult { return s.Client.Do(ctx, cmd) }, rueidis.NewErrorResult)
}

// doMulti is Client.DoMulti under await; a call abandoned answers one
// error.
func (s *Store) doMulti(ctx context.Context, cmds ...rueidis.Completed) []rueidis.RedisResult {
	return await(ctx, func() []rueidis.RedisResult { return s.Client.DoMulti(ctx, cmds...) },
		func(err error) []rueidis.RedisResult { return []rueidis.RedisResult{rueidis.NewErrorResult(err)} })
}

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

// The scripts are sent by SHA (EVALSHA) and in full when the server does
// not know them. A connection error lets the client resend one once: a
// script that ran but whose answer was lost then answers as though another
// call had come first (SetNX false, Take not found), which is what the
// caller's own retry would see too, and never hands anything out twice.
var (
	setNXScript = rueidis.NewLuaScriptRetryable(live + put + `
if live(KEYS[1], ARGV[1]) then return 0 end
put(KEYS[1], ARGV[2], ARGV[3], ARGV[4])
return 1`)
	// HSET leaves both the "e" field and the key TTL as they were.
	replaceScript = rueidis.NewLuaScriptRetryable(live + `
if not live(KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
return 1`)
	// A dead entry is removed too, as store.Memory does.
	takeScript = rueidis.NewLuaScriptRetryable(live + `
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

// hmget is the read of every Get: the value and expiry fields of key.
func (s *Store) hmget(key string) rueidis.Completed {
	return s.Client.B().Hmget().Key(s.key(key)).Field("v", "e").Build()
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, opErr("get", key, err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	vals, err := s.do(ctx, s.hmget(key)).ToArray()
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
func (s *Store) liveValue(vals []rueidis.RedisMessage) ([]byte, error) {
	if len(vals) != 2 {
		return nil, fmt.Errorf("unexpected answer of %d fields", len(vals))
	}
	if vals[0].IsNil() || vals[1].IsNil() {
		return nil, nil
	}
	v, err := vals[0].ToString()
	if err != nil {
		return nil, fmt.Errorf("malformed value: %w", err)
	}
	e, err := vals[1].ToString()
	if err != nil {
		return nil, fmt.Errorf("malformed expiry: %w", err)
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

// GetMany implements store.ManyGetter: the reads go out together, one round
// trip for all keys.
func (s *Store) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: get: %w", err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = s.hmget(k)
	}
	out := make([][]byte, len(keys))
	for i, res := range s.doMulti(ctx, cmds...) {
		vals, err := res.ToArray()
		if err != nil {
			return nil, fmt.Errorf("redisstore: get %d keys: %w", len(keys), err)
		}
		v, err := s.liveValue(vals)
		if err != nil {
			return nil, opErr("get", keys[i], err)
		}
		out[i] = v
	}
	return out, nil
}

// run executes script on key with args, within Timeout.
func (s *Store) run(ctx context.Context, script *rueidis.Lua, key string, args ...string) rueidis.RedisResult {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return await(ctx, func() rueidis.RedisResult { return script.Exec(ctx, s.Client, []string{s.key(key)}, args) }, rueidis.NewErrorResult)
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
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// A transaction rather than a script: the same atomic replace, without
	// running Lua in Redis, which costs several times the commands
	// themselves. HSET overwrites both fields of the entry; the key TTL is
	// set or, for an entry that never expires, removed.
	k := s.key(key)
	b := s.Client.B()
	ttlCmd := b.Persist().Key(k).Build()
	if px != "0" {
		ms, _ := strconv.ParseInt(px, 10, 64)
		ttlCmd = b.Pexpire().Key(k).Milliseconds(ms).Build()
	}
	cmds := rueidis.Commands{
		b.Multi().Build(),
		// string(value) copies: the command may still be queued for
		// writing when a canceled call has returned and the caller reuses
		// value.
		b.Hset().Key(k).FieldValue().FieldValue("v", string(value)).FieldValue("e", e).Build(),
		ttlCmd,
		b.Exec().Build(),
	}
	retries := s.Retries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	var err error
	// Set is idempotent, so it may be resent after a connection error.
	for attempt := 0; attempt <= max(retries, 0); attempt++ {
		if err = firstError(s.doMulti(ctx, cmds...)); err == nil || !retryable(ctx, err) {
			break
		}
	}
	if err != nil {
		return opErr("set", key, err)
	}
	return nil
}

// firstError is the first error among the answers of a transaction.
func firstError(res []rueidis.RedisResult) error {
	for _, r := range res {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}

// retryable reports whether err is a connection failure (not an answer of
// Redis) that leaves time to try again.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	_, isRedis := rueidis.IsRedisErr(err)
	return !isRedis
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
	n, err := s.run(ctx, setNXScript, key, s.nowArg(), string(value), e, px).AsInt64()
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
	n, err := s.run(ctx, replaceScript, key, s.nowArg(), string(value)).AsInt64()
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
	res, err := s.run(ctx, takeScript, key, s.nowArg()).ToArray()
	if err != nil {
		return nil, opErr("take", key, err)
	}
	if len(res) != 2 {
		return nil, opErr("take", key, fmt.Errorf("unexpected script answer of %d elements", len(res)))
	}
	if ok, _ := res[0].AsInt64(); ok != 1 {
		return nil, opErr("take", key, store.ErrNotFound)
	}
	v, err := res[1].ToString()
	if err != nil {
		return nil, opErr("take", key, fmt.Errorf("malformed value: %w", err))
	}
	return []byte(v), nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return opErr("delete", key, err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// Deleting twice is deleting once: safe to resend.
	if err := s.do(ctx, s.Client.B().Del().Key(s.key(key)).Build().ToRetryable()).Error(); err != nil {
		return opErr("delete", key, err)
	}
	return nil
}
