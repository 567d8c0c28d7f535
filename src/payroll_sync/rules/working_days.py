"""Working days in Norway: Monday–Friday, public holidays excluded (SPEC, `numberOfDays`).

Pure. The holidays are those of the `holidays` package for Norway (Easter, Whit Monday, 17 May,
...); no holiday rule is written here. Only holidays on weekdays are subtracted, so a holiday that
falls on a weekend (or a Sunday the package lists as a holiday) is never counted twice.
"""

from __future__ import annotations

import datetime
import functools

import holidays

__all__ = ["norwegian_weekday_holidays", "working_days"]

_WEEK = 7
_WORKDAYS_PER_WEEK = 5


@functools.lru_cache(maxsize=256)
def norwegian_weekday_holidays(year: int) -> frozenset[datetime.date]:
    """Norway's public holidays of `year` that fall on Monday–Friday."""
    return frozenset(
        day for day in holidays.country_holidays("NO", years=year) if day.weekday() < 5
    )


def _weekdays(start: datetime.date, end: datetime.date) -> int:
    days = (end - start).days + 1
    weeks, rest = divmod(days, _WEEK)
    first = start.weekday()
    return weeks * _WORKDAYS_PER_WEEK + sum((first + n) % _WEEK < 5 for n in range(rest))


def working_days(start: datetime.date, end: datetime.date) -> int:
    """Monday–Friday from `start` to `end` inclusive, less Norwegian public holidays; 0 when
    `end` is before `start` (an empty period)."""
    if end < start:
        return 0
    holidays_in_period = sum(
        start <= day <= end
        for year in range(start.year, end.year + 1)
        for day in norwegian_weekday_holidays(year)
    )
    return _weekdays(start, end) - holidays_in_period
