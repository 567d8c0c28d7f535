"""Comparing what we would write with what 24SevenOffice holds: normalisation, the names
returned, partial bodies, the identity check and which employment is matched."""

from __future__ import annotations

from typing import Any, Final

import msgspec
import pytest

from payroll_sync.rules.compare import (
    employee_changes,
    employment_changes,
    field_changes,
    identity_conflict,
    match_employment,
    only_fields,
)
from payroll_sync.schemas import payroll
from payroll_sync.schemas.payroll import EmployeeWrite, EmploymentWrite, InternationalIdWrite

SSN: Final = "15108695088"


def _stored(**fields: Any) -> payroll.Employee:
    return payroll.Employee(emp_id="1001", **fields)


# (attribute, what we send, what the API holds, is it a change?)
EMPLOYEE_VALUES: Final[list[Any]] = [
    # numbers compare as decimals
    pytest.param("salary", "52000.00", "52000.00", False, id="salary-same"),
    pytest.param("salary", 52000, "52000.00", False, id="salary-int"),
    pytest.param("salary", 52000.0, "52000.00", False, id="salary-float"),
    pytest.param("salary", "52000", "52000.00", False, id="salary-no-decimals"),
    pytest.param("salary", "52000.001", "52000.00", False, id="salary-beyond-two-decimals"),
    pytest.param("salary", "52000.00", "52000.50", True, id="salary-changed"),
    pytest.param("salary", "", "", False, id="salary-both-empty"),
    pytest.param("salary", "", "0.00", True, id="salary-cleared"),
    pytest.param("salary", "0.00", "", True, id="salary-zero-is-not-empty"),
    pytest.param("vacation_days", "25", "25", False, id="vacation-days"),
    pytest.param("vacation_days", 25, "25.00", False, id="vacation-days-decimal"),
    pytest.param("vacation_days", "25", "20", True, id="vacation-days-changed"),
    pytest.param("emp_id", "1001", "01001", False, id="emp-id"),
    # dates
    pytest.param("salary_valid_from", "2024-08-01", "2024-08-01", False, id="date-same"),
    pytest.param("salary_valid_from", "2024-08-01", "2024-08-01 00:00:00", False, id="date-time"),
    pytest.param("salary_valid_from", "2024-08-01", "2024-08-02", True, id="date-changed"),
    pytest.param("salary_valid_from", "", "0000-00-00", False, id="date-zero-is-empty"),
    pytest.param("salary_valid_from", "2024-08-01", "", True, id="date-set"),
    pytest.param("salary_valid_from", "2024-08-01", "20240801", True, id="date-not-iso"),
    # text: stripped, case-sensitive
    pytest.param("firstname", "Kari", "Kari ", False, id="text-whitespace"),
    pytest.param("firstname", "Kari", "kari", True, id="text-case"),
    pytest.param("postaddress", "", "", False, id="text-both-empty"),
    pytest.param("postaddress", "", "Storgata 1", True, id="text-cleared"),
    pytest.param("zipcode", "0150", "150", True, id="zipcode-is-text"),
    # emails and codes ignore case
    pytest.param("email", "Kari@Firma.no", "kari@firma.no", False, id="email-case"),
    pytest.param("email", " kari@firma.no", "kari@firma.no", False, id="email-space"),
    pytest.param("email", "kari@firma.no", "kari@gmail.com", True, id="email-changed"),
    pytest.param("country_code", "NO", "no", False, id="country-case"),
    pytest.param("country_code", "NO", "SE", True, id="country-changed"),
    # identifiers without separators
    pytest.param("account", "86011117947", "8601.11.17947", False, id="account-dots"),
    pytest.param(
        "account", "DE89370400440532013000", "de89 3704 0044 0532 0130 00", False, id="iban-spaces"
    ),
    pytest.param("account", "86011117947", "86011117948", True, id="account-changed"),
    pytest.param("bic", "DEUTDEFF", "deutdeff", False, id="bic-case"),
    pytest.param("personnr", SSN, "151086 95088", False, id="personnr-space"),
    pytest.param("salary_type", "monthly", "monthly", False, id="enum"),
    pytest.param("salary_type", "monthly", "hourly", True, id="enum-changed"),
]


@pytest.mark.parametrize(("name", "sent", "held", "changed"), EMPLOYEE_VALUES)
def test_employee_values(name: str, sent: object, held: str, changed: bool) -> None:
    target = msgspec.structs.replace(EmployeeWrite(), **{name: sent})
    current = _stored(**{name: held}) if name != "emp_id" else payroll.Employee(emp_id=held)
    api_name = next(f.encode_name for f in msgspec.structs.fields(target) if f.name == name)
    assert employee_changes(target, current) == ([api_name] if changed else [])


