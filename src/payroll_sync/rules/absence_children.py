"""The 24SevenOffice child of a sick-child leave (SPEC: same first name and birth date). Pure.

Simployer One gives a child one `name`; 24SevenOffice has `firstname` and `lastname`.
Decisions:
- The first name is the first word of the name, the last name the rest ("Ola Nordmann" ->
  "Ola", "Nordmann"; "Ola" -> "Ola", ""). Words are split on any whitespace.
- Matching compares birth dates as calendar dates (the payroll value may carry a time) and first
  names case-insensitively; a payroll child whose first name has more words ("Anne Marie",
  typed by hand in payroll) matches on its first word, but one spelt exactly like ours wins.
- A child that cannot be written (no name, bad birth date) fails with the reason SPEC gives for
  a child that cannot be determined; the reason names the field, never the value.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from payroll_sync.errors import Permanent
from payroll_sync.rules.employee import ISO_DATE, calendar_date
from payroll_sync.schemas import payroll, simployer

__all__ = [
    "UNKNOWN_CHILD",
    "child_birthdate",
    "child_first_name",
    "child_last_name",
    "child_write",
    "find_child",
    "sick_child",
]

#: SPEC's reason for a sick-child leave whose child cannot be determined.
UNKNOWN_CHILD = "the child of this sick-child leave cannot be determined"


def sick_child(
    leave: simployer.Leave, children: Sequence[simployer.Child]
) -> tuple[simployer.Child | None, str]:
    """The Simployer One child a sick-child leave is for, or None and the note the outcome keeps.

    SPEC: the child the leave names (`childId`, which the published API does not have, so
    only when a row carries it); otherwise the employee's only child. Without one, the absence is
    exported without a child (payroll staff can pick it; the days still count).
    """
    if leave.child_id:
        named = next((child for child in children if child.id == leave.child_id), None)
        if named is not None:
            return named, ""
        return None, "child not set: the leave's child is not among the employee's children"
    if len(children) == 1:
        return children[0], ""
    return None, f"child not set: {len(children)} children in Simployer One"


def child_first_name(name: str) -> str:
    """The first word of a Simployer One child's name ("" when the name is blank)."""
    words = name.split()
    return words[0] if words else ""


def child_last_name(name: str) -> str:
    """The words after the first, single-spaced ("" when there are none)."""
    return " ".join(name.split()[1:])


def child_birthdate(child: simployer.Child) -> datetime.date:
    """The calendar date of the child's `birthdate`; Permanent when it is not a date."""
    try:
        return datetime.date.fromisoformat(calendar_date(child.birthdate, "child.birthdate"))
    except Permanent:
        raise Permanent(
            f"{UNKNOWN_CHILD}: the child's birthdate in Simployer One is not a valid date",
            field="child.birthdate",
        ) from None


def _payroll_date(value: str) -> datetime.date | None:
    match = ISO_DATE.fullmatch(value.strip())
    if match is None:
        return None
    try:
        return datetime.date.fromisoformat(match["date"])
    except ValueError:
        return None


def find_child(
    children: Sequence[payroll.Child], *, first_name: str, birthdate: datetime.date
) -> payroll.Child | None:
    """The payroll child with this first name (any case) and birth date, or None."""
    wanted = first_name.strip().casefold()
    if not wanted:
        return None
    born = [child for child in children if _payroll_date(child.birthdate) == birthdate]
    exact = [child for child in born if child.firstname.strip().casefold() == wanted]
    if exact:
        return exact[0]
    return next(
        (c for c in born if child_first_name(c.firstname).casefold() == wanted),
        None,
    )


def child_write(emp_id: int, child: simployer.Child) -> payroll.ChildWrite:
    """The body that creates this Simployer One child under payroll employee `emp_id`."""
    first = child_first_name(child.name)
    if not first:
        raise Permanent(
            f"{UNKNOWN_CHILD}: the child has no name in Simployer One", field="child.name"
        )
    return payroll.ChildWrite(
        emp_id=str(emp_id),
        firstname=first,
        lastname=child_last_name(child.name),
        birthdate=child_birthdate(child).isoformat(),
    )
