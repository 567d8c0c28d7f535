"""One employee through fetch → map → compare → push, against ports (no Dramatiq, no Redis).

Idempotent by construction: every write is decided from what 24SevenOffice holds now, a create
that answers 409 turns into read-and-update, and an employment is matched by its remembered link,
its start date or else the one open employment before a new one is created. Running the same
task twice writes nothing new.

A person is created only when 24SevenOffice holds their fødselsnummer under no other empId
(`PersonPort`, kept by worker/persons.py): a renumbered employee fails with the number they have
there instead of becoming a second person.

No answer body of a write is relied on (the API publishes none): the id of a new employment is
read back with a GET. Updates pass only the fields that differ; the client sends them overlaid
on the whole record as it is in 24SevenOffice (see `connectors.payroll.PayrollClient`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec

from payroll_sync.errors import Conflict, Permanent, RecordSkipped, Retryable
from payroll_sync.rules.compare import (
    comparable_values,
    employee_changes,
    employment_changes,
    field_changes,
    identity_conflict,
    match_employment,
    only_fields,
)
from payroll_sync.rules.drift import drifted, payroll_values
from payroll_sync.rules.employee import MappedEmployee, map_employee
from payroll_sync.rules.identifiers import person_key
from payroll_sync.rules.identity import identity_conflict_reason, open_employment
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import EmployeeTask
from payroll_sync.schemas.outcomes import FieldChange, Outcome
from payroll_sync.schemas.payroll import EmployeeWrite, EmploymentWrite
from payroll_sync.schemas.settings import Limits
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


class PersonPort(Protocol):
    """Which empId 24SevenOffice holds a person under (`identifiers.person_key`)."""

    async def holder(self, person: str, *, fresh_since: float) -> int | None: ...
    async def add(self, person: str, emp_id: int) -> None: ...
    async def forget(self, person: str, emp_id: int) -> None: ...


class LinkPort(Protocol):
    """Which 24SevenOffice employment an employee's employment was last written to."""

    async def get(self, emp_id: int) -> str | None: ...
    async def set(self, emp_id: int, employment_id: str) -> None: ...


class WrittenPort(Protocol):
    """Digests of what we last wrote to each empId (`runs.written`): the drift report's and
    the brake's memory of payroll right after our writes."""

    async def anything(self, emp_id: int) -> bool: ...
    async def remembered(self, emp_id: int) -> Mapping[str, str]: ...
    async def digests(self, values: Mapping[str, str]) -> dict[str, str]: ...
    async def remember(self, emp_id: int, values: Mapping[str, str]) -> None: ...


