--[[
  release: graceful give-back. The task returns to ready at its previous position and the
  attempt that take() counted is undone. No-op on a stale token.

  KEYS[1] leased  ZSET  task id -> lease expiry (ms)
  KEYS[2] ready   ZSET  task id -> -priority * 2^40 + seq
  KEYS[3] task    HASH  the task
  KEYS[4] stats   HASH  counters
  KEYS[5] wake    LIST  wake tokens that idle workers BLPOP on

  ARGV[1] task id
  ARGV[2] lease token
  ARGV[3] max length of the wake list

  Returns 1 if released, 0 if the token is stale (nothing changed).
]]
if redis.call('HGET', KEYS[3], 'token') ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], 'token')
redis.call('HINCRBY', KEYS[3], 'attempts', -1)
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[3], 'score'), ARGV[1])
redis.call('HINCRBY', KEYS[4], 'released', 1)
redis.call('LPUSH', KEYS[5], '1')
redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[3]) - 1)
return 1
