"""How the 24SevenOffice Lønn simulator applies an employee or employment write to the stored
record, the way the API would: pure functions, the company's state stays in `payroll_store`.

Each raises `Invalid` (400) before changing anything, so a refused write changes nothing.
"""

from __future__ import annotations

import itertools

import msgspec

from payroll_sync.schemas.payroll import (
    Accounting,
    AccountingDimension,
    Employee,
    InternationalId,
    StoredEmployment,
    TaxExemption,
)
from payroll_sync.schemas.payroll_write import AccountingWrite, EmployeeWrite, EmploymentWrite
from payroll_sync.simulators.payroll_values import Invalid, as_text, check_date, keep, text_or_none

#: Employee fields that are objects or lists, applied apart from the scalar ones.
_EMPLOYEE_OBJECTS = ("taxexemption", "accounting")


def apply_employee(employee: Employee, body: EmployeeWrite) -> None:
    """Set on `employee` the fields `body` sends (objects merged field by field)."""
    # Validate everything before changing anything: a 400 changes nothing.
    changes: dict[str, object] = {}
    for name in body.__struct_fields__:
        value = getattr(body, name)
        if value is None or name in ("emp_id", "international_id", *_EMPLOYEE_OBJECTS):
            continue
        if name.endswith(("_date", "_valid_from")):
            check_date(value, name)
        changes[name] = as_text(name, value)
    if body.international_id is not None:
        current = employee.international_id
        update = body.international_id
        changes["international_id"] = InternationalId(
            country_code=keep(update.country_code, current.country_code),
            id=keep(update.id, current.id),
            type=keep(update.type, current.type),
        )
    if body.taxexemption is not None:
        exemption = body.taxexemption
        changes["taxexemption"] = TaxExemption(
            percentage=keep(text_or_none(exemption.percentage), employee.taxexemption.percentage),
            amount=keep(text_or_none(exemption.amount), employee.taxexemption.amount),
        )
    if body.accounting is not None:
        changes["accounting"] = _accounting(body.accounting)
    for name, value in changes.items():
        setattr(employee, name, value)


def _accounting(rows: list[AccountingWrite]) -> list[Accounting]:
    """The stored form of `accounting`; 400 when the percentages add up to more than 100."""
    stored = [
        Accounting(
            percentage=_two_decimals(as_text("accounting.percentage", row.percentage)),
            dimensions=[
                AccountingDimension(dimid=str(d.dimid), value=str(d.value)) for d in row.dimensions
            ],
        )
        for row in rows
    ]
    if sum(float(row.percentage or 0) for row in stored) > 100:
        raise Invalid("accounting: the percentages add up to more than 100")
    return stored


def _two_decimals(text: str) -> str:
    return f"{float(text):.2f}" if text else ""


def merged_employments(
    emp_id: int,
    stored: list[StoredEmployment],
    items: list[EmploymentWrite],
    *,
    replace: bool = False,
) -> list[StoredEmployment]:
    """The employee's employments after `POST /employment/v2/{empId}` with `items`: an item
    naming a stored `employment_id` updates that one, any other is created. `stored` is left
    as it is, so the caller keeps it when this raises."""
    current = list(stored)
    by_id = {e.employment_id: i for i, e in enumerate(current)}
    next_number = itertools.count(len(current) + 1)
    for position, item in enumerate(items):
        where = f"employment[{position}]"
        existing = by_id.get(item.employment_id) if item.employment_id else None
        if existing is None:
            if not item.startdate:
                raise Invalid(f"{where}.startdate is required for a new employment")
            employment_id = item.employment_id or _new_employment_id(emp_id, by_id, next_number)
            target = StoredEmployment(
                emp_id=str(emp_id),
                employment_id=employment_id,
                primary_employment="0" if current else "1",
            )
        elif replace:
            # Only this employment is replaced; the employee's others stay.
            target = StoredEmployment(emp_id=str(emp_id), employment_id=item.employment_id or "")
        else:
            target = msgspec.structs.replace(current[existing])
        for name in item.__struct_fields__:
            value = getattr(item, name)
            if value is None or name == "employment_id":
                continue
            if name in ("startdate", "enddate"):
                check_date(value, f"{where}.{name}")
            setattr(target, name, as_text(name, value))
        if target.enddate and not target.enddate_reason:
            raise Invalid(f"{where}.enddate_reason is required when enddate is set")
        if existing is None:
            by_id[target.employment_id] = len(current)
            current.append(target)
        else:
            current[existing] = target
    return current


def _new_employment_id(emp_id: int, taken: dict[str, int], numbers: itertools.count[int]) -> str:
    while (candidate := f"{emp_id}-{next(numbers)}") in taken:
        pass
    return candidate
