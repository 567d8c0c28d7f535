"""One Simployer One leave through fetch → map → compare → push, against ports.

Idempotent like the employee sync: every write is decided from what 24SevenOffice holds now,
matched by `externalId` = the leave id, so a retry after a lost answer updates (or leaves
alone) the absence the first attempt created instead of creating a second one. Children are
found by first name and birth date under a per-employee lock before one is created, and a new
child's id is read back the same way (no answer body of a write is relied on). Updates send
the whole absence as it is in 24SevenOffice with our fields overlaid (the client does it).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import msgspec

from payroll_sync.errors import Permanent, RecordSkipped
from payroll_sync.rules.absence import (
    REJECTED,
    UNKNOWN_CHILD,
    absence_changes,
    child_birthdate,
    child_first_name,
    child_write,
    choose_code,
    find_child,
    map_absence,
    sick_child,
    withdrawal,
)
from payroll_sync.rules.absence_scope import EXPORTED_STATUSES, WITHDRAWN_STATUSES
from payroll_sync.rules.identifiers import employee_id
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import AbsenceTask
from payroll_sync.schemas.outcomes import FieldChange
from payroll_sync.schemas.payroll import AbsenceWrite, ChildWrite
from payroll_sync.schemas.snapshots import AbsenceSnapshot
from payroll_sync.worker.result import SyncResult

#: The child id a dry run shows for a child it would create.
DRY_RUN_CHILD = "(new child)"


class HrPort(Protocol):
    async def leave(self, leave_id: str) -> simployer.Leave | None: ...
    async def leave_type(self, type_id: str) -> simployer.LeaveTypeWithCode | None: ...
    async def children_of(self, employee_id: str) -> list[simployer.Child]: ...


class PayrollPort(Protocol):
    async def list_absences(self, emp_id: int) -> list[payroll.Absence] | None: ...
    async def create_absence(self, body: AbsenceWrite) -> None: ...
    async def update_absence(self, changes: AbsenceWrite) -> None: ...
    async def list_children(self, emp_id: int) -> list[payroll.Child]: ...
    async def create_child(self, body: ChildWrite) -> None: ...


class ChildLock(Protocol):
    """Serialises finding-or-creating one employee's children across workers."""

    def __call__(self, emp_id: int) -> AbstractAsyncContextManager[None]: ...


class AbsenceRules(msgspec.Struct, kw_only=True, frozen=True):
    """What the integration's settings and the run decide for every leave."""

    overrides: dict[str, str]
    # The codes the run exports (empty = all) and the company's absence types by code.
    codes: tuple[str, ...]
    absence_types: dict[str, payroll.AbsenceType]


class _Sources(msgspec.Struct, kw_only=True):
    leave: simployer.Leave
    leave_type: simployer.LeaveTypeWithCode | None
    # The employee's children in Simployer One; None = not read yet (only sick child needs them).
    children: list[simployer.Child] | None
    existing: payroll.Absence | None


async def sync_absence(
    task: AbsenceTask,
    *,
    snapshot: AbsenceSnapshot | None,
    rules: AbsenceRules,
    hr: HrPort,
    payroll_api: PayrollPort,
    child_lock: ChildLock,
) -> SyncResult:
    """The leave's final outcome. Raises `Retryable` or `Deferred` when it should run again."""
    try:
        return await _sync(
            task,
            snapshot=snapshot,
            rules=rules,
            hr=hr,
            payroll_api=payroll_api,
            child_lock=child_lock,
        )
    except RecordSkipped as skipped:
        return SyncResult(outcome="skipped", reason=skipped.reason, field=skipped.field)
    except Permanent as failed:
        return SyncResult(outcome="failed", reason=failed.reason, field=failed.field)