def test_fields_we_do_not_send_are_not_compared() -> None:
    current = _stored(firstname="Kari", salary="52000.00", telefon="+47 400 00 000")
    assert employee_changes(EmployeeWrite(), current) == []
    assert employee_changes(EmployeeWrite(firstname="Kari"), current) == []


def test_names_are_the_apis_and_sorted() -> None:
    target = EmployeeWrite(
        salary="1.00",
        country_code="SE",
        international_id=InternationalIdWrite(country_code="SE"),
        firstname="Ola",
        emp_id="1001",
    )
    current = _stored(firstname="Kari", country_code="NO", salary="2.00")
    assert employee_changes(target, current) == [
        "countryCode",
        "firstname",
        "internationalID",
        "salary",
    ]


@pytest.mark.parametrize(
    ("sent", "held", "changed"),
    [
        pytest.param(
            InternationalIdWrite(type="socialSecurityNumber", id=SSN, country_code="NO"),
            payroll.InternationalId(type="socialSecurityNumber", id=SSN, country_code="NO"),
            False,
            id="same",
        ),
        pytest.param(
            InternationalIdWrite(type="socialSecurityNumber", id=SSN, country_code="NO"),
            payroll.InternationalId(type="socialSecurityNumber", id=SSN, country_code="no"),
            False,
            id="country-case",
        ),
        pytest.param(
            InternationalIdWrite(type="socialSecurityNumber", id=SSN, country_code="NO"),
            payroll.InternationalId(),
            True,
            id="a-new-employee-holds-the-default-passnummer",
        ),
        pytest.param(
            InternationalIdWrite(type="socialSecurityNumber", id=SSN, country_code=""),
            payroll.InternationalId(type="socialSecurityNumber", id=SSN, country_code="SE"),
            True,
            id="country-cleared",
        ),
        pytest.param(
            InternationalIdWrite(id=SSN),
            payroll.InternationalId(type="passnummer", id=SSN, country_code="SE"),
            False,
            id="only-the-sent-subfields",
        ),
    ],
)
def test_international_id_compares_its_sent_parts(
    sent: InternationalIdWrite, held: payroll.InternationalId, changed: bool
) -> None:
    current = _stored()
    current.international_id = held
    target = EmployeeWrite(international_id=sent)
    assert employee_changes(target, current) == (["internationalID"] if changed else [])


EMPLOYMENT_VALUES: Final[list[Any]] = [
    pytest.param("employment_rate", "100.00", "100", False, id="rate-int-text"),
    pytest.param("employment_rate", 100, "100.00", False, id="rate-number"),
    pytest.param("employment_rate", "60.50", "60.5", False, id="rate-decimal"),
    pytest.param("employment_rate", "60.50", "80.00", True, id="rate-changed"),
    pytest.param("startdate", "2024-08-01", "2024-08-01", False, id="startdate"),
    pytest.param("startdate", "2024-08-01", "2024-08-01 00:00:00", False, id="startdate-time"),
    pytest.param("enddate", "", "", False, id="open"),
    pytest.param("enddate", "", "2025-01-31", True, id="end-date-cleared"),
    pytest.param("enddate", "2025-01-31", "", True, id="end-date-set"),
    pytest.param("enddate_reason", "", "", False, id="no-reason"),
    pytest.param(
        "enddate_reason",
        "arbeidstakerHarSagtOppSelv",
        "arbeidsgiverHarSagtOppArbeidstaker",
        True,
        id="reason-changed",
    ),
    pytest.param("profession_code", "0111101", "0111101", False, id="profession-code"),
    pytest.param("profession_code", "", "2130102", True, id="profession-code-cleared"),
    pytest.param("employment_form", "fast", "midlertidig", True, id="form"),
    pytest.param("working_times", "ikkeSkift", " ikkeSkift", False, id="whitespace"),
]


@pytest.mark.parametrize(("name", "sent", "held", "changed"), EMPLOYMENT_VALUES)
def test_employment_values(name: str, sent: object, held: str, changed: bool) -> None:
    target = msgspec.structs.replace(EmploymentWrite(), **{name: sent})
    current = payroll.Employment(employment_id="1001-1", **{name: held})
    assert employment_changes(target, current) == ([name] if changed else [])


def test_employment_changes_are_sorted() -> None:
    target = EmploymentWrite(startdate="2024-08-01", enddate="2025-01-31", employment_rate="50")
    current = payroll.Employment(employment_id="1", startdate="2024-08-01", employment_rate="100")
    assert employment_changes(target, current) == ["employment_rate", "enddate"]


# ------------------------------------------------------------------ only_fields

FULL_EMPLOYEE: Final = EmployeeWrite(
    emp_id="1001",
    firstname="Kari",
    salary="52000.00",
    international_id=InternationalIdWrite(type="socialSecurityNumber", id=SSN, country_code="NO"),
    country_code="NO",
)


