"""Turn an employee sync request into a run and one queued task per in-scope employee.

The producer does the bulk reads (every employee of Simployer One with employment and pay, a page
at a time, and `GET /employee/v2` once), so workers need one payroll request per unchanged
employee instead of two. What it read is kept per employee as the run's snapshot; a worker that
retries reads afresh.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Protocol

from payroll_sync.connectors.simployer_rows import Bundles, Unreadable
from payroll_sync.errors import RequestRefused
from payroll_sync.producer.brake import BrakeCount
from payroll_sync.producer.enrol import (
    ENQUEUE_CHUNK,
    Enqueue,
    Entry,
    Expansion,
    RunSpec,
    enrol_stream,
)
from payroll_sync.rules.identifiers import payroll_key
from payroll_sync.rules.scope import in_scope, unknown_numbers
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import EmployeeTask, SyncRequest
from payroll_sync.schemas.settings import Integration
from payroll_sync.schemas.simployer import EmployeeBundle
from payroll_sync.schemas.snapshots import EmployeeSnapshot


class HrSource(Protocol):
    def employee_bundle_pages(self) -> AsyncIterator[Bundles]: ...
    async def departments(self) -> list[simployer.Department]: ...


class PayrollSource(Protocol):
    async def employees_by_id(self) -> Mapping[str, payroll.Employee]: ...


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
    brake: BrakeCount | None = None,
) -> Expansion:
    """Read the company a page at a time and enrol its in-scope employees as they come, so a
    company of 100,000 is never held whole (nor twice). A request naming employees is the
    exception: its few employees are gathered first, as an unknown number refuses it."""
    if request.kind != "employees":
        raise RequestRefused(f"kind {request.kind!r}: this expands employee syncs only")
    departments = await hr.departments()
    # Decoded per lookup: a company of 100,000 is not held as Structs (producer/payroll_index.py).
    current = await payroll_api.employees_by_id()

    def entries_of(page: Bundles) -> list[Entry]:
        employees = [bundle.employee for bundle in page.bundles]
        employees += [stand_in(row) for row in page.unreadable if row.employee_id]
        selected = in_scope(
            employees,
            integration.scope,
            departments=departments,
            today=today,
            only=request.employees,
        )
        by_id = {bundle.employee.id: bundle for bundle in page.bundles}
        return [employee_entry(request, employee, by_id, current, now) for employee in selected]

    async def chunks() -> AsyncIterator[list[Entry]]:
        chunk: list[Entry] = []
        async for page in hr.employee_bundle_pages():
            chunk += entries_of(page)
            if len(chunk) >= ENQUEUE_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    spec = RunSpec(
        integration=request.integration,
        kind=request.kind,
        trigger=request.trigger,
        dry_run=request.dry_run,
    )
    if request.employees:
        named = await _named_entries(request, hr, entries_of)

        async def one_chunk() -> AsyncIterator[list[Entry]]:
            yield named

        return await enrol_stream(spec, one_chunk(), store=store, enqueue=enqueue, now=now)
    return await enrol_stream(spec, chunks(), store=store, enqueue=enqueue, now=now, brake=brake)


async def _named_entries(
    request: SyncRequest, hr: HrSource, entries_of: Callable[[Bundles], list[Entry]]
) -> list[Entry]:
    """The entries of a request naming employees; `RequestRefused` naming unknown numbers, or
    when none of them is in scope."""
    entries: list[Entry] = []
    seen: set[str] = set()
    wanted = frozenset(request.employees or ())
    async for page in hr.employee_bundle_pages():
        numbers = [bundle.employee.employee_number for bundle in page.bundles]
        numbers += [stand_in(row).employee_number for row in page.unreadable if row.employee_id]
        seen.update(number for number in numbers if number in wanted)
        entries += entries_of(page)
    missing = [number for number in dict.fromkeys(request.employees or ()) if number not in seen]
    if missing:
        raise RequestRefused("employees: not found in Simployer One: " + ", ".join(sorted(missing)))
    if not entries:
        raise RequestRefused(
            "employees: none of the listed employees is in this integration's scope"
        )
    return entries


def employee_entry(
    request: SyncRequest,
    employee: simployer.Employee,
    by_id: Mapping[str, EmployeeBundle],
    current: Mapping[str, payroll.Employee],
    now: float,
) -> Entry:
    """An in-scope employee's task, and its snapshot (none for an unreadable one: the worker
    reads it itself and the record fails there, naming the field, or succeeds once fixed)."""
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
        return task, None
    snapshot = EmployeeSnapshot(
        bundle=bundle,
        payroll=current.get(payroll_key(number) or ""),
        payroll_known=payroll_key(number) is not None,
    )
    task.new_in_payroll = snapshot.payroll_known and snapshot.payroll is None
    return task, snapshot


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