async def _sync(
    task: AbsenceTask,
    *,
    snapshot: AbsenceSnapshot | None,
    rules: AbsenceRules,
    hr: HrPort,
    payroll_api: PayrollPort,
    child_lock: ChildLock,
) -> SyncResult:
    try:
        emp_id = employee_id(task.employee_number)
    except ValueError as problem:
        # The employee sync's wording: "0001" is numeric, but would be employee 1 there.
        raise Permanent(f"employeeNumber {problem}", field="employeeNumber") from None
    fresh = snapshot is None or task.refetch
    sources = await _read(
        task, emp_id, snapshot=None if fresh else snapshot, hr=hr, payroll_api=payroll_api
    )
    if sources is None:
        # The leave was deleted in Simployer One: nothing to export (an exported one stays).
        raise RecordSkipped("the leave no longer exists in Simployer One")
    leave, existing = sources.leave, sources.existing

    if leave.status in WITHDRAWN_STATUSES:
        return await _withdraw(task, existing, payroll_api=payroll_api)
    if leave.status not in EXPORTED_STATUSES:
        raise RecordSkipped("awaiting approval in Simployer One", field="status")
    if sources.leave_type is None:
        raise Permanent(f"leave type {leave.type_id} is not in Simployer One", field="typeId")
    choice = choose_code(sources.leave_type.type, sources.leave_type.code, rules.overrides)
    if choice.code is None:
        raise RecordSkipped(choice.reason, field="typeId")
    if rules.codes and choice.code not in rules.codes:
        raise RecordSkipped(
            f"absence code {choice.code} is not exported by this run", field="typeId"
        )
    absence_type = rules.absence_types.get(choice.code)
    if absence_type is None:
        raise Permanent(
            f"absence type {choice.code} is not set up in 24SevenOffice", field="typeId"
        )
    child_id: str | None = None
    note = ""
    if absence_type.category == "sick_child":
        children = sources.children
        if children is None:
            children = await hr.children_of(leave.employee_id)
        child, note = sick_child(leave, children)
        if child is None and not (existing is not None and existing.child_id.strip()):
            # The published POST makes childId mandatory for sick child: refuse here, before a
            # write that cannot succeed. An absence that has one (picked in payroll) keeps it.
            raise Permanent(
                f"{note}; 24SevenOffice needs the child of a sick-child absence", field="childId"
            )
        if child is not None:
            child_id = await _child_id(
                emp_id,
                child,
                payroll_api=payroll_api,
                child_lock=child_lock,
                dry_run=task.dry_run,
            )
    target = map_absence(
        leave, emp_id=emp_id, code=choice.code, absence_type=absence_type, child_id=child_id
    )
    if existing is None:
        diff = _created(target)
        if not task.dry_run:
            await payroll_api.create_absence(target)
        return SyncResult(
            outcome="created",
            changed=[change.field for change in diff],
            diff=diff,
            reason=_reason(task.dry_run, note),
        )
    diff = absence_changes(target, existing)
    if diff and not task.dry_run:
        await payroll_api.update_absence(
            msgspec.structs.replace(target, serial_no=existing.serial_no)
        )
    if task.new_in_payroll:
        # Absent when the run began: an earlier attempt of this run created it.
        created = _created(target)
        return SyncResult(
            outcome="created",
            changed=[c.field for c in created],
            diff=created,
            reason=_reason(False, note),
        )
    return SyncResult(
        outcome="updated" if diff else "unchanged",
        changed=[change.field for change in diff],
        diff=diff,
        reason=_reason(task.dry_run and bool(diff), note),
    )


def _reason(dry_run: bool, note: str) -> str:
    """What the outcome says besides its fields: a dry run, a child that could not be set."""
    return "; ".join(part for part in ("dry run" if dry_run else "", note) if part)


async def _read(
    task: AbsenceTask,
    emp_id: int,
    *,
    snapshot: AbsenceSnapshot | None,
    hr: HrPort,
    payroll_api: PayrollPort,
) -> _Sources | None:
    """The leave and what belongs to it: from the producer's snapshot, or read afresh."""
    if snapshot is not None:
        if not snapshot.in_payroll:
            raise _not_in_payroll(task)
        return _Sources(
            leave=snapshot.leave,
            leave_type=snapshot.leave_type,
            children=snapshot.children,
            existing=snapshot.existing,
        )
    leave = await hr.leave(task.leave_id)
    absences = await payroll_api.list_absences(emp_id)
    if absences is None:
        raise _not_in_payroll(task)
    existing = next((row for row in absences if row.external_id == task.leave_id), None)
    if leave is None:
        return None
    leave_type = await hr.leave_type(leave.type_id)
    return _Sources(leave=leave, leave_type=leave_type, children=None, existing=existing)


def _not_in_payroll(task: AbsenceTask) -> Permanent:
    return Permanent(
        # No employee number in the text: the record names it, and one wording groups them.
        "the employee is not in 24SevenOffice yet; sync employees first",
        field="employeeNumber",
    )


async def _withdraw(
    task: AbsenceTask, existing: payroll.Absence | None, *, payroll_api: PayrollPort
) -> SyncResult:
    """A cancelled or denied leave: reject the absence exported for it (the API cannot delete)."""
    if existing is None:
        raise RecordSkipped("cancelled or denied in Simployer One, and never exported")
    if existing.approved == REJECTED:
        return SyncResult(outcome="unchanged")
    if not task.dry_run:
        await payroll_api.update_absence(withdrawal(existing))
    return SyncResult(
        outcome="withdrawn",
        changed=["approved"],
        diff=[FieldChange(field="approved", old=existing.approved, new=REJECTED)],
        reason="dry run" if task.dry_run else "",
    )


async def _child_id(
    emp_id: int,
    child: simployer.Child,
    *,
    payroll_api: PayrollPort,
    child_lock: ChildLock,
    dry_run: bool,
) -> str:
    """The 24SevenOffice child of a sick-child leave, created when missing (never twice)."""
    birthdate = child_birthdate(child)
    first_name = child_first_name(child.name)
    async with child_lock(emp_id):
        found = find_child(
            await payroll_api.list_children(emp_id), first_name=first_name, birthdate=birthdate
        )
        if found is not None:
            return found.child_id
        if dry_run:
            return DRY_RUN_CHILD
        await payroll_api.create_child(child_write(emp_id, child))
        # The new id is read back, found as any child is: the answer is not relied on.
        created = find_child(
            await payroll_api.list_children(emp_id), first_name=first_name, birthdate=birthdate
        )
        if created is None:
            # Written but not found again: creating it once more would only add a second one.
            raise Permanent(
                f"{UNKNOWN_CHILD}: the child created in 24SevenOffice is not found again by "
                "first name and birth date",
                field="childId",
            )
        return created.child_id


def _created(target: AbsenceWrite) -> list[FieldChange]:
    """The fields a new absence gets, as a diff from nothing."""
    fields = msgspec.to_builtins(target)
    return [
        FieldChange(field=name, old="", new=str(value))
        for name, value in sorted(fields.items())
        if name not in _IDENTIFYING and value not in ("", None)
    ]


_IDENTIFYING: Sequence[str] = ("empId", "serialNo", "externalId")
