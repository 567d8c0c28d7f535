"""Run one absence task with the worker's clients, settings and run store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Final

from redis.exceptions import LockError

from payroll_sync.errors import ConfigError, Deferred
from payroll_sync.runs.store import Begun, decode_snapshot
from payroll_sync.schemas.messages import AbsenceTask
from payroll_sync.schemas.snapshots import AbsenceSnapshot
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.sync_absence import AbsenceRules, sync_absence

#: How long one worker may hold an employee's children lock (a few requests at most), and how
#: long another waits for it before the record is put back on the queue.
CHILD_LOCK_SECONDS: Final = 60.0
CHILD_LOCK_WAIT_SECONDS: Final = 5.0
CHILD_LOCK_DEFER_SECONDS: Final = 2.0


async def run_absence_task(task: AbsenceTask, ctx: WorkerContext, begun: Begun) -> SyncResult:
    """`begun`: what taking the task up read (its snapshot unless it refetches)."""
    try:
        clients = ctx.clients(task.integration)
        settings = ctx.integration(task.integration)
    except ConfigError as error:
        return SyncResult(outcome="failed", reason=error.reason)
    types = await ctx.store.absence_types(task.run_id)
    if types is None:
        # A retry run has no list yet: read it once and keep it with the run.
        types = await clients.payroll.absence_types()
        await ctx.store.set_absence_types(task.run_id, types)
    rules = AbsenceRules(
        overrides=dict(settings.absences.overrides),
        codes=tuple(task.codes),
        absence_types={row.code: row for row in types},
    )
    snapshot = None if task.refetch else decode_snapshot(begun.snapshot, AbsenceSnapshot)

    @asynccontextmanager
    async def child_lock(emp_id: int) -> AsyncIterator[None]:
        lock = ctx.redis.lock(
            ctx.keys.children_lock(task.integration, emp_id),
            timeout=CHILD_LOCK_SECONDS,
            blocking_timeout=CHILD_LOCK_WAIT_SECONDS,
        )
        if not await lock.acquire():
            raise Deferred(CHILD_LOCK_DEFER_SECONDS)
        try:
            yield
        finally:
            # It may have expired meanwhile; the next holder's lock is not ours to free.
            with suppress(LockError):
                await lock.release()

    return await sync_absence(
        task,
        snapshot=snapshot,
        rules=rules,
        hr=clients.simployer,
        payroll_api=clients.payroll,
        child_lock=child_lock,
    )
