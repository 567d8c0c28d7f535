"""Which employees an integration syncs (SPEC "Integrations", scope). Pure: no I/O, `today` is
passed in.

The rules, each one narrowing what the previous ones let through:

1. Active employees are in; an inactive one is in only if its employment ended in the last
   `INACTIVE_GRACE_DAYS` days (`endDate` in [today - 90, today]), so a termination registered
   late still reaches payroll. An inactive employee without a readable `endDate` is out.
2. `scope.departments` (with every sub-department) and `scope.offices`: when either is set, an
   employee must be in a listed department OR a listed office (the union: "departments and/or
   offices" reads as "these departments plus these offices").
3. `scope.employees` (a test group): only these numbers. It narrows rule 2 rather than replacing
   it, so combining settings can never sync more people than any one of them allows.
4. `only` (the sync request's employee numbers): only these. An empty collection means nobody;
   `None` means no narrowing.
5. `scope.exclude`: never, whatever the other rules say.

`why_left_out` says, for one employee, which rule leaves them out: one reason, looked for from
rule 5 back to rule 1 (an excluded leaver is "excluded"); `in_scope` keeps those it has no
reason against, so the two never disagree. The input order is kept. Ids in the scope that
Simployer One does not know match nobody; `unknown_ids` and `unknown_numbers` let the caller
warn about or refuse them.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Final

from payroll_sync.schemas.settings import Scope
from payroll_sync.schemas.simployer import Department, Employee, Resource, calendar_day

__all__ = [
    "EXCLUDED",
    "INACTIVE_GRACE_DAYS",
    "NOT_CURRENT",
    "NOT_IN_TEST_GROUP",
    "NOT_REQUESTED",
    "OUTSIDE_PLACES",
    "REASONS",
    "Verdict",
    "department_closure",
    "end_day",
    "in_scope",
    "is_current",
    "unknown_ids",
    "unknown_numbers",
    "why_left_out",
]

INACTIVE_GRACE_DAYS: Final = 90


def department_closure(departments: Sequence[Department], roots: Iterable[str]) -> frozenset[str]:
    """`roots` and all their sub-departments (via `parentId`), at any depth.

    Root ids that are not among `departments` are left out. A cycle in the tree (bad data) ends
    the walk instead of looping.
    """
    known = {department.id for department in departments}
    children: defaultdict[str, list[str]] = defaultdict(list)
    for department in departments:
        if department.parent_id is not None:
            children[department.parent_id].append(department.id)
    found: set[str] = set()
    todo = [root for root in roots if root in known]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        todo.extend(children[current])
    return frozenset(found)


def unknown_ids(rows: Iterable[Resource], ids: Iterable[str]) -> list[str]:
    """The `ids` (e.g. `scope.departments` or `scope.offices`) not among `rows`, once each, in
    their order: scope settings that match nobody and deserve a warning."""
    known = {row.id for row in rows}
    return _missing(ids, known)


def unknown_numbers(requested: Collection[str], employees: Sequence[Employee]) -> list[str]:
    """The `requested` employee numbers that no employee has, once each, in their order: a
    request naming them can be refused with a clear message."""
    known = {employee.employee_number for employee in employees}
    return _missing(requested, known)


def end_day(text: str | None) -> datetime.date | None:
    """The calendar day of a Simployer One date (`calendar_day`: the Oslo date of an instant),
    or None when missing or unreadable."""
    try:
        return calendar_day(text)
    except ValueError:
        return None


def is_current(employee: Employee, today: datetime.date) -> bool:
    """Active, or inactive with an employment that ended in the last `INACTIVE_GRACE_DAYS`."""
    if employee.active:
        return True
    ended = end_day(employee.end_date)
    if ended is None:
        return False
    return today - datetime.timedelta(days=INACTIVE_GRACE_DAYS) <= ended <= today


#: Why an employee is not in scope, one reason each (module docstring); the wizard's scope
#: preview shows them.
EXCLUDED: Final = "excluded"
NOT_IN_TEST_GROUP: Final = "not in the test group"
NOT_REQUESTED: Final = "not among the employees asked for"
OUTSIDE_PLACES: Final = "outside the chosen departments and offices"
NOT_CURRENT: Final = "not employed now"
REASONS: Final = (EXCLUDED, NOT_IN_TEST_GROUP, NOT_REQUESTED, OUTSIDE_PLACES, NOT_CURRENT)

#: One employee -> why the scope leaves them out, or None when it takes them in.
Verdict = Callable[[Employee], str | None]


def why_left_out(
    scope: Scope,
    *,
    departments: Sequence[Department],
    today: datetime.date,
    only: Collection[str] | None = None,
) -> Verdict:
    """The scope's rules as one function of an employee (module docstring): None when the
    employee is in scope, else the reason. `in_scope` is this function's None, so the two
    cannot disagree. The department tree is walked once, here, not per employee."""
    narrowed_by_place = bool(scope.departments or scope.offices)
    department_ids = department_closure(departments, scope.departments)
    office_ids = frozenset(scope.offices)
    group = frozenset(scope.employees) if scope.employees else None
    requested = frozenset(only) if only is not None else None
    excluded = frozenset(scope.exclude)

    def verdict(employee: Employee) -> str | None:
        number = employee.employee_number
        if number in excluded:
            return EXCLUDED
        if group is not None and number not in group:
            return NOT_IN_TEST_GROUP
        if requested is not None and number not in requested:
            return NOT_REQUESTED
        if narrowed_by_place and not (
            employee.department_id in department_ids or employee.office_id in office_ids
        ):
            return OUTSIDE_PLACES
        return None if is_current(employee, today) else NOT_CURRENT

    return verdict


def in_scope(
    employees: Sequence[Employee],
    scope: Scope,
    *,
    departments: Sequence[Department],
    today: datetime.date,
    only: Collection[str] | None = None,
) -> list[Employee]:
    """The employees the integration syncs, in input order (rules in the module docstring)."""
    verdict = why_left_out(scope, departments=departments, today=today, only=only)
    return [employee for employee in employees if verdict(employee) is None]


def _missing(ids: Iterable[str], known: Collection[str]) -> list[str]:
    # dict.fromkeys: drop repeats, keep the first-seen order.
    return [id_ for id_ in dict.fromkeys(ids) if id_ not in known]
