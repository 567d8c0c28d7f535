"""How the dashboard shows the values of a record's diff. Pure.

One table, `FIELD_KINDS`, says how each 24SevenOffice field (API names; employment fields with
the `employment.` prefix) is shown:
- `plain`:  as it is (names, dates, codes), except that any 11-digit run inside it (the shape of
  a fødselsnummer or an account number) is masked all the same;
- `last4`:  identifiers (fødselsnummer, account number): every letter and digit but the last 4
  replaced by `•` (`•••••••1234`); values of 4 characters or fewer are masked whole;
- `hidden`: salary, address, free text: shown only when the operator expands it (the page puts
  the value inside a collapsed `<details>`; the JSON API leaves it out); 11-digit runs masked.
A field missing from the table is treated as `last4`: a field added later cannot leak an
identifier before someone decides how to show it.
"""

from __future__ import annotations

import re
from typing import Final, Literal

import msgspec

from payroll_sync.schemas.outcomes import FieldChange

FieldKind = Literal["plain", "last4", "hidden"]

MASK_CHAR: Final = "•"
SHOWN_DIGITS: Final = 4
EMPLOYMENT: Final = "employment."

FIELD_KINDS: Final[dict[str, FieldKind]] = {
    # Employee (POST /employee/v2)
    "empId": "plain",
    "firstname": "plain",
    "lastname": "plain",
    "email": "plain",
    "email_copy": "plain",
    "countryCode": "plain",
    "bic": "plain",
    "employee_date": "plain",
    "salary_type": "plain",
    "salary_valid_from": "plain",
    "employment_rate": "plain",
    "employment_rate_valid_from": "plain",
    "hours_per_week": "plain",
    "hours_per_week_valid_from": "plain",
    "vacation_percent": "plain",
    "vacation_percent_valid_from": "plain",
    "vacation_days": "plain",
    "hidden": "plain",
    "tax_resident_country": "plain",
    "continental_shelf": "plain",
    "personnr": "last4",
    "internationalID": "last4",
    "account": "last4",
    "clearingno": "last4",
    "salary": "hidden",
    "postaddress": "hidden",
    "zipcode": "hidden",
    "city": "hidden",
    "telefon": "hidden",
    "taxtable": "hidden",
    "percentage_tax_main_employer": "hidden",
    "percentage_tax_bi_employer": "hidden",
    # Sent back as read in whole-record updates, never written by us: tax and cost data.
    "taxexemption": "hidden",
    "accounting": "hidden",
    # Employment (POST /employment/v2/{empId}), shown with the prefix
    EMPLOYMENT + "employment_id": "plain",
    EMPLOYMENT + "primary_employment": "plain",
    EMPLOYMENT + "startdate": "plain",
    EMPLOYMENT + "enddate": "plain",
    EMPLOYMENT + "enddate_reason": "plain",
    EMPLOYMENT + "employment_form": "plain",
    EMPLOYMENT + "profession_code": "plain",
    EMPLOYMENT + "employment_rate": "plain",
    EMPLOYMENT + "employment_type": "plain",
    EMPLOYMENT + "enterprise_number": "plain",
    EMPLOYMENT + "working_times": "plain",
    # Absence (POST /absence/v2); the comment may say why someone is away (health data)
    "serialNo": "plain",
    "startDate": "plain",
    "endDate": "plain",
    "absenceType": "plain",
    "percent": "plain",
    "approved": "plain",
    "childId": "plain",
    "numberOfDays": "plain",
    "permisjonId": "plain",
    "startdateParental": "plain",
    "externalId": "plain",
    "comment": "hidden",
    # Read-only absence fields, sent back as read in whole-record updates.
    "description": "plain",
    "requestDate": "plain",
    "lastChanged": "plain",
    "requestMotivation": "hidden",
}

# 11 digits, maybe with separators: a fødselsnummer, D-nummer or Norwegian account number.
_ELEVEN_DIGITS: Final = re.compile(r"(?<!\d)\d(?:[ .-]?\d){10}(?!\d)")
# Keys of a nested value (internationalID is written as a JSON object) that hold the identifier.
_ID_KEYS: Final = frozenset({"id", "ID"})


class ShownChange(msgspec.Struct, kw_only=True, frozen=True):
    """One diff entry as a page shows it: `old` and `new` already masked unless `hidden`."""

    field: str
    kind: FieldKind
    old: str
    new: str


def field_kind(field: str) -> FieldKind:
    return FIELD_KINDS.get(field, "last4")


def mask_last4(value: str) -> str:
    """Every letter and digit but the last four as `•`; separators dropped.

    "20059800850" -> "•••••••0850"; "1234" -> "••••"; "" -> "".
    """
    chars = [char for char in value if char.isalnum()]
    if len(chars) <= SHOWN_DIGITS:
        return MASK_CHAR * len(chars)
    return MASK_CHAR * (len(chars) - SHOWN_DIGITS) + "".join(chars[-SHOWN_DIGITS:])


def mask_identifier(value: str) -> str:
    """`mask_last4`, but a JSON object (internationalID) keeps its other keys readable."""
    text = value.strip()
    if text.startswith("{"):
        try:
            parsed = msgspec.json.decode(text)
        except msgspec.DecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return " ".join(
                mask_last4(str(item)) if key in _ID_KEYS else mask_plain(str(item))
                for key, item in parsed.items()
                if item not in (None, "")
            )
    return mask_last4(text)


def mask_plain(value: str) -> str:
    """The value, with any identifier-shaped run of 11 digits masked (a safety net)."""
    return _ELEVEN_DIGITS.sub(lambda match: mask_last4(match.group()), value)


def shown_change(change: FieldChange) -> ShownChange:
    kind = field_kind(change.field)
    if kind == "last4":
        old, new = mask_identifier(change.old), mask_identifier(change.new)
    elif kind == "plain":
        old, new = mask_plain(change.old), mask_plain(change.new)
    else:
        # Shown only when expanded, and even then never a whole identifier.
        old, new = mask_plain(change.old), mask_plain(change.new)
    return ShownChange(field=change.field, kind=kind, old=old, new=new)


def api_change(shown: ShownChange) -> dict[str, object]:
    """A diff entry for the JSON API: masked like the page, and hidden values left out."""
    if shown.kind == "hidden":
        return {"field": shown.field, "hidden": True}
    return {"field": shown.field, "old": shown.old, "new": shown.new}
