-- Release paced records into the broker's queues: for each integration whose turn has come,
-- as many records as its shared rate limit has free slots now, less those released and not
-- yet begun by a worker. Integrations are taken oldest turn first, so none waits on another.
-- Times are whole microseconds from Redis TIME, like the rate limiter's (connectors/ratelimit.py).
local due = KEYS[1]             -- zset: integration -> when to look at it next (µs)
local limits = KEYS[2]          -- hash: integration -> "interval_us burst"
local namespace = ARGV[1]       -- the Dramatiq broker's namespace
local limiter_prefix = ARGV[2]  -- the shared rate limiter's key prefix, ending in ':'
local max_records = tonumber(ARGV[3])       -- per call, over all integrations
local max_integrations = tonumber(ARGV[4])  -- per call
local outstanding_ttl_ms = tonumber(ARGV[5])
local default_interval = tonumber(ARGV[6])  -- for an integration without limits (µs)
local default_burst = tonumber(ARGV[7])
local recheck_us = tonumber(ARGV[8])  -- waiting on workers: a worker's begin calls sooner

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local released = 0
local names = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, max_integrations)

for _, name in ipairs(names) do
  local pending = namespace .. ':pace:pending:' .. name
  local outstanding_key = namespace .. ':pace:outstanding:' .. name
  local interval, burst = default_interval, default_burst
  local limit = redis.call('HGET', limits, name)
  if limit then
    local space = string.find(limit, ' ', 1, true)
    interval = tonumber(string.sub(limit, 1, space - 1))
    burst = tonumber(string.sub(limit, space + 1))
  end
  -- The limiter's state, read as its acquire script reads it (a 429's hold included).
  local state = redis.call('HMGET', limiter_prefix .. name, 'tat', 'until')
  local tat = tonumber(state[1]) or now
  local hold = tonumber(state[2])
  if hold and hold > now then
    tat = math.max(tat, hold + (burst - 1) * interval)
  end
  tat = math.max(tat, now)
  -- Requests that could go now without waiting.
  local free = math.floor((now + burst * interval - tat) / interval)
  local outstanding = tonumber(redis.call('GET', outstanding_key)) or 0
  local take = math.min(free - outstanding, max_records - released)
  if take > 0 then
    local entries = redis.call('LPOP', pending, take)
    if entries then
      for _, entry in ipairs(entries) do
        -- "queue<TAB>message id<TAB>encoded message", as queue/pacing.py writes it.
        local first = string.find(entry, '\t', 1, true)
        local second = string.find(entry, '\t', first + 1, true)
        local queue = namespace .. ':' .. string.sub(entry, 1, first - 1)
        local message_id = string.sub(entry, first + 1, second - 1)
        -- What the broker's own enqueue does (dramatiq/brokers/redis/dispatch.lua).
        redis.call('HSET', queue .. '.msgs', message_id, string.sub(entry, second + 1))
        redis.call('RPUSH', queue, message_id)
      end
      redis.call('INCRBY', outstanding_key, #entries)
      redis.call('PEXPIRE', outstanding_key, outstanding_ttl_ms)
      released = released + #entries
      outstanding = outstanding + #entries
    end
  end
  if redis.call('LLEN', pending) == 0 then
    redis.call('ZREM', due, name)
  elseif released >= max_records or free > outstanding then
    -- Cut short by the per-call cap: first in line next call.
    redis.call('ZADD', due, now, name)
  else
    -- Every free slot is taken by a record on its way. The turn comes again when the limiter
    -- frees one more slot, or when a worker begins one of those records (worker/dispatch.py
    -- brings the turn forward then); `recheck_us` is the fallback should neither come.
    local next_at = now + recheck_us
    if free < burst then
      next_at = math.min(next_at, tat + (free + 1 - burst) * interval)
    end
    redis.call('ZADD', due, math.max(now + 1000, next_at), name)
  end
end

local next_due = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
if next_due[2] then
  return {released, string.format('%.0f', tonumber(next_due[2]) - now)}
end
return {released, '-1'}
