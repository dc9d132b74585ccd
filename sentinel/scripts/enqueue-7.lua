--[[
  enqueue: add one task, or return the existing id for a live dedupe key.

  KEYS[1] ready    ZSET    task id -> -priority * 2^40 + seq (lowest score taken first)
  KEYS[2] delayed  ZSET    task id -> due time, ms on the Redis server clock
  KEYS[3] task     HASH    the new task ({ns:queue}:task:<id>)
  KEYS[4] dedupe   STRING  task id, expires after ARGV[7] s; read/written only if ARGV[8] == "1"
  KEYS[5] stats    HASH    counters, plus "seq" (FIFO sequence for ready scores)
  KEYS[6] wake     LIST    wake tokens that idle workers BLPOP on
  KEYS[7] receipt  STRING  "<status>:<id>" of this call ({ns:queue}:receipt:<id>), expires after ARGV[10] s

  ARGV[1] task id (uuid4 hex)
  ARGV[2] payload (raw bytes, stored as-is)
  ARGV[3] delay in ms (0 = ready now)
  ARGV[4] max attempts (>= 1)
  ARGV[5] priority (integer, |p| < 4096)
  ARGV[6] max depth (0 = unbounded); refuse when ready + delayed >= max depth
  ARGV[7] dedupe TTL in seconds
  ARGV[8] "1" if KEYS[4] is a real dedupe key, "0" to ignore it
  ARGV[9] max length of the wake list
  ARGV[10] replay window in seconds: how long the receipt is kept

  Returns {1, id} created; {0, existing id} deduplicated; {-1, ""} queue full, nothing written.
  A call whose task id has a receipt is a replay (the client retried after losing the reply
  of a call that was applied): it changes nothing and answers what the first call answered,
  so a replay can never re-create a task that was meanwhile taken or acked.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]

local receipt = redis.call('GET', KEYS[7])
if receipt then
  local sep = string.find(receipt, ':', 1, true)
  return {tonumber(string.sub(receipt, 1, sep - 1)), string.sub(receipt, sep + 1)}
end

if ARGV[8] == '1' then
  local existing = redis.call('GET', KEYS[4])
  if existing then
    redis.call('HINCRBY', KEYS[5], 'deduped', 1)
    redis.call('SET', KEYS[7], '0:' .. existing, 'EX', tonumber(ARGV[10]))
    return {0, existing}
  end
end

local max_depth = tonumber(ARGV[6])
if max_depth > 0 and redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= max_depth then
  return {-1, ''}
end

local priority = tonumber(ARGV[5])
local delay = tonumber(ARGV[3])
redis.call('HSET', KEYS[3], 'payload', ARGV[2], 'attempts', 0, 'max_attempts', ARGV[4],
  'priority', priority, 'enqueued_at', now)

if delay > 0 then
  redis.call('ZADD', KEYS[2], now + delay, id)
else
  local seq = redis.call('HINCRBY', KEYS[5], 'seq', 1)
  local score = -priority * 1099511627776 + seq
  redis.call('HSET', KEYS[3], 'score', score)
  redis.call('ZADD', KEYS[1], score, id)
  redis.call('LPUSH', KEYS[6], '1')
  redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[9]) - 1)
end

if ARGV[8] == '1' then
  redis.call('SET', KEYS[4], id, 'EX', tonumber(ARGV[7]))
end
redis.call('HINCRBY', KEYS[5], 'enqueued', 1)
redis.call('SET', KEYS[7], '1:' .. id, 'EX', tonumber(ARGV[10]))
return {1, id}
