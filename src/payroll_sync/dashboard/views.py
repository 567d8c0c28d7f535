"""What the pages and the JSON API show of failures and records. Pure.

Every diff value passes through `masking` here, once: templates and the API only ever see
`ShownChange`s.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import msgspec

from payroll_sync.dashboard.masking import ShownChange, api_change, shown_change
from payroll_sync.runs.public import iso_time
from payroll_sync.schemas.messages import SyncKind
from payroll_sync.schemas.outcomes import RecordOutcome, Run, RunStatus

if TYPE_CHECKING:
    from payroll_sync.runs.failures import Failure

#: Operators and HR administrators read Norwegian wall-clock time.
OSLO: Final = ZoneInfo("Europe/Oslo")
#: A run in these moves by itself (its page reloads); `done` and `cancelled` are ends, and
#: `awaiting_approval` waits for a person (mass-change brake).
MOVING: Final[frozenset[RunStatus]] = frozenset({"queued", "running"})
#: A run's status as a person reads it in a list (the run page says more: _progress.html).
STATUS_WORDS: Final[dict[str, str]] = {
    "queued": "queued",
    "running": "running",
    "done": "done",
    "awaiting_approval": "waiting for approval",
    "cancelled": "cancelled, nothing written",
}


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, status)


class FailureRow(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    integration: str
    kind: SyncKind
    employee_number: str
    leave_id: str
    reason: str
    field: str
    attempts: int
    last_attempt: float
    run_id: str
    changes: list[ShownChange]
    # Already in a run again, waiting for its new outcome.
    retrying: bool = False


class RecordRow(msgspec.Struct, kw_only=True, frozen=True):
    employee_number: str
    leave_id: str
    outcome: str
    reason: str
    field: str
    attempts: int
    finished_at: float
    changed: list[str]
    changes: list[ShownChange]


def failure_row(failure: Failure, *, retrying: bool = False) -> FailureRow:
    outcome = failure.outcome
    return FailureRow(
        id=failure.id,
        integration=failure.integration,
        kind=failure.kind,
        employee_number=outcome.employee_number,
        leave_id=outcome.leave_id,
        reason=outcome.reason,
        field=outcome.field,
        attempts=outcome.attempt,
        last_attempt=outcome.finished_at,
        run_id=failure.run_id,
        changes=[shown_change(change) for change in outcome.diff],
        retrying=retrying,
    )


def record_row(outcome: RecordOutcome) -> RecordRow:
    return RecordRow(
        employee_number=outcome.employee_number,
        leave_id=outcome.leave_id,
        outcome=outcome.outcome,
        reason=outcome.reason,
        field=outcome.field,
        attempts=outcome.attempt,
        finished_at=outcome.finished_at,
        changed=outcome.changed,
        changes=[shown_change(change) for change in outcome.diff],
    )


def failure_json(row: FailureRow) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "integration": row.integration,
        "kind": row.kind,
        "employee_number": row.employee_number,
    }
    if row.leave_id:
        body["leave_id"] = row.leave_id
    body.update(
        reason=row.reason,
        field=row.field,
        attempts=row.attempts,
        last_attempt=iso_time(row.last_attempt),
        run_id=row.run_id,
        retrying=row.retrying,
        diff=[api_change(change) for change in row.changes],
    )
    return body


def local_time(unix: float) -> str:
    """'2026-11-25 12:16:43' in Oslo time; '' for "not yet"."""
    if not unix:
        return ""
    moment = datetime.datetime.fromtimestamp(unix, OSLO)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def in_progress(run: Run) -> bool:
    """Whether the run moves by itself: its page reloads, its records are still to come."""
    return run.status in MOVING
