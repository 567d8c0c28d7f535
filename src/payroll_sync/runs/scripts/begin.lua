-- A worker takes up a record's message. Returns 0 when the record is no longer pending (a copy
-- of a message whose record finished: drop it), else 1, noting when the record should next be
-- heard of and that the run is alive.

local run = KEYS[1]
local pending = KEYS[2]
local due = KEYS[3]

local key = ARGV[1]
local now = ARGV[2]
local due_at = ARGV[3]

if redis.call('SISMEMBER', pending, key) == 0 then return 0 end
redis.call('HSET', due, key, due_at)
redis.call('HSET', run, 'active_at', now)
return 1
