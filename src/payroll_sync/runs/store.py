"""Runs and their per-record outcomes in Redis, shared by producer, workers and dashboard.

A record is an employee (employee runs, keyed by employee number) or a leave (absence runs,
keyed by the Simployer One leave id); "key" below is either.

Every key lives under one prefix, so a test run (or a second deployment) owns a namespace of its
own and can remove exactly what it wrote. Updates that touch several keys are Lua scripts: a
worker killed half-way never leaves counters that disagree with the outcomes.

Keys (P = prefix, R = run id):
  P:runs                     sorted set of run ids by creation time
  P:run:R                    hash: the run's fields and one counter per outcome
  P:run:R:pending            set of keys not yet finished
  P:run:R:outcome            hash: key -> RecordOutcome (JSON)
  P:run:R:name               hash: key -> outcome name (read by the scripts)
  P:run:R:task               hash: key -> EmployeeTask or AbsenceTask (JSON), to retry it later
  P:run:R:snapshot           hash: key -> the producer's snapshot (JSON); expires
  P:run:R:absencetypes       the company's 24SevenOffice absence types, read once per run
  P:run:R:due                hash: pending key -> when its message should next be handled
                             (a key overdue in a run gone quiet has lost its message)
  P:active:I:K               the id of integration I's run of kind K in progress
  P:links:I                  hash: 24SevenOffice empId -> employment_id last written to
  P:last:I:K                 hash: key -> id of the run that holds the key's latest outcome
  P:lastat:I:K               hash: key -> when that outcome was recorded (unix seconds)
  P:lock:enrol:I:K           held while a request joins or starts integration I's run of kind K
  P:failures                 sorted set of failure ids "I:K:key" whose latest outcome is
                             `failed`, by time (dry runs leave both of these alone)
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.typing import EncodableT, FieldT

from payroll_sync.schemas.messages import (
    Period,
    SyncKind,
    Task,
    Trigger,
    decode_task,
)
from payroll_sync.schemas.outcomes import OUTCOMES, RecordOutcome, Run
from payroll_sync.schemas.payroll import AbsenceType

#: Bulk snapshots are only a shortcut for the first attempt; a retry reads afresh.
SNAPSHOT_TTL_SECONDS: Final = 6 * 3600
#: The longest a request may hold (or wait for) an integration's enrol lock.
ENROL_LOCK_SECONDS: Final = 30.0
#: A finished run (counters, outcomes, tasks for retrying) is kept this long.
RUN_RETENTION_SECONDS: Final = 30 * 24 * 3600

S = TypeVar("S", bound=msgspec.Struct)

_ENCODER: Final = msgspec.json.Encoder()
_OUTCOME_DECODER: Final = msgspec.json.Decoder(RecordOutcome)
_ABSENCE_TYPES_DECODER: Final = msgspec.json.Decoder(list[AbsenceType])

# Adds records to a run that is not done. KEYS: run, pending, name, task, snapshot, lastat.
# ARGV: snapshot ttl, when the snapshots were read, now, then triples (key, task json, snapshot
# json or ""). A record still pending only gets the newer snapshot (the latest data wins); one that
# already finished is taken back (its old outcome uncounted) and must be enqueued again; a new
# one is added to the total. A snapshot read before the record's latest outcome was recorded
# may miss what that run wrote: it is not kept (any older one goes too), and the record is
# listed as stale so its task reads both systems afresh. Returns {status, {keys to enqueue},
# {stale keys}}, or {"done"} when the run finished meanwhile and nothing was changed.
_ENROL: Final = """
local status = redis.call('HGET', KEYS[1], 'status')
if (not status) or status == 'done' then return {'done'} end
local enqueue, stale = {}, {}
local read_at = tonumber(ARGV[2])
for i = 4, #ARGV, 3 do
  local emp, task, snap = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local last = tonumber(redis.call('HGET', KEYS[6], emp) or '-1')
  if snap ~= '' and last >= read_at then
    redis.call('HDEL', KEYS[5], emp)
    table.insert(stale, emp)
  elseif snap ~= '' then
    redis.call('HSET', KEYS[5], emp, snap)
  end
  if redis.call('SADD', KEYS[2], emp) == 1 then
    local old = redis.call('HGET', KEYS[3], emp)
    if old then
      redis.call('HINCRBY', KEYS[1], old, -1)
      redis.call('HDEL', KEYS[3], emp)
    else
      redis.call('HINCRBY', KEYS[1], 'total', 1)
    end
    redis.call('HSET', KEYS[4], emp, task)
    redis.call('HSET', KEYS[7], emp, ARGV[3])
    table.insert(enqueue, emp)
  end
