"""24SevenOffice Lønn answers as its official OpenAPI file (v2.0.0) publishes them, read by us.

The fixtures are the file's response examples, every field as published; one variant has nulls
and numbers in place of strings (APIS.md: read `null` as "" and numbers as their text).

Each answer goes through `connectors.payroll.read_answer`, the one place the client turns an
answer body into the read Structs of `schemas.payroll`.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Final, TypeVar

import msgspec

from payroll_sync.connectors.payroll import read_answer
from payroll_sync.schemas.payroll import (
    Absence,
    AbsenceType,
    AuthToken,
    Child,
    Employee,
    Employment,
)

T = TypeVar("T")

FIXTURES: Final = Path(__file__).parent / "fixtures" / "payroll"


def _raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def _read_rows(name: str, struct: type[T], what: str) -> list[T]:
    rows = read_answer(_raw(name), list[struct], what)  # type: ignore[valid-type]
    assert all(isinstance(row, struct) for row in rows)
    return rows


def test_employees_as_published() -> None:
    first, second = _read_rows("employee", Employee, "list employees")
    assert first.emp_id == "1"
    assert first.firstname == "Pers"
    assert first.lastname == "Person"
    assert first.email == "person@maxpa.se"
    assert first.personnr == "16024301269"
    assert first.account == "89974064871181"
    assert first.zipcode == "4805"
    assert first.country_code == "NO"
    assert first.salary_type == "monthly"
    assert first.salary == "100000.00"
    assert first.salary_valid_from == "2023-04-01"
    assert first.vacation_days == "30"
    assert first.hidden == "0"
    assert first.international_id.type == "passnummer"
    assert first.international_id.id == ""
    assert [a.percentage for a in first.accounting] == ["50.00", "50.00"]
    assert [(d.dimid, d.value) for d in first.accounting[0].dimensions] == [("1", "1"), ("2", "10")]
    assert second.emp_id == "2"
    assert second.account == "SE728000081034000978324"
    assert second.hours_per_week_valid_from == ""
    assert second.accounting == []


def test_employee_with_nulls_and_numbers() -> None:
    (employee,) = _read_rows("employee_nulls_and_numbers", Employee, "read employee")
    assert employee.emp_id == "9"
    assert employee.salary == "160.5"
    assert employee.hidden == "0"
    assert employee.telefon == ""
    assert employee.email_copy == ""
    assert employee.employment_rate == "80"
    assert employee.vacation_days == "30"
    # The fields left as published still read as published.
    assert employee.firstname == "Test"
    assert employee.salary_type == "hourly"
    assert employee.clearingno == "1234"
    assert employee.tax_resident_country == "SE"


def test_employments_as_published() -> None:
    first, second = _read_rows("employment", Employment, "read employments")
    assert first.employment_id == "32553-1"
    assert first.primary_employment == "1"
    assert first.startdate == "2020-11-01"
    assert first.enddate == ""
    assert first.enddate_reason == ""
    assert first.employment_form == "fast"
    assert first.profession_code == "2130102"
    assert first.employment_rate == "90.00"
    assert first.employment_type == "ordinaertArbeidsforhold"
    assert first.working_times == "ikkeSkift"
    assert second.employment_id == "32553-3"
    assert second.primary_employment == "0"


def test_absences_as_published() -> None:
    first, second = _read_rows("absence", Absence, "list absences")
    assert first.emp_id == "1"
    assert first.serial_no == "161"
    assert first.start_date == "2024-01-01 00:00:00"
    assert first.end_date == "2024-01-03 00:00:00"
    assert first.absence_type == "02"
    assert first.percent == "100"
    assert first.approved == ""
    assert first.child_id == "102701"
    assert first.external_id == ""
    assert second.serial_no == "10"
    assert second.permisjon_id == "10"
    assert second.last_changed == "2024-03-08 11:29:11"


def test_children_as_published_with_either_spelling() -> None:
    # The published example spells the names `firstnamn` and `surname`; the description says
    # `firstname` and `lastname`. Either spelling must reach the same fields.
    rows = _read_rows("child", Child, "read children")
    assert [(c.child_id, c.firstname, c.lastname, c.birthdate) for c in rows] == [
        ("102701", "Carl", "Eriksson", "1999-12-01"),
        ("102704", "Peter", "Andersson", "2001-03-04"),
        ("102711", "Erik", "Larsson", "2004-08-08"),
    ]
    described = msgspec.json.encode(
        [{"childId": "1", "firstname": "Ada", "lastname": "Berg", "birthdate": "2015-05-05"}]
    )
    (child,) = read_answer(described, list[Child], "read children")
    assert (child.firstname, child.lastname) == ("Ada", "Berg")


def test_absence_types_as_published() -> None:
    sick_child, self_report = _read_rows("absencetypes", AbsenceType, "read absence types")
    assert sick_child.code == "02"
    assert sick_child.description == "Sykt barn"
    assert sick_child.category == "sick_child"
    assert sick_child.permisjon_id == "0"
    assert sick_child.percentage == "1"
    assert sick_child.comment_mandatory == "0"
    assert self_report.code == "03"
    assert self_report.category == "self_report"


def test_auth_answer() -> None:
    # GET /auth publishes no body ("Success!"); the shape is APIS.md's. The connector decodes it
    # into `AuthToken`, an object rather than an array of rows.
    token = msgspec.json.decode(_raw("auth"), type=AuthToken)
    assert token.access_token == "example-bearer-token"
    assert token.expires_on == "2026-11-25T09:00:00+01:00"
    expires = datetime.datetime.fromisoformat(token.expires_on)
    assert expires.utcoffset() == datetime.timedelta(hours=1)
