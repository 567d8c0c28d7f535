"""Simployer One (AlexisHR v1) rows as the sync reads them: a tolerant reader.

Only the fields the sync uses are listed. Everything else a row carries (the published API has
many more fields, and is a "preview" that may add more) is ignored at every level, nested
objects included. A listed field that is missing or malformed fails the one row it is in; the
connector names the field. Required here means "the sync cannot do without it", not "required
in the published schema". The published rows themselves are modelled by the simulator
(`simulators.simployer_published`), never by these Structs.

Only stdlib and msgspec here. Attribute names are snake_case; every rename to the API's
camelCase name is explicit so a grep for the API name finds it.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta, field

# The API's enumerations (APIS.md).
PayoutPeriod = Literal["HOURLY", "DAILY", "WEEKLY", "BI_WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL"]
LeaveStatus = Literal["PENDING", "DENIED", "CANCELLED", "APPROVED", "CONFIRMED"]
LeaveKind = Literal["SICK_LEAVE", "PARENTAL_LEAVE", "VACATION", "OFF_DUTY", "CHILDCARE"]

# Ids are opaque strings in AlexisHR (24-hex Mongo ids in practice).
Id = Annotated[str, Meta(min_length=1)]
# Date-times are ISO 8601 instants ("2024-08-01T00:00:00.000Z"); kept as text at the edge and
# read with `calendar_day` where they are used, so a bad one fails only the record using it.
IsoTime = str

OSLO: Final = ZoneInfo("Europe/Oslo")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What `datetime.fromisoformat` should see: a date, a time, optional fraction and offset. Spelled
# out because fromisoformat also takes forms the API never writes, such as week dates.
_INSTANT: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)


def calendar_day(text: str | None) -> datetime.date | None:
    """The calendar date a Simployer One date value stands for, None when there is none.

    Calendar dates (startDate, effectiveDate, birthDate, ...) arrive as instants: UTC midnight
    with `Z` or `+00:00`, or an Oslo midnight written in UTC (`2024-07-31T22:00:00.000Z` is
    1 August). The date is the Europe/Oslo date of the instant; a bare `YYYY-MM-DD`, or a time
    without an offset, is taken as written. Raises ValueError for text that is no date.
    """
    value = (text or "").strip()
    if not value:
        return None
    if _DATE.fullmatch(value):
        return datetime.date.fromisoformat(value)
    if not _INSTANT.fullmatch(value):
        raise ValueError("not an ISO 8601 date or date-time")
    moment = datetime.datetime.fromisoformat(value)
    return moment.astimezone(OSLO).date() if moment.tzinfo is not None else moment.date()


class Resource(msgspec.Struct, kw_only=True):
    """Base of every Simployer One row we read."""

    id: Id


class BankAccount(msgspec.Struct, kw_only=True):
    clearing: str | None = None
    number: str | None = None
    iban: str | None = None
    bic: str | None = None
    country: str | None = None


class HomeAddress(msgspec.Struct, kw_only=True):
    street: str | None = None
    postal_code: str | None = field(default=None, name="postalCode")
    city: str | None = None
    country: str | None = None


class Employee(Resource, kw_only=True):
    active: bool
    # The API types this as a string; payroll needs it numeric (checked by the mapping, not here).
    employee_number: str = field(name="employeeNumber")
    first_name: str | None = field(default=None, name="firstName")
    last_name: str | None = field(default=None, name="lastName")
    ssn: str | None = None
    nationality: str | None = None
    work_email: str | None = field(default=None, name="workEmail")
    private_email: str | None = field(default=None, name="privateEmail")
    end_date: IsoTime | None = field(default=None, name="endDate")
    employment_id: Id | None = field(default=None, name="employmentId")
    compensation_id: Id | None = field(default=None, name="compensationId")
    department_id: Id | None = field(default=None, name="departmentId")
    office_id: Id | None = field(default=None, name="officeId")
    bank_account: BankAccount | None = field(default=None, name="bankAccount")
    home_address: HomeAddress | None = field(default=None, name="homeAddress")


class Employment(Resource, kw_only=True):
    employee_id: Id = field(name="employeeId")
    type_id: Id = field(name="typeId")
    start_date: IsoTime = field(name="startDate")
    end_date: IsoTime | None = field(default=None, name="endDate")
    rate: float
    note: str | None = None


class EmploymentType(Resource, kw_only=True):
    name: str


class Compensation(Resource, kw_only=True):
    employee_id: Id = field(name="employeeId")
    amount: float
    effective_date: IsoTime = field(name="effectiveDate")
    currency: str | None = None
    # Kept as free text at the edge: an unsupported period must reach the mapping, which
    # fails that one record with a reason, instead of failing the row's decode.
    payout_period: str = field(name="payoutPeriod")


class Leave(Resource, kw_only=True):
    employee_id: Id = field(name="employeeId")
    type_id: Id = field(name="typeId")
    status: LeaveStatus
    start_date: IsoTime = field(name="startDate")
    end_date: IsoTime = field(name="endDate")
    description: str | None = None
    # Not published; used when a row carries them (SPEC: percent 100 and the only child else).
    grade_percentage: float | None = field(default=None, name="gradePercentage")
    child_id: Id | None = field(default=None, name="childId")


class LeaveType(Resource, kw_only=True):
    name: str


class LeaveTypeCode(Resource, kw_only=True):
    """The payroll code a customer sets on a leave type (relation `leaveTypeCode`)."""

    leave_type_id: Id = field(name="leaveTypeId")
    code: str


class Child(Resource, kw_only=True):
    employee_id: Id = field(name="employeeId")
    name: str
    birthdate: IsoTime


class Department(Resource, kw_only=True):
    name: str
    parent_id: Id | None = field(default=None, name="parentId")


class Office(Resource, kw_only=True):
    name: str


# Resource name (as in the URL, or the relation's table) -> row Struct.
RESOURCES: dict[str, type[Resource]] = {
    "employee": Employee,
    "employment": Employment,
    "employment-type": EmploymentType,
    "compensation": Compensation,
    "leave": Leave,
    "leave-type": LeaveType,
    "leave-type-code": LeaveTypeCode,
    "child": Child,
    "department": Department,
    "office": Office,
}


class ListBody(msgspec.Struct, kw_only=True):
    """`GET /v1/<resource>`: rows are decoded one by one by the caller, so a bad row fails
    alone. `offset` and `relations` are optional in the published body."""

    status: str
    data: list[dict[str, object]]
    # Published as numbers, not integers: a float decodes too (`int()` where counted).
    total: float
    count: float
    offset: float | None = None
    relations: dict[str, list[dict[str, object]]] = field(default_factory=dict)


class ErrorBody(msgspec.Struct, kw_only=True):
    status_code: int = field(name="statusCode")
    message: str | list[str]
    error: str


class EmployeeBundle(msgspec.Struct, kw_only=True):
    """One employee with what the employee sync reads alongside it (our composition of API rows).

    `employment` is the current one (`employee.employmentId`), `employment_type` its type, and
    `compensations` all of the employee's compensations (the mapping picks the latest).
    """

    employee: Employee
    employment: Employment | None = None
    employment_type: EmploymentType | None = None
    compensations: list[Compensation] = field(default_factory=list)


class LeaveTypeWithCode(msgspec.Struct, kw_only=True):
    """A leave type and the payroll code set on it (relation `leaveTypeCode`), if any."""

    type: LeaveType
    code: str | None = None
