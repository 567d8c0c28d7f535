"""Turn an employee sync request into a run and one queued task per in-scope employee.

The producer does the bulk reads (every employee of Simployer One with employment and pay, and
`GET /employee/v2` once), so workers need one payroll request per unchanged employee instead of
two. What it read is kept per employee as the run's snapshot; a worker that retries reads afresh.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import msgspec

from payroll_sync.producer.scope import in_scope, unknown_numbers
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import EmployeeTask, SyncRequest
from payroll_sync.schemas.settings import Integration
from payroll_sync.schemas.snapshots import EmployeeSnapshot


class RequestRefused(ValueError):
    """The request cannot be carried out as asked; the message says what is wrong."""


class HrSource(Protocol):
    async def employee_bundles(self) -> list[simployer.EmployeeBundle]: ...
    async def departments(self) -> list[simployer.Department]: ...


class PayrollSource(Protocol):
    async def list_employees(self) -> list[payroll.Employee]: ...


Enqueue = Callable[[Sequence[EmployeeTask]], Awaitable[None]]


class Expansion(msgspec.Struct, kw_only=True):
    run_id: str
    # True when the request joined a run of the same kind already in progress.
    joined: bool
    in_scope: int
    enqueued: int


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
        raise RequestRefused(f"kind {request.kind!r}: only 'employees' syncs are expanded here")
    bundles = await hr.employee_bundles()
    departments = await hr.departments()
    employees = [bundle.employee for bundle in bundles]
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
    current = {row.emp_id: row for row in await payroll_api.list_employees()}
    by_id = {bundle.employee.id: bundle for bundle in bundles}
    entries: list[tuple[EmployeeTask, EmployeeSnapshot | None]] = []
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
        snapshot = EmployeeSnapshot(
            bundle=by_id[employee.id],
            payroll=current.get(_payroll_key(number) or ""),
            payroll_known=_payroll_key(number) is not None,
        )
        task.new_in_payroll = snapshot.payroll_known and snapshot.payroll is None
        entries.append((task, snapshot))
    return await _enrol(request, entries, store=store, enqueue=enqueue, now=now)


async def _enrol(
    request: SyncRequest,
    entries: list[tuple[EmployeeTask, EmployeeSnapshot | None]],
    *,
    store: RunStore,
    enqueue: Enqueue,
    now: float,
) -> Expansion:
    """Join the integration's run in progress, or start a new one (SPEC: no doubled work)."""
    joined = False
    to_enqueue: list[str] | None = None
    stamped: list[tuple[EmployeeTask, EmployeeSnapshot | None]] = []
    run_id = ""
    if not request.dry_run and entries:
        active = await store.active_run(request.integration, request.kind)
        if active is not None:
            run_id, stamped = active, _with_run(entries, active)
            to_enqueue = await store.enrol(active, stamped)
            joined = to_enqueue is not None
    if to_enqueue is None:
        run_id = await store.create_run(
            integration=request.integration,
            kind=request.kind,
            trigger=request.trigger,
            dry_run=request.dry_run,
            now=now,
            # An empty run ends at once: it must not displace the run others should join.
            joinable=bool(entries),
        )
        stamped = _with_run(entries, run_id)
        to_enqueue = await store.enrol(run_id, stamped) or []
        if not entries:
            await store.finish_empty(run_id, now=now)
    wanted = set(to_enqueue)
    tasks = [task for task, _ in stamped if task.employee_number in wanted]
    await enqueue(tasks)
    return Expansion(run_id=run_id, joined=joined, in_scope=len(entries), enqueued=len(tasks))


def _with_run(
    entries: list[tuple[EmployeeTask, EmployeeSnapshot | None]], run_id: str
) -> list[tuple[EmployeeTask, EmployeeSnapshot | None]]:
    return [(msgspec.structs.replace(task, run_id=run_id), snap) for task, snap in entries]


def _payroll_key(employee_number: str) -> str | None:
    """The empId 24SevenOffice shows for an employee number, None when it is not numeric."""
    number = employee_number.strip()
    return str(int(number)) if number.isdigit() else None
