package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/passgw/passgw/internal/tokenbucket"
	"github.com/passgw/passgw/translate/store"
)

var _ store.TokenBuckets = (*Store)(nil)

// bucketScript is tokenbucket.Bucket.Apply in Lua, on a hash with the
// bucket's fields in microseconds since the Unix epoch: "n" (next turn, 0
// before the first call), "l" (burst left), "h" (end of the hold) and "e"
// (expiry, judged against the caller's now as every entry of the store is:
// idle after the decision, or the end of the hold or of the reserved turn
// if later, as tokenbucket.Bucket.Idle). A decision that changes nothing (a
// refusal, a check) writes nothing; one that does sets the key's TTL to the
// expiry plus the grace, so no bucket outlives its idle time for long.
//
// ARGV: op (0 take, 1 hold, 2 check), now, interval, burst, spacing,
// max wait, hold, idle, grace (times in microseconds). The answer is
// {ok, wait in microseconds, held}.
//
// It is not resent after a connection error (NewLuaScript, not
// NewLuaScriptRetryable): a decision that ran but whose answer was lost
// would spend twice; the caller counts the call in process instead.
var bucketScript = rueidis.NewLuaScript(`
local k = KEYS[1]
local op, now, iv, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local spacing, maxwait, hold = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local idle, grace = tonumber(ARGV[8]), tonumber(ARGV[9])
local nxt, left, held = 0, 0, 0
local f = redis.call('HMGET', k, 'n', 'l', 'h', 'e')
if f[4] and now < tonumber(f[4]) then
  nxt, left, held = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
end
local function save()
  local e = math.max(now + idle, nxt, held)
  redis.call('HSET', k, 'n', string.format('%.0f', nxt), 'l', string.format('%.0f', left),
    'h', string.format('%.0f', held), 'e', string.format('%.0f', e))
  redis.call('PEXPIRE', k, string.format('%.0f', math.ceil((e - now + grace) / 1000)))
end
local function dohold()
  if now + hold > held then held = now + hold end
  left = 0
  if held > nxt then nxt = held end
  save()
end
if now < held then
  if op == 1 then dohold() end
  return {0, held - now, 1}
end
if op == 2 then return {1, 0, 0} end
if op == 1 then
  dohold()
  return {0, held - now, 1}
end
if nxt == 0 then
  left = math.max(burst, 0)
  nxt = now
end
local function after(t)
  if spacing > 0 then return t + spacing end
  return nxt + (math.floor((t - nxt) / iv) + 1) * iv
end
if now >= nxt then
  nxt = after(now)
  save()
  return {1, 0, 0}
end
if left > 0 then
  left = left - 1
  save()
  return {1, 0, 0}
end
local wait = nxt - now
if wait > maxwait then return {0, wait, 0} end
nxt = after(nxt)
save()
return {1, wait, 0}`)

func micros(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) }

// Bucket implements store.TokenBuckets: one script run, one round trip.
func (s *Store) Bucket(ctx context.Context, key string, r tokenbucket.Request, idle time.Duration) (tokenbucket.Decision, error) {
	if err := ctx.Err(); err != nil {
		return tokenbucket.Decision{}, opErr("bucket", key, err)
	}
	r = r.Resolved()
	res, err := s.run(ctx, bucketScript, key,
		strconv.Itoa(int(r.Op)), strconv.FormatInt(r.Now.UnixMicro(), 10),
		// An interval under a microsecond is one: the script divides by it.
		strconv.FormatInt(max(r.Limit.Interval.Microseconds(), 1), 10), strconv.Itoa(r.Limit.Burst), micros(r.Limit.Spacing),
		micros(r.MaxWait), micros(r.Hold), micros(idle), micros(s.grace())).AsIntSlice()
	if err != nil {
		return tokenbucket.Decision{}, opErr("bucket", key, err)
	}
	if len(res) != 3 {
		return tokenbucket.Decision{}, opErr("bucket", key, fmt.Errorf("unexpected script answer of %d elements", len(res)))
	}
	return tokenbucket.Decision{OK: res[0] == 1, Wait: time.Duration(res[1]) * time.Microsecond, Held: res[2] == 1}, nil
}
