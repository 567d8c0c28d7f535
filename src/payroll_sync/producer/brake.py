"""The mass-change brake around a run's expansion: count while enrolling, then hold or release.

Why: the producer is the one place that sees every record of a run before any write. A braked
request (`braked`) enrols its records as usual but sends none of them until the whole company
is counted (`rules/brake.py`); then `settle` saves the run's `BrakeSummary` and either holds the
run in `awaiting_approval` (an operator approves or cancels it: producer/approval.py) or lets
enrol send what it held.

Which requests are braked: those of the whole scope, any trigger, when the integration's brake
is enabled. A request naming employees is a person's deliberate choice and a retry of failures
re-sends records a person picked: neither is braked. A dry run is counted (its summary says
what would hold) but never holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import msgspec
import structlog

from payroll_sync.rules.brake import ENDDATE, Tally, evaluate
from payroll_sync.rules.identifiers import payroll_key
from payroll_sync.runs.store import RunStore
from payroll_sync.runs.written import WrittenValues, digest
from payroll_sync.schemas.brake import BrakeSummary
from payroll_sync.schemas.messages import SyncKind, SyncRequest, Task
from payroll_sync.schemas.settings import Integration, Limits
from payroll_sync.schemas.snapshots import AbsenceSnapshot, EmployeeSnapshot

log = structlog.get_logger("payroll_sync.brake")

Entry = tuple[Task, msgspec.Struct | None]


class BrakeCount:
    """Counts the records of one braked request as they are enrolled."""

    def __init__(
        self,
        *,
        request: SyncRequest,
        integration: Integration,
        limits: Limits,
        written: WrittenValues,
    ) -> None:
        self.request = request
        self.integration = integration
        self.limits = limits
        self.written = written
        self.tally = Tally(request.kind)
        self._digest: Callable[[str], str] | None = None

    @property
    def holds(self) -> bool:
        """Whether a trip holds the run (a dry run is only counted)."""
        return not self.request.dry_run

    async def count(self, entries: Sequence[Entry]) -> None:
        if self.request.kind == "absences":
            for task, snapshot in entries:
                self.tally.absence(
                    task.key, snapshot if isinstance(snapshot, AbsenceSnapshot) else None
                )
            return
        if self._digest is None:
            salt = await self.written.salt()
            self._digest = lambda value: digest(salt, value)
        emp_ids = [payroll_key(task.employee_number) or "" for task, _ in entries]
        recalled = await self.written.recall(
            self.request.integration, [emp_id for emp_id in emp_ids if emp_id], [ENDDATE]
        )
        last_written = dict(zip([emp_id for emp_id in emp_ids if emp_id], recalled, strict=True))
        for (task, snapshot), emp_id in zip(entries, emp_ids, strict=True):
            self.tally.employee(
                task.key,
                snapshot if isinstance(snapshot, EmployeeSnapshot) else None,
                limits=self.limits,
                written_enddate=last_written.get(emp_id, {}).get(ENDDATE) if emp_id else None,
                digest=self._digest,
            )

    def summary(self, run_id: str, *, now: float) -> BrakeSummary:
        """The counts against the thresholds; shares are of the employees compared."""
        tally = self.tally
        return BrakeSummary(
            run_id=run_id,
            integration=self.request.integration,
            counted_at=now,
            fields=evaluate(tally.counts, tally.compared, self.integration.brake, tally.examples),
        )


def braked(request: SyncRequest, integration: Integration) -> bool:
    """Whether the request's records are counted by the brake (see the module docstring)."""
    return integration.brake.enabled and not request.employees and request.trigger != "retry"


def brake_count(
    request: SyncRequest, integration: Integration, limits: Limits, store: RunStore
) -> BrakeCount | None:
    """The count for a braked request, None for one that is not braked. `limits`: the
    settings' `[limits]` (a salary past them fails its record, so it is not counted)."""
    if not braked(request, integration):
        return None
    return BrakeCount(
        request=request,
        integration=integration,
        limits=limits,
        written=WrittenValues(store.redis, store.prefix),
    )


async def settle(count: BrakeCount, *, run_id: str, kind: SyncKind, store: RunStore) -> bool:
    """Save the run's summary; True when the run is held (it tripped, or it was held already
    by an earlier request: a later one never releases it), False when its records may go."""
    now = time.time()
    summary = count.summary(run_id, now=now)
    held = False
    if count.holds:
        if summary.tripped:
            before, held = await store.hold(run_id, now=now)
            if held and before != "awaiting_approval":
                log.warning(
                    "run.held",
                    integration=summary.integration,
                    run_id=run_id,
                    kind=kind,
                    tripped=[
                        {
                            "field": field.field,
                            "count": field.count,
                            "percent": round(field.percent, 1) if field.total else None,
                            "threshold": field.threshold,
                        }
                        for field in summary.tripped
                    ],
                )
        else:
            run = await store.get_run(run_id)
            held = run is not None and run.status == "awaiting_approval"
    if held:
        summary.decision = "held"
    await store.save_brake_summary(summary)
    return held
