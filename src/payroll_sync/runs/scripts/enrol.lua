-- Adds records to a run that is not done. A record still pending only gets the newer snapshot
-- (the latest data wins); one that already finished is taken back (its old outcome uncounted)
-- and must be enqueued again; a new one is added to the total. A snapshot read before the
-- record's latest outcome was recorded may miss what that run wrote: it is not kept (any older
-- one goes too), and the record is listed as stale so its task reads both systems afresh.
-- Returns {status, {keys to enqueue}, {stale keys}}, or {'done'} when the run finished (or was
-- cancelled) meanwhile and nothing was changed.

local run = KEYS[1]
local pending = KEYS[2]
local names = KEYS[3]
local tasks = KEYS[4]
local snapshots = KEYS[5]
local last_at = KEYS[6]
local due = KEYS[7]

local snapshot_ttl = ARGV[1]
local read_at = tonumber(ARGV[2])
local now = ARGV[3]
-- The rest of ARGV, three per record: its key, its task (JSON), its snapshot (JSON, or '').
local records = ARGV

local first_record = 4
local status = redis.call('HGET', run, 'status')
if (not status) or status == 'done' or status == 'cancelled' then return {'done'} end
local enqueue, stale = {}, {}
for i = first_record, #records, 3 do
  local key, task, snapshot = records[i], records[i + 1], records[i + 2]
  local last = tonumber(redis.call('HGET', last_at, key) or '-1')
  if snapshot ~= '' and last >= read_at then
    redis.call('HDEL', snapshots, key)
    table.insert(stale, key)
  elseif snapshot ~= '' then
    redis.call('HSET', snapshots, key, snapshot)
  end
  if redis.call('SADD', pending, key) == 1 then
    local old = redis.call('HGET', names, key)
    if old then
      redis.call('HINCRBY', run, old, -1)
      redis.call('HDEL', names, key)
    else
      redis.call('HINCRBY', run, 'total', 1)
    end
    redis.call('HSET', tasks, key, task)
    redis.call('HSET', due, key, now)
    table.insert(enqueue, key)
  end
end
redis.call('EXPIRE', snapshots, snapshot_ttl)
return {status, enqueue, stale}
