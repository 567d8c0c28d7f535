"""An operator's answer to a run the mass-change brake holds: approve it, or cancel it.

Why: a held run (`awaiting_approval`, producer/brake.py) writes nothing until a person decides,
from the dashboard or the intake's API; a scheduled run never releases itself. Each answer is
one atomic status change (runs/scripts/transition.lua), so two operators clicking at once
decide once, and the loser is told the run's status.

- approve: back to `queued` (or `running`, when some records had finished before the hold),
  then every pending record of the run is sent with its stored task. Its snapshot is used when
  it is still kept (what the summary counted is what is written); once expired the worker
  reads both systems afresh. Each record's retry window starts at the approval: a hold longer
  than `retry_for_hours` must not leave its records without retries. A copy of a record already
  on its way is harmless: the first to finish records the outcome, the other is dropped unrun.
- cancel: `cancelled` (an end, like `done`), the integration's active-run pointer released so
  the next request starts a new run (which is counted again); nothing is sent, and the pending
  records stay unrecorded: the run shows how many were never synced. The snapshots (personal
  data) are deleted at once.
"""

from __future__ import annotations

import structlog

from payroll_sync.errors import RequestRefused
from payroll_sync.producer.enrol import Enqueue, send_stored
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.brake import BrakeSummary, Decision
from payroll_sync.schemas.outcomes import Run

log = structlog.get_logger("payroll_sync.brake")

HELD = ("awaiting_approval",)


async def approve_run(
    run_id: str, *, by: str, store: RunStore, enqueue: Enqueue, now: float
) -> BrakeSummary:
    """Release the held run `run_id` and send its pending records; its summary, decided."""
    run = await _decide(run_id, store=store, to="resume", now=now, finish=False)
    summary = await _record_decision(run, "approved", by=by, store=store, now=now)
    sent = await send_stored(
        run_id,
        await store.pending(run_id),
        run.kind,
        store=store,
        enqueue=enqueue,
        now=now,
        approved=True,
    )
    log.info(
        "run.approved",
        integration=run.integration,
        run_id=run_id,
        kind=run.kind,
        by=by,
        records=sent,
    )
    return summary


async def cancel_run(run_id: str, *, by: str, store: RunStore, now: float) -> BrakeSummary:
    """End the held run `run_id` without writing; its summary, decided."""
    run = await _decide(run_id, store=store, to="cancelled", now=now, finish=True)
    await store.close_cancelled(run_id)
    summary = await _record_decision(run, "cancelled", by=by, store=store, now=now)
    log.info(
        "run.cancelled",
        integration=run.integration,
        run_id=run_id,
        kind=run.kind,
        by=by,
        never_synced=len(await store.pending(run_id)),
    )
    return summary


async def _decide(run_id: str, *, store: RunStore, to: str, now: float, finish: bool) -> Run:
    """Move the run out of `awaiting_approval`; `RequestRefused` naming its actual status
    (or "no such run") when it is not held."""
    before, moved = await store.transition(run_id, allowed=HELD, to=to, now=now, finish=finish)
    if not before:
        raise RequestRefused(f"no such run: {run_id}")
    if not moved:
        raise RequestRefused(f"run {run_id} is {before}, not awaiting approval")
    run = await store.get_run(run_id)
    if run is None:  # expired the very moment it was decided
        raise RequestRefused(f"no such run: {run_id}")
    return run


async def _record_decision(
    run: Run, decision: Decision, *, by: str, store: RunStore, now: float
) -> BrakeSummary:
    summary = await store.brake_summary(run.id) or BrakeSummary(
        run_id=run.id, integration=run.integration, counted_at=now
    )
    summary.decision = decision
    summary.decided_by = by
    summary.decided_at = now
    await store.save_brake_summary(summary)
    return summary
