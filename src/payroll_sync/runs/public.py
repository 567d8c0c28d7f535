"""Runs and records as other systems see them (CLI `--json`, the intake, the dashboard's API).

One shape everywhere. A record shows what a HR administrator acts on, never the values in
`diff` (personal data): the dashboard renders those itself, masked.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from payroll_sync.schemas.outcomes import OUTCOMES, RecordOutcome, Run


def iso_time(unix: float) -> str | None:
    """ISO 8601 in UTC with its offset, None for "not yet"."""
    if not unix:
        return None
    return datetime.datetime.fromtimestamp(unix, datetime.UTC).isoformat(timespec="seconds")


def run_view(run: Run) -> dict[str, Any]:
    body: dict[str, Any] = {
        "run_id": run.id,
        "integration": run.integration,
        "kind": run.kind,
        "trigger": run.trigger,
        "dry_run": run.dry_run,
        "status": run.status,
        "total": run.total,
        "finished": run.finished,
        "counts": {name: run.counts.get(name, 0) for name in OUTCOMES},
        "created_at": iso_time(run.created_at),
        "started_at": iso_time(run.started_at),
        "finished_at": iso_time(run.finished_at),
    }
    if run.error:
        body["error"] = run.error
    if run.kind == "absences":
        body["period"] = run.period
        body["codes"] = run.codes
    return body


def record_view(outcome: RecordOutcome) -> dict[str, Any]:
    body: dict[str, Any] = {"employee_number": outcome.employee_number}
    if outcome.leave_id:
        body["leave_id"] = outcome.leave_id
    body.update(
        outcome=outcome.outcome,
        changed=outcome.changed,
        reason=outcome.reason,
        field=outcome.field,
        attempts=outcome.attempt,
        finished_at=iso_time(outcome.finished_at),
    )
    return body


def run_with_records(run: Run, outcomes: Sequence[RecordOutcome]) -> dict[str, Any]:
    return {**run_view(run), "records": [record_view(item) for item in outcomes]}
