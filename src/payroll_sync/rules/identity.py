"""Who is who across employee numbers and lost links (issue 13). Pure.

- A person is the fødselsnummer (or D-nummer), not the employee number: an employee renumbered
  in Simployer One (1024 -> 2024) must not be created a second time in 24SevenOffice, where
  the old number still holds them. `person_index` is what the worker looks that up in.
- An employment is matched by its remembered link, then its start date (`compare.
  match_employment`); when both are lost (the link forgotten, the start date changed), the one
  open employment 24SevenOffice holds is the one we wrote (`open_employment`), so it is
  updated, not joined by a second open one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from payroll_sync.errors import Permanent
from payroll_sync.rules.compare import normalise
from payroll_sync.rules.identifiers import payroll_key, person_key
from payroll_sync.schemas import payroll

__all__ = ["identity_conflict_reason", "open_employment", "person_index"]


def person_index(employees: Iterable[payroll.Employee]) -> dict[str, int]:
    """`person_key` of each employee's `personnr` -> its empId. Employees without a usable
    person number or empId are left out; of two holding one number (payroll already has a
    duplicate) the first listed is kept: either answers "this person is someone else"."""
    index: dict[str, int] = {}
    for employee in employees:
        key, emp_id = person_key(employee.personnr), payroll_key(employee.emp_id)
        if key is not None and emp_id is not None:
            index.setdefault(key, int(emp_id))
    return index


def identity_conflict_reason(holder: int) -> str:
    """Why a record whose person 24SevenOffice holds under another empId is not created. The
    employee number is no personal data; the person number is never named, only its field."""
    return f"identity conflict: this person is employee {holder} in 24SevenOffice"


def open_employment(current: Sequence[payroll.Employment]) -> payroll.Employment | None:
    """The employee's one open employment (no end date), None when there is none. With more
    than one, which of them to update cannot be told: `Permanent`, rather than a third."""
    open_ones = [row for row in current if not normalise("enddate", row.enddate)]
    if len(open_ones) > 1:
        raise Permanent(
            f"24SevenOffice holds {len(open_ones)} open employments for this employee and none "
            "has this employment.startDate: end the wrong ones in 24SevenOffice",
            field="employment.startDate",
        )
    return open_ones[0] if open_ones else None
