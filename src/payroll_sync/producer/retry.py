"""Retry failed records: put each one's stored task into a run again, reset for a fresh attempt.

Used by the dashboard (its pages and its JSON API). A retried record re-reads both systems
(`refetch`): the values that failed are never replayed. It joins its integration's run of that
kind in progress, or starts a run with trigger `retry`; the failure stays listed until the new
outcome is recorded, and a success removes it by itself (the run store's failures index).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Literal

import msgspec
import structlog

from payroll_sync.producer.enrol import Enqueue, RunSpec, enrol_and_enqueue
from payroll_sync.runs.failures import Failure
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import Period, SyncKind, Task

log = structlog.get_logger("payroll_sync.retry")

#: queued: in run `run_id` now; not_failing: not on the failures list (it succeeded since,
#: was discarded or never failed); task_gone: its run expired, so there is nothing to retry.
RetryStatus = Literal["queued", "not_failing", "task_gone"]


class RetryResult(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    status: RetryStatus
    run_id: str = ""


async def retry_failures(
    ids: Iterable[str], *, store: RunStore, enqueue: Enqueue, now: float
) -> list[RetryResult]:
    """Retry the failures `ids` (duplicates once); one result per distinct id, in order."""
    results: dict[str, RetryResult] = {}
    groups: dict[tuple[str, SyncKind], list[tuple[Failure, Task]]] = {}
    order = list(dict.fromkeys(ids))
    for ident in order:
        failure = await store.failures.get(ident)
        if failure is None:
            results[ident] = RetryResult(id=ident, status="not_failing")
            continue
        task = await store.task(failure.run_id, failure.key, failure.kind)
        if task is None:
            results[ident] = RetryResult(id=ident, status="task_gone")
            continue
        groups.setdefault((failure.integration, failure.kind), []).append(
            (failure, task.first_attempt(now=now))
        )
    for (integration, kind), items in groups.items():
        period, codes = await _run_scope(store, [failure.run_id for failure, _ in items])
        spec = RunSpec(
            integration=integration,
            kind=kind,
            trigger="retry",
            period=period if kind == "absences" else None,
            codes=codes if kind == "absences" else (),
        )
        expansion = await enrol_and_enqueue(
            spec, [(task, None) for _, task in items], store=store, enqueue=enqueue, now=now
        )
        for failure, _ in items:
            results[failure.id] = RetryResult(
                id=failure.id, status="queued", run_id=expansion.run_id
            )
        log.info(
            "failures.retried",
            integration=integration,
            kind=kind,
            run_id=expansion.run_id,
            joined=expansion.joined,
            records=len(items),
            enqueued=expansion.enqueued,
        )
    skipped = [result for result in results.values() if result.status != "queued"]
    if skipped:
        log.info(
            "failures.not_retried",
            not_failing=sum(1 for item in skipped if item.status == "not_failing"),
            task_gone=sum(1 for item in skipped if item.status == "task_gone"),
        )
    return [results[ident] for ident in order]


async def _run_scope(
    store: RunStore, run_ids: Sequence[str]
) -> tuple[Period | None, tuple[str, ...]]:
    """The period and codes a new retry run shows: those of the failed records' runs when they
    all agree, else none (each absence task carries its own codes; the period is descriptive)."""
    periods: set[str] = set()
    code_sets: set[tuple[str, ...]] = set()
    for run_id in dict.fromkeys(run_ids):
        run = await store.get_run(run_id)
        periods.add(run.period if run is not None else "")
        code_sets.add(tuple(run.codes) if run is not None else ())
    period = parse_period(periods.pop()) if len(periods) == 1 else None
    codes = code_sets.pop() if len(code_sets) == 1 else ()
    return period, codes


def parse_period(text: str) -> Period | None:
    """`Period.__str__`'s "2026-01-01..2026-01-31" back to a Period; None when not one."""
    start, separator, end = text.partition("..")
    if not separator:
        return None
    try:
        return Period(
            start=datetime.date.fromisoformat(start), end=datetime.date.fromisoformat(end)
        )
    except ValueError:
        return None
