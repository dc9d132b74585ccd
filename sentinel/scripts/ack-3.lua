--[[
  ack: the task is done; delete its hash. No-op on a stale token.

  KEYS[1] leased  ZSET  task id -> lease expiry (ms)
  KEYS[2] task    HASH  the task
  KEYS[3] stats   HASH  counters

  ARGV[1] task id
  ARGV[2] lease token

  Returns 1 if acked, 0 if the token is stale (nothing changed).
]]
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HINCRBY', KEYS[3], 'acked', 1)
return 1
