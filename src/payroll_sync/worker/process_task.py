"""One delivered task message: run the record, then apply the verdict: record its outcome,
retry it or defer it (`verdict.py` decides, purely).

Every path ends in exactly one of: an outcome in the run store (and one `record.synced` event),
or a copy of the task enqueued again (a retry or a rate-limit deferral). Nothing escapes to
Dramatiq, whose own error logs would print the message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
import structlog

from payroll_sync.runs.store import Begun
from payroll_sync.schemas.masking import mask_diff
from payroll_sync.schemas.messages import AbsenceTask, EmployeeTask, SyncKind, Task, decode_task
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.dispatch import pacing_release
from payroll_sync.worker.links import link_field
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.run_absence import run_absence_task
from payroll_sync.worker.run_employee import run_employee_task
from payroll_sync.worker.verdict import Defer, Record, Retry, verdict

log = structlog.get_logger("payroll_sync.worker")

#: How long a record may take once a worker has taken it up (beyond the actor's time limit):
#: after that, with nothing heard of it, its message counts as lost (see runs/recovery.py).
PROCESSING_DEADLINE_SECONDS: Final = 15 * 60
#: Beyond a retry's or deferral's delay, how late its message may be handled (a busy queue).
REQUEUE_SLACK_SECONDS: Final = 60.0

# (task, delay in seconds) -> enqueued again
SendAgain = Callable[[Task, float], Awaitable[None]]


async def _run(task: Task, ctx: WorkerContext, begun: Begun) -> SyncResult:
    match task:
        case EmployeeTask():
            return await run_employee_task(task, ctx, begun)
        case AbsenceTask():
            return await run_absence_task(task, ctx, begun)


async def process_task(
    body: str,
    *,
    kind: SyncKind,
    ctx: WorkerContext,
    send_again: SendAgain,
    clock: Callable[[], float] = time.time,
    jitter: Callable[[], float] = random.random,
) -> RecordOutcome | None:
    """The recorded outcome, or None when the task was put back on the queue.

    `kind` is the queue's: it reads only a body queued before tasks carried their own kind.
    """
    try:
        task = decode_task(body, kind)
    except msgspec.DecodeError as error:  # not JSON, or not a task (ValidationError)
        # Without ids there is no run to record it in; say so loudly, keep the message out.
        log.error("task.malformed", error=str(error))
        return None
    started = clock()
    key = task.key
    field = link_field(task)
    # One round trip: the record taken up, with the snapshot and link it will read.
    begun = await ctx.store.begin(
        task.run_id,
        key,
        now=started,
        due=started + PROCESSING_DEADLINE_SECONDS,
        snapshot=not task.refetch,
        link=(task.integration, field) if field is not None else None,
        # A paced record taken up: the pacer may release the next (worker/dispatch.py).
        release=pacing_release(task.integration) if task.paced else None,
    )
    if begun is None:
        # A copy of a message whose record already has its outcome (a requeue, a redelivery).
        log.info(
            "record.already_finished", integration=task.integration, run_id=task.run_id, key=key
        )
        return None
    if begun.held:
        # Its run is held by the mass-change brake (or cancelled): nothing is written until an
        # operator approves, and approval sends every pending record again.
        log.info("record.held", integration=task.integration, run_id=task.run_id, key=key)
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
        **({"leave_id": task.key} if task.kind == "absences" else {}),
    )
    try:
        # A record of an integration added a moment ago may come before the next poll.
        await ctx.catalog.ensure(task.integration)
        result = await _run(task, ctx, begun)
    except Exception as error:
        decided = verdict(
            error,
            task,
            started=started,
            now=clock(),
            policy=ctx.settings.worker,
            jitter=jitter(),
        )
        match decided:
            case Defer(task=copy, delay=delay, reason=reason, penalise=penalise):
                if penalise:
                    await ctx.limiter.penalise(task.integration, delay)
                await again(copy, delay)
                because = {"reason": reason} if reason else {}
                bound.info("record.deferred", delay_s=round(delay, 2), **because)
                return None
            case Retry(task=copy, delay=delay, reason=reason):
                await again(copy, delay)
                bound.info("record.retrying", delay_s=round(delay, 2), reason=reason)
                return None
            case Record(result=result, crash=crash):
                if crash:
                    bound.error("record.crashed", error_type=crash)
    finished = clock()
    outcome = RecordOutcome(
        employee_number=task.employee_number,
        employee_id=task.employee_id,
        leave_id=task.key if task.kind == "absences" else "",
        outcome=result.outcome,
        changed=result.changed,
        diff=mask_diff(result.diff),
        drift=result.drift,
        unknown=result.unknown,
        reason=result.reason,
        field=result.field,
        attempt=task.attempt,
        duration_ms=round((finished - started) * 1000.0, 1),
        finished_at=finished,
    )
    recorded = await ctx.store.record(task.run_id, task.integration, task.kind, outcome)
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
