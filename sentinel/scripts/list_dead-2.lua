--[[
  list_dead: read-only snapshot of the oldest dead tasks with their history.

  KEYS[1] dead  ZSET  task id -> dead_at (ms)
  KEYS[2] task key prefix ({ns:queue}:task:), a task hash is prefix .. id (same slot)

  ARGV[1] max number of tasks

  Returns {id, payload, attempts, last_error, worker_id, enqueued_at_ms, dead_at_ms, ...}
  (7 entries per task; missing fields come back as "").
]]
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local out = {}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', KEYS[2] .. id, 'payload', 'attempts', 'last_error', 'worker_id',
    'enqueued_at', 'dead_at')
  out[#out + 1] = id
  for i = 1, 6 do
    out[#out + 1] = f[i] or ''
  end
end
return out
