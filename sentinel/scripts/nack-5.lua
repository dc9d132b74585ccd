--[[
  nack: the attempt failed. Retry later (to delayed) or dead-letter once attempts are used up.

  KEYS[1] leased   ZSET  task id -> lease expiry (ms)
  KEYS[2] delayed  ZSET  task id -> due time (ms, server clock)
  KEYS[3] dead     ZSET  task id -> dead_at (ms, server clock)
  KEYS[4] task     HASH  the task
  KEYS[5] stats    HASH  counters

  ARGV[1] task id
  ARGV[2] lease token
  ARGV[3] error text (stored as last_error)
  ARGV[4] retry delay in ms (backoff computed by the client from the attempt number)

  Returns "retry", "dead", or "stale" (token stale, nothing changed).
]]
if redis.call('HGET', KEYS[4], 'token') ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 'stale'
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f = redis.call('HMGET', KEYS[4], 'attempts', 'max_attempts')
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[4], 'token')
redis.call('HSET', KEYS[4], 'last_error', ARGV[3])
if tonumber(f[1]) >= tonumber(f[2]) then
  redis.call('HSET', KEYS[4], 'dead_at', now)
  redis.call('ZADD', KEYS[3], now, ARGV[1])
  redis.call('HINCRBY', KEYS[5], 'dead_lettered', 1)
  return 'dead'
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])
redis.call('HINCRBY', KEYS[5], 'retried', 1)
return 'retry'
