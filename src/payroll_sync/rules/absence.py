"""Simployer One leave → 24SevenOffice absence (SPEC "Absence sync"), and what differs. Pure.

A leave that cannot be exported raises `Permanent` (outcome failed) with a reason that names the
Simployer One field to fix and never the value: descriptions are free text and may say anything
about a person's health. The code choice (`choose_code`), working days and children live in
their own modules and are re-exported here, so the worker imports one module.

Decisions:
- Dates are the Oslo dates of Simployer One's instants ("2024-07-31T22:00:00.000Z" -> 1 August).
- `percent` is gradePercentage (100 when absent), rounded to two decimals as payroll keeps it
  and written without needless decimals ("50", "62.5"). A type whose `percentage` flag is "0"
  cannot carry one: `percent` is not sent; a leave graded below 100 % of such a type fails
  (payroll would silently record it as whole).
- Fields that do not apply to the absence type are sent as "" (`numberOfDays` outside vacation,
  `startdateParental` outside parental benefit, `childId` outside sick child), so an absence
  whose leave changed type does not keep a stale value (SPEC: Simployer One owns the record).
  `permisjonId` is never sent: 24SevenOffice generates it, and an update keeps it.
- `serialNo` is not set by `map_absence`: the worker adds the matched absence's for an update.
- Comparison (`absence_changes`) covers the fields the body sets except the keys (`empId`,
  `serialNo`, `externalId`), after normalising: dates as YYYY-MM-DD, numbers as decimals
  ("100.00" == "100"), codes as `normalise_code`, text stripped; absent and "" are the same.
  `approved` compares as text: the simulator echoes what was posted, and "" (not decided) is
  a real difference from "1".
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

from payroll_sync.errors import Permanent
from payroll_sync.rules.absence_children import (
    UNKNOWN_CHILD,
    child_birthdate,
    child_first_name,
    child_last_name,
    child_write,
    find_child,
    sick_child,
)
from payroll_sync.rules.absence_code import CodeChoice, choose_code, normalise_code
from payroll_sync.rules.compare import date_text, decimal_or_text, plain_text, struct_fields
from payroll_sync.rules.employee import calendar_date, text
from payroll_sync.rules.working_days import working_days
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.outcomes import FieldChange

__all__ = [
    "UNKNOWN_CHILD",
    "CodeChoice",
    "absence_changes",
    "child_birthdate",
    "child_first_name",
    "child_last_name",
    "child_write",
    "choose_code",
    "find_child",
    "map_absence",
    "normalise_absence_value",
    "normalise_code",
    "sick_child",
    "withdrawal",
    "working_days",
]

APPROVED: Final = "1"
REJECTED: Final = "2"
DEFAULT_PERCENT: Final = Decimal(100)
PARENTAL_BENEFIT: Final = "permisjonMedForeldrepenger"
CENT: Final = Decimal("0.01")
# Identify the record rather than describe it: never compared.
_KEYS: Final = frozenset({"emp_id", "serial_no", "external_id"})


# ---------------------------------------------------------------- the mapping


def map_absence(
    leave: simployer.Leave,
    *,
    emp_id: int,
    code: str,
    absence_type: payroll.AbsenceType,
    child_id: str | None = None,
) -> payroll.AbsenceWrite:
    """The payroll absence for one leave, exported as `code` (an absence type of the company).

    `child_id` is the payroll child of a sick-child leave (found or created by the worker);
    None when the Simployer child cannot be told (`sick_child`): `childId` is then not sent,
    so a child payroll staff picked by hand stays.
    """
    if normalise_code(code) != normalise_code(absence_type.code):
        raise ValueError(f"code {code!r} is not the code of absence type {absence_type.code!r}")
    start = calendar_date(leave.start_date, "startDate")
    end = calendar_date(leave.end_date, "endDate")
    if end < start:
        raise Permanent("endDate is before startDate", field="endDate")
    comment = text(leave.description)
    if absence_type.comment_mandatory.strip() == "1" and not comment:
        raise Permanent(
            f"description is required: 24SevenOffice absence type {code} needs a comment",
            field="description",
        )
    category = absence_type.category
    child: str | None = ""
    if category == "sick_child":
        child = text(child_id) or None
    days = ""
    if category == "vacation":
        days = str(
            working_days(datetime.date.fromisoformat(start), datetime.date.fromisoformat(end))
        )
    parental = start if absence_type.leave_of_absence_type.strip() == PARENTAL_BENEFIT else ""
    return payroll.AbsenceWrite(
        emp_id=str(emp_id),
        start_date=start,
        end_date=end,
        absence_type=absence_type.code,
        percent=_percent(leave.grade_percentage, absence_type),
        approved=APPROVED,
        comment=comment,
        child_id=child,
        number_of_days=days,
        startdate_parental=parental,
        external_id=leave.id,
    )


def _percent(grade: float | None, absence_type: payroll.AbsenceType) -> str | None:
    """gradePercentage as sent, or None when the absence type cannot carry a percentage."""
    raw = DEFAULT_PERCENT if grade is None else _decimal(grade)
    # Checked before and after rounding: 100.001 is over 100, 0.001 would be sent as 0.
    percent = None if raw is None else raw.quantize(CENT, ROUND_HALF_UP)
    if raw is None or percent is None or not (0 < raw <= 100 and percent > 0):
        raise Permanent(
            "gradePercentage must be more than 0 and at most 100", field="gradePercentage"
        )
    if absence_type.percentage.strip() == "0":
        if percent != DEFAULT_PERCENT:
            raise Permanent(
                f"gradePercentage must be 100 or empty: 24SevenOffice absence type "
                f"{absence_type.code} cannot carry a percentage",
                field="gradePercentage",
            )
        return None
    return _plain(percent)


def _decimal(value: float) -> Decimal | None:
    try:
        number = Decimal(str(value))  # str(): the shortest text that round-trips
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> str:
    """A decimal without needless zeros or exponent: 100.00 -> "100", 62.50 -> "62.5"."""
    return f"{number.normalize():f}"


def withdrawal(existing: payroll.Absence) -> payroll.AbsenceWrite:
    """The update that marks an exported absence rejected (the API cannot delete): the keys
    and `approved = "2"`, overlaid by the client on the whole absence as it is in
    24SevenOffice, so every other field (its type included) is sent back as read.
    """
    return payroll.AbsenceWrite(
        emp_id=existing.emp_id.strip(),
        serial_no=existing.serial_no.strip(),
        approved=REJECTED,
    )


# ---------------------------------------------------------------- comparing


def _number(value: object) -> str:
    number = decimal_or_text(value)
    return _plain(number) if isinstance(number, Decimal) else str(number)


def _code(value: object) -> str:
    return normalise_code(plain_text(value))


_NORMALISERS: Final = {
    "start_date": date_text,
    "end_date": date_text,
    "startdate_parental": date_text,
    "percent": _number,
    "number_of_days": _number,
    "child_id": _number,
    "permisjon_id": _number,
    "absence_type": _code,
}


def normalise_absence_value(name: str, value: object) -> str:
    """The comparable text of one value of absence attribute `name` (write or read Struct)."""
    return _NORMALISERS.get(name, plain_text)(value)


def absence_changes(target: payroll.AbsenceWrite, current: payroll.Absence) -> list[FieldChange]:
    """The fields `target` sets that differ in `current` (keys excepted), sorted by API name."""
    changes = []
    for name, encode_name in struct_fields(type(target)):
        want = getattr(target, name)
        if want is None or name in _KEYS:
            continue
        new = normalise_absence_value(name, want)
        old = normalise_absence_value(name, getattr(current, name))
        if new != old:
            changes.append(FieldChange(field=encode_name, old=old, new=new))
    return sorted(changes, key=lambda change: change.field)
