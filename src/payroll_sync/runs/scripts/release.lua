-- Deletes the active-run marker only while it still names this run: a run clears the marker
-- only when the marker is its own. Returns 1 when deleted, else 0.

local active = KEYS[1]

local run_id = ARGV[1]

if redis.call('GET', active) == run_id then return redis.call('DEL', active) end
return 0
