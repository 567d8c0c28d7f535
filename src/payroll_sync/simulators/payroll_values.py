"""How the 24SevenOffice Lønn simulator checks written values and turns them into the API's
strings, and the errors its write rules raise (free of HTTP and of the company's state).

`Invalid` is a 400, `Conflict` a 409 and `NotFound` a 404; each message names the field.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from payroll_sync.assumptions import PAYROLL_DECIMAL_FIELDS

OSLO = ZoneInfo("Europe/Oslo")


class Invalid(ValueError):
    """400: the object is invalid; the message names the field."""


class Conflict(ValueError):
    """409: the object already exists."""


class NotFound(LookupError):
    """404: no such employee (or absence type)."""


def parse_emp_id(raw: object, name: str = "empId") -> int:
    text = str(raw).strip()
    # str.isdigit also takes "²" and other scripts' digits, which int() refuses or reads.
    if not (text.isascii() and text.isdigit()):
        raise Invalid(f"{name} must be an integer, got {raw!r}")
    return int(text)


def check_date(value: str | None, name: str) -> None:
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise Invalid(f"{name}: {value!r} is not a valid date (YYYY-MM-DD)") from None


#: Fields the OpenAPI file describes as numbers; any other field is free text.
NUMBER_FIELDS = PAYROLL_DECIMAL_FIELDS | {
    "vacation_days",
    "percent",
    "numberOfDays",
    "accounting.percentage",
}


def as_text(name: str, value: object) -> str:
    """The API's string for a written value: numbers as it prints them, decimals with two."""
    if isinstance(value, bool) or value is None:
        raise Invalid(f"{name}: unexpected value {value!r}")
    if isinstance(value, str) and name not in NUMBER_FIELDS:
        return value
    if isinstance(value, str) and value.strip() == "":
        return ""
    if not isinstance(value, (int, float, str)):
        raise Invalid(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{name} must be a number, got {value!r}") from None
    if name in PAYROLL_DECIMAL_FIELDS:
        return f"{number:.2f}"
    return str(int(number)) if number.is_integer() else str(number)


def text_or_none(value: object, name: str | None = None) -> str | None:
    """A written value as text, None when not sent; `name` makes it checked as `as_text` does."""
    if value is None:
        return None
    return as_text(name, value) if name is not None else str(value)


def keep(new: str | None, old: str) -> str:
    """The stored value after a write: what was sent, or the old value when nothing was."""
    return old if new is None else new


def now_text() -> str:
    """The API's timestamp format, in Norwegian time."""
    return datetime.now(OSLO).strftime("%Y-%m-%d %H:%M:%S")
