--[[
  take: housekeeping, then lease up to N ready tasks.

  Housekeeping (each step bounded by ARGV[3] tasks per call):
    1. due delayed tasks move to ready (new FIFO seq within their priority);
    2. expired leases are rescued: back to ready at their previous position, or to dead
       with last_error "lease expired" once attempts >= max_attempts. Counted as "expired".

  KEYS[1] ready    ZSET  task id -> -priority * 2^40 + seq
  KEYS[2] delayed  ZSET  task id -> due time (ms, server clock)
  KEYS[3] leased   ZSET  task id -> lease expiry (ms, server clock)
  KEYS[4] dead     ZSET  task id -> dead_at (ms, server clock)
  KEYS[5] stats    HASH  counters + "seq"
  KEYS[6] task key prefix ({ns:queue}:task:), a task hash is prefix .. id (same slot)

  ARGV[1] worker id
  ARGV[2] lease duration in ms
  ARGV[3] housekeeping limit per step
  ARGV[4..] one fresh random token per task wanted (Redis seeds Lua's RNG identically
            on every call, so tokens come from the client)

  Returns {} if no tokens were passed, else {expires_at_ms, id1, payload1, attempts1, token1, id2, ...}
  (only the header when nothing is ready).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[3])
local prefix = KEYS[6]

local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  local tk = prefix .. id
  local priority = tonumber(redis.call('HGET', tk, 'priority'))
  if priority then
    local seq = redis.call('HINCRBY', KEYS[5], 'seq', 1)
    local score = -priority * 1099511627776 + seq
    redis.call('HSET', tk, 'score', score)
    redis.call('ZADD', KEYS[1], score, id)
  end
end

local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[3], id)
  local tk = prefix .. id
  local f = redis.call('HMGET', tk, 'attempts', 'max_attempts', 'score')
  if f[1] then
    redis.call('HDEL', tk, 'token')
    redis.call('HSET', tk, 'last_error', 'lease expired')
    redis.call('HINCRBY', KEYS[5], 'expired', 1)
    if tonumber(f[1]) >= tonumber(f[2]) then
      redis.call('HSET', tk, 'dead_at', now)
      redis.call('ZADD', KEYS[4], now, id)
      redis.call('HINCRBY', KEYS[5], 'dead_lettered', 1)
    else
      redis.call('ZADD', KEYS[1], f[3], id)
    end
  end
end

local wanted = #ARGV - 3
if wanted < 1 then
  return {}
end
local expires = now + tonumber(ARGV[2])
local out = {expires}
local popped = redis.call('ZPOPMIN', KEYS[1], wanted)
local next_token = 4
for i = 1, #popped, 2 do
  local id = popped[i]
  local tk = prefix .. id
  local payload = redis.call('HGET', tk, 'payload')
  if payload then
    local token = ARGV[next_token]
    next_token = next_token + 1
    local attempts = redis.call('HINCRBY', tk, 'attempts', 1)
    redis.call('HSET', tk, 'token', token, 'worker_id', ARGV[1], 'leased_at', now)
    redis.call('ZADD', KEYS[3], expires, id)
    out[#out + 1] = id
    out[#out + 1] = payload
    out[#out + 1] = attempts
    out[#out + 1] = token
  end
end
return out
