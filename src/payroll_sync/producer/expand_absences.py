"""Turn an absence sync request into a run and one queued task per leave.

The producer reads in bulk what every leave needs (the in-scope employees, the leaves that
overlap the period, the leave types with their codes, the children, every absence and employee
24SevenOffice holds, and the company's absence types, once per run); each leave's share is
its snapshot, so a first attempt costs only its write. A retry reads afresh.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from typing import Protocol

from payroll_sync.producer.enrol import Enqueue, Entry, Expansion, RunSpec, enrol_and_enqueue
from payroll_sync.producer.expand import RequestRefused, payroll_key, requested_employees
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import AbsenceTask, Period, SyncRequest
from payroll_sync.schemas.settings import Integration
from payroll_sync.schemas.snapshots import AbsenceSnapshot
from payroll_sync.worker.mapping.absence import REJECTED, choose_code

#: Leaves in these states are exported; PENDING ones are reported as waiting.
EXPORTED_STATUSES = frozenset({"APPROVED", "CONFIRMED"})
WITHDRAWN_STATUSES = frozenset({"DENIED", "CANCELLED"})


class HrSource(Protocol):
    async def employees(self) -> list[simployer.Employee]: ...
    async def departments(self) -> list[simployer.Department]: ...
    async def leaves(self, start: datetime.date, end: datetime.date) -> list[simployer.Leave]: ...
    async def leave_types(self) -> list[simployer.LeaveTypeWithCode]: ...
    async def children(self) -> list[simployer.Child]: ...


class PayrollSource(Protocol):
    async def list_employees(self) -> list[payroll.Employee]: ...
    async def list_all_absences(self) -> list[payroll.Absence]: ...
    async def absence_types(self) -> list[payroll.AbsenceType]: ...


def leave_day(text: str) -> datetime.date | None:
    """The calendar date of a Simployer date-time (`2026-03-02T00:00:00.000Z`), None if bad."""
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None


def selected_codes(request: SyncRequest, integration: Integration) -> tuple[str, ...]:
    """The codes this run exports; empty = all."""
    return tuple(request.codes or integration.absences.codes)


def belongs_in_run(
    leave: simployer.Leave,
    *,
    period: Period,
    leave_type: simployer.LeaveTypeWithCode | None,
    overrides: Mapping[str, str],
    codes: Collection[str],
    exported: payroll.Absence | None,
) -> bool:
    """Whether the leave is one of this run's records (pure).

    In: every leave overlapping the period whose code is selected, except a cancelled or denied
    one that was never exported (or already rejected), which has nothing left to do. A leave
    whose dates cannot be read is in, so it fails visibly instead of vanishing; one whose type
    has no code is in when every code is exported, so it is reported rather than guessed.
    """
    start, end = leave_day(leave.start_date), leave_day(leave.end_date)
    # An end before the start is a data error the worker reports; judge it by its start.
    if start is not None and end is not None and not period.overlaps(start, max(start, end)):
        return False
    if leave.status in WITHDRAWN_STATUSES and (exported is None or exported.approved == REJECTED):
        return False
    if codes:
        if leave_type is None:
            return False
        choice = choose_code(leave_type.type, leave_type.code, overrides)
        return choice.code in codes
    return True


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
) -> Expansion:
    if request.kind != "absences" or request.period is None:
        raise RequestRefused("an absence sync needs kind 'absences' and a period")
    period = request.period
    selected = requested_employees(
        request,
        await hr.employees(),
        integration=integration,
        departments=await hr.departments(),
        today=today,
    )
    by_id = {employee.id: employee for employee in selected}
    leaves = [
        leave for leave in await hr.leaves(period.start, period.end) if leave.employee_id in by_id
    ]
    types = {row.type.id: row for row in await hr.leave_types()}
    children = {child.id: child for child in await hr.children()} if leaves else {}
    known_employees = {row.emp_id for row in await payroll_api.list_employees()}
    exported = {
        row.external_id: row for row in await payroll_api.list_all_absences() if row.external_id
    }
    codes = selected_codes(request, integration)
    entries: list[Entry] = []
    for leave in sorted(leaves, key=lambda row: (row.start_date, row.id)):
        leave_type = types.get(leave.type_id)
        existing = exported.get(leave.id)
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
        task = AbsenceTask(
            run_id="",
            integration=request.integration,
            employee_number=employee.employee_number,
            employee_id=employee.id,
            leave_id=leave.id,
            codes=list(codes),
            dry_run=request.dry_run,
            first_attempt_at=now,
            new_in_payroll=existing is None,
        )
        snapshot = AbsenceSnapshot(
            leave=leave,
            leave_type=leave_type,
            child=children.get(leave.child_id) if leave.child_id else None,
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
        spec, entries, store=store, enqueue=enqueue, now=now, on_new_run=keep_absence_types
    )
