"""Put a run's records in the run store and on the queue: join the run in progress or start one.

Shared by every way records enter a run: an employee or absence sync request, and a retry of
failures from the dashboard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import msgspec

from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import Period, SyncKind, Task, Trigger, record_key

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
    joined = False
    to_enqueue: list[str] | None = None
    stamped: list[Entry] = []
    run_id = ""
    if not spec.dry_run and entries:
        active = await store.active_run(spec.integration, spec.kind)
        if active is not None:
            run_id, stamped = active, with_run(entries, active)
            to_enqueue = await store.enrol(active, stamped)
            joined = to_enqueue is not None
    if to_enqueue is None:
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
        to_enqueue = await store.enrol(run_id, stamped) or []
        if not entries:
            await store.finish_empty(run_id, now=now)
    wanted = set(to_enqueue)
    tasks = [task for task, _ in stamped if record_key(task) in wanted]
    await enqueue(tasks)
    return Expansion(run_id=run_id, joined=joined, in_scope=len(entries), enqueued=len(tasks))


def with_run(entries: Sequence[Entry], run_id: str) -> list[Entry]:
    return [(msgspec.structs.replace(task, run_id=run_id), snap) for task, snap in entries]
