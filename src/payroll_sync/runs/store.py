"""Runs and their per-employee outcomes in Redis, shared by producer, workers and dashboard.

Every key lives under one prefix, so a test run (or a second deployment) owns a namespace of its
own and can remove exactly what it wrote. Updates that touch several keys are Lua scripts: a
worker killed half-way never leaves counters that disagree with the outcomes.

Keys (P = prefix, R = run id):
  P:runs                     sorted set of run ids by creation time
  P:run:R                    hash: the run's fields and one counter per outcome
  P:run:R:pending            set of employee numbers not yet finished
  P:run:R:outcome            hash: employee number -> RecordOutcome (JSON)
  P:run:R:name               hash: employee number -> outcome name (read by the scripts)
  P:run:R:task               hash: employee number -> EmployeeTask (JSON), to retry it later
  P:run:R:snapshot           hash: employee number -> EmployeeSnapshot (JSON); expires
  P:active:I:K               the id of integration I's run of kind K in progress
  P:links:I                  hash: 24SevenOffice empId -> employment_id last written to
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Final

import msgspec
import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from payroll_sync.schemas.messages import EmployeeTask, SyncKind, Trigger
from payroll_sync.schemas.outcomes import OUTCOMES, RecordOutcome, Run
from payroll_sync.schemas.snapshots import EmployeeSnapshot

#: Bulk snapshots are only a shortcut for the first attempt; a retry reads afresh.
SNAPSHOT_TTL_SECONDS: Final = 6 * 3600
#: A finished run (counters, outcomes, tasks for retrying) is kept this long.
RUN_RETENTION_SECONDS: Final = 30 * 24 * 3600

_ENCODER: Final = msgspec.json.Encoder()
_OUTCOME_DECODER: Final = msgspec.json.Decoder(RecordOutcome)
_TASK_DECODER: Final = msgspec.json.Decoder(EmployeeTask)
_SNAPSHOT_DECODER: Final = msgspec.json.Decoder(EmployeeSnapshot)

# Adds employees to a run that is not done. KEYS: run, pending, name, task, snapshot.
# ARGV: snapshot ttl, then triples (employee number, task json, snapshot json or "").
# An employee still pending only gets the newer snapshot (the latest data wins); one that already
# finished is taken back (its old outcome uncounted) and must be enqueued again; a new one is
# added to the total. Returns {status, employee numbers to enqueue...}, or {"done"} when the run
# finished meanwhile and nothing was changed.
_ENROL: Final = """
local status = redis.call('HGET', KEYS[1], 'status')
if (not status) or status == 'done' then return {'done'} end
local out = {status}
for i = 2, #ARGV, 3 do
  local emp, task, snap = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if snap ~= '' then redis.call('HSET', KEYS[5], emp, snap) end
  if redis.call('SADD', KEYS[2], emp) == 1 then
    local old = redis.call('HGET', KEYS[3], emp)
    if old then
      redis.call('HINCRBY', KEYS[1], old, -1)
      redis.call('HDEL', KEYS[3], emp)
    else
      redis.call('HINCRBY', KEYS[1], 'total', 1)
    end
    redis.call('HSET', KEYS[4], emp, task)
    table.insert(out, emp)
  end
end
redis.call('EXPIRE', KEYS[5], ARGV[1])
return out
"""

# Records one final outcome. KEYS: run, pending, name, outcome, active, task, snapshot.
# ARGV: employee number, outcome name, outcome json, now, run id, seconds to keep a done run.
# Only a pending employee is recorded: a message delivered twice (a worker killed after
# recording, before acknowledging) keeps the first outcome. When the last one is in, the run
# is done: its snapshot (personal data, needed only by first attempts) goes at once, the rest
# expires after the retention time. Returns 1 when recorded, 0 when ignored.
_RECORD: Final = """
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if redis.call('HGET', KEYS[1], 'status') == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[4])
end
if redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished_at', ARGV[4])
  if redis.call('GET', KEYS[5]) == ARGV[5] then redis.call('DEL', KEYS[5]) end
  redis.call('DEL', KEYS[7])
  for _, key in ipairs({KEYS[1], KEYS[3], KEYS[4], KEYS[6]}) do
    redis.call('EXPIRE', key, ARGV[6])
  end
