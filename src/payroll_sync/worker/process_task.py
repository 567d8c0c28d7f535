"""One delivered task message: run the record, then record its outcome, retry it or defer it.

Every path ends in exactly one of: an outcome in the run store (and one `record.synced` event),
or a copy of the task enqueued again (a retry or a rate-limit deferral). Nothing escapes to
Dramatiq, whose own error logs would print the message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import msgspec
import structlog

from payroll_sync.errors import ConfigError, Deferred, RateLimited, Retryable
from payroll_sync.schemas.messages import (
    AbsenceTask,
    EmployeeTask,
    SyncKind,
    Task,
    decode_task,
    record_key,
)
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from payroll_sync.worker.absence_runner import run_absence_task
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.links import EmploymentLinks
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.retry_policy import retry_delay
from payroll_sync.worker.sync_employee import sync_employee

log = structlog.get_logger("payroll_sync.worker")
T = TypeVar("T", bound=EmployeeTask | AbsenceTask)

#: How long a record may take once a worker has taken it up (beyond the actor's time limit):
#: after that, with nothing heard of it, its message counts as lost (see runs/recovery.py).
PROCESSING_DEADLINE_SECONDS: Final = 15 * 60
#: Beyond a retry's or deferral's delay, how late its message may be handled (a busy queue).
REQUEUE_SLACK_SECONDS: Final = 60.0
#: Seconds to wait after a 429 that did not say how long (no Retry-After).
RATE_LIMITED_DEFAULT_WAIT: Final = 1.0

# (task, delay in seconds) -> enqueued again
SendAgain = Callable[[Task, float], Awaitable[None]]


async def process_employee_task(
    body: str,
    *,
    ctx: WorkerContext,
    send_again: SendAgain,
    clock: Callable[[], float] = time.time,
    jitter: Callable[[], float] = random.random,
) -> RecordOutcome | None:
    return await process_task(
        body, kind="employees", ctx=ctx, send_again=send_again, clock=clock, jitter=jitter
    )


async def process_task(
    body: str,
    *,
    kind: SyncKind,
    ctx: WorkerContext,
    send_again: SendAgain,
    clock: Callable[[], float] = time.time,
    jitter: Callable[[], float] = random.random,
) -> RecordOutcome | None:
    """The recorded outcome, or None when the task was put back on the queue."""
    try:
        task = decode_task(body, kind)
    except msgspec.DecodeError as error:  # not JSON, or not a task (ValidationError)
        # Without ids there is no run to record it in; say so loudly, keep the message out.
        log.error("task.malformed", error=str(error))
        return None
    started = clock()
    key = record_key(task)
    if not await ctx.store.begin(
        task.run_id, key, now=started, due=started + PROCESSING_DEADLINE_SECONDS
    ):
        # A copy of a message whose record already has its outcome (a requeue, a redelivery).
        log.info(
            "record.already_finished", integration=task.integration, run_id=task.run_id, key=key
        )
        return None

    async def again(copy: Task, delay: float) -> None:
        # Say when this record should next be heard of, so a lost message can be told apart.
        await ctx.store.expect(task.run_id, key, due=clock() + delay + REQUEUE_SLACK_SECONDS)
        await send_again(copy, delay)

    bound = log.bind(
        integration=task.integration,
        run_id=task.run_id,
        employee_number=task.employee_number,
        attempt=task.attempt,
        **({"leave_id": task.leave_id} if isinstance(task, AbsenceTask) else {}),
    )
    try:
        result = await (
            run_absence_task(task, ctx) if isinstance(task, AbsenceTask) else _run(task, ctx)
        )
    except Deferred as deferred:
        await again(_again(task, started, next_attempt=False), deferred.delay)
        bound.info("record.deferred", delay_s=round(deferred.delay, 2))
        return None
    except Retryable as error:
        if isinstance(error, RateLimited):
            # A 429 is a wait, never a failed attempt; without Retry-After, wait a little.
            wait = error.delay or RATE_LIMITED_DEFAULT_WAIT
            if error.api == "payroll":
                await ctx.limiter.penalise(task.integration, wait)
            await again(_again(task, started, next_attempt=False), wait)
            bound.info("record.deferred", delay_s=round(wait, 2), reason=error.reason)
            return None
        delay = retry_delay(
            attempt=task.attempt,
            first_attempt_at=task.first_attempt_at or started,
            now=clock(),
            server_delay=error.delay,
            policy=ctx.settings.worker,
            jitter=jitter(),
        )
        if delay is not None:
            await again(_again(task, started, next_attempt=True), delay)
            bound.info("record.retrying", delay_s=round(delay, 2), reason=error.reason)
            return None
        hours = ctx.settings.worker.retry_for_hours
        result = SyncResult(
            outcome="failed",
            reason=f"gave up after {task.attempt} attempts in {hours:g} h: {error.reason}",
        )
    except Exception as error:
        # A bug, not a data problem: the record still ends, visible and retryable.
        bound.error("record.crashed", error_type=type(error).__name__)
        result = SyncResult(
            outcome="failed", reason=f"internal error ({type(error).__name__}); retry it later"
        )
    finished = clock()
    outcome = RecordOutcome(
        employee_number=task.employee_number,
        employee_id=task.employee_id,
        leave_id=task.leave_id if isinstance(task, AbsenceTask) else "",
        outcome=result.outcome,
        changed=result.changed,
        diff=result.diff,
        reason=result.reason,
        field=result.field,
        attempt=task.attempt,
        duration_ms=round((finished - started) * 1000.0, 1),
        finished_at=finished,
    )
    recorded = await ctx.store.record(task.run_id, task.integration, kind, outcome)
    bound.info(
        "record.synced",
        outcome=outcome.outcome,
        changed=outcome.changed,
        reason=outcome.reason,
        field=outcome.field,
        duration_ms=outcome.duration_ms,
        dry_run=task.dry_run,
        duplicate=not recorded,
    )
    return outcome


async def _run(task: EmployeeTask, ctx: WorkerContext) -> SyncResult:
    try:
        clients = ctx.clients(task.integration)
    except ConfigError as error:
        return SyncResult(outcome="failed", reason=error.reason)
    snapshot = (
        None
        if task.refetch
        else await ctx.store.snapshot(task.run_id, task.employee_number, EmployeeSnapshot)
    )
    return await sync_employee(
        task,
        snapshot=snapshot,
        hr=clients.simployer,
        payroll_api=clients.payroll,
        links=EmploymentLinks(ctx.redis, ctx.keys, task.integration),
    )


def _again(task: T, started: float, *, next_attempt: bool) -> T:
    """The copy to enqueue: it reads both systems afresh, since something may have been written.

    It keeps when the first attempt began, so the retry window is counted once, not per attempt.
    """
    first = task.first_attempt_at or started
    if next_attempt:
        return msgspec.structs.replace(
            task, attempt=task.attempt + 1, refetch=True, first_attempt_at=first
        )
    return msgspec.structs.replace(
        task, deferrals=task.deferrals + 1, refetch=True, first_attempt_at=first
    )