async def sync_employee(
    task: EmployeeTask,
    *,
    snapshot: EmployeeSnapshot | None,
    hr: HrPort,
    payroll_api: PayrollPort,
    links: LinkPort,
    persons: PersonPort,
    written: WrittenPort | None = None,
    limits: Limits | None = None,
) -> SyncResult:
    """The record's final outcome. Raises `Retryable` or `Deferred` when it should run again.

    `limits` bound the salary (the settings' `[limits]`; None: the defaults). After a sync that
    wrote (or found payroll as we would write it, with nothing remembered yet), what payroll
    now holds for our fields is remembered in `written`; a dry run compares payroll's values of
    the fields it would overwrite with what was remembered (drift, docs/drift.md). Without
    `written` (a one-off script) nothing is remembered and no drift is told."""
    # What we decided to write, kept for the outcome even when the write is refused.
    attempted: list[FieldChange] = []
    try:
        return await _sync(
            task,
            snapshot=snapshot,
            hr=hr,
            payroll_api=payroll_api,
            links=links,
            persons=persons,
            written=written,
            limits=limits or Limits(),
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
    persons: PersonPort,
    written: WrittenPort | None,
    limits: Limits,
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
    mapped = map_employee(bundle, limits)
    emp_id = mapped.emp_id
    if fresh or snapshot is None or not snapshot.payroll_known:
        current = await payroll_api.get_employee(emp_id)
    else:
        current = snapshot.payroll

    changed: list[str] = []
    created = False
    person = person_key(mapped.employee.personnr)
    if current is None and person is not None:
        await _held_by_nobody_else(
            person,
            emp_id,
            fresh_since=task.first_attempt_at,
            payroll_api=payroll_api,
            persons=persons,
        )
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
            if person is not None:
                await persons.add(person, emp_id)
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
    employment_changed, employment = await _sync_employment(
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
    drift: list[str] = []
    unknown: list[str] = []
    if written is not None and task.dry_run:
        if current is not None and changed and not created:
            drift, unknown = await _drift(
                mapped, current, employment, changed, employment_changed, written
            )
    elif written is not None and (outcome != "unchanged" or not await written.anything(emp_id)):
        # Kept cheap when unchanged: whether anything is remembered was read with the record.
        await written.remember(emp_id, _written_values(mapped))
    return SyncResult(
        outcome=outcome,
        changed=changed,
        reason="dry run" if task.dry_run and changed else "",
        diff=attempted,
        drift=drift,
        unknown=unknown,
    )


def _written_values(mapped: MappedEmployee) -> dict[str, str]:
    """What payroll holds for our fields right after a sync (the contract `runs.written`'s
    readers rely on)."""
    return comparable_values(mapped.employee) | comparable_values(
        mapped.employment, prefix=EMPLOYMENT_PREFIX
    )


async def _drift(
    mapped: MappedEmployee,
    current: payroll.Employee,
    employment: payroll.Employment | None,
    changed: Sequence[str],
    employment_changed: Sequence[str],
    written: WrittenPort,
) -> tuple[list[str], list[str]]:
    """(drift, unknown) of the fields a dry run would overwrite (`rules.drift`). A new
    employment overwrites nothing: its fields are neither."""
    employee_fields = [name for name in changed if not name.startswith(EMPLOYMENT_PREFIX)]
    now = payroll_values(mapped.employee, current, employee_fields)
    if employment is not None:
        now |= payroll_values(
            mapped.employment, employment, employment_changed, prefix=EMPLOYMENT_PREFIX
        )
    if not now:
        return [], []
    remembered = await written.remembered(mapped.emp_id)
    return drifted(await written.digests(now), remembered)


async def _held_by_nobody_else(
    person: str,
    emp_id: int,
    *,
    fresh_since: float,
    payroll_api: PayrollPort,
    persons: PersonPort,
) -> None:
    """Permanent (nothing written) when 24SevenOffice holds `person` under another empId. The
    index's answer is confirmed with that employee's own record: a stale entry is dropped."""
    holder = await persons.holder(person, fresh_since=fresh_since)
    if holder is None or holder == emp_id:
        return
    held = await payroll_api.get_employee(holder)
    if held is not None and person_key(held.personnr) == person:
        raise Permanent(identity_conflict_reason(holder), field="ssn")
    await persons.forget(person, holder)


async def _sync_employment(
    emp_id: int,
    target: EmploymentWrite,
    employments: Sequence[payroll.Employment],
    *,
    payroll_api: PayrollPort,
    links: LinkPort,
    dry_run: bool,
    attempted: list[FieldChange],
) -> tuple[list[str], payroll.Employment | None]:
    """The employment fields written (or to write), and the employment they go to (None: a new
    one)."""
    linked = await links.get(emp_id)
    match = match_employment(employments, linked_id=linked, startdate=target.startdate or "")
    if match is None:
        # Link lost and start date changed: the open employment is still the one we wrote.
        match = open_employment(employments)
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
        return _set_fields(target), None
    changed = employment_changes(target, match)
    attempted += field_changes(target, match, changed, prefix=EMPLOYMENT_PREFIX)
    if changed and not dry_run:
        body = msgspec.structs.replace(
            only_fields(target, changed), employment_id=match.employment_id
        )
        await payroll_api.update_employment(emp_id, body)
    if linked != match.employment_id and not dry_run:
        await links.set(emp_id, match.employment_id)
    return changed, match


def _set_fields(body: msgspec.Struct) -> list[str]:
    """The API names of the fields a write body sets (its Structs omit unset fields)."""
    return sorted(msgspec.to_builtins(body).keys())
