-- Records one final outcome. Only a pending record is recorded: a message delivered twice (a
-- worker killed after recording, before acknowledging) keeps the first outcome. Unless the run
-- is a dry run, the record's latest outcome moves to this run, and it joins or leaves the
-- failures. When the last one is in, the run is done: its snapshot (personal data, needed only
-- by first attempts) goes at once, the rest expires after the retention time. Returns 1 when
-- recorded, 2 when recorded as the run's last (the run is done now), 0 when ignored.

local run = KEYS[1]
local pending = KEYS[2]
local names = KEYS[3]
local outcomes = KEYS[4]
local active = KEYS[5]
local tasks = KEYS[6]
local snapshots = KEYS[7]
local last = KEYS[8]
local failures = KEYS[9]
local last_at = KEYS[10]
local due = KEYS[11]

local key = ARGV[1]
local outcome = ARGV[2]
local outcome_json = ARGV[3]
local now = ARGV[4]
local run_id = ARGV[5]
local retention_seconds = ARGV[6]
local failure_id = ARGV[7]

if redis.call('SREM', pending, key) == 0 then return 0 end
redis.call('HDEL', due, key)
redis.call('HSET', run, 'active_at', now)
redis.call('HSET', names, key, outcome)
redis.call('HSET', outcomes, key, outcome_json)
redis.call('HINCRBY', run, outcome, 1)
if redis.call('HGET', run, 'dry_run') ~= '1' then
  redis.call('HSET', last, key, run_id)
  redis.call('HSET', last_at, key, now)
  if outcome == 'failed' then
    redis.call('ZADD', failures, now, failure_id)
  else
    redis.call('ZREM', failures, failure_id)
  end
end
if redis.call('HGET', run, 'status') == 'queued' then
  redis.call('HSET', run, 'status', 'running', 'started_at', now)
end
if redis.call('SCARD', pending) == 0 then
  redis.call('HSET', run, 'status', 'done', 'finished_at', now)
  if redis.call('GET', active) == run_id then redis.call('DEL', active) end
  redis.call('DEL', snapshots, due)
  for _, kept in ipairs({run, names, outcomes, tasks}) do
    redis.call('EXPIRE', kept, retention_seconds)
  end
  return 2
end
return 1
