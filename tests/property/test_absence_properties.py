"""Properties of the absence mapping that must hold for any leave.

- working days agree with a day-by-day count against the `holidays` package, and add up over
  adjoining periods;
- any valid leave maps to a body the payroll simulator accepts, and what it then answers shows
  no change (so a second sync writes nothing);
- the code choice always ends in a 24SevenOffice code or none, and an override by id always wins;
- no failure reason ever contains the leave's description.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final
from zoneinfo import ZoneInfo

import holidays
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_sync.errors import Permanent
from payroll_sync.rules.absence import absence_changes, choose_code, map_absence, working_days
from payroll_sync.schemas import payroll
from payroll_sync.schemas import simployer as s
from payroll_sync.schemas.absence_codes import ABSENCE_CODES, KNOWN_CODES
from payroll_sync.simulators.payroll_store import PayrollStore, default_absence_types

D = datetime.date
TYPES: Final = {t.code: t for t in default_absence_types()}
ONE_DAY: Final = datetime.timedelta(days=1)

days = st.dates(min_value=D(1990, 1, 1), max_value=D(2060, 12, 31))
spans = st.integers(min_value=0, max_value=800).map(lambda n: datetime.timedelta(days=n))
codes = st.sampled_from(sorted(TYPES))
grades = st.none() | st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal(100), places=3, allow_nan=False
).map(float)


def day_by_day(start: D, end: D) -> int:
    known = holidays.country_holidays("NO", years=range(start.year, end.year + 1))
    count, day = 0, start
    while day <= end:
        count += day.weekday() < 5 and day not in known
        day += ONE_DAY
    return count


@given(days, spans)
def test_working_days_agree_with_a_day_by_day_count(start: D, span: datetime.timedelta) -> None:
    assert working_days(start, start + span) == day_by_day(start, start + span)


@given(days, spans, spans)
def test_working_days_add_up_over_adjoining_periods(
    start: D, first: datetime.timedelta, second: datetime.timedelta
) -> None:
    middle, end = start + first, start + first + second + ONE_DAY
    assert working_days(start, end) == working_days(start, middle) + working_days(
        middle + ONE_DAY, end
    )
    assert 0 <= working_days(start, end) <= (end - start).days + 1


def _instant(day: D, form: str) -> str:
    """A calendar date as Simployer One may write it (SPEC "Reading the two APIs")."""
    if form == "oslo-midnight":
        midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=ZoneInfo("Europe/Oslo"))
        return midnight.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return f"{day.isoformat()}T{form}"


@settings(max_examples=150)
@given(
    code=codes,
    start=st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31)),
    span=st.integers(min_value=0, max_value=120),
    time=st.sampled_from(["00:00:00.000Z", "00:00:00.000+00:00", "12:34:56.000Z", "oslo-midnight"]),
    grade=grades,
    description=st.none() | st.text(max_size=40),
)
def test_any_valid_leave_is_accepted_and_then_unchanged(
    code: str, start: D, span: int, time: str, grade: float | None, description: str | None
) -> None:
    end = start + datetime.timedelta(days=span)
    leave = s.Leave(
        id="l1",
        employee_id="e1",
        type_id="t1",
        status="APPROVED",
        start_date=_instant(start, time),
        end_date=_instant(end, time),
        description=description,
        grade_percentage=grade,
    )
    body = map_absence(leave, emp_id=7, code=code, absence_type=TYPES[code], child_id="1")
    assert (body.start_date, body.end_date) == (start.isoformat(), end.isoformat())
    expected = Decimal(100) if grade is None else Decimal(str(grade))
    assert Decimal(str(body.percent)) == expected.quantize(Decimal("0.01"), ROUND_HALF_UP)
    store = PayrollStore(
        payroll.Dataset(
            employee=[payroll.Employee(emp_id="7")],
            child=[payroll.StoredChild(emp_id="7", child_id="1", firstname="Ola")],
            absencetypes=default_absence_types(),
        )
    )
    sent = msgspec.json.decode(msgspec.json.encode(body), type=payroll.AbsenceWrite)
    held = store.post_absence(sent)
    assert absence_changes(body, held) == []


@given(
    name=st.sampled_from([row.leave_type for row in ABSENCE_CODES]) | st.text(max_size=30),
    own=st.none() | st.text(max_size=4) | st.sampled_from(sorted(KNOWN_CODES)),
    by_name=st.none() | st.sampled_from(sorted(KNOWN_CODES)),
    by_id=st.none() | st.sampled_from(sorted(KNOWN_CODES)),
)
def test_the_code_is_a_24sevenoffice_code_and_an_override_by_id_wins(
    name: str, own: str | None, by_name: str | None, by_id: str | None
) -> None:
    overrides = {}
    if by_name is not None:
        overrides[name] = by_name
    if by_id is not None:
        overrides["lt-id"] = by_id
    choice = choose_code(s.LeaveType(id="lt-id", name=name), own, overrides)
    assert choice.code is None or choice.code in KNOWN_CODES
    assert (choice.code is None) == (choice.source is None)
    if by_id is not None:
        assert (choice.code, choice.source) == (by_id, "override")
    elif by_name is not None:
        assert (choice.code, choice.source) == (by_name, "override")


@given(
    description=st.text(min_size=1, max_size=30).map(lambda t: f"§{t}§"),
    problem=st.sampled_from(["end", "grade", "date"]),
)
def test_no_reason_contains_the_description(description: str, problem: str) -> None:
    leave = s.Leave(
        id="l1",
        employee_id="e1",
        type_id="t1",
        status="APPROVED",
        start_date=description if problem == "date" else "2025-03-10T00:00:00.000Z",
        end_date="2025-03-01T00:00:00.000Z" if problem == "end" else "2025-03-12T00:00:00.000Z",
        description=description,
        grade_percentage=250.0 if problem == "grade" else None,
    )
    with pytest.raises(Permanent) as caught:
        map_absence(leave, emp_id=1, code="04", absence_type=TYPES["04"])
    assert "§" not in caught.value.reason
    assert "§" not in str(caught.value)
