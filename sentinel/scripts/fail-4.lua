--[[
  fail: permanent failure, straight to dead whatever the attempts left.

  KEYS[1] leased  ZSET  task id -> lease expiry (ms)
  KEYS[2] dead    ZSET  task id -> dead_at (ms, server clock)
  KEYS[3] task    HASH  the task
  KEYS[4] stats   HASH  counters

  ARGV[1] task id
  ARGV[2] lease token
  ARGV[3] error text (stored as last_error)

  Returns "dead", or "stale" (token stale, nothing changed).
]]
if redis.call('HGET', KEYS[3], 'token') ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 'stale'
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], 'token')
redis.call('HSET', KEYS[3], 'last_error', ARGV[3], 'dead_at', now)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('HINCRBY', KEYS[4], 'dead_lettered', 1)
return 'dead'
