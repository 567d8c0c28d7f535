"""Runs and their per-record outcomes in Redis, shared by producer, workers and dashboard.

A record is an employee (employee runs, keyed by employee number) or a leave (absence runs,
keyed by the Simployer One leave id). The keys are laid out in runs/keys.py; updates that touch
several of them are the scripts in runs/scripts/ (see runs/lua.py). The failures index, which
the record script keeps, is read through `RunStore.failures` (runs/failures.py).
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final, TypeVar, get_args

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.typing import EncodableT, FieldT

from payroll_sync.runs.encoding import ENCODER, OUTCOME_DECODER, json_text, text
from payroll_sync.runs.failures import FailureIndex, failure_id
from payroll_sync.runs.keys import Keys
from payroll_sync.runs.lua import Script
from payroll_sync.runs.written import written_key
from payroll_sync.schemas.brake import BrakeSummary
from payroll_sync.schemas.messages import (
    Period,
    SyncKind,
    Task,
    Trigger,
    decode_task,
)
from payroll_sync.schemas.outcomes import OUTCOMES, RecordOutcome, Run, RunStatus
from payroll_sync.schemas.payroll import AbsenceType

#: Bulk snapshots are only a shortcut for the first attempt; a retry reads afresh.
SNAPSHOT_TTL_SECONDS: Final = 6 * 3600
#: Records per call of scripts/enrol.lua: a few milliseconds of Redis time each (see
#: bench/producer_large.py), never the seconds one call for a whole company took.
ENROL_CHUNK: Final = 100
#: The longest a request may hold (or wait for) an integration's enrol lock.
ENROL_LOCK_SECONDS: Final = 30.0
#: A finished run (counters, outcomes, tasks for retrying) is kept this long.
RUN_RETENTION_SECONDS: Final = 30 * 24 * 3600
#: The statuses a run ends in: `done`, or `cancelled` (held by the mass-change brake, and an
#: operator said no: its pending records are never sent).
ENDED: Final[frozenset[RunStatus]] = frozenset({"done", "cancelled"})
#: What `wait_done` waits for: an end, or a hold that only a person can lift.
SETTLED: Final[frozenset[RunStatus]] = ENDED | {"awaiting_approval"}
#: A run the brake may hold: one not ended, and not held already.
HOLDABLE: Final = ("queued", "running", "awaiting_approval")

S = TypeVar("S", bound=msgspec.Struct)

_ABSENCE_TYPES_DECODER: Final = msgspec.json.Decoder(list[AbsenceType])
_BRAKE_DECODER: Final = msgspec.json.Decoder(BrakeSummary)


def new_run_id(now: float) -> str:
    """Sortable by time, unique without coordination."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + "-" + secrets.token_hex(4)


class Enrolled(msgspec.Struct, kw_only=True, frozen=True):
    # The keys to enqueue (new to the run, or finished and taken back).
    enqueue: list[str]
    # The keys whose snapshot was older than their latest outcome: their tasks must refetch.
    stale: list[str]


class Release(msgspec.Struct, frozen=True):
    """The pacer's keys a begin updates (queue/pacing.py): its count of `turn`'s messages not
    yet taken up, and its zset of turns."""

    count: str
    turns: str
    turn: str


class Begun(msgspec.Struct, kw_only=True, frozen=True):
    """What `RunStore.begin` read for a record a worker took up."""

    # The producer's snapshot as stored (JSON; `decode_snapshot` reads it), None when not asked
    # for or not there.
    snapshot: bytes | None = None
    # The employment link asked for, by empId text -> the employment id, None when there is none.
    links: dict[str, str | None] = msgspec.field(default_factory=dict)
    # With a link asked for: how many fields of what we last wrote to that empId are remembered
    # (runs/written.py; 0: none), None when not read. A count, not the digests: an unchanged
    # record needs only to know whether there are any, and the digests cost CPU to decode.
    remembered: int | None = None
    # The run is held by the mass-change brake (or was cancelled): nothing was read, and the
    # message must be dropped unrun (the record stays pending; an approval sends it again).
    held: bool = False


@functools.cache
def _snapshot_decoder(type_: type[S]) -> msgspec.json.Decoder[S]:
    return msgspec.json.Decoder(type_)


def decode_snapshot(raw: bytes | str | None, type_: type[S]) -> S | None:
    """A stored snapshot as `type_` (one decoder per type, made once); None for none."""
    return _snapshot_decoder(type_).decode(raw) if raw else None


