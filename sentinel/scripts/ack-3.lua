--[[
  ack: the tasks are done; delete their hashes. A stale token changes nothing for its task.

  KEYS[1] leased  ZSET  task id -> lease expiry (ms)
  KEYS[2] stats   HASH  counters
  KEYS[3] task key prefix ({ns:queue}:task:); a task hash is prefix .. id (same slot)

  ARGV[1..] per lease, two values: task id, lease token

  Returns a string with one character per lease: "1" acked, "0" stale (not leased under
  that token any more; nothing changed).
]]
local out = {}
local done_ids, done_keys = {}, {}
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  local key = KEYS[3] .. id
  if redis.call('HGET', key, 'token') == ARGV[i + 1] and redis.call('ZSCORE', KEYS[1], id) then
    -- Clear the token now, so the same lease twice in one call acks once.
    redis.call('HDEL', key, 'token')
    done_ids[#done_ids + 1] = id
    done_keys[#done_keys + 1] = key
    out[#out + 1] = '1'
  else
    out[#out + 1] = '0'
  end
end
for i = 1, #done_ids, 1000 do
  local last = math.min(i + 999, #done_ids)
  redis.call('ZREM', KEYS[1], unpack(done_ids, i, last))
  redis.call('DEL', unpack(done_keys, i, last))
end
if #done_ids > 0 then
  redis.call('HINCRBY', KEYS[2], 'acked', #done_ids)
end
return table.concat(out)