end
redis.call('EXPIRE', KEYS[5], ARGV[1])
return {status, enqueue, stale}
"""

# Records one final outcome. KEYS: run, pending, name, outcome, active, task, snapshot, last,
# failures, lastat, due. ARGV: key, outcome name, outcome json, now, run id, seconds to keep a
# done run, failure id. Only a pending record is recorded: a message delivered twice (a worker
# killed after recording, before acknowledging) keeps the first outcome. Unless the run is a dry
# run, the record's latest outcome moves to this run, and it joins or leaves the failures. When
# the last one is in, the run is done: its snapshot (personal data, needed only by first
# attempts) goes at once, the rest expires after the retention time. Returns 1 when recorded,
# 0 when ignored.
_RECORD: Final = """
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[11], ARGV[1])
redis.call('HSET', KEYS[1], 'active_at', ARGV[4])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if redis.call('HGET', KEYS[1], 'dry_run') ~= '1' then
  redis.call('HSET', KEYS[8], ARGV[1], ARGV[5])
  redis.call('HSET', KEYS[10], ARGV[1], ARGV[4])
  if ARGV[2] == 'failed' then
    redis.call('ZADD', KEYS[9], ARGV[4], ARGV[7])
  else
    redis.call('ZREM', KEYS[9], ARGV[7])
  end
end
if redis.call('HGET', KEYS[1], 'status') == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[4])
end
if redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished_at', ARGV[4])
  if redis.call('GET', KEYS[5]) == ARGV[5] then redis.call('DEL', KEYS[5]) end
  redis.call('DEL', KEYS[7], KEYS[11])
  for _, key in ipairs({KEYS[1], KEYS[3], KEYS[4], KEYS[6]}) do
    redis.call('EXPIRE', key, ARGV[6])
  end
