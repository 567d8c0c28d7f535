"""Simployer One rows as the AlexisHR API v1-preview publishes them, decoded by our client.

The fixtures carry every field of the published schemas (konfig-sdks/alexis-hr-java-sdk,
`api/openapi.yaml`) at the published example values; `*_realistic.json` rows carry the same
fields with valid Norwegian data. SPEC "Reading the two APIs": unknown fields are ignored, and a
field we use that is missing or malformed fails that one record, naming the field, never a value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final, TypeVar

import msgspec
import pytest
from stdnum.no import fodselsnummer, kontonr

from payroll_sync.connectors.simployer_rows import decode_rows
from payroll_sync.errors import Permanent
from payroll_sync.rules.employee import map_employee
from payroll_sync.schemas.simployer import (
    Child,
    Compensation,
    Department,
    Employee,
    EmployeeBundle,
    Employment,
    EmploymentType,
    Leave,
    LeaveType,
    LeaveTypeCode,
    ListBody,
    Office,
    Resource,
)

Row = dict[str, object]
S = TypeVar("S", bound=Resource)

FIXTURES: Final = Path(__file__).parent / "fixtures" / "simployer"
#: The published example of every id field, and of every date-time field.
PUBLISHED_ID: Final = "507f1f77bcf86cd799439011"
PUBLISHED_TIME: Final = "2000-01-23T04:56:07.000+00:00"

#: (fixture, resource as in the URL, row Struct) for every list body we read.
FIXTURE_RESOURCES: Final[list[tuple[str, str, type[Resource]]]] = [
    ("employee", "employee", Employee),
    ("employee_without_offset", "employee", Employee),
    ("employee_realistic", "employee", Employee),
    ("employment", "employment", Employment),
    ("employment_realistic", "employment", Employment),
    ("employment-type", "employment-type", EmploymentType),
    ("employment-type_realistic", "employment-type", EmploymentType),
    ("compensation", "compensation", Compensation),
    ("compensation_realistic", "compensation", Compensation),
    ("leave", "leave", Leave),
    ("leave-type", "leave-type", LeaveType),
    ("leave-type_with_codes", "leave-type", LeaveType),
    ("child", "child", Child),
    ("department", "department", Department),
    ("office", "office", Office),
]


def _raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def _body(name: str) -> ListBody:
    return msgspec.json.decode(_raw(name), type=ListBody)


def _row(name: str) -> Row:
    """The fixture's one row as plain JSON, to be altered by a test."""
    data = json.loads(_raw(name))["data"]
    assert isinstance(data, list)
    assert len(data) == 1
    row = data[0]
    assert isinstance(row, dict)
    return row


def _code_row() -> Row:
    codes = json.loads(_raw("leave-type_with_codes"))["relations"]["leaveTypeCode"]
    assert isinstance(codes, list)
    assert len(codes) == 1
    row = codes[0]
    assert isinstance(row, dict)
    return row


def _one(name: str, resource: str, struct: type[S]) -> S:
    (row,) = decode_rows(resource, _body(name).data, struct)
    return row


def _nested(row: Row, key: str) -> Row:
    value = row[key]
    assert isinstance(value, dict)
    return value


