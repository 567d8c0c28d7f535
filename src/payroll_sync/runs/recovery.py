"""Put back on the queue the records whose message was lost.

A record's message can vanish between the run store and the broker: a producer killed after
enrolling a run's records but before sending their messages, a broker restarted without
persistence. Such a record stays pending forever, its run never ends, and every later request
joins that run without queueing it again. Workers note when each pending record should next be
heard of (`RunStore.begin` / `expect`); a record overdue by `quiet_for` in a run that has been
quiet as long has lost its message, and is queued again, reading both systems afresh.

A copy sent for a record whose message was only late is harmless: the first to finish records
the outcome, and the other is dropped unrun (`record.already_finished`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import msgspec
import redis.asyncio as aioredis
import structlog

from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import SyncKind, Task

#: How long a run must be quiet, and a record overdue, before its message counts as lost: well
#: beyond the longest retry delay (5 min) and a worker's time on one record.
LOST_AFTER_SECONDS: Final = 20 * 60.0
#: How often the scheduler looks.
RECOVERY_INTERVAL_SECONDS: Final = 60.0

log = structlog.get_logger("payroll_sync.recovery")

Enqueue = Callable[[Sequence[Task]], Awaitable[None]]


class Requeued(msgspec.Struct, kw_only=True, frozen=True):
    run_id: str
    integration: str
    kind: SyncKind
    records: int


async def requeue_lost(
    store: RunStore, *, enqueue: Enqueue, now: float, quiet_for: float = LOST_AFTER_SECONDS
) -> list[Requeued]:
    """Queue again the overdue records of quiet runs; what was queued, per run."""
    done: list[Requeued] = []
    for run in await store.unfinished_runs():
        if run.status == "awaiting_approval":
            continue  # held by the brake: nothing was lost, a person decides
        if max(run.active_at, run.created_at) > now - quiet_for:
            continue  # something happened lately: its messages are moving
        tasks: list[Task] = []
        for key in await store.overdue(run.id, before=now - quiet_for):
            task = await store.task(run.id, key, run.kind)
            if task is None:
                continue
            tasks.append(task.fresh_copy(now=now))
            # The next look waits as long again before sending another copy.
            await store.expect(run.id, key, due=now + quiet_for)
        if tasks:
            await enqueue(tasks)
            log.warning(
                "run.requeued",
                run_id=run.id,
                integration=run.integration,
                kind=run.kind,
                records=len(tasks),
                reason=f"no worker has handled them for {quiet_for / 60:g} min",
            )
            done.append(
                Requeued(
                    run_id=run.id, integration=run.integration, kind=run.kind, records=len(tasks)
                )
            )
    return done


async def recovery_loop(
    store: RunStore,
    redis: aioredis.Redis,
    *,
    enqueue: Enqueue,
    stop: asyncio.Event,
    clock: Callable[[], float],
    interval: float = RECOVERY_INTERVAL_SECONDS,
) -> None:
    """Look every `interval` seconds; with several schedulers, one of them looks each time."""
    while not stop.is_set():
        try:
            turn = await redis.set(
                store.keys.recovery_lock(), "1", nx=True, ex=max(1, int(interval * 0.8))
            )
            if turn:
                await requeue_lost(store, enqueue=enqueue, now=clock())
        except (aioredis.RedisError, OSError) as error:
            log.error("recovery.pass_failed", reason=type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
