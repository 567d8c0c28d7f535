"""What differs between the payroll values we would write and those 24SevenOffice holds. Pure.

Only fields the write body sets (not None) are compared. Both sides are normalised first, so a
value that is only formatted differently is not a change:
- every value is text, stripped; an absent value and "" are the same (empty);
- numbers compare as decimals ("100.00" == 100 == "100"); the two-decimal fields as the API
  keeps them, rounded to two decimals, so a value it cannot store never shows as a change;
- dates compare as YYYY-MM-DD ("2024-08-01 00:00:00" == "2024-08-01"; "0000-00-00" is empty);
- emails compare case-insensitively: a change of case only is not worth a write;
- country codes case-insensitively; account, BIC and identity numbers without spaces, dots or
  dashes and case-insensitively.
Field names returned are the payroll API's (the msgspec encode names, e.g. "internationalID").
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, TypeVar

import msgspec

from payroll_sync.assumptions import PAYROLL_DECIMAL_FIELDS
from payroll_sync.schemas import payroll
from payroll_sync.schemas.outcomes import FieldChange
from payroll_sync.schemas.payroll import EmployeeWrite, EmploymentWrite

__all__ = [
    "employee_changes",
    "employment_changes",
    "identity_conflict",
    "match_employment",
    "normalise",
    "only_fields",
    "struct_fields",
]

T = TypeVar("T", EmployeeWrite, EmploymentWrite)

CENT: Final = Decimal("0.01")
_SEPARATORS: Final = re.compile(r"[\s.\-]")
_ISO_DATE: Final = re.compile(r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ].*)?", re.DOTALL)


def plain_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def decimal_or_text(value: object) -> object:
    raw = plain_text(value)
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return raw  # not a number (or empty): compare the text
    return number if number.is_finite() else raw


def _two_decimals(value: object) -> object:
    number = decimal_or_text(value)
    return number.quantize(CENT, ROUND_HALF_UP) if isinstance(number, Decimal) else number


def date_text(value: object) -> str:
    raw = plain_text(value)
    if raw.startswith("0000-00-00"):  # how some date columns say "no date"
        return ""
    match = _ISO_DATE.fullmatch(raw)
    if match is not None:
        try:
            return datetime.date.fromisoformat(match["date"]).isoformat()
        except ValueError:
            pass
    return raw


def _caseless(value: object) -> str:
    return plain_text(value).casefold()


def _code(value: object) -> str:
    return plain_text(value).upper()


def _compact(value: object) -> str:
    return _SEPARATORS.sub("", plain_text(value)).upper()


#: Attribute name (read and write Structs share them) -> normaliser; anything else is text.
NORMALISERS: Final[dict[str, Callable[[object], object]]] = {
    **dict.fromkeys(PAYROLL_DECIMAL_FIELDS, _two_decimals),
    "emp_id": decimal_or_text,
    "vacation_days": decimal_or_text,
    "primary_employment": decimal_or_text,
    "hidden": decimal_or_text,
    **dict.fromkeys(
        (
            "employee_date",
            "salary_valid_from",
            "employment_rate_valid_from",
            "hours_per_week_valid_from",
            "vacation_percent_valid_from",
            "startdate",
            "enddate",
        ),
        date_text,
    ),
    "email": _caseless,
    "email_copy": _caseless,
    "country_code": _code,  # Employee.countryCode and internationalID.countryCode
    "tax_resident_country": _code,
    "account": _compact,
    "bic": _compact,
    "personnr": _compact,
    "id": _compact,  # internationalID.ID
}


def normalise(name: str, value: object) -> object:
    """The comparable form of one value of attribute `name` (write or read Struct)."""
    return NORMALISERS.get(name, plain_text)(value)


@functools.cache
def struct_fields(type_: type[msgspec.Struct]) -> tuple[tuple[str, str], ...]:
    """(attribute name, API name) of each field of `type_`, worked out once per type.

    `msgspec.structs.fields` evaluates the class's annotations (strings, under `from __future__
    import annotations`) on every call: uncached it was a third of a worker's CPU per record.
    """
    return tuple((info.name, info.encode_name) for info in msgspec.structs.fields(type_))


def _differs(target: msgspec.Struct, current: msgspec.Struct) -> list[str]:
    changed = []
    for name, encode_name in struct_fields(type(target)):
        want = getattr(target, name)
        if want is None:
            continue  # not sent: payroll keeps its value, nothing to compare
        have = getattr(current, name)
        if isinstance(want, msgspec.Struct):
            differs = bool(_differs(want, have))
        else:
            differs = normalise(name, want) != normalise(name, have)
        if differs:
            changed.append(encode_name)
    return sorted(changed)


def employee_changes(target: EmployeeWrite, current: payroll.Employee) -> list[str]:
    """API names of the employee fields `target` sets that differ in `current`, sorted."""
    return _differs(target, current)


def employment_changes(target: EmploymentWrite, current: payroll.Employment) -> list[str]:
    """Names of the employment fields `target` sets that differ in `current`, sorted."""
    return _differs(target, current)


def field_changes(
    target: msgspec.Struct,
    current: msgspec.Struct | None,
    names: Iterable[str] | None = None,
    *,
    prefix: str = "",
) -> list[FieldChange]:
    """Old and new text of the fields `names` (API names; default every field `target` sets).

    For the record's outcome, which the dashboard shows masked; never for logs.
    """
    wanted = None if names is None else set(names)
    out = []
    for name, encode_name in struct_fields(type(target)):
        value = getattr(target, name)
        if value is None or (wanted is not None and encode_name not in wanted):
            continue
        old = getattr(current, name, None) if current is not None else None
        out.append(FieldChange(field=prefix + encode_name, old=_shown(old), new=_shown(value)))
    return sorted(out, key=lambda change: change.field)


def comparable_values(body: msgspec.Struct, *, prefix: str = "") -> dict[str, str]:
    """API name (with `prefix`) -> comparable text of each field `body` sets: what payroll holds
    for those fields once `body` is written. Nested Structs whole, as JSON. Pure.

    The one form in which what we wrote is remembered (`runs.written`) and compared later (the
    drift report, the brake's employment endings): two spellings of one value agree."""
    out: dict[str, str] = {}
    for name, encode_name in struct_fields(type(body)):
        value = getattr(body, name)
        if value is None:
            continue
        if isinstance(value, msgspec.Struct):
            out[prefix + encode_name] = _shown(value)
        else:
            out[prefix + encode_name] = str(normalise(name, value))
    return out


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, msgspec.Struct):
        return msgspec.json.encode(value).decode()
    return str(value)


def only_fields(body: T, names: Iterable[str]) -> T:
    """A copy of `body` with only `names` set (API or attribute names); nested ones whole."""
    attributes = _attributes(type(body))
    kept: dict[str, object] = {}
    for name in names:
        if name not in attributes:
            raise ValueError(f"{type(body).__name__} has no field {name!r}")
        kept[attributes[name]] = getattr(body, attributes[name])
    return msgspec.structs.replace(type(body)(), **kept)


@functools.cache
def _attributes(type_: type[msgspec.Struct]) -> Mapping[str, str]:
    """API name and attribute name -> attribute name, of each field of `type_`."""
    attributes: dict[str, str] = {}
    for name, encode_name in struct_fields(type_):
        attributes[encode_name] = name
        attributes[name] = name
    return attributes


def identity_conflict(target: EmployeeWrite, current: payroll.Employee) -> bool:
    """True when payroll already holds another person number for this employee (SPEC)."""
    held = normalise("personnr", current.personnr)
    return (
        bool(held)
        and target.personnr is not None
        and held != normalise("personnr", target.personnr)
    )


def match_employment(
    current: Sequence[payroll.Employment], *, linked_id: str | None, startdate: str
) -> payroll.Employment | None:
    """The payroll employment to update: the remembered link, else the same start date, else
    None (create one). A link to an employment that is gone falls back to the start date."""
    if linked_id:
        for employment in current:
            if employment.employment_id == linked_id:
                return employment
    wanted = normalise("startdate", startdate)
    if not wanted:
        return None
    for employment in current:
        if normalise("startdate", employment.startdate) == wanted:
            return employment
    return None