def _texts(value: object) -> list[str]:
    """Every scalar of a JSON value as text, nested ones included."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if value is None or isinstance(value, bool):
        return []
    return [str(value)]


def _leaked(message: str, row: Row) -> list[str]:
    """Values of `row` that `message` repeats. The row's own `id` is the record's locator (an
    opaque id, never personal data) and may be named; short texts ("NO", "SE") are skipped."""
    row_id = row.get("id")
    return [
        text
        for text in _texts({k: v for k, v in row.items() if k != "id"})
        if len(text) >= 4 and text != row_id and text in message
    ]


# ---------------------------------------------------------------- list bodies


@pytest.mark.parametrize(("name", "resource", "struct"), FIXTURE_RESOURCES)
def test_list_body_as_published_decodes(name: str, resource: str, struct: type[Resource]) -> None:
    body = _body(name)
    assert body.status == "ok"
    assert body.total == 1
    assert body.count == 1
    assert len(body.data) == 1
    rows = decode_rows(resource, body.data, struct)
    assert [row.id for row in rows] == [body.data[0]["id"]]


def test_employee_list_body_without_offset_decodes() -> None:
    # `offset` is optional in the published list body (`count data status total` are required).
    assert "offset" not in json.loads(_raw("employee_without_offset"))
    body = _body("employee_without_offset")
    assert body.total == 1
    employee = _one("employee_without_offset", "employee", Employee)
    assert employee == _one("employee", "employee", Employee)


# ---------------------------------------------------------------- every resource, as published


def test_employee_as_published() -> None:
    employee = _one("employee", "employee", Employee)
    assert employee.id == PUBLISHED_ID
    assert employee.employee_number == "employeeNumber"
    assert employee.first_name == "firstName"
    assert employee.last_name == "lastName"
    assert employee.ssn == "ssn"
    assert employee.nationality == "nationality"
    assert employee.work_email == "workEmail"
    assert employee.private_email == "privateEmail"
    assert employee.employment_id == PUBLISHED_ID
    assert employee.compensation_id == PUBLISHED_ID
    assert employee.department_id == PUBLISHED_ID
    assert employee.office_id == PUBLISHED_ID
    assert employee.bank_account is not None
    assert employee.bank_account.number == "number"
    assert employee.bank_account.iban == "iban"
    assert employee.bank_account.bic == "bic"
    assert employee.bank_account.country == "country"
    assert employee.home_address is not None
    assert employee.home_address.street == "street"
    assert employee.home_address.postal_code == "postalCode"
    assert employee.home_address.city == "city"
    assert employee.home_address.country == "country"


def test_employee_realistic() -> None:
    employee = _one("employee_realistic", "employee", Employee)
    assert employee.id == "65f0a1b2c3d4e5f600000101"
    assert employee.employee_number == "1042"
    assert employee.first_name == "Kari"
    assert employee.last_name == "Nordmann"
    assert employee.ssn == "15038512363"
    assert employee.employment_id == "65f0a1b2c3d4e5f600000601"
    assert employee.compensation_id == "65f0a1b2c3d4e5f600000801"
    assert employee.department_id == "65f0a1b2c3d4e5f600000401"
    assert employee.bank_account is not None
    assert employee.bank_account.number == "15031230001"
    assert employee.home_address is not None
    assert employee.home_address.postal_code == "0154"
    assert employee.home_address.country == "NO"


def test_realistic_employee_values_are_valid_norwegian_data() -> None:
    row = _row("employee_realistic")
    ssn, number = row["ssn"], _nested(row, "bankAccount")["number"]
    assert isinstance(ssn, str)
    assert fodselsnummer.is_valid(ssn)
    assert isinstance(number, str)
    assert kontonr.is_valid(number)
    assert len(number) == 11
    employee_number = row["employeeNumber"]
    assert isinstance(employee_number, str)
    assert employee_number.isascii()
    assert employee_number.isdigit()
    postal_code = _nested(row, "homeAddress")["postalCode"]
    assert isinstance(postal_code, str)
    assert len(postal_code) == 4
    assert postal_code.isdigit()


def test_employment_as_published() -> None:
    employment = _one("employment", "employment", Employment)
    assert employment.id == PUBLISHED_ID
    assert employment.employee_id == PUBLISHED_ID
    assert employment.type_id == PUBLISHED_ID
    assert employment.start_date == PUBLISHED_TIME
    assert employment.end_date == PUBLISHED_TIME
    assert employment.rate == 5.962133916683182
    assert employment.note == "note"


def test_employment_realistic() -> None:
    employment = _one("employment_realistic", "employment", Employment)
    assert employment.id == "65f0a1b2c3d4e5f600000601"
    assert employment.employee_id == "65f0a1b2c3d4e5f600000101"
    assert employment.type_id == "65f0a1b2c3d4e5f600000701"
    assert employment.start_date == "2020-11-01T00:00:00.000+00:00"
    assert employment.end_date == "2026-06-30T00:00:00.000+00:00"
    assert employment.rate == 80
    assert employment.note == "2130102:3"


def test_employment_type_as_published() -> None:
    employment_type = _one("employment-type", "employment-type", EmploymentType)
    assert employment_type.id == PUBLISHED_ID
    assert employment_type.name == "name"
    realistic = _one("employment-type_realistic", "employment-type", EmploymentType)
    assert realistic.name == "Temporary"


def test_compensation_as_published() -> None:
    compensation = _one("compensation", "compensation", Compensation)
    assert compensation.id == PUBLISHED_ID
    assert compensation.employee_id == PUBLISHED_ID
    assert compensation.amount == 5.637376656633329
    assert compensation.payout_period == "MONTHLY"
    assert compensation.effective_date == PUBLISHED_TIME
    assert compensation.currency == "SEK"


def test_compensation_realistic() -> None:
    compensation = _one("compensation_realistic", "compensation", Compensation)
    assert compensation.employee_id == "65f0a1b2c3d4e5f600000101"
    assert compensation.amount == 52000
    assert compensation.payout_period == "MONTHLY"
    assert compensation.effective_date == "2024-01-01T00:00:00.000+00:00"
    assert compensation.currency == "NOK"


def test_leave_as_published() -> None:
    leave = _one("leave", "leave", Leave)
    assert leave.id == PUBLISHED_ID
    assert leave.employee_id == PUBLISHED_ID
    assert leave.type_id == PUBLISHED_ID
    assert leave.status == "PENDING"
    assert leave.start_date == PUBLISHED_TIME
    assert leave.end_date == PUBLISHED_TIME
    assert leave.description == "description"
    # Not in the published schema: read when present, absent here.
    assert leave.grade_percentage is None
    assert leave.child_id is None


def test_leave_type_as_published() -> None:
    leave_type = _one("leave-type", "leave-type", LeaveType)
    assert leave_type.id == PUBLISHED_ID
    assert leave_type.name == "name"


def test_leave_type_codes_come_under_relations() -> None:
    body = _body("leave-type_with_codes")
    assert set(body.relations) == {"leaveTypeCode"}
    (leave_type,) = decode_rows("leave-type", body.data, LeaveType)
    (code,) = decode_rows("leave-type-code", body.relations["leaveTypeCode"], LeaveTypeCode)
    assert code.id == PUBLISHED_ID
    assert code.leave_type_id == leave_type.id
    assert code.code == "UserGivenCode123"


def test_child_as_published() -> None:
    child = _one("child", "child", Child)
    assert child.id == PUBLISHED_ID
    assert child.employee_id == PUBLISHED_ID
    assert child.name == "name"
    assert child.birthdate == PUBLISHED_TIME


def test_department_as_published() -> None:
    department = _one("department", "department", Department)
    assert department.id == PUBLISHED_ID
    assert department.name == "name"
    assert department.parent_id == "parentId"


def test_office_as_published() -> None:
    office = _one("office", "office", Office)
    assert office.id == "id"
    assert office.name == "name"


# ---------------------------------------------------------------- what our mapping makes of them


def _bundle(suffix: str) -> EmployeeBundle:
    return EmployeeBundle(
        employee=_one(f"employee{suffix}", "employee", Employee),
        employment=_one(f"employment{suffix}", "employment", Employment),
        employment_type=_one(f"employment-type{suffix}", "employment-type", EmploymentType),
        compensations=[_one(f"compensation{suffix}", "compensation", Compensation)],
    )


def test_realistic_rows_pass_the_employee_mapping() -> None:
    mapped = map_employee(_bundle("_realistic"))
    assert mapped.emp_id == 1042
    employee, employment = mapped.employee, mapped.employment
    assert employee.firstname == "Kari"
    assert employee.lastname == "Nordmann"
    assert employee.personnr == "15038512363"
    assert employee.account == "15031230001"
    assert employee.bic == "DNBANOKKXXX"
    assert employee.zipcode == "0154"
    assert employee.country_code == "NO"
    assert employee.salary == "52000.00"
    assert employee.salary_type == "monthly"
    assert employee.salary_valid_from == "2024-01-01"
    assert employment.startdate == "2020-11-01"
    assert employment.enddate == "2026-06-30"
    assert employment.enddate_reason == "arbeidstakerHarSagtOppSelv"
    assert employment.employment_form == "midlertidig"
    assert employment.employment_rate == "80.00"
    assert employment.profession_code == "2130102"


def test_published_example_rows_are_refused_by_the_employee_mapping() -> None:
    # The published examples are placeholders ("employeeNumber", "ssn", "country", SEK):
    # they decode, but the mapping must refuse them with a reason that names a field.
    with pytest.raises(Permanent) as refused:
        map_employee(_bundle(""))
    assert refused.value.field
    assert refused.value.field in str(refused.value)


# ---------------------------------------------------------------- tolerant reading

#: 20 fields no published schema has: 14 on the employee, 3 in bankAccount, 3 in homeAddress.
UNKNOWN_EMPLOYEE_FIELDS: Final[Row] = {
    "preferredName": "Kari",
    "seniorityDate": "2019-01-01T00:00:00.000Z",
    "shoeSize": 38,
    "weeklyHours": 37.5,
    "isContractor": False,
    "deletedAt": None,
    "tags": ["finance", "oslo"],
    "skills": [{"name": "Excel", "level": 3}],
    "emergencyContactIds": [],
    "salaryBand": {"min": 45000, "max": 60000, "currency": "NOK"},
    "workLocation": {"type": "Point", "coordinates": [10.75, 59.91]},
    "timezone": "Europe/Oslo",
    "locale": "nb-NO",
    "externalRefs": {"okta": "00u1abcd", "slack": {"team": "T01", "user": "U02"}},
}
UNKNOWN_BANK_FIELDS: Final[Row] = {
    "accountHolder": "Kari Nordmann",
    "verified": True,
    "verifiedAt": None,
}
UNKNOWN_ADDRESS_FIELDS: Final[Row] = {
    "careOf": "c/o Hansen",
    "municipality": {"number": "0301", "name": "Oslo"},
    "region": ["Oslo", "Østlandet"],
}


def test_employee_row_with_20_unknown_fields_decodes() -> None:
    unknown = [UNKNOWN_EMPLOYEE_FIELDS, UNKNOWN_BANK_FIELDS, UNKNOWN_ADDRESS_FIELDS]
    assert sum(len(fields) for fields in unknown) == 20
    row = _row("employee_realistic")
    row.update(UNKNOWN_EMPLOYEE_FIELDS)
    _nested(row, "bankAccount").update(UNKNOWN_BANK_FIELDS)
    _nested(row, "homeAddress").update(UNKNOWN_ADDRESS_FIELDS)
    (employee,) = decode_rows("employee", [row], Employee)
    assert employee == _one("employee_realistic", "employee", Employee)


@pytest.mark.parametrize(("name", "resource", "struct"), FIXTURE_RESOURCES)
def test_unknown_fields_are_ignored_on_every_resource(
    name: str, resource: str, struct: type[Resource]
) -> None:
    row = _row(name)
    row.update({"futureText": "x", "futureNumber": 1.5, "futureObject": {"a": [1, None]}})
    (decoded,) = decode_rows(resource, [row], struct)
    assert decoded == _one(name, resource, struct)


def test_unknown_fields_are_ignored_on_leave_type_codes() -> None:
    row = _code_row()
    row.update({"futureText": "x", "futureObject": {"a": 1}})
    (code,) = decode_rows("leave-type-code", [row], LeaveTypeCode)
    assert code.code == "UserGivenCode123"


# ---------------------------------------------------------------- a field we use, missing

MISSING: Final[list[tuple[str, str, type[Resource], str]]] = [
    ("employment_realistic", "employment", Employment, "startDate"),
    ("employment_realistic", "employment", Employment, "employeeId"),
    ("employment_realistic", "employment", Employment, "typeId"),
    ("employment_realistic", "employment", Employment, "rate"),
    ("employee_realistic", "employee", Employee, "employeeNumber"),
    ("compensation_realistic", "compensation", Compensation, "amount"),
    ("compensation_realistic", "compensation", Compensation, "effectiveDate"),
    ("compensation_realistic", "compensation", Compensation, "payoutPeriod"),
    ("compensation_realistic", "compensation", Compensation, "employeeId"),
    ("leave", "leave", Leave, "status"),
    ("leave", "leave", Leave, "typeId"),
    ("leave", "leave", Leave, "startDate"),
    ("leave-type", "leave-type", LeaveType, "name"),
    ("child", "child", Child, "name"),
    ("child", "child", Child, "birthdate"),
    ("department", "department", Department, "name"),
    ("office", "office", Office, "name"),
]


@pytest.mark.parametrize(("name", "resource", "struct", "field"), MISSING)
def test_missing_field_we_use_is_permanent_and_named(
    name: str, resource: str, struct: type[Resource], field: str
) -> None:
    row = _row(name)
    del row[field]
    with pytest.raises(Permanent) as failed:
        decode_rows(resource, [row], struct)
    message = str(failed.value)
    assert field in message
    assert failed.value.field == field
    assert _leaked(message, row) == []


@pytest.mark.parametrize("field", ["leaveTypeId", "code"])
def test_leave_type_code_missing_field_is_permanent_and_named(field: str) -> None:
    row = _code_row()
    del row[field]
    with pytest.raises(Permanent) as failed:
        decode_rows("leave-type-code", [row], LeaveTypeCode)
    assert field in str(failed.value)
    assert failed.value.field == field


# ---------------------------------------------------------------- a field we use, malformed

MALFORMED: Final[list[tuple[str, str, type[Resource], str, object]]] = [
    ("employment_realistic", "employment", Employment, "rate", "eighty percent"),
    ("employment_realistic", "employment", Employment, "startDate", {"date": "2020-11-01"}),
    ("compensation_realistic", "compensation", Compensation, "amount", "52 000 kroner"),
    ("employee_realistic", "employee", Employee, "ssn", {"value": "15038512363"}),
    ("employee_realistic", "employee", Employee, "bankAccount", "15031230001"),
    ("child", "child", Child, "birthdate", ["2001-03-04", "Oslo"]),
]


@pytest.mark.parametrize(("name", "resource", "struct", "field", "value"), MALFORMED)
def test_malformed_field_we_use_is_permanent_without_its_value(
    name: str, resource: str, struct: type[Resource], field: str, value: object
) -> None:
    row = _row(name)
    row[field] = value
    with pytest.raises(Permanent) as failed:
        decode_rows(resource, [row], struct)
    message = str(failed.value)
    assert field in message
    assert _leaked(message, row) == []