end
return 1
"""


# Deletes KEYS[1] only while it still holds ARGV[1]: a run clears the active marker only when
# the marker is its own.
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _text(value: object) -> str:
    """Redis answers bytes, or str on a client made with decode_responses=True."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def new_run_id(now: float) -> str:
    """Sortable by time, unique without coordination."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + "-" + secrets.token_hex(4)


class RunStore:
    """Typed access to runs in Redis. Holds no state besides the client and the prefix."""

    def __init__(self, redis: aioredis.Redis, *, prefix: str = "payroll-sync") -> None:
        self._redis = redis
        self.prefix = prefix
        self._enrol = redis.register_script(_ENROL)
        self._record = redis.register_script(_RECORD)
        self._release = redis.register_script(_RELEASE)

    # ------------------------------------------------------------------ keys

    def _run_key(self, run_id: str, part: str = "") -> str:
        return f"{self.prefix}:run:{run_id}" + (f":{part}" if part else "")

    def _active_key(self, integration: str, kind: SyncKind) -> str:
        return f"{self.prefix}:active:{integration}:{kind}"

    def _links_key(self, integration: str) -> str:
        return f"{self.prefix}:links:{integration}"

    def _run_keys(self, run_id: str) -> list[str]:
        return [self._run_key(run_id, part) for part in ("", "pending", "name", "task", "snapshot")]

    # ------------------------------------------------------------------ runs

    async def active_run(self, integration: str, kind: SyncKind) -> str | None:
        run_id = await self._redis.get(self._active_key(integration, kind))
        return _text(run_id) if run_id else None

    async def create_run(
        self,
        *,
        integration: str,
        kind: SyncKind,
        trigger: Trigger,
        dry_run: bool,
        now: float,
        joinable: bool = True,
    ) -> str:
        """A new run; unless a dry run or not `joinable`, the one later requests join."""
        run_id = new_run_id(now)
        fields: dict[FieldT, EncodableT] = {
            "id": run_id,
            "integration": integration,
            "kind": kind,
            "trigger": trigger,
            "dry_run": int(dry_run),
            "status": "queued",
            "created_at": now,
            "total": 0,
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._run_key(run_id), mapping=fields)
            pipe.zadd(f"{self.prefix}:runs", {run_id: now})
            # The index forgets runs whose keys have expired.
            pipe.zremrangebyscore(f"{self.prefix}:runs", "-inf", now - RUN_RETENTION_SECONDS)
            # A dry run never becomes the run others join: it writes nothing.
            if joinable and not dry_run:
                pipe.set(self._active_key(integration, kind), run_id)
            await pipe.execute()
        return run_id

    async def enrol(
        self,
        run_id: str,
        entries: Sequence[tuple[EmployeeTask, EmployeeSnapshot | None]],
    ) -> list[str] | None:
        """Add employees to a run; the numbers to enqueue, or None if the run is already done."""
        argv: list[str | int | float] = [SNAPSHOT_TTL_SECONDS]
        for task, snapshot in entries:
            argv += [
                task.employee_number,
                _ENCODER.encode(task).decode(),
                _ENCODER.encode(snapshot).decode() if snapshot is not None else "",
            ]
        result = await self._enrol(keys=self._run_keys(run_id), args=argv)
        if _text(result[0]) == "done":
            return None
        return [_text(value) for value in result[1:]]

    async def finish_empty(self, run_id: str, *, now: float, error: str = "") -> None:
        """Close a run that has nothing to do (empty scope, or it could not be expanded)."""
        run = await self.get_run(run_id)
        if run is None or run.total > 0:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._run_key(run_id),
                mapping={"status": "done", "finished_at": now, "error": error},
            )
            pipe.expire(self._run_key(run_id), RUN_RETENTION_SECONDS)
            await pipe.execute()
        await self._release(keys=[self._active_key(run.integration, run.kind)], args=[run_id])

    async def record(
        self, run_id: str, integration: str, kind: SyncKind, outcome: RecordOutcome
    ) -> bool:
        """Store an employee's final outcome; False when it was already recorded."""
        keys = [
            self._run_key(run_id),
            self._run_key(run_id, "pending"),
            self._run_key(run_id, "name"),
            self._run_key(run_id, "outcome"),
            self._active_key(integration, kind),
            self._run_key(run_id, "task"),
            self._run_key(run_id, "snapshot"),
        ]
        args: list[str | float] = [
            outcome.employee_number,
            outcome.outcome,
            _ENCODER.encode(outcome).decode(),
            outcome.finished_at,
            run_id,
            RUN_RETENTION_SECONDS,
        ]
        recorded = await self._record(keys=keys, args=args)
        return bool(recorded)

    async def get_run(self, run_id: str) -> Run | None:
        raw = await self._redis.hgetall(self._run_key(run_id))
        if not raw:
            return None
        fields = {_text(key): _text(value) for key, value in raw.items()}
        return Run(
            id=fields["id"],
            integration=fields["integration"],
            kind=fields["kind"],  # type: ignore[arg-type]
            trigger=fields["trigger"],  # type: ignore[arg-type]
            dry_run=fields.get("dry_run") == "1",
            status=fields["status"],  # type: ignore[arg-type]
            created_at=float(fields["created_at"]),
            total=int(fields.get("total", 0)),
            counts={name: int(fields.get(name, 0)) for name in OUTCOMES},
            started_at=float(fields.get("started_at", 0)),
            finished_at=float(fields.get("finished_at", 0)),
            error=fields.get("error", ""),
        )

    async def wait_done(
        self,
        run_id: str,
        *,
        poll_seconds: float,
        max_seconds: float | None = None,
        on_poll: Callable[[Run], None] | None = None,
    ) -> Run:
        """Poll until the run is done; `on_poll` sees every state read (a progress bar).

        Raises LookupError when the run is not in Redis, TimeoutError after `max_seconds`.
        """
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while True:
            run = await self.get_run(run_id)
            if run is None:
                raise LookupError(f"run {run_id} is not in Redis")
            if on_poll is not None:
                on_poll(run)
            if run.status == "done":
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} not done after {max_seconds:.0f} s: {run}")
            await asyncio.sleep(poll_seconds)

    async def list_runs(self, limit: int = 50) -> list[Run]:
        ids = await self._redis.zrevrange(f"{self.prefix}:runs", 0, limit - 1)
        runs = [await self.get_run(_text(run_id)) for run_id in ids]
        return [run for run in runs if run is not None]

    async def outcomes(self, run_id: str) -> list[RecordOutcome]:
        raw = await self._redis.hgetall(self._run_key(run_id, "outcome"))
        found = [_OUTCOME_DECODER.decode(value) for value in raw.values()]
        return sorted(found, key=lambda item: _numeric_first(item.employee_number))

    async def pending(self, run_id: str) -> list[str]:
        members = await self._redis.smembers(self._run_key(run_id, "pending"))
        return sorted((_text(member) for member in members), key=_numeric_first)

    async def task(self, run_id: str, employee_number: str) -> EmployeeTask | None:
        raw = await self._redis.hget(self._run_key(run_id, "task"), employee_number)
        return _TASK_DECODER.decode(raw) if raw else None

    async def snapshot(self, run_id: str, employee_number: str) -> EmployeeSnapshot | None:
        raw = await self._redis.hget(self._run_key(run_id, "snapshot"), employee_number)
        return _SNAPSHOT_DECODER.decode(raw) if raw else None

    # ------------------------------------------------------------------ employment links

    async def employment_link(self, integration: str, emp_id: int) -> str | None:
        value = await self._redis.hget(self._links_key(integration), str(emp_id))
        return _text(value) if value else None

    async def set_employment_link(self, integration: str, emp_id: int, employment_id: str) -> None:
        await self._redis.hset(self._links_key(integration), str(emp_id), employment_id)

    # ------------------------------------------------------------------ housekeeping

    async def delete_everything(self) -> int:
        """Remove every key under this store's prefix (tests and the demo clean up with it)."""
        return await delete_keys(self._redis, f"{self.prefix}:*")


async def delete_keys(redis: aioredis.Redis, pattern: str) -> int:
    """Delete the keys matching `pattern`, by SCAN: never a FLUSHDB on a shared Redis."""
    removed = 0
    async for key in redis.scan_iter(match=pattern, count=500):
        removed += await redis.delete(key)
    return removed


def _numeric_first(employee_number: str) -> tuple[int, int, str]:
    return (0, int(employee_number), "") if employee_number.isdigit() else (1, 0, employee_number)