end
return 1
"""


# A worker takes up a record's message. KEYS: run, pending, due. ARGV: key, now, due.
# Returns 0 when the record is no longer pending (a copy of a message whose record finished:
# drop it), else 1, noting when the record should next be heard of and that the run is alive.
_BEGIN: Final = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[1], 'active_at', ARGV[2])
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
        self._begin = redis.register_script(_BEGIN)

    # ------------------------------------------------------------------ keys

    def _run_key(self, run_id: str, part: str = "") -> str:
        return f"{self.prefix}:run:{run_id}" + (f":{part}" if part else "")

    def _active_key(self, integration: str, kind: SyncKind) -> str:
        return f"{self.prefix}:active:{integration}:{kind}"

    def _links_key(self, integration: str) -> str:
        return f"{self.prefix}:links:{integration}"

    def _last_key(self, integration: str, kind: SyncKind) -> str:
        return f"{self.prefix}:last:{integration}:{kind}"

    def _last_at_key(self, integration: str, kind: SyncKind) -> str:
        return f"{self.prefix}:lastat:{integration}:{kind}"

    @property
    def _failures_key(self) -> str:
        return f"{self.prefix}:failures"

    def _run_keys(self, run_id: str) -> list[str]:
        parts = ("", "pending", "name", "task", "snapshot")
        return [self._run_key(run_id, part) for part in parts]

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
        period: Period | None = None,
        codes: Sequence[str] = (),
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
            "period": str(period) if period is not None else "",
            "codes": ",".join(codes),
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

    def enrol_lock(self, integration: str, kind: SyncKind) -> Lock:
        """Held while a request finds the run in progress and joins it, or starts one: two
        requests at once must not both see none and start a run each."""
        return self._redis.lock(
            f"{self.prefix}:lock:enrol:{integration}:{kind}",
            timeout=ENROL_LOCK_SECONDS,
            blocking_timeout=ENROL_LOCK_SECONDS,
        )

    async def enrol(
        self,
        run_id: str,
        entries: Sequence[tuple[Task, msgspec.Struct | None]],
        *,
        read_at: float = 0.0,
    ) -> Enrolled | None:
        """Add records to a run; None if the run is already done.

        `read_at`: when the entries' snapshots were read (see `_ENROL` for what is stale).
        """
        if not entries:
            run = await self.get_run(run_id)
            return None if run is None or run.status == "done" else Enrolled(enqueue=[], stale=[])
        kind = entries[0][0].kind
        argv: list[str | int | float] = [SNAPSHOT_TTL_SECONDS, read_at, time.time()]
        for task, snapshot in entries:
            argv += [
                task.key,
                _ENCODER.encode(task).decode(),
                _ENCODER.encode(snapshot).decode() if snapshot is not None else "",
            ]
        integration = entries[0][0].integration
        keys = [
            *self._run_keys(run_id),
            self._last_at_key(integration, kind),
            self._run_key(run_id, "due"),
        ]
        result = await self._enrol(keys=keys, args=argv)
        if _text(result[0]) == "done":
            return None
        return Enrolled(
            enqueue=[_text(value) for value in result[1]],
            stale=[_text(value) for value in result[2]],
        )

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
        """Store a record's final outcome; False when it was already recorded."""
        keys = [
            self._run_key(run_id),
            self._run_key(run_id, "pending"),
            self._run_key(run_id, "name"),
            self._run_key(run_id, "outcome"),
            self._active_key(integration, kind),
            self._run_key(run_id, "task"),
            self._run_key(run_id, "snapshot"),
            self._last_key(integration, kind),
            self._failures_key,
            self._last_at_key(integration, kind),
            self._run_key(run_id, "due"),
        ]
        args: list[str | float] = [
            outcome.key,
            outcome.outcome,
            _ENCODER.encode(outcome).decode(),
            outcome.finished_at,
            run_id,
            RUN_RETENTION_SECONDS,
            failure_id(integration, kind, outcome.key),
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
            active_at=float(fields.get("active_at", 0)),
            period=fields.get("period", ""),
            codes=[code for code in fields.get("codes", "").split(",") if code],
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
        return sorted(found, key=lambda item: (_numeric_first(item.employee_number), item.key))

    async def outcome(self, run_id: str, key: str) -> RecordOutcome | None:
        raw = await self._redis.hget(self._run_key(run_id, "outcome"), key)
        return _OUTCOME_DECODER.decode(raw) if raw else None

    async def pending(self, run_id: str) -> list[str]:
        members = await self._redis.smembers(self._run_key(run_id, "pending"))
        return sorted((_text(member) for member in members), key=_numeric_first)

    async def begin(self, run_id: str, key: str, *, now: float, due: float) -> bool:
        """A worker takes up the record's message; False when the record already finished."""
        keys = [
            self._run_key(run_id),
            self._run_key(run_id, "pending"),
            self._run_key(run_id, "due"),
        ]
        return bool(await self._begin(keys=keys, args=[key, now, due]))

    async def expect(self, run_id: str, key: str, *, due: float) -> None:
        """The record's message is on its way again (a retry, a deferral, a requeue)."""
        await self._redis.hset(self._run_key(run_id, "due"), key, due)

    async def overdue(self, run_id: str, *, before: float) -> list[str]:
        """Pending keys whose message should have been handled before `before`."""
        keys = await self.pending(run_id)
        if not keys:
            return []
        dues = await self._redis.hmget(self._run_key(run_id, "due"), keys)
        return [key for key, due in zip(keys, dues, strict=True) if not due or float(due) < before]

    async def unfinished_runs(self) -> list[Run]:
        """Runs not done (the index covers the retention time)."""
        ids = [_text(v) for v in await self._redis.zrange(f"{self.prefix}:runs", 0, -1)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for run_id in ids:
                pipe.hget(self._run_key(run_id), "status")
            statuses = await pipe.execute()
        open_ids = [
            i for i, status in zip(ids, statuses, strict=True) if status and _text(status) != "done"
        ]
        runs = [await self.get_run(run_id) for run_id in open_ids]
        return [run for run in runs if run is not None]

    async def task(self, run_id: str, key: str, kind: SyncKind = "employees") -> Task | None:
        raw = await self._redis.hget(self._run_key(run_id, "task"), key)
        return decode_task(raw, kind) if raw else None

    async def snapshot(self, run_id: str, key: str, type_: type[S]) -> S | None:
        raw = await self._redis.hget(self._run_key(run_id, "snapshot"), key)
        return msgspec.json.decode(raw, type=type_) if raw else None

    async def absence_types(self, run_id: str) -> list[AbsenceType] | None:
        raw = await self._redis.get(self._run_key(run_id, "absencetypes"))
        return _ABSENCE_TYPES_DECODER.decode(raw) if raw else None

    async def set_absence_types(self, run_id: str, types: Sequence[AbsenceType]) -> None:
        """Kept as long as the run (retries of its records use the same list)."""
        await self._redis.set(
            self._run_key(run_id, "absencetypes"),
            _ENCODER.encode(list(types)),
            ex=RUN_RETENTION_SECONDS,
        )

    # ------------------------------------------------------------------ failures

    async def failures(self, limit: int = 10_000) -> list[Failure]:
        """Records whose latest outcome is `failed`, newest first (discarded ones excluded).

        Three round trips whatever the number: the ids, then each one's latest run, then each
        outcome. A failure whose run has expired is dropped from the index as it is met.
        """
        await self._redis.zremrangebyscore(
            self._failures_key, "-inf", time.time() - RUN_RETENTION_SECONDS
        )
        ids = [_text(v) for v in await self._redis.zrevrange(self._failures_key, 0, limit - 1)]
        parsed = [(ident, parse_failure_id(ident)) for ident in ids]
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, where in parsed:
                if where is not None:
                    pipe.hget(self._last_key(where[0], where[1]), where[2])
            last_runs = iter(await pipe.execute())
        located = [
            (ident, where, _text(run_id) if run_id else "")
            for ident, where in parsed
            if where is not None
            for run_id in [next(last_runs)]
        ]
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, where, run_id in located:
                pipe.hget(self._run_key(run_id, "outcome"), where[2])
            raw_outcomes = await pipe.execute()
        found: list[Failure] = []
        stale: list[str] = [ident for ident, where in parsed if where is None]
        for (ident, where, run_id), raw in zip(located, raw_outcomes, strict=True):
            outcome = _OUTCOME_DECODER.decode(raw) if raw and run_id else None
            if outcome is None or outcome.outcome != "failed":
                stale.append(ident)
                continue
            integration, kind, key = where
            found.append(
                Failure(
                    id=ident,
                    integration=integration,
                    kind=kind,
                    key=key,
                    run_id=run_id,
                    outcome=outcome,
                )
            )
        if stale:
            await self._redis.zrem(self._failures_key, *stale)
        return found

    async def failure(self, ident: str) -> Failure | None:
        """One failure by id, None when unknown, discarded or superseded by a later outcome."""
        parsed = parse_failure_id(ident)
        if parsed is None or await self._redis.zscore(self._failures_key, ident) is None:
            return None
        integration, kind, key = parsed
        run_id = await self._redis.hget(self._last_key(integration, kind), key)
        if not run_id:
            return None
        outcome = await self.outcome(_text(run_id), key)
        if outcome is None or outcome.outcome != "failed":
            return None
        return Failure(
            id=ident,
            integration=integration,
            kind=kind,
            key=key,
            run_id=_text(run_id),
            outcome=outcome,
        )

    async def discard(self, ident: str) -> bool:
        """Take a failure off the list (its run keeps the outcome); False when not listed."""
        return bool(await self._redis.zrem(self._failures_key, ident))

    # ------------------------------------------------------------------ employment links

    async def employment_link(self, integration: str, emp_id: int) -> str | None:
        value = await self._redis.hget(self._links_key(integration), str(emp_id))
        return _text(value) if value else None

    async def set_employment_link(self, integration: str, emp_id: int, employment_id: str) -> None:
        await self._redis.hset(self._links_key(integration), str(emp_id), employment_id)

    # ------------------------------------------------------------------ flags

    async def set_flag(self, name: str, *, seconds: float) -> None:
        """A named flag under the prefix that expires (e.g. a logged-out dashboard session)."""
        await self._redis.set(f"{self.prefix}:flag:{name}", "1", ex=max(1, int(seconds)))

    async def has_flag(self, name: str) -> bool:
        return bool(await self._redis.exists(f"{self.prefix}:flag:{name}"))

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


class Enrolled(msgspec.Struct, kw_only=True, frozen=True):
    # The keys to enqueue (new to the run, or finished and taken back).
    enqueue: list[str]
    # The keys whose snapshot was older than their latest outcome: their tasks must refetch.
    stale: list[str]


class Failure(msgspec.Struct, kw_only=True, frozen=True):
    """A record whose latest outcome is `failed`: what the dashboard lists and retries."""

    id: str
    integration: str
    kind: SyncKind
    key: str
    run_id: str
    outcome: RecordOutcome


def failure_id(integration: str, kind: SyncKind, key: str) -> str:
    """Integration ids and kinds hold no ':', so the key may (it is the rest)."""
    return f"{integration}:{kind}:{key}"


def parse_failure_id(ident: str) -> tuple[str, SyncKind, str] | None:
    parts = ident.split(":", 2)
    if len(parts) != 3 or parts[1] not in ("employees", "absences") or not parts[0] or not parts[2]:
        return None
    kind: SyncKind = "employees" if parts[1] == "employees" else "absences"
    return parts[0], kind, parts[2]


def _numeric_first(employee_number: str) -> tuple[int, int, str]:
    return (0, int(employee_number), "") if employee_number.isdigit() else (1, 0, employee_number)
