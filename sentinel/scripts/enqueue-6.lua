--[[
  enqueue: add a batch of tasks (one or many) atomically, or answer the existing id for a
  live dedupe key.

  KEYS[1] ready    ZSET    task id -> -priority * 2^40 + seq (lowest score taken first)
  KEYS[2] delayed  ZSET    task id -> due time, ms on the Redis server clock
  KEYS[3] stats    HASH    counters, plus "seq" (FIFO sequence for ready scores)
  KEYS[4] wake     LIST    wake tokens that idle workers BLPOP on
  KEYS[5] receipt  STRING  the answer of this call ({ns:queue}:receipt:<first task id>)
  KEYS[6] queue key prefix ({ns:queue}:); task hashes are prefix .. "task:" .. id and
          dedupe keys prefix .. "dedupe:" .. key (same slot)

  ARGV[1] delay in ms (0 = ready now)
  ARGV[2] max attempts (>= 1)
  ARGV[3] priority (integer, |p| < 4096)
  ARGV[4] max depth (0 = unbounded); an item is refused while ready + delayed >= max depth
  ARGV[5] dedupe TTL in seconds
  ARGV[6] max length of the wake list
  ARGV[7] replay window in seconds: how long the receipt is kept
  ARGV[8..] per task, three values: task id (uuid4 hex, fresh), payload (raw bytes),
            dedupe key ("" for none)

  Returns {statuses, ids}: statuses has one character per task, "1" created, "0"
  deduplicated (an earlier task, maybe earlier in this batch, holds the key), "F" refused
  because the queue is full (nothing written for it); ids is the task id answered for each
  task, space-separated, "-" for a refused one.
  A call whose receipt exists is a replay (redis-py retried after losing the reply of an
  applied call): it changes nothing and answers what the first call answered, so a replay
  can never re-create a task that was meanwhile taken or acked.
]]
local receipt = redis.call('GET', KEYS[5])
if receipt then
  local sep = string.find(receipt, '|', 1, true)
  return {string.sub(receipt, 1, sep - 1), string.sub(receipt, sep + 1)}
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix = KEYS[6]
local delay = tonumber(ARGV[1])
local priority = tonumber(ARGV[3])
local max_depth = tonumber(ARGV[4])
local dedupe_ttl = tonumber(ARGV[5])

-- First pass: decide each task's fate, so the FIFO sequence can be reserved in one call.
local depth = 0
if max_depth > 0 then
  depth = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
end
local statuses, ids, created = {}, {}, {}
local in_batch = {}
for i = 8, #ARGV, 3 do
  local id, key = ARGV[i], ARGV[i + 2]
  local existing = nil
  if key ~= '' then
    existing = in_batch[key] or redis.call('GET', prefix .. 'dedupe:' .. key)
  end
  if existing then
    statuses[#statuses + 1] = '0'
    ids[#ids + 1] = existing
  elseif max_depth > 0 and depth >= max_depth then
    statuses[#statuses + 1] = 'F'
    ids[#ids + 1] = '-'
  else
    statuses[#statuses + 1] = '1'
    ids[#ids + 1] = id
    created[#created + 1] = i
    depth = depth + 1
    if key ~= '' then
      in_batch[key] = id
    end
  end
end

local n = #created
if n > 0 then
  local seq = 0
  if delay == 0 then
    seq = redis.call('HINCRBY', KEYS[3], 'seq', n) - n
  end
  local members = {}
  for j, i in ipairs(created) do
    local id, key = ARGV[i], ARGV[i + 2]
    local task = prefix .. 'task:' .. id
    local score
    if delay > 0 then
      score = now + delay
      redis.call('HSET', task, 'payload', ARGV[i + 1], 'attempts', 0, 'max_attempts', ARGV[2],
        'priority', priority, 'enqueued_at', now)
    else
      score = -priority * 1099511627776 + seq + j
      redis.call('HSET', task, 'payload', ARGV[i + 1], 'attempts', 0, 'max_attempts', ARGV[2],
        'priority', priority, 'enqueued_at', now, 'score', score)
    end
    members[#members + 1] = score
    members[#members + 1] = id
    if key ~= '' then
      redis.call('SET', prefix .. 'dedupe:' .. key, id, 'EX', dedupe_ttl)
    end
    -- ZADD in chunks: Lua's unpack() has a bounded stack.
    if #members >= 1000 or j == n then
      redis.call('ZADD', delay > 0 and KEYS[2] or KEYS[1], unpack(members))
      members = {}
    end
  end
  redis.call('HINCRBY', KEYS[3], 'enqueued', n)
  if delay == 0 then
    redis.call('LPUSH', KEYS[4], '1')
    redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
  end
end

local deduped = 0
for _, s in ipairs(statuses) do
  if s == '0' then
    deduped = deduped + 1
  end
end
if deduped > 0 then
  redis.call('HINCRBY', KEYS[3], 'deduped', deduped)
end

local answer_statuses = table.concat(statuses)
local answer_ids = table.concat(ids, ' ')
if n + deduped > 0 then
  redis.call('SET', KEYS[5], answer_statuses .. '|' .. answer_ids, 'EX', tonumber(ARGV[7]))
end
return {answer_statuses, answer_ids}
