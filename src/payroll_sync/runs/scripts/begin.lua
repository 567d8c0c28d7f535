-- A worker takes up a record's message and, in the same round trip, reads what the record needs.
-- Returns {0} when the record is no longer pending (a copy of a message whose record finished:
-- drop it); {2} when its run is held by the mass-change brake or was cancelled (drop it too:
-- the record stays pending, and an approval sends it again); else {1, snapshot, link,
-- remembered}, noting when the record should next be heard of and that
-- the run is alive: `snapshot` is the producer's (when `want_snapshot` is '1'), `link` the
-- employment link of `link_field` in `links` (when that is not ''); either is nil when absent.
-- `remembered` is how many fields of the employee we last wrote are remembered in `written` (the
-- digests of runs/written.py: 0 for none), nil when that key is ''.
-- When `release` names a key (the pacer's count of messages sent and not yet taken up), it goes
-- down by 1 whether or not the record is pending (its message was taken up either way); it is
-- never taken below 0, and a count that does not exist is not created. `turns` (the pacer's
-- zset of turns) then brings `turn`'s turn forward to now, if it waits for one.

local run = KEYS[1]
local pending = KEYS[2]
local due = KEYS[3]
local snapshots = KEYS[4]
local links = KEYS[5]
local release = KEYS[6]  -- '' for none
local turns = KEYS[7]  -- '' for none
local written = KEYS[8]  -- '' for none

local key = ARGV[1]
local now = ARGV[2]
local due_at = ARGV[3]
local want_snapshot = ARGV[4]
local link_field = ARGV[5]  -- '' for none
local turn = ARGV[6]

if release ~= '' and (tonumber(redis.call('GET', release) or '0') or 0) > 0 then
  redis.call('DECR', release)
end
if turns ~= '' then
  redis.call('ZADD', turns, 'XX', 'LT', 0, turn)
end
if redis.call('SISMEMBER', pending, key) == 0 then return {0} end
local status = redis.call('HGET', run, 'status')
if status == 'awaiting_approval' or status == 'cancelled' then return {2} end
redis.call('HSET', due, key, due_at)
redis.call('HSET', run, 'active_at', now)
local snapshot = false
if want_snapshot == '1' then snapshot = redis.call('HGET', snapshots, key) end
local link = false
if link_field ~= '' then link = redis.call('HGET', links, link_field) end
local remembered = false
if written ~= '' then remembered = redis.call('HLEN', written) end
return {1, snapshot, link, remembered}
