"""One employee through fetch → map → compare → push, against ports (no Dramatiq, no Redis).

Idempotent by construction: every write is decided from what 24SevenOffice holds now, a create
that answers 409 turns into read-and-update, and an employment is matched by its remembered link
or its start date before a new one is created. Running the same task twice writes nothing new.

No answer body of a write is relied on (the API publishes none): the id of a new employment is
read back with a GET. Updates pass only the fields that differ; the client sends them overlaid
on the whole record as it is in 24SevenOffice (see `connectors.payroll.PayrollClient`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from payroll_sync.errors import Conflict, Permanent, RecordSkipped, Retryable
from payroll_sync.rules.compare import (
    employee_changes,
    employment_changes,
    field_changes,
    identity_conflict,
    match_employment,
    only_fields,
)
from payroll_sync.rules.employee import map_employee
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import EmployeeTask
from payroll_sync.schemas.outcomes import FieldChange, Outcome
from payroll_sync.schemas.payroll import EmployeeWrite, EmploymentWrite
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from payroll_sync.worker.result import SyncResult

EMPLOYMENT_PREFIX = "employment."


class HrPort(Protocol):
    async def employee_bundle(self, employee_id: str) -> simployer.EmployeeBundle | None: ...


class PayrollPort(Protocol):
    async def get_employee(self, emp_id: int) -> payroll.Employee | None: ...
    async def create_employee(self, body: EmployeeWrite) -> None: ...
    async def update_employee(self, emp_id: int, changes: EmployeeWrite) -> None: ...
    async def list_employments(self, emp_id: int) -> list[payroll.Employment]: ...
    async def create_employment(self, emp_id: int, item: EmploymentWrite) -> None: ...
    async def update_employment(self, emp_id: int, changes: EmploymentWrite) -> None: ...


class LinkPort(Protocol):
    """Which 24SevenOffice employment an employee's employment was last written to."""

    async def get(self, emp_id: int) -> str | None: ...
    async def set(self, emp_id: int, employment_id: str) -> None: ...


async def sync_employee(
    task: EmployeeTask,
    *,
    snapshot: EmployeeSnapshot | None,
    hr: HrPort,
    payroll_api: PayrollPort,
    links: LinkPort,
) -> SyncResult:
    """The record's final outcome. Raises `Retryable` or `Deferred` when it should run again."""
    # What we decided to write, kept for the outcome even when the write is refused.
    attempted: list[FieldChange] = []
    try:
        return await _sync(
            task,
            snapshot=snapshot,
            hr=hr,
            payroll_api=payroll_api,
            links=links,
            attempted=attempted,
        )
    except RecordSkipped as skipped:
        return SyncResult(outcome="skipped", reason=skipped.reason, field=skipped.field)
    except Permanent as failed:
        return SyncResult(
            outcome="failed", reason=failed.reason, field=failed.field, diff=attempted
        )


async def _sync(
    task: EmployeeTask,
    *,
    snapshot: EmployeeSnapshot | None,
    hr: HrPort,
    payroll_api: PayrollPort,
    links: LinkPort,
    attempted: list[FieldChange],
) -> SyncResult:
    fresh = snapshot is None or task.refetch
    if fresh:
        bundle = await hr.employee_bundle(task.employee_id)
        if bundle is None:
            raise RecordSkipped("the employee no longer exists in Simployer One")
    else:
        assert snapshot is not None
        bundle = snapshot.bundle
    mapped = map_employee(bundle)
    emp_id = mapped.emp_id
    if fresh or snapshot is None or not snapshot.payroll_known:
        current = await payroll_api.get_employee(emp_id)
    else:
        current = snapshot.payroll

    changed: list[str] = []
    created = False
    if current is None:
        changed = _set_fields(mapped.employee)
        attempted += field_changes(mapped.employee, None)
        if task.dry_run:
            attempted += field_changes(mapped.employment, None, prefix=EMPLOYMENT_PREFIX)
            changed += [EMPLOYMENT_PREFIX + name for name in _set_fields(mapped.employment)]
            return SyncResult(outcome="created", changed=changed, reason="dry run", diff=attempted)
        try:
            await payroll_api.create_employee(mapped.employee)
            created = True
        except Conflict:
            # It exists after all (an earlier attempt's answer was lost): update it instead.
            current = await payroll_api.get_employee(emp_id)
            if current is None:
                raise Retryable("24SevenOffice answered 409 but has no such employee") from None
            changed = []
            attempted.clear()
    if current is not None:
        if identity_conflict(mapped.employee, current):
            raise Permanent(
                "identity conflict: the 24SevenOffice employee with this employee number has "
                "another fødselsnummer; check employeeNumber and ssn",
                field="employeeNumber",
            )
        changed = employee_changes(mapped.employee, current)
        attempted += field_changes(mapped.employee, current, changed)
        if changed and not task.dry_run:
            await payroll_api.update_employee(emp_id, only_fields(mapped.employee, changed))

    # A brand-new employee has no employments yet: skip the read.
    employments = [] if created else await payroll_api.list_employments(emp_id)
    employment_changed = await _sync_employment(
        emp_id,
        mapped.employment,
        employments,
        payroll_api=payroll_api,
        links=links,
        dry_run=task.dry_run,
        attempted=attempted,
    )
    changed += [EMPLOYMENT_PREFIX + name for name in employment_changed]
    if not created and task.new_in_payroll:
        # Absent when the run began, so this run created it: an earlier attempt, or a delivery
        # whose worker died before recording, wrote it and stopped before the end.
        created = True
        changed = _set_fields(mapped.employee) + [
            EMPLOYMENT_PREFIX + name for name in _set_fields(mapped.employment)
        ]
        attempted[:] = field_changes(mapped.employee, None) + field_changes(
            mapped.employment, None, prefix=EMPLOYMENT_PREFIX
        )
    outcome: Outcome = "created" if created else ("updated" if changed else "unchanged")
    return SyncResult(
        outcome=outcome,
        changed=changed,
        reason="dry run" if task.dry_run and changed else "",
        diff=attempted,
    )


async def _sync_employment(
    emp_id: int,
    target: EmploymentWrite,
    employments: Sequence[payroll.Employment],
    *,
    payroll_api: PayrollPort,
    links: LinkPort,
    dry_run: bool,
    attempted: list[FieldChange],
) -> list[str]:
    linked = await links.get(emp_id)
    match = match_employment(employments, linked_id=linked, startdate=target.startdate or "")
    if match is None:
        attempted += field_changes(target, None, prefix=EMPLOYMENT_PREFIX)
        if not dry_run:
            # The API picks the new id and its answer is not to be relied on: read it back, by
            # our start date (none had it, or we would have matched it). If this is lost, the
            # retry finds the employment the same way instead of creating a second one.
            await payroll_api.create_employment(emp_id, target)
            new = match_employment(
                await payroll_api.list_employments(emp_id),
                linked_id=None,
                startdate=target.startdate or "",
            )
            if new is not None:
                await links.set(emp_id, new.employment_id)
        return _set_fields(target)
    changed = employment_changes(target, match)
    attempted += field_changes(target, match, changed, prefix=EMPLOYMENT_PREFIX)
    if changed and not dry_run:
        body = msgspec.structs.replace(
            only_fields(target, changed), employment_id=match.employment_id
        )
        await payroll_api.update_employment(emp_id, body)
    if linked != match.employment_id and not dry_run:
        await links.set(emp_id, match.employment_id)
    return changed


def _set_fields(body: msgspec.Struct) -> list[str]:
    """The API names of the fields a write body sets (its Structs omit unset fields)."""
    return sorted(msgspec.to_builtins(body).keys())
