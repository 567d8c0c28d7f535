"""Properties of the comparison that must hold for any values we may send.

"As the API would store it": every value becomes a string, the two-decimal fields as "x.00",
whole numbers without decimals; the answer may differ in form only (case of emails and codes,
a time after a date), which is never a change.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import msgspec
import pycountry
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_sync.assumptions import PAYROLL_DECIMAL_FIELDS
from payroll_sync.rules.compare import employee_changes, employment_changes, only_fields
from payroll_sync.schemas import payroll
from payroll_sync.schemas.payroll import EmployeeWrite, EmploymentWrite, InternationalIdWrite

# ------------------------------------------------------------------ what we may send


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


amounts = st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2)
numbers = amounts.flatmap(
    lambda d: st.sampled_from(
        [f"{d:.2f}", str(d), float(d), *([int(d), str(int(d))] if d == int(d) else [])]
    )
)
dates = st.just("") | st.dates(datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)).map(
    datetime.date.isoformat
)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)
codes = st.just("") | st.sampled_from(sorted(c.alpha_2 for c in pycountry.countries))
digits = st.just("") | st.from_regex(r"[0-9]{11}", fullmatch=True)
accounts = digits | st.from_regex(r"[A-Z]{2}[0-9]{2}[0-9A-Z]{11,30}", fullmatch=True)
emails = st.just("") | st.emails()

international_ids = st.builds(
    InternationalIdWrite,
    country_code=optional(codes),
    id=optional(digits),
    type=optional(st.sampled_from(["socialSecurityNumber", "passnummer"])),
)
employee_targets = st.builds(
    EmployeeWrite,
    emp_id=optional(st.integers(1, 10**9).flatmap(lambda n: st.sampled_from([n, str(n)]))),
    email=optional(emails),
    firstname=optional(texts),
    lastname=optional(texts),
    personnr=optional(digits),
    vacation_days=optional(st.sampled_from(["25", 25, "0"])),
    international_id=optional(international_ids),
    postaddress=optional(texts),
    city=optional(texts),
    zipcode=optional(st.from_regex(r"[0-9]{4}", fullmatch=True) | texts),
    country_code=optional(codes),
    account=optional(accounts),
    bic=optional(st.just("") | st.from_regex(r"[A-Z]{6}[0-9A-Z]{2}([0-9A-Z]{3})?", fullmatch=True)),
    clearingno=optional(texts),
    salary_valid_from=optional(dates),
    salary_type=optional(st.sampled_from(["monthly", "hourly"])),
    salary=optional(numbers),
)
employment_targets = st.builds(
    EmploymentWrite,
    startdate=optional(dates),
    enddate=optional(dates),
    enddate_reason=optional(st.sampled_from(["", "arbeidstakerHarSagtOppSelv"])),
    employment_form=optional(st.sampled_from(["fast", "midlertidig"])),
    profession_code=optional(st.just("") | st.from_regex(r"[0-9]{7}", fullmatch=True)),
    employment_rate=optional(numbers),
    employment_type=optional(st.just("ordinaertArbeidsforhold")),
    working_times=optional(st.just("ikkeSkift")),
)

# ------------------------------------------------------------------ what the API keeps


def stored_text(name: str, value: object, restyle: bool) -> str:
    """The API's string for a value we sent, optionally in another form that means the same."""
    if name in PAYROLL_DECIMAL_FIELDS:
        return f"{Decimal(str(value)):.2f}"
    if name in ("vacation_days", "emp_id"):
        return str(int(Decimal(str(value))))
    text = str(value)
    if restyle and name in ("startdate", "enddate", "salary_valid_from") and text:
        return f"{text} 00:00:00"
    if restyle and name in ("email", "country_code", "bic") and text.isascii():
        return text.swapcase()
    return text


def store(current: Any, body: msgspec.Struct, restyle: bool) -> Any:
    """`current` after the API applied `body` (fields left out stay as they were)."""
    changes: dict[str, object] = {}
    for name in body.__struct_fields__:
        value = getattr(body, name)
        if value is None:
            continue
        if isinstance(value, msgspec.Struct):
            changes[name] = store(getattr(current, name), value, restyle)
        else:
            changes[name] = stored_text(name, value, restyle)
    return msgspec.structs.replace(current, **changes)


# ------------------------------------------------------------------ properties


@settings(max_examples=300, deadline=None)
@given(target=employee_targets, restyle=st.booleans(), junk=st.text(max_size=5))
def test_an_employee_as_the_api_stores_it_is_unchanged(
    target: EmployeeWrite, restyle: bool, junk: str
) -> None:
    # Fields we do not send hold anything at all: they are not compared.
    before = payroll.Employee(emp_id="1", firstname=junk, salary=junk, telefon=junk)
    assert employee_changes(target, store(before, target, restyle)) == []


@settings(max_examples=300, deadline=None)
@given(target=employment_targets, restyle=st.booleans())
def test_an_employment_as_the_api_stores_it_is_unchanged(
    target: EmploymentWrite, restyle: bool
) -> None:
    before = payroll.Employment(employment_id="1-1", startdate="1999-01-01", enddate="x")
    assert employment_changes(target, store(before, target, restyle)) == []


@settings(max_examples=200, deadline=None)
@given(target=employee_targets, current=employee_targets, restyle=st.booleans())
def test_writing_only_the_changes_converges(
    target: EmployeeWrite, current: EmployeeWrite, restyle: bool
) -> None:
    # Whatever payroll holds, sending only the reported fields leaves nothing to change.
    held = store(payroll.Employee(emp_id="1"), current, restyle=False)
    changed = employee_changes(target, held)
    after = store(held, only_fields(target, changed), restyle)
    assert employee_changes(target, after) == []


@settings(max_examples=200, deadline=None)
@given(target=employee_targets)
def test_every_sent_field_differs_from_junk(target: EmployeeWrite) -> None:
    junk = payroll.Employee(
        emp_id="0",
        email="\x01",
        firstname="\x01",
        lastname="\x01",
        personnr="\x01",
        vacation_days="\x01",
        international_id=payroll.InternationalId(country_code="\x01", id="\x01", type="\x01"),
        postaddress="\x01",
        city="\x01",
        zipcode="\x01",
        country_code="\x01",
        account="\x01",
        bic="\x01",
        clearingno="\x01",
        salary_valid_from="\x01",
        salary_type="\x01",
        salary="\x01",
    )
    sent = set()
    for f in msgspec.structs.fields(target):
        value = getattr(target, f.name)
        # An internationalID with no part set sends nothing to compare.
        if isinstance(value, msgspec.Struct):
            value = None if all(v is None for v in msgspec.structs.astuple(value)) else value
        if value is not None:
            sent.add(f.encode_name)
    assert set(employee_changes(target, junk)) == sent