def test_only_fields_keeps_the_named_fields_and_nested_ones_whole() -> None:
    body = only_fields(FULL_EMPLOYEE, ["internationalID", "salary"])
    assert body == EmployeeWrite(salary="52000.00", international_id=FULL_EMPLOYEE.international_id)
    assert msgspec.json.decode(msgspec.json.encode(body)) == {
        "salary": "52000.00",
        "internationalID": {"countryCode": "NO", "ID": SSN, "type": "socialSecurityNumber"},
    }


def test_only_fields_takes_attribute_names_too() -> None:
    assert only_fields(FULL_EMPLOYEE, ["country_code", "countryCode"]) == EmployeeWrite(
        country_code="NO"
    )


def test_only_fields_of_nothing_is_an_empty_body() -> None:
    assert only_fields(FULL_EMPLOYEE, []) == EmployeeWrite()


def test_only_fields_of_an_employment() -> None:
    full = EmploymentWrite(startdate="2024-08-01", enddate="", employment_rate="100.00")
    assert only_fields(full, employment_changes(full, payroll.Employment(employment_id="1"))) == (
        EmploymentWrite(startdate="2024-08-01", employment_rate="100.00")
    )


def test_only_fields_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="no field 'salry'"):
        only_fields(FULL_EMPLOYEE, ["salry"])


def test_only_fields_does_not_touch_the_original() -> None:
    only_fields(FULL_EMPLOYEE, ["salary"])
    assert FULL_EMPLOYEE.firstname == "Kari"


# ------------------------------------------------------------------ identity


@pytest.mark.parametrize(
    ("sent", "held", "conflict"),
    [
        pytest.param(SSN, "", False, id="payroll-has-none"),
        pytest.param(SSN, "  ", False, id="payroll-has-blank"),
        pytest.param(SSN, SSN, False, id="same"),
        pytest.param(SSN, "151086 95088", False, id="same-formatted"),
        pytest.param(SSN, "55108695071", True, id="another-person"),
        pytest.param(None, "55108695071", False, id="not-sent"),
    ],
)
def test_identity_conflict(sent: str | None, held: str, conflict: bool) -> None:
    assert identity_conflict(EmployeeWrite(personnr=sent), _stored(personnr=held)) is conflict


# ------------------------------------------------------------------ which employment

A: Final = payroll.Employment(employment_id="1001-1", startdate="2020-01-01")
B: Final = payroll.Employment(employment_id="1001-2", startdate="2024-08-01")
C: Final = payroll.Employment(employment_id="1001-3", startdate="2024-08-01 00:00:00")


@pytest.mark.parametrize(
    ("current", "linked", "startdate", "expected"),
    [
        pytest.param([A, B], "1001-1", "2024-08-01", A, id="link-beats-start-date"),
        pytest.param([A, B], None, "2024-08-01", B, id="start-date-without-link"),
        pytest.param([A, B], "", "2024-08-01", B, id="empty-link-is-no-link"),
        pytest.param([A, B], "1001-9", "2024-08-01", B, id="gone-link-falls-back"),
        pytest.param([A, C], None, "2024-08-01", C, id="start-date-normalised"),
        pytest.param([A, B], None, "2023-01-01", None, id="nothing-matches"),
        pytest.param([A, B], "1001-9", "2023-01-01", None, id="gone-link-nothing-matches"),
        pytest.param([], "1001-1", "2024-08-01", None, id="no-employments"),
        pytest.param([A, B], None, "", None, id="no-start-date"),
        pytest.param([B, C], None, "2024-08-01", B, id="first-of-equals"),
    ],
)
def test_match_employment(
    current: list[payroll.Employment],
    linked: str | None,
    startdate: str,
    expected: payroll.Employment | None,
) -> None:
    assert match_employment(current, linked_id=linked, startdate=startdate) is expected


def test_field_tables_are_worked_out_once_per_type(monkeypatch: pytest.MonkeyPatch) -> None:
    """`msgspec.structs.fields` evaluates string annotations on every call (a third of the
    worker's CPU per record when it ran five times a record): comparing again asks it nothing."""
    target = EmployeeWrite(
        emp_id="1001", firstname="Kari", international_id=InternationalIdWrite(country_code="SE")
    )
    current = _stored(firstname="Kari")
    employment = EmploymentWrite(startdate="2024-08-01")

    def compare_all() -> None:
        changed = employee_changes(target, current)
        field_changes(target, current, changed)
        field_changes(employment, None)
        only_fields(target, changed)
        employment_changes(employment, payroll.Employment(employment_id="7"))

    compare_all()  # the first comparison of these types may work their tables out
    calls: list[type] = []
    fields = msgspec.structs.fields

    def counting(type_or_instance: Any) -> Any:
        calls.append(type_or_instance)
        return fields(type_or_instance)

    monkeypatch.setattr(msgspec.structs, "fields", counting)
    compare_all()
    compare_all()
    assert calls == []
