-- Moves a run to another status only from the statuses allowed, atomically: two operators
-- approving at once release it once. `from` is a comma-separated list of statuses; `to` is a
-- status, or 'resume' (back to 'running' when a record has finished, else 'queued'). With
-- `finish` '1' the run also gets `finished_at` and stops being the run its integration's
-- requests join. Returns {status before, 1 when moved else 0}; status '' when there is no run.

local run = KEYS[1]
local active = KEYS[2]

local from = ARGV[1]
local to = ARGV[2]
local now = ARGV[3]
local run_id = ARGV[4]
local finish = ARGV[5]

local status = redis.call('HGET', run, 'status')
if not status then return {'', 0} end
local allowed = false
for name in string.gmatch(from, '[^,]+') do
  if name == status then allowed = true end
end
if not allowed then return {status, 0} end
if to == 'resume' then
  if tonumber(redis.call('HGET', run, 'started_at') or '0') > 0 then
    to = 'running'
  else
    to = 'queued'
  end
end
redis.call('HSET', run, 'status', to, 'active_at', now)
if finish == '1' then
  redis.call('HSET', run, 'finished_at', now)
  if redis.call('GET', active) == run_id then redis.call('DEL', active) end
end
return {status, 1}
