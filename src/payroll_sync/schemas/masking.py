"""How personal data in a record's diff is kept and shown: one masking rule. Pure.

The worker masks each diff with `mask_diff` before it is stored with the outcome (kept 30 days
in Redis), and the dashboard shows stored diffs through the same functions (`dashboard/masking`),
so what Redis holds is no more than what the dashboard shows.

One table, `FIELD_KINDS`, says how each 24SevenOffice field (API names; employment fields with
the `employment.` prefix) is treated:
- `plain`:  as it is (names, dates, codes), except that any 11-digit run inside it (the shape of
  a fødselsnummer or an account number, `logs.mask_identifiers`) is masked all the same;
- `last4`:  identifiers (fødselsnummer, account number): every letter and digit but the last 4
  replaced by `•` (`•••••••1234`); values of 4 characters or fewer are masked whole;
- `hidden`: salary, address, tax, free text (it may say why someone is away): never kept; a
  stored diff says only that it changed (`•••`, or "" for empty).
A field missing from the table is treated as `last4`: a field added later cannot leak an
identifier before someone decides how to show it.

Every function here is idempotent: masking a masked diff again changes nothing, so values
stored masked and values stored before masking was introduced are shown alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

import msgspec

from payroll_sync.logs import mask_identifiers
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

#: What a stored diff holds in place of a hidden value that was not empty.
WITHHELD: Final = MASK_CHAR * 3
# Keys of a nested value (internationalID is written as a JSON object) that hold the identifier.
_ID_KEYS: Final = frozenset({"id", "ID"})


def field_kind(field: str) -> FieldKind:
    return FIELD_KINDS.get(field, "last4")


def mask_last4(value: str) -> str:
    """Every letter and digit but the last four as `•`; separators dropped.

    "20059800850" -> "•••••••0850"; "1234" -> "••••"; "" -> "". A `•` already there counts as
    a character, so a masked value stays as it is.
    """
    chars = [char for char in value if char.isalnum() or char == MASK_CHAR]
    if len(chars) <= SHOWN_DIGITS:
        return MASK_CHAR * len(chars)
    return MASK_CHAR * (len(chars) - SHOWN_DIGITS) + "".join(chars[-SHOWN_DIGITS:])


def mask_identifier(value: str) -> str:
    """`mask_last4`, but a JSON object (internationalID) keeps its other keys readable."""
    text = value.strip()
    if MASK_CHAR in text:
        # Masked already (a stored diff): only the safety net, so "NO •••••••0850" stays.
        return mask_plain(text)
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
    return mask_identifiers(value, mask_last4)


def withhold(value: str) -> str:
    """A hidden value as kept: whether there was one, not what it was."""
    return WITHHELD if value else ""


def mask_value(field: str, value: str) -> str:
    """`value` of `field` as the dashboard shows it outside a hidden field's expander."""
    kind = field_kind(field)
    if kind == "last4":
        return mask_identifier(value)
    return mask_plain(value)


def mask_change(change: FieldChange) -> FieldChange:
    """One diff entry as it may be stored: identifiers masked, hidden values withheld."""
    if field_kind(change.field) == "hidden":
        old, new = withhold(change.old), withhold(change.new)
    else:
        old, new = mask_value(change.field, change.old), mask_value(change.field, change.new)
    return FieldChange(field=change.field, old=old, new=new)


def mask_diff(diff: Iterable[FieldChange]) -> list[FieldChange]:
    """A record's diff as it may be kept with its outcome (`RecordOutcome.diff`).

    The worker calls this where it builds the outcome, so Redis never holds a fødselsnummer,
    an account number, a salary or an address in clear.
    """
    return [mask_change(change) for change in diff]
