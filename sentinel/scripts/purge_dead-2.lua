--[[
  purge_dead: delete up to ARGV[1] dead tasks (oldest first), hash and dead entry together.

  KEYS[1] dead  ZSET  task id -> dead_at (ms)
  KEYS[2] task key prefix ({ns:queue}:task:), a task hash is prefix .. id (same slot)

  ARGV[1] batch limit

  Returns the number of tasks deleted (less than ARGV[1] means dead is now empty).
]]
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
for _, id in ipairs(ids) do
  redis.call('DEL', KEYS[2] .. id)
  redis.call('ZREM', KEYS[1], id)
end
return #ids
