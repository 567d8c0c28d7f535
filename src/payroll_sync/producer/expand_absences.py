"""Turn an absence sync request into a run and one queued task per leave.

The producer reads in bulk what every leave needs (the in-scope employees, the leaves that
overlap the period, the leave types with their codes, the children, every absence and employee
24SevenOffice holds, and the company's absence types, once per run); each leave's share is
its snapshot, so a first attempt costs only its write. A retry reads afresh.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Protocol

from payroll_sync.connectors.simployer_rows import Unreadable
from payroll_sync.errors import RequestRefused
from payroll_sync.producer.brake import BrakeCount
from payroll_sync.producer.enrol import Enqueue, Entry, Expansion, RunSpec, enrol_and_enqueue
from payroll_sync.producer.expand import requested_employees, stand_in
from payroll_sync.rules.absence_scope import belongs_in_run, leave_day, selected_codes
from payroll_sync.rules.identifiers import payroll_key
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import AbsenceTask, SyncRequest
from payroll_sync.schemas.settings import Integration
from payroll_sync.schemas.snapshots import AbsenceSnapshot


class HrSource(Protocol):
    async def employees(self) -> tuple[list[simployer.Employee], list[Unreadable]]: ...
    async def departments(self) -> list[simployer.Department]: ...
    async def leaves(
        self, start: datetime.date, end: datetime.date
    ) -> tuple[list[simployer.Leave], list[Unreadable]]: ...
    async def leave_types(
        self,
    ) -> tuple[list[simployer.LeaveTypeWithCode], list[Unreadable]]: ...
    async def children(self) -> tuple[list[simployer.Child], list[Unreadable]]: ...


class PayrollSource(Protocol):
    async def employees_by_id(self) -> Mapping[str, payroll.Employee]: ...
    async def list_all_absences(self) -> list[payroll.Absence]: ...
    async def absence_types(self) -> list[payroll.AbsenceType]: ...


_NEVER = datetime.date.min


def _task(
    request: SyncRequest,
    employee: simployer.Employee,
    leave_id: str,
    codes: Sequence[str],
    now: float,
    exported: Mapping[str, payroll.Absence],
) -> AbsenceTask:
    return AbsenceTask(
        run_id="",
        integration=request.integration,
        employee_number=employee.employee_number,
        employee_id=employee.id,
        leave_id=leave_id,
        codes=list(codes),
        dry_run=request.dry_run,
        first_attempt_at=now,
        new_in_payroll=leave_id not in exported,
    )


async def expand_absence_sync(
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
    if request.kind != "absences" or request.period is None:
        raise RequestRefused("an absence sync needs kind 'absences' and a period")
    period = request.period
    employees, unreadable_employees = await hr.employees()
    selected = requested_employees(
        request,
        employees + [stand_in(row) for row in unreadable_employees if row.employee_id],
        integration=integration,
        departments=await hr.departments(),
        today=today,
    )
    by_id = {employee.id: employee for employee in selected}
    all_leaves, unreadable_leaves = await hr.leaves(period.start, period.end)
    leaves = [leave for leave in all_leaves if leave.employee_id in by_id]
    # Rows that cannot be read get a task without a snapshot: the worker reads them afresh and
    # the record fails there, naming the field (or goes through once someone fixed it).
    broken_leaves = [row for row in unreadable_leaves if row.employee_id in by_id and row.row_id]
    readable_types, unreadable_types = await hr.leave_types()
    types = {row.type.id: row for row in readable_types}
    broken_types = {row.row_id for row in unreadable_types}
    children_of: dict[str, list[simployer.Child]] = {}
    unreadable_children: set[str] = set()
    if leaves:
        found, bad_children = await hr.children()
        for child in found:
            children_of.setdefault(child.employee_id, []).append(child)
        unreadable_children = {row.employee_id for row in bad_children}
    known_employees = await payroll_api.employees_by_id()  # only its keys are used
    exported = {
        row.external_id: row for row in await payroll_api.list_all_absences() if row.external_id
    }
    codes = selected_codes(request, integration)
    entries: list[Entry] = [
        (_task(request, by_id[row.employee_id], row.row_id, codes, now, exported), None)
        for row in broken_leaves
    ]
    for leave in sorted(leaves, key=lambda row: (leave_day(row.start_date) or _NEVER, row.id)):
        existing = exported.get(leave.id)
        if leave.type_id in broken_types:
            entries.append(
                (_task(request, by_id[leave.employee_id], leave.id, codes, now, exported), None)
            )
            continue
        leave_type = types.get(leave.type_id)
        if not belongs_in_run(
            leave,
            period=period,
            leave_type=leave_type,
            overrides=integration.absences.overrides,
            codes=codes,
            exported=existing,
        ):
            continue
        employee = by_id[leave.employee_id]
        key = payroll_key(employee.employee_number)
        task = _task(request, employee, leave.id, codes, now, exported)
        snapshot = AbsenceSnapshot(
            leave=leave,
            leave_type=leave_type,
            # None = unknown (a child row could not be read): the worker reads them if needed.
            children=(
                None if employee.id in unreadable_children else children_of.get(employee.id, [])
            ),
            existing=existing,
            in_payroll=key is not None and key in known_employees,
        )
        entries.append((task, snapshot))

    absence_types = await payroll_api.absence_types() if entries else []

    async def keep_absence_types(run_id: str) -> None:
        await store.set_absence_types(run_id, absence_types)

    spec = RunSpec(
        integration=request.integration,
        kind="absences",
        trigger=request.trigger,
        dry_run=request.dry_run,
        period=period,
        codes=codes,
    )
    return await enrol_and_enqueue(
        spec,
        entries,
        store=store,
        enqueue=enqueue,
        now=now,
        on_new_run=keep_absence_types,
        brake=brake,
    )
