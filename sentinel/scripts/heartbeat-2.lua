--[[
  heartbeat: push a live lease's expiry to now + ARGV[3] ms. No-op on a stale token.
  A lease past its expiry that no take() has rescued yet is still live and can be extended.

  KEYS[1] leased  ZSET  task id -> lease expiry (ms, server clock)
  KEYS[2] task    HASH  the task

  ARGV[1] task id
  ARGV[2] lease token
  ARGV[3] new lease duration in ms

  Returns the new expiry in ms, or 0 if the token is stale (nothing changed).
]]
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[2] or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expires = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[1])
return expires
