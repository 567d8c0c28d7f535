"""How many and which employees an integration's scope takes in now, and why the others not.

Read as the producer reads for a sync: every employee of Simployer One (a row that cannot be
read stands in as the producer's `stand_in`, so it is counted where a sync would enrol it) and
the department tree, then the scope's rules of `rules/scope.py`. `grouped` is the pure half.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Sequence
from typing import Final

import aiohttp
import msgspec

from payroll_sync.config import Credentials
from payroll_sync.connectors.clients import integration_clients
from payroll_sync.connectors.simployer_rows import Unreadable
from payroll_sync.producer.expand import stand_in
from payroll_sync.rules.scope import REASONS, unknown_ids, why_left_out
from payroll_sync.schemas.settings import Integration, Scope
from payroll_sync.schemas.simployer import Department, Employee, Office

#: A person waits for the preview: each request gets this long, and is not retried.
PREVIEW_TIMEOUT: Final = aiohttp.ClientTimeout(total=30.0, sock_connect=10.0)


class ScopePreview(msgspec.Struct, frozen=True, kw_only=True):
    in_scope: int
    # Employee numbers in scope, numeric order.
    employee_numbers: list[str]
    # Why the others are not, reason -> employee numbers ("excluded", "not in the test group",
    # "outside the chosen departments and offices", "not employed now", ...).
    left_out: dict[str, list[str]]
    # Scope ids Simployer One does not know (a department or office since deleted).
    unknown_departments: list[str] = msgspec.field(default_factory=list)
    unknown_offices: list[str] = msgspec.field(default_factory=list)
    # Test group and exclude numbers no employee has (a typo, or someone long gone).
    unknown_employees: list[str] = msgspec.field(default_factory=list)
    # In scope, but their row cannot be read: a sync fails them, naming the field to fix.
    unreadable: list[str] = msgspec.field(default_factory=list)


async def scope_preview(
    integration: Integration,
    credentials: Credentials,
    *,
    session: aiohttp.ClientSession,
    today: datetime.date,
    scope: Scope | None = None,
) -> ScopePreview:
    """Read Simployer One's employees and departments and apply `scope` (default: the
    integration's own) as a sync would today. `SyncError` when Simployer One cannot be read."""
    hr = integration_clients(session, integration, credentials, timeout=PREVIEW_TIMEOUT).simployer
    (employees, unreadable), departments, offices = await asyncio.gather(
        hr.employees(), hr.departments(), hr.offices()
    )
    return grouped(
        employees,
        unreadable,
        scope if scope is not None else integration.scope,
        departments=departments,
        offices=offices,
        today=today,
    )


def grouped(
    employees: Sequence[Employee],
    unreadable: Sequence[Unreadable],
    scope: Scope,
    *,
    departments: Sequence[Department],
    offices: Sequence[Office],
    today: datetime.date,
) -> ScopePreview:
    """The preview of what was read. Pure."""
    stand_ins = [stand_in(row) for row in unreadable if row.employee_id]
    everyone = [*employees, *stand_ins]
    verdict = why_left_out(scope, departments=departments, today=today)
    taken: list[str] = []
    left_out: dict[str, list[str]] = {}
    for employee in everyone:
        reason = verdict(employee)
        if reason is None:
            taken.append(employee.employee_number)
        else:
            left_out.setdefault(reason, []).append(employee.employee_number)
    numbers = {employee.employee_number for employee in everyone}
    broken = {employee.employee_number for employee in stand_ins}
    return ScopePreview(
        in_scope=len(taken),
        employee_numbers=_in_order(taken),
        # The rules' own order, so a page lists them alike every time.
        left_out={reason: _in_order(left_out[reason]) for reason in REASONS if reason in left_out},
        unknown_departments=unknown_ids(departments, scope.departments),
        unknown_offices=unknown_ids(offices, scope.offices),
        unknown_employees=[
            number
            for number in dict.fromkeys([*scope.employees, *scope.exclude])
            if number not in numbers
        ],
        unreadable=_in_order([number for number in taken if number in broken]),
    )


def _in_order(numbers: Sequence[str]) -> list[str]:
    """Numeric order (then the rest as text), once each."""
    unique = dict.fromkeys(numbers)
    return sorted(unique, key=lambda n: (0, int(n), "") if n.isdigit() else (1, 0, n))


class Choice(msgspec.Struct, frozen=True):
    id: str
    name: str


async def scope_choices(
    integration: Integration, credentials: Credentials, *, session: aiohttp.ClientSession
) -> tuple[list[Choice], list[Choice]]:
    """Simployer One's own departments and offices, for the scope form's pick lists (by name).
    A department's name is prefixed with its parents' ("Sales / North"), as the tree shows it."""
    hr = integration_clients(session, integration, credentials, timeout=PREVIEW_TIMEOUT).simployer
    departments, offices = await asyncio.gather(hr.departments(), hr.offices())
    return department_choices(departments), sorted(
        (Choice(office.id, office.name) for office in offices), key=_by_name
    )


def department_choices(departments: Sequence[Department]) -> list[Choice]:
    """Each department under its path of names from the root, by that path. Pure; a cycle in
    the tree (bad data) ends the path instead of looping."""
    by_id = {department.id: department for department in departments}

    def path(department: Department) -> str:
        names, seen = [department.name], {department.id}
        parent = by_id.get(department.parent_id or "")
        while parent is not None and parent.id not in seen:
            names.append(parent.name)
            seen.add(parent.id)
            parent = by_id.get(parent.parent_id or "")
        return " / ".join(reversed(names))

    return sorted((Choice(d.id, path(d)) for d in departments), key=_by_name)


def _by_name(choice: Choice) -> tuple[str, str]:
    return (choice.name.casefold(), choice.id)
