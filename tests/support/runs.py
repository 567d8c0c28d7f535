"""Runs recorded the way a worker records them: built step by step (for the tests of the run
store and its failures index), or seeded finished (for the dashboard's)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Final

from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import simployer
from payroll_sync.schemas.messages import AbsenceTask, EmployeeTask, SyncKind, Task
from payroll_sync.schemas.outcomes import FieldChange, Outcome, RecordOutcome
from payroll_sync.schemas.snapshots import EmployeeSnapshot

INTEGRATION: Final = "acme"
NOW: Final = 1_750_000_000.0


def employee_task(run_id: str, number: str, **fields: object) -> EmployeeTask:
    return EmployeeTask(
        run_id=run_id,
        integration=INTEGRATION,
        employee_number=number,
        employee_id=f"id-{number}",
        **fields,  # type: ignore[arg-type]
    )


def employee_snapshot(number: str, *, last_name: str = "Hansen") -> EmployeeSnapshot:
    employee = simployer.Employee(
        id=f"id-{number}",
        active=True,
        employee_number=number,
        first_name="Kari",
        last_name=last_name,
    )
    return EmployeeSnapshot(bundle=simployer.EmployeeBundle(employee=employee), payroll=None)


def outcome_of(number: str, outcome: Outcome = "created", at: float = NOW + 1) -> RecordOutcome:
    return RecordOutcome(employee_number=number, outcome=outcome, finished_at=at)


async def new_run(store: RunStore, *, dry_run: bool = False, now: float = NOW) -> str:
    return await store.create_run(
        integration=INTEGRATION, kind="employees", trigger="manual", dry_run=dry_run, now=now
    )


async def enrol(store: RunStore, run_id: str, *numbers: str) -> list[str] | None:
    """The employees enrolled with a snapshot each; the keys to enqueue, None if it is done."""
    entries = [(employee_task(run_id, n), employee_snapshot(n)) for n in numbers]
    enrolled = await store.enrol(run_id, entries, read_at=time.time())
    return None if enrolled is None else enrolled.enqueue


async def record(store: RunStore, run_id: str, number: str, outcome: Outcome = "created") -> bool:
    return await store.record(run_id, INTEGRATION, "employees", outcome_of(number, outcome))


async def failed_run(
    store: RunStore, *numbers: str, dry_run: bool = False, at: float | None = None
) -> str:
    """A run whose employees all failed, recorded `at` (default: just now)."""
    when = time.time() if at is None else at
    run_id = await new_run(store, dry_run=dry_run, now=when)
    await enrol(store, run_id, *numbers)
    for number in numbers:
        failed = RecordOutcome(
            employee_number=number,
            outcome="failed",
            reason="bank account fails its check digit",
            field="bankAccount.number",
            attempt=2,
            finished_at=when,
        )
        assert await store.record(run_id, INTEGRATION, "employees", failed)
    return run_id


class Seed:
    """One record of a seeded run."""

    def __init__(
        self,
        key: str,
        outcome: Outcome = "failed",
        *,
        reason: str = "ssn is not a valid fødselsnummer or D-nummer",
        field: str = "ssn",
        diff: Sequence[FieldChange] = (),
        employee_number: str = "",
        attempt: int = 1,
    ) -> None:
        self.key = key
        self.outcome = outcome
        self.reason = reason if outcome == "failed" else ""
        self.field = field if outcome == "failed" else ""
        self.diff = list(diff)
        self.employee_number = employee_number or key
        self.attempt = attempt


async def seed_run(
    store: RunStore,
    records: Sequence[Seed],
    *,
    integration: str = INTEGRATION,
    kind: SyncKind = "employees",
) -> str:
    """A finished run with these outcomes, recorded as a worker would record them."""
    now = time.time()
    run_id = await store.create_run(
        integration=integration, kind=kind, trigger="manual", dry_run=False, now=now
    )
    tasks: list[tuple[Task, None]] = []
    for seed in records:
        task: Task
        if kind == "absences":
            task = AbsenceTask(
                run_id=run_id,
                integration=integration,
                employee_number=seed.employee_number,
                employee_id=f"id-{seed.employee_number}",
                leave_id=seed.key,
            )
        else:
            task = EmployeeTask(
                run_id=run_id,
                integration=integration,
                employee_number=seed.key,
                employee_id=f"id-{seed.key}",
            )
        tasks.append((task, None))
    await store.enrol(run_id, tasks)
    for seed in records:
        await store.record(
            run_id,
            integration,
            kind,
            RecordOutcome(
                employee_number=seed.employee_number,
                leave_id=seed.key if kind == "absences" else "",
                outcome=seed.outcome,
                reason=seed.reason,
                field=seed.field,
                attempt=seed.attempt,
                finished_at=now,
                diff=seed.diff,
            ),
        )
    return run_id
