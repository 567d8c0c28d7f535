"""The plausibility bounds (issue 13): each refuses with the field named, never the value."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from payroll_sync.errors import Permanent
from payroll_sync.rules.absence import map_absence
from payroll_sync.rules.plausibility import (
    date_within,
    rate_within,
    salary_within,
    text_within,
)
from payroll_sync.schemas import simployer as s
from payroll_sync.schemas.settings import Limits
from payroll_sync.simulators.payroll_store import default_absence_types

LIMITS = Limits(max_monthly_salary=100_000.0, max_hourly_salary=1_000.0)


@pytest.mark.parametrize(
    "day", [datetime.date(1900, 1, 1), datetime.date(2024, 8, 1), datetime.date(2100, 12, 31)]
)
def test_dates_from_1900_to_2100_pass(day: datetime.date) -> None:
    assert date_within(day, "employment.startDate") == day


@pytest.mark.parametrize(
    "day", [datetime.date(1899, 12, 31), datetime.date(2101, 1, 1), datetime.date(9999, 12, 31)]
)
def test_dates_outside_1900_to_2100_fail_naming_the_field(day: datetime.date) -> None:
    with pytest.raises(Permanent) as caught:
        date_within(day, "employment.startDate")
    assert caught.value.field == "employment.startDate"
    assert caught.value.reason == "employment.startDate must be between 1900 and 2100"


@pytest.mark.parametrize(
    ("amount", "salary_type", "ok"),
    [
        ("100000", "monthly", True),
        ("100000.01", "monthly", False),
        ("1E+12", "monthly", False),
        ("1000", "hourly", True),
        ("1000.01", "hourly", False),
        ("50000", "hourly", False),  # a monthly figure under an hourly payout period
        ("0", "monthly", True),
    ],
)
def test_salary_bounds_by_type(amount: str, salary_type: str, ok: bool) -> None:
    value = Decimal(amount)
    if ok:
        assert salary_within(value, salary_type, LIMITS, "compensation.amount") == value  # type: ignore[arg-type]
        return
    with pytest.raises(Permanent) as caught:
        salary_within(value, salary_type, LIMITS, "compensation.amount")  # type: ignore[arg-type]
    assert caught.value.field == "compensation.amount"
    assert f"max_{salary_type}_salary" in caught.value.reason
    assert amount not in caught.value.reason


def test_text_bounds_are_the_assumed_payroll_lengths() -> None:
    assert text_within("K" * 100, "firstname", "firstName") == "K" * 100
    with pytest.raises(Permanent) as caught:
        text_within("K" * 10_000, "firstname", "firstName")
    assert (caught.value.field, caught.value.reason) == (
        "firstName",
        "firstName is longer than 100 characters",
    )
    # A field with no known bound is not bounded here.
    assert text_within("x" * 1000, "telefon", "workPhone") == "x" * 1000


@pytest.mark.parametrize("rate", [Decimal(0), Decimal("37.5"), Decimal(100)])
def test_rates_from_0_to_100_pass(rate: Decimal) -> None:
    assert rate_within(rate, "employment.rate") == rate


@pytest.mark.parametrize("rate", [Decimal("-0.01"), Decimal("100.01"), None])
def test_rates_outside_0_to_100_fail(rate: Decimal | None) -> None:
    with pytest.raises(Permanent) as caught:
        rate_within(rate, "employment.rate")
    assert caught.value.field == "employment.rate"


def test_limits_are_settings_with_defaults() -> None:
    assert Limits() == Limits(max_monthly_salary=3_000_000.0, max_hourly_salary=20_000.0)


# ------------------------------------------------------------------ absences: only the date bound


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": "9999-12-31T00:00:00.000Z"}, "endDate"),
        ({"start_date": "1899-12-31T00:00:00.000Z"}, "startDate"),
    ],
)
def test_an_absence_outside_1900_to_2100_fails_naming_the_field(
    changes: dict[str, str], field: str
) -> None:
    dates = {"start_date": "2025-09-01T00:00:00.000Z", "end_date": "2025-09-12T00:00:00.000Z"}
    leave = s.Leave(
        id="leave-1",
        employee_id="e1",
        type_id="lt1",
        status="APPROVED",
        **(dates | changes),  # type: ignore[arg-type]
    )
    vacation = next(t for t in default_absence_types() if t.code == "04")
    with pytest.raises(Permanent) as caught:
        map_absence(leave, emp_id=1001, code="04", absence_type=vacation)
    assert (caught.value.field, caught.value.reason) == (
        field,
        f"{field} must be between 1900 and 2100",
    )