class RunStore:
    """Typed access to runs and their records. Holds no state besides the client and the keys."""

    def __init__(self, redis: aioredis.Redis, *, prefix: str = "payroll-sync") -> None:
        self.redis = redis
        self.keys = Keys(prefix)
        self.failures = FailureIndex(redis, self.keys, retention_seconds=RUN_RETENTION_SECONDS)
        self._enrol = Script(redis, "enrol")
        self._record = Script(redis, "record")
        self._release = Script(redis, "release")
        self._begin = Script(redis, "begin")
        self._transition = Script(redis, "transition")

    @property
    def prefix(self) -> str:
        return self.keys.prefix

    # ------------------------------------------------------------------ runs

    async def active_run(self, integration: str, kind: SyncKind) -> str | None:
        run_id = await self.redis.get(self.keys.active(integration, kind))
        return text(run_id) if run_id else None

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
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.run(run_id), mapping=fields)
            pipe.zadd(self.keys.runs(), {run_id: now})
            # The index forgets runs whose keys have expired.
            pipe.zremrangebyscore(self.keys.runs(), "-inf", now - RUN_RETENTION_SECONDS)
            # One small hash per integration answers "its last run" without a scan of the runs.
            pipe.hset(self.keys.last_run(integration), kind, run_id)
            pipe.expire(self.keys.last_run(integration), RUN_RETENTION_SECONDS)
            # A dry run never becomes the run others join: it writes nothing.
            if joinable and not dry_run:
                pipe.set(self.keys.active(integration, kind), run_id)
            await pipe.execute()
        return run_id

    def enrol_lock(self, integration: str, kind: SyncKind) -> Lock:
        """Held while a request finds the run in progress and joins it, or starts one: two
        requests at once must not both see none and start a run each."""
        return self.redis.lock(
            self.keys.enrol_lock(integration, kind),
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

        `read_at`: when the entries' snapshots were read (see scripts/enrol.lua for what is
        stale).
        """
        if not entries:
            run = await self.get_run(run_id)
            ended = run is None or run.status in ENDED
            return None if ended else Enrolled(enqueue=[], stale=[])
        kind = entries[0][0].kind
        keys = {
            "run": self.keys.run(run_id),
            "pending": self.keys.pending(run_id),
            "names": self.keys.names(run_id),
            "tasks": self.keys.tasks(run_id),
            "snapshots": self.keys.snapshots(run_id),
            "last_at": self.keys.last_at(entries[0][0].integration, kind),
            "due": self.keys.due(run_id),
        }
        enqueue: list[str] = []
        stale: list[str] = []
        # One script call per ENROL_CHUNK records: Redis runs a script alone, so one call for a
        # whole company would stall every worker, the dashboard and the limiter meanwhile.
        # Only the first call can find the run done: the records it adds are not queued yet,
        # so they keep the run open until the caller sends them.
        for start in range(0, len(entries), ENROL_CHUNK):
            records: list[str] = []
            for task, snapshot in entries[start : start + ENROL_CHUNK]:
                records += [
                    task.key,
                    json_text(task),
                    "" if snapshot is None else json_text(snapshot),
                ]
            result = await self._enrol(
                keys=keys,
                args={
                    "snapshot_ttl": SNAPSHOT_TTL_SECONDS,
                    "read_at": read_at,
                    "now": time.time(),
                },
                rest=records,
            )
            if text(result[0]) == "done":
                if start == 0:
                    return None
                break  # cannot happen (see above); what was enrolled is still reported
            enqueue += [text(value) for value in result[1]]
            stale += [text(value) for value in result[2]]
        return Enrolled(enqueue=enqueue, stale=stale)

    async def finish_empty(self, run_id: str, *, now: float, error: str = "") -> None:
        """Close a run that has nothing to do (empty scope, or it could not be expanded)."""
        run = await self.get_run(run_id)
        if run is None or run.total > 0:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self.keys.run(run_id),
                mapping={"status": "done", "finished_at": now, "error": error},
            )
            pipe.expire(self.keys.run(run_id), RUN_RETENTION_SECONDS)
            await pipe.execute()
        await self._release(
            keys={"active": self.keys.active(run.integration, run.kind)}, args={"run_id": run_id}
        )

    async def record(
        self, run_id: str, integration: str, kind: SyncKind, outcome: RecordOutcome
    ) -> bool:
        """Store a record's final outcome; False when it was already recorded."""
        recorded = await self._record(
            keys={
                "run": self.keys.run(run_id),
                "pending": self.keys.pending(run_id),
                "names": self.keys.names(run_id),
                "outcomes": self.keys.outcomes(run_id),
                "active": self.keys.active(integration, kind),
                "tasks": self.keys.tasks(run_id),
                "snapshots": self.keys.snapshots(run_id),
                "last": self.keys.last(integration, kind),
                "failures": self.keys.failures(),
                "last_at": self.keys.last_at(integration, kind),
                "due": self.keys.due(run_id),
            },
            args={
                "key": outcome.key,
                "outcome": outcome.outcome,
                "outcome_json": ENCODER.encode(outcome),
                "now": outcome.finished_at,
                "run_id": run_id,
                "retention_seconds": RUN_RETENTION_SECONDS,
                "failure_id": failure_id(integration, kind, outcome.key),
            },
        )
        return bool(recorded)

    async def get_run(self, run_id: str) -> Run | None:
        raw = await self.redis.hgetall(self.keys.run(run_id))
        return _run_of(raw) if raw else None

    async def last_run(self, integration: str, kind: SyncKind | None = None) -> Run | None:
        """The integration's latest run (of `kind`, or of either kind), dry runs included;
        None when it has none still kept."""
        return (await self.last_runs([integration], kind))[integration]

    async def last_runs(
        self, integrations: Sequence[str], kind: SyncKind | None = None
    ) -> dict[str, Run | None]:
        """`last_run` of each integration, in two round trips whatever their number."""
        kinds: tuple[str, ...] = (kind,) if kind is not None else get_args(SyncKind)
        async with self.redis.pipeline(transaction=False) as pipe:
            for integration in integrations:
                pipe.hmget(self.keys.last_run(integration), list(kinds))
            found: list[list[bytes | None]] = await pipe.execute()
        ids = sorted({text(run_id) for run_ids in found for run_id in run_ids if run_id})
        async with self.redis.pipeline(transaction=False) as pipe:
            for run_id in ids:
                pipe.hgetall(self.keys.run(run_id))
            rows: list[dict[bytes | str, bytes | str]] = await pipe.execute()
        # A run whose keys expired before the index did is no run.
        runs = {run_id: _run_of(raw) for run_id, raw in zip(ids, rows, strict=True) if raw}
        latest: dict[str, Run | None] = {}
        for integration, run_ids in zip(integrations, found, strict=True):
            kept = [runs[text(run_id)] for run_id in run_ids if run_id and text(run_id) in runs]
            latest[integration] = max(kept, key=lambda run: run.created_at, default=None)
        return latest

    async def wait_done(
        self,
        run_id: str,
        *,
        poll_seconds: float,
        max_seconds: float | None = None,
        on_poll: Callable[[Run], None] | None = None,
    ) -> Run:
        """Poll until the run is settled (`SETTLED`: done, cancelled, or held by the brake
        awaiting a person's approval); `on_poll` sees every state read (a progress bar).

        Raises LookupError when the run is not in Redis, TimeoutError after `max_seconds`.
        """
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while True:
            run = await self.get_run(run_id)
            if run is None:
                raise LookupError(f"run {run_id} is not in Redis")
            if on_poll is not None:
                on_poll(run)
            if run.status in SETTLED:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} not done after {max_seconds:.0f} s: {run}")
            await asyncio.sleep(poll_seconds)

    async def list_runs(self, limit: int = 50) -> list[Run]:
        ids = await self.redis.zrevrange(self.keys.runs(), 0, limit - 1)
        runs = [await self.get_run(text(run_id)) for run_id in ids]
        return [run for run in runs if run is not None]

    async def unfinished_runs(self) -> list[Run]:
        """Runs not ended (neither done nor cancelled; the index covers the retention time)."""
        ids = [text(v) for v in await self.redis.zrange(self.keys.runs(), 0, -1)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for run_id in ids:
                pipe.hget(self.keys.run(run_id), "status")
            statuses = await pipe.execute()
        open_ids = [
            i
            for i, status in zip(ids, statuses, strict=True)
            if status and text(status) not in ENDED
        ]
        runs = [await self.get_run(run_id) for run_id in open_ids]
        return [run for run in runs if run is not None]

    # ------------------------------------------------------------------ records

    async def outcomes(self, run_id: str) -> list[RecordOutcome]:
        raw = await self.redis.hgetall(self.keys.outcomes(run_id))
        found = [OUTCOME_DECODER.decode(value) for value in raw.values()]
        return sorted(found, key=lambda item: (_numeric_first(item.employee_number), item.key))

    async def outcome(self, run_id: str, key: str) -> RecordOutcome | None:
        raw = await self.redis.hget(self.keys.outcomes(run_id), key)
        return OUTCOME_DECODER.decode(raw) if raw else None

    async def pending(self, run_id: str) -> list[str]:
        members = await self.redis.smembers(self.keys.pending(run_id))
        return sorted((text(member) for member in members), key=_numeric_first)

    async def begin(
        self,
        run_id: str,
        key: str,
        *,
        now: float,
        due: float,
        snapshot: bool = False,
        link: tuple[str, str] | None = None,
        release: Release | None = None,
    ) -> Begun | None:
        """A worker takes up the record's message; None when the record already finished,
        `Begun(held=True)` when its run is held by the brake or was cancelled (drop it unrun).

        In the same round trip (scripts/begin.lua): the record's `snapshot` is read when asked
        for, and the employment link of `link` (integration, empId text) with how many fields
        we last wrote to that empId are remembered (`runs.written`); `release`, when
        given, tells the pacer its message was taken up: its count of messages not yet taken up
        goes down by 1 (never below 0, never created) whether or not the record is pending, and
        the integration's turn comes now.
        """
        integration, link_field = link if link is not None else ("", "")
        answer = await self._begin(
            keys={
                "run": self.keys.run(run_id),
                "pending": self.keys.pending(run_id),
                "due": self.keys.due(run_id),
                "snapshots": self.keys.snapshots(run_id),
                "links": self.keys.links(integration) if link is not None else "",
                "release": release.count if release is not None else "",
                "turns": release.turns if release is not None else "",
                "written": (
                    written_key(self.keys.prefix, integration, link_field)
                    if link is not None
                    else ""
                ),
            },
            args={
                "key": key,
                "now": now,
                "due_at": due,
                "want_snapshot": int(snapshot),
                "link_field": link_field,
                "turn": release.turn if release is not None else "",
            },
        )
        if not answer[0]:
            return None
        if int(answer[0]) == 2:
            return Begun(held=True)
        found, linked, remembered = answer[1], answer[2], answer[3]
        return Begun(
            snapshot=found or None,
            links={link_field: text(linked) if linked else None} if link is not None else {},
            remembered=int(remembered) if link is not None and remembered is not None else None,
        )

    async def expect(self, run_id: str, key: str, *, due: float) -> None:
        """The record's message is on its way again (a retry, a deferral, a requeue)."""
        await self.redis.hset(self.keys.due(run_id), key, due)

    async def overdue(self, run_id: str, *, before: float) -> list[str]:
        """Pending keys whose message should have been handled before `before`."""
        keys = await self.pending(run_id)
        if not keys:
            return []
        dues = await self.redis.hmget(self.keys.due(run_id), keys)
        return [key for key, due in zip(keys, dues, strict=True) if not due or float(due) < before]

    async def task(self, run_id: str, key: str, kind: SyncKind = "employees") -> Task | None:
        raw = await self.redis.hget(self.keys.tasks(run_id), key)
        return decode_task(raw, kind) if raw else None

    async def snapshot(self, run_id: str, key: str, type_: type[S]) -> S | None:
        return decode_snapshot(await self.redis.hget(self.keys.snapshots(run_id), key), type_)

    async def absence_types(self, run_id: str) -> list[AbsenceType] | None:
        raw = await self.redis.get(self.keys.absence_types(run_id))
        return _ABSENCE_TYPES_DECODER.decode(raw) if raw else None

    async def set_absence_types(self, run_id: str, types: Sequence[AbsenceType]) -> None:
        """Kept as long as the run (retries of its records use the same list)."""
        await self.redis.set(
            self.keys.absence_types(run_id), ENCODER.encode(list(types)), ex=RUN_RETENTION_SECONDS
        )

    async def brake_summary(self, run_id: str) -> BrakeSummary | None:
        """What the mass-change brake counted for the run (None: not counted)."""
        raw = await self.redis.get(self.keys.brake(run_id))
        return _BRAKE_DECODER.decode(raw) if raw else None

    async def save_brake_summary(self, summary: BrakeSummary) -> None:
        """Kept as long as the run."""
        await self.redis.set(
            self.keys.brake(summary.run_id), ENCODER.encode(summary), ex=RUN_RETENTION_SECONDS
        )

    # ------------------------------------------------------------------ the brake

    async def transition(
        self,
        run_id: str,
        *,
        allowed: Sequence[str],
        to: str,
        now: float,
        finish: bool = False,
    ) -> tuple[str, bool]:
        """Move the run to `to` ("resume": back to queued or running) only from a status in
        `allowed`, atomically (scripts/transition.lua); (status before, moved). The status
        before is "" when there is no such run. `finish` also ends it (finished_at, and it is
        no longer the run its integration's requests join)."""
        run = await self.get_run(run_id)
        if run is None:
            return "", False
        answer = await self._transition(
            keys={
                "run": self.keys.run(run_id),
                "active": self.keys.active(run.integration, run.kind),
            },
            args={
                "from": ",".join(allowed),
                "to": to,
                "now": now,
                "run_id": run_id,
                "finish": int(finish),
            },
        )
        return text(answer[0]), bool(answer[1])

    async def hold(self, run_id: str, *, now: float) -> tuple[str, bool]:
        """The brake holds the run: `awaiting_approval`, from queued or running (or already
        held); (status before, now held)."""
        before, moved = await self.transition(
            run_id, allowed=HOLDABLE, to="awaiting_approval", now=now
        )
        return before, moved

    async def close_cancelled(self, run_id: str) -> None:
        """After a cancel: the snapshots (personal data) go now, the rest expires with the
        retention time like a finished run's (its pending records stay, never synced)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.snapshots(run_id))
            for key in (
                self.keys.run(run_id),
                self.keys.pending(run_id),
                self.keys.names(run_id),
                self.keys.outcomes(run_id),
                self.keys.tasks(run_id),
                self.keys.due(run_id),
            ):
                pipe.expire(key, RUN_RETENTION_SECONDS)
            await pipe.execute()

    async def touch(self, run_id: str, *, now: float) -> None:
        """The run is alive (a braked request still reading): recovery leaves it alone."""
        await self.redis.hset(self.keys.run(run_id), "active_at", now)

    async def keep_tasks(self, run_id: str, tasks: Sequence[Task]) -> None:
        """Store these tasks of pending records as they must be sent (a stale one refetches)."""
        if tasks:
            mapping: dict[FieldT, EncodableT] = {task.key: json_text(task) for task in tasks}
            await self.redis.hset(self.keys.tasks(run_id), mapping=mapping)

    async def tasks_of(
        self, run_id: str, keys: Sequence[str], kind: SyncKind, *, due: float
    ) -> list[Task]:
        """The stored tasks of `keys` (those still pending), noting that their messages are
        on their way now (`due`)."""
        if not keys:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self.keys.tasks(run_id), list(keys))
            pipe.smismember(self.keys.pending(run_id), list(keys))
            raw, pending = await pipe.execute()
        tasks = [
            decode_task(value, kind)
            for value, waiting in zip(raw, pending, strict=True)
            if value and waiting
        ]
        if tasks:
            mapping: dict[FieldT, EncodableT] = {task.key: due for task in tasks}
            await self.redis.hset(self.keys.due(run_id), mapping=mapping)
        return tasks

    # ------------------------------------------------------------------ housekeeping

    async def delete_everything(self) -> int:
        """Remove every key under this store's prefix (tests and the demo clean up with it)."""
        return await delete_keys(self.redis, self.keys.everything())


async def delete_keys(redis: aioredis.Redis, pattern: str) -> int:
    """Delete the keys matching `pattern`, by SCAN: never a FLUSHDB on a shared Redis."""
    removed = 0
    async for key in redis.scan_iter(match=pattern, count=500):
        removed += await redis.delete(key)
    return removed


def _run_of(raw: Mapping[bytes | str, bytes | str]) -> Run:
    """A run as its hash holds it."""
    fields = {text(key): text(value) for key, value in raw.items()}
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


def _numeric_first(employee_number: str) -> tuple[int, int, str]:
    return (0, int(employee_number), "") if employee_number.isdigit() else (1, 0, employee_number)
