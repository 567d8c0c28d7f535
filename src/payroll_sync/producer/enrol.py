"""Put a run's records in the run store and on the queue: join the run in progress or start one.

Shared by every way records enter a run: an employee or absence sync request, and a retry of
failures from the dashboard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import msgspec

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


class RunSpec(msgspec.Struct, kw_only=True, frozen=True):
    """What a new run is, if one has to be started."""

    integration: str
    kind: SyncKind
    trigger: Trigger
    dry_run: bool = False
    period: Period | None = None
    codes: tuple[str, ...] = ()


async def enrol_and_enqueue(
    spec: RunSpec,
    entries: Sequence[Entry],
    *,
    store: RunStore,
    enqueue: Enqueue,
    now: float,
    on_new_run: Callable[[str], Awaitable[None]] | None = None,
) -> Expansion:
    """Join the integration's run of this kind in progress, or start a new one.

    SPEC: a request for a run already in progress joins its records rather than doubling the
    work; a record still pending gets the newer snapshot, a finished one is queued again.
    `on_new_run` runs for a newly created run before anything is enqueued.
    """
    if spec.dry_run or not entries:
        # A dry run never joins and is never joined; an empty run ends at once.
        expansion, tasks = await _start_run(
            spec, entries, store=store, now=now, on_new_run=on_new_run
        )
    else:
        async with store.enrol_lock(spec.integration, spec.kind):
            joined = await _join_active(spec, entries, store=store, now=now)
            if joined is None:
                joined = await _start_run(
                    spec, entries, store=store, now=now, on_new_run=on_new_run
                )
        expansion, tasks = joined
    # Sent once the lock is released: a big run's messages take a while to send.
    await enqueue(tasks)
    return expansion


async def _join_active(
    spec: RunSpec, entries: Sequence[Entry], *, store: RunStore, now: float
) -> tuple[Expansion, list[Task]] | None:
    active = await store.active_run(spec.integration, spec.kind)
    if active is None:
        return None
    stamped = with_run(entries, active)
    enrolled = await store.enrol(active, stamped, read_at=now)
    if enrolled is None:  # it finished meanwhile
        return None
    expansion = Expansion(
        run_id=active, joined=True, in_scope=len(entries), enqueued=len(enrolled.enqueue)
    )
    return expansion, _to_enqueue(stamped, enrolled)


async def _start_run(
    spec: RunSpec,
    entries: Sequence[Entry],
    *,
    store: RunStore,
    now: float,
    on_new_run: Callable[[str], Awaitable[None]] | None,
) -> tuple[Expansion, list[Task]]:
    run_id = await store.create_run(
        integration=spec.integration,
        kind=spec.kind,
        trigger=spec.trigger,
        dry_run=spec.dry_run,
        now=now,
        # An empty run ends at once: it must not displace the run others should join.
        joinable=bool(entries),
        period=spec.period,
        codes=spec.codes,
    )
    if on_new_run is not None:
        await on_new_run(run_id)
    stamped = with_run(entries, run_id)
    enrolled = await store.enrol(run_id, stamped, read_at=now) or Enrolled(enqueue=[], stale=[])
    if not entries:
        await store.finish_empty(run_id, now=now)
    expansion = Expansion(
        run_id=run_id, joined=False, in_scope=len(entries), enqueued=len(enrolled.enqueue)
    )
    return expansion, _to_enqueue(stamped, enrolled)


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
