"""Turn an employee sync request into a run and one queued task per in-scope employee.

The producer does the bulk reads (every employee of Simployer One with employment and pay, and
`GET /employee/v2` once), so workers need one payroll request per unchanged employee instead of
two. What it read is kept per employee as the run's snapshot; a worker that retries reads afresh.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Protocol

from payroll_sync.connectors.simployer_rows import Bundles, Unreadable
from payroll_sync.errors import RequestRefused
from payroll_sync.producer.enrol import Enqueue, Entry, Expansion, RunSpec, enrol_and_enqueue
from payroll_sync.rules.identifiers import payroll_key
from payroll_sync.rules.scope import in_scope, unknown_numbers
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import EmployeeTask, SyncRequest
from payroll_sync.schemas.settings import Integration
from payroll_sync.schemas.snapshots import EmployeeSnapshot


class HrSource(Protocol):
    async def employee_bundles(self) -> Bundles: ...
    async def departments(self) -> list[simployer.Department]: ...


class PayrollSource(Protocol):
    async def list_employees(self) -> list[payroll.Employee]: ...


async def expand_employee_sync(
    request: SyncRequest,
    *,
    integration: Integration,
    hr: HrSource,
    payroll_api: PayrollSource,
    store: RunStore,
    enqueue: Enqueue,
    today: datetime.date,
    now: float,
) -> Expansion:
    if request.kind != "employees":
        raise RequestRefused(f"kind {request.kind!r}: this expands employee syncs only")
    bundles, unreadable = await hr.employee_bundles()
    departments = await hr.departments()
    stand_ins = [stand_in(row) for row in unreadable if row.employee_id]
    selected = requested_employees(
        request,
        [bundle.employee for bundle in bundles] + stand_ins,
        integration=integration,
        departments=departments,
        today=today,
    )
    current = {row.emp_id: row for row in await payroll_api.list_employees()}
    by_id = {bundle.employee.id: bundle for bundle in bundles}
    entries: list[Entry] = []
    for employee in selected:
        number = employee.employee_number
        task = EmployeeTask(
            run_id="",
            integration=request.integration,
            employee_number=number,
            employee_id=employee.id,
            dry_run=request.dry_run,
            first_attempt_at=now,
        )
        bundle = by_id.get(employee.id)
        if bundle is None:
            # Unreadable: no snapshot, so the worker reads the employee itself and the record
            # fails there, naming the field to fix (and succeeds once someone fixed it).
            entries.append((task, None))
            continue
        snapshot = EmployeeSnapshot(
            bundle=bundle,
            payroll=current.get(payroll_key(number) or ""),
            payroll_known=payroll_key(number) is not None,
        )
        task.new_in_payroll = snapshot.payroll_known and snapshot.payroll is None
        entries.append((task, snapshot))
    spec = RunSpec(
        integration=request.integration,
        kind=request.kind,
        trigger=request.trigger,
        dry_run=request.dry_run,
    )
    return await enrol_and_enqueue(spec, entries, store=store, enqueue=enqueue, now=now)


def requested_employees(
    request: SyncRequest,
    employees: Sequence[simployer.Employee],
    *,
    integration: Integration,
    departments: Sequence[simployer.Department],
    today: datetime.date,
) -> list[simployer.Employee]:
    """The in-scope employees the request asks for; `RequestRefused` naming unknown numbers,
    or when none of the listed ones is in scope."""
    if request.employees:
        missing = unknown_numbers(request.employees, employees)
        if missing:
            raise RequestRefused(
                "employees: not found in Simployer One: " + ", ".join(sorted(missing))
            )
    selected = in_scope(
        employees,
        integration.scope,
        departments=departments,
        today=today,
        only=request.employees,
    )
    if request.employees and not selected:
        raise RequestRefused(
            "employees: none of the listed employees is in this integration's scope"
        )
    return selected


def stand_in(row: Unreadable) -> simployer.Employee:
    """An employee the sync cannot read, as the scope sees it: active, in the department and
    office its row names (when readable), under its employee number (or its id, when the number
    is what is missing). A broken row must fail where a person sees it, not vanish from the
    run."""
    return simployer.Employee(
        id=row.employee_id,
        active=True,
        employee_number=row.employee_number.strip() or f"(id {row.employee_id})",
        department_id=row.department_id or None,
        office_id=row.office_id or None,
    )
