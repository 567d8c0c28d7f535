"""Put a run's records in the run store and on the queue: join the run in progress or start one.

Shared by every way records enter a run: an employee or absence sync request, and a retry of
failures from the dashboard.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from typing import Final

import msgspec

from payroll_sync.producer.brake import BrakeCount, settle
from payroll_sync.runs.store import Enrolled, RunStore
from payroll_sync.schemas.messages import Period, SyncKind, Task, Trigger

Enqueue = Callable[[Sequence[Task]], Awaitable[None]]
Entry = tuple[Task, msgspec.Struct | None]


class Expansion(msgspec.Struct, kw_only=True):
    run_id: str
    # True when the request joined a run of the same kind already in progress.
    joined: bool
    in_scope: int
    enqueued: int
    # True when the mass-change brake holds the run: nothing of this request was sent.
    held: bool = False


class RunSpec(msgspec.Struct, kw_only=True, frozen=True):
    """What a new run is, if one has to be started."""

    integration: str
    kind: SyncKind
    trigger: Trigger
    dry_run: bool = False
    period: Period | None = None
    codes: tuple[str, ...] = ()


#: Tasks handed to `enqueue` at once: as the pages of a big company come in, not all at the end.
ENQUEUE_CHUNK: Final = 1000


async def enrol_and_enqueue(
    spec: RunSpec,
    entries: Sequence[Entry],
    *,
    store: RunStore,
    enqueue: Enqueue,
    now: float,
    on_new_run: Callable[[str], Awaitable[None]] | None = None,
    brake: BrakeCount | None = None,
) -> Expansion:
    """Join the integration's run of this kind in progress, or start a new one (`enrol_stream`
    with the entries at hand)."""

    async def chunks() -> AsyncIterator[Sequence[Entry]]:
        for start in range(0, len(entries), ENQUEUE_CHUNK):
            yield entries[start : start + ENQUEUE_CHUNK]

    return await enrol_stream(
        spec, chunks(), store=store, enqueue=enqueue, now=now, on_new_run=on_new_run, brake=brake
    )


async def enrol_stream(
    spec: RunSpec,
    chunks: AsyncIterable[Sequence[Entry]],
    *,
    store: RunStore,
    enqueue: Enqueue,
    now: float,
    on_new_run: Callable[[str], Awaitable[None]] | None = None,
    brake: BrakeCount | None = None,
) -> Expansion:
    """Join the integration's run of this kind in progress, or start a new one, with the
    entries of `chunks` as they come (the pages of a bulk read); `now` is when they were read.

    SPEC: a request for a run already in progress joins its records rather than doubling the
    work; a record still pending gets the newer snapshot, a finished one is queued again.
    `on_new_run` runs for a newly created run before anything is enqueued.

    Every chunk is enrolled before its tasks are handed to `enqueue`, and the tasks of the
    newest chunk wait until the next one is enrolled: records enrolled but not yet queued stay
    pending, so the run cannot finish (its workers done with the earlier chunks) while the rest
    of the company is still being read.

    With `brake` (producer/brake.py) every chunk is counted too; a braked request that writes
    sends nothing until the last chunk is counted, keeping only the keys it enrolled (their
    tasks are in the run store), then holds the run or sends them.
    """
    run_id = ""
    joined = False
    in_scope = enqueued = 0
    held: list[Task] = []
    holding = brake is not None and brake.holds
    # Braked: the keys this request enrolled in `run_id` and has not sent yet.
    unsent: list[str] = []
    async for chunk in chunks:
        if not chunk:
            continue
        if brake is not None:
            await brake.count(chunk)
        tasks: list[Task] | None = None
        if run_id:
            tasks = await _enrol(run_id, chunk, store=store, now=now)
        if tasks is None:
            # The first chunk, or the run finished meanwhile (only records it held from
            # another request were pending; or it was held and cancelled): join or start
            # under the lock. What this request enrolled in a cancelled run is never sent.
            run_id, joined, tasks = await _join_or_start(
                spec, chunk, store=store, now=now, on_new_run=on_new_run
            )
            unsent = []
        in_scope += len(chunk)
        enqueued += len(tasks)
        if holding:
            # A stale task must be sent as such: kept so, as the rest are by enrol.
            await store.keep_tasks(run_id, [task for task in tasks if task.refetch])
            await store.touch(run_id, now=time.time())
            unsent += [task.key for task in tasks]
            continue
        if held:
            await enqueue(held)
        held = tasks
    if not run_id:
        # Nothing in scope: an empty run ends at once and never becomes the one others join.
        run_id = await _new_run(spec, store=store, now=now, joinable=False, on_new_run=on_new_run)
        await store.finish_empty(run_id, now=now)
        return Expansion(run_id=run_id, joined=joined, in_scope=0, enqueued=0)
    if brake is not None and await settle(brake, run_id=run_id, kind=spec.kind, store=store):
        return Expansion(
            run_id=run_id, joined=joined, in_scope=in_scope, enqueued=enqueued, held=True
        )
    if held:
        await enqueue(held)
    await send_stored(run_id, unsent, spec.kind, store=store, enqueue=enqueue)
    return Expansion(run_id=run_id, joined=joined, in_scope=in_scope, enqueued=enqueued)


async def send_stored(
    run_id: str,
    keys: Sequence[str],
    kind: SyncKind,
    *,
    store: RunStore,
    enqueue: Enqueue,
    now: float | None = None,
    approved: bool = False,
) -> int:
    """Send the stored tasks of `keys` that are still pending, ENQUEUE_CHUNK at a time, noting
    that their messages are on their way as of `now` (default: the clock); how many were
    sent. `approved`: a person released a held run, so each retry window starts at `now`
    (`TaskBase.approved`)."""
    sent = 0
    when = time.time() if now is None else now
    for start in range(0, len(keys), ENQUEUE_CHUNK):
        tasks = await store.tasks_of(run_id, keys[start : start + ENQUEUE_CHUNK], kind, due=when)
        if approved:
            tasks = [task.approved(now=when) for task in tasks]
        if tasks:
            await enqueue(tasks)
            sent += len(tasks)
    return sent


async def _join_or_start(
    spec: RunSpec,
    entries: Sequence[Entry],
    *,
    store: RunStore,
    now: float,
    on_new_run: Callable[[str], Awaitable[None]] | None,
) -> tuple[str, bool, list[Task]]:
    """(run id, joined, tasks to enqueue) for the first entries of a request."""
    if spec.dry_run:
        # A dry run never joins and is never joined.
        run_id = await _new_run(spec, store=store, now=now, joinable=False, on_new_run=on_new_run)
        return run_id, False, await _enrol(run_id, entries, store=store, now=now) or []
    # Held only while finding the run in progress, or starting one: two requests at once must
    # not both see none and start a run each. The rest of a big run is enrolled without it.
    async with store.enrol_lock(spec.integration, spec.kind):
        active = await store.active_run(spec.integration, spec.kind)
        if active is not None:
            tasks = await _enrol(active, entries, store=store, now=now)
            if tasks is not None:
                return active, True, tasks
        run_id = await _new_run(spec, store=store, now=now, joinable=True, on_new_run=on_new_run)
        return run_id, False, await _enrol(run_id, entries, store=store, now=now) or []


async def _new_run(
    spec: RunSpec,
    *,
    store: RunStore,
    now: float,
    joinable: bool,
    on_new_run: Callable[[str], Awaitable[None]] | None,
) -> str:
    run_id = await store.create_run(
        integration=spec.integration,
        kind=spec.kind,
        trigger=spec.trigger,
        dry_run=spec.dry_run,
        now=now,
        joinable=joinable,
        period=spec.period,
        codes=spec.codes,
    )
    if on_new_run is not None:
        await on_new_run(run_id)
    return run_id


async def _enrol(
    run_id: str, entries: Sequence[Entry], *, store: RunStore, now: float
) -> list[Task] | None:
    """The tasks to send for `entries` enrolled in `run_id`; None if that run is done."""
    stamped = with_run(entries, run_id)
    enrolled = await store.enrol(run_id, stamped, read_at=now)
    return None if enrolled is None else _to_enqueue(stamped, enrolled)


def _to_enqueue(stamped: Sequence[Entry], enrolled: Enrolled) -> list[Task]:
    """The tasks to send; a stale one reads both systems afresh instead of its snapshot."""
    wanted, stale = set(enrolled.enqueue), set(enrolled.stale)
    tasks = []
    for task, _ in stamped:
        if task.key in wanted:
            tasks.append(task.stale() if task.key in stale else task)
    return tasks


def with_run(entries: Sequence[Entry], run_id: str) -> list[Entry]:
    return [(task.in_run(run_id), snap) for task, snap in entries]
