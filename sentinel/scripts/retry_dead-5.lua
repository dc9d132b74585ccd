--[[
  retry_dead: move dead tasks back to ready (end of their priority) with attempts reset to 0.
  last_error and worker_id are kept as history until the next failure overwrites them.

  KEYS[1] dead    ZSET  task id -> dead_at (ms)
  KEYS[2] ready   ZSET  task id -> -priority * 2^40 + seq
  KEYS[3] stats   HASH  counters + "seq"
  KEYS[4] wake    LIST  wake tokens that idle workers BLPOP on
  KEYS[5] task key prefix ({ns:queue}:task:), a task hash is prefix .. id (same slot)

  ARGV[1] max length of the wake list
  ARGV[2] "all" to take the oldest ARGV[3] dead tasks, or "ids" to use ARGV[4..]
  ARGV[3] batch limit (used with "all")
  ARGV[4..] task ids (used with "ids"); ids not in dead are skipped

  Returns the number of tasks moved to ready.
]]
local ids
if ARGV[2] == 'all' then
  ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
else
  ids = {}
  for i = 4, #ARGV do
    ids[#ids + 1] = ARGV[i]
  end
end
local moved = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local tk = KEYS[5] .. id
    local priority = tonumber(redis.call('HGET', tk, 'priority')) or 0
    local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
    local score = -priority * 1099511627776 + seq
    redis.call('HDEL', tk, 'token', 'dead_at')
    redis.call('HSET', tk, 'attempts', 0, 'score', score)
    redis.call('ZADD', KEYS[2], score, id)
    moved = moved + 1
  end
end
if moved > 0 then
  redis.call('LPUSH', KEYS[4], '1')
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[1]) - 1)
end
return moved
