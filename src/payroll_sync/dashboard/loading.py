"""Failures from the run store, as rows, with whether each is already queued again."""

from __future__ import annotations

from payroll_sync.dashboard.views import FailureRow, failure_row
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import SyncKind


async def failure_rows(store: RunStore) -> list[FailureRow]:
    """Every listed failure, newest first.

    A failure whose record is pending in its integration's run in progress (a retry, or a
    scheduled sync that took it in) is marked `retrying`: its new outcome is on the way.
    """
    failures = await store.failures.listing()
    pending: dict[tuple[str, SyncKind], set[str]] = {}
    for failure in failures:
        group = (failure.integration, failure.kind)
        if group not in pending:
            active = await store.active_run(*group)
            pending[group] = set(await store.pending(active)) if active else set()
    return [
        failure_row(failure, retrying=failure.key in pending[(failure.integration, failure.kind)])
        for failure in failures
    ]
