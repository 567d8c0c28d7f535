"""How the 24SevenOffice Lønn simulator applies an absence write to the stored absence, the way
the API would: the absence type's rules (end date, child, parental start, permisjonId) and the
value checks. Pure but for the permisjonId counter it is given; the state is `payroll_store`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from payroll_sync.schemas.payroll import Absence, AbsenceType, StoredChild
from payroll_sync.schemas.payroll_write import AbsenceWrite
from payroll_sync.simulators.payroll_values import (
    Invalid,
    check_date,
    keep,
    parse_emp_id,
    text_or_none,
)

#: The date fields of an absence write, by the API's name (for the messages).
_API_NAMES = {
    "start_date": "startDate",
    "end_date": "endDate",
    "startdate_parental": "startdateParental",
}


def apply_absence(
    absence: Absence,
    body: AbsenceWrite,
    *,
    absence_types: Mapping[str, AbsenceType],
    children: Mapping[int, StoredChild],
    permisjon_ids: Iterator[int],
) -> None:
    """Set on `absence` what `body` sends, checked against its absence type and the employee's
    children; a leave that needs a permisjonId and has none takes the next of `permisjon_ids`.
    Raises `Invalid` before changing anything."""
    code = body.absence_type if body.absence_type is not None else absence.absence_type
    if not code:
        raise Invalid("absenceType is required")
    kind = absence_types.get(code)
    if kind is None:
        raise Invalid(f"absenceType {code!r} is not an absence type of this company")
    # A date may come as read (`YYYY-MM-DD HH:MM:SS`); the time is always midnight.
    sent = {name: _day(getattr(body, name)) for name in _API_NAMES}
    for name, value in sent.items():
        check_date(value, _API_NAMES[name])
    start = keep(sent["start_date"], absence.start_date[:10])
    end = keep(sent["end_date"], absence.end_date[:10])
    if not start:
        raise Invalid("startDate is required")
    if not end and kind.category != "leave_of_absence":
        raise Invalid(f"endDate is required for absence type {code} ({kind.category})")
    if end and end < start:
        raise Invalid("endDate is before startDate")
    child_id = keep(text_or_none(body.child_id), absence.child_id)
    if kind.category == "sick_child":
        if not child_id:
            raise Invalid(f"childId is required for absence type {code} (sick_child)")
        child = children.get(parse_emp_id(child_id, "childId"))
        if child is None or child.emp_id != absence.emp_id:
            raise Invalid(f"childId {child_id} is not a child of employee {absence.emp_id}")
    parental = keep(sent["startdate_parental"], absence.startdate_parental)
    if kind.leave_of_absence_type == "permisjonMedForeldrepenger" and not parental:
        raise Invalid(f"startdateParental is required for absence type {code}")
    percent = keep(text_or_none(body.percent, "percent"), absence.percent) or "100"
    if not 0 <= float(percent) <= 100:
        raise Invalid(f"percent must be between 0 and 100, got {percent}")
    approved = keep(text_or_none(body.approved), absence.approved)
    days = keep(text_or_none(body.number_of_days, "numberOfDays"), absence.number_of_days)
    permisjon = keep(text_or_none(body.permisjon_id), absence.permisjon_id)
    if kind.permisjon_id == "1" and not permisjon:
        permisjon = str(next(permisjon_ids))
    absence.absence_type, absence.description = code, kind.description
    absence.start_date, absence.end_date = _absence_date(start), _absence_date(end)
    absence.child_id, absence.startdate_parental = child_id, parental
    absence.percent, absence.approved, absence.number_of_days = percent, approved, days
    absence.permisjon_id = permisjon
    absence.comment = keep(body.comment, absence.comment)
    absence.external_id = keep(body.external_id, absence.external_id)


def _day(value: str | None) -> str | None:
    return None if value is None else value[:10]


def _absence_date(value: str) -> str:
    """A date as `GET /absence/v2` answers it."""
    return f"{value} 00:00:00" if value else ""
