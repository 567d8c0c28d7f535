"""Plausibility bounds: values that are well-formed but cannot be meant are refused before any
payroll write (issue 13: a salary of 1e12, a 10,000-character first name, a start date of
9999-12-31 were written).

Pure. Each check returns the value unchanged or raises `Permanent` naming the Simployer One
field to fix; the reason never holds the value (salaries, names and dates are personal data),
only the bound.

Bounds and where they come from:
- dates: 1900-01-01 to 2100-12-31 (issue 13); any date the sync writes, employee or absence;
- salary: `[limits]` in the settings (`schemas.settings.Limits`), by salary type;
- text: the longest text 24SevenOffice keeps per field. The OpenAPI file publishes no
  maxLength, so the bounds are ASSUMED (`assumptions.PAYROLL_TEXT_MAX_LENGTHS`);
- employment rate: 0 to 100 (a percentage).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Final

from payroll_sync.assumptions import PAYROLL_TEXT_MAX_LENGTHS
from payroll_sync.errors import Permanent
from payroll_sync.schemas.payroll import SalaryType
from payroll_sync.schemas.settings import Limits

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "date_within",
    "rate_within",
    "salary_within",
    "text_within",
]

EARLIEST_DATE: Final = datetime.date(1900, 1, 1)
LATEST_DATE: Final = datetime.date(2100, 12, 31)
RATE_MAX: Final = Decimal(100)


def date_within(day: datetime.date, field: str) -> datetime.date:
    """`day` when it lies in 1900-2100."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise Permanent(
            f"{field} must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}", field=field
        )
    return day


def salary_within(amount: Decimal, salary_type: SalaryType, limits: Limits, field: str) -> Decimal:
    """`amount` (NOK per month or per hour) when it is at most the settings' bound for its type."""
    bound = limits.max_monthly_salary if salary_type == "monthly" else limits.max_hourly_salary
    if amount > Decimal(str(bound)):
        per = "month" if salary_type == "monthly" else "hour"
        raise Permanent(
            f"{field} is above the plausible maximum of {bound:,.0f} NOK per {per} "
            "([limits] max_" + salary_type + "_salary)",
            field=field,
        )
    return amount


def text_within(value: str, payroll_field: str, field: str) -> str:
    """`value` when 24SevenOffice's `payroll_field` can hold it (an ASSUMED length)."""
    bound = PAYROLL_TEXT_MAX_LENGTHS.get(payroll_field)
    if bound is not None and len(value) > bound:
        raise Permanent(f"{field} is longer than {bound} characters", field=field)
    return value


def rate_within(rate: Decimal | None, field: str) -> Decimal:
    """An employment rate (a percentage) when it is a number from 0 to 100."""
    if rate is None or not 0 <= rate <= RATE_MAX:
        raise Permanent(f"{field} must be between 0 and 100", field=field)
    return rate
