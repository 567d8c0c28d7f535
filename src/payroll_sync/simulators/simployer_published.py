"""Simployer One (AlexisHR v1) rows as the publisher describes them: the simulator's vocabulary.

Every published field of every resource we read (APIS.md, from the published OpenAPI
description "AlexisHR API v1-preview", as vendored in konfig-sdks/alexis-hr-java-sdk
`api/openapi.yaml`), with the published types; fields it marks required have no default.
These are *not* the client's Structs (`schemas.simployer` lists only what the sync uses): a
simulator built from the client's own Structs would agree with the client by construction and
prove nothing.

Rows may carry fields not listed here (the API is a "preview"): they are not refused, and the
store serves them as they were loaded. Attribute names are snake_case with explicit renames, so a
grep for the API's name finds it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, field

LeaveStatus = Literal["PENDING", "DENIED", "CANCELLED", "APPROVED", "CONFIRMED"]
LeaveDuration = Literal["minutes", "half_day", "one_day", "longer"]
LeaveKind = Literal["SICK_LEAVE", "PARENTAL_LEAVE", "VACATION", "OFF_DUTY", "CHILDCARE"]
PayoutPeriod = Literal["HOURLY", "DAILY", "WEEKLY", "BI_WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL"]
PayoutFrequency = Literal["WEEK", "BI_WEEKLY", "MONTH"]
SalarySchedule = Literal["ADVANCE", "DELAYED"]
MinimumDuration = Literal["DAY", "HALF_DAY", "HOUR", "MINUTE"]
# Date-times as the API writes them: ISO 8601 instants with an offset or Z. A bare date is let
# through too (hand-written data files use them; the client reads both).
Instant = Annotated[
    str,
    Meta(pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2}))?$"),
]
# Opaque ids (24-hex Mongo ids in practice); a row must be reachable at /<resource>/<id>.
Id = Annotated[str, Meta(min_length=1)]


class Row(msgspec.Struct, kw_only=True):
    id: Id


class Tax(msgspec.Struct, kw_only=True):
    table: float | None = None
    column: float | None = None


class BankAccount(msgspec.Struct, kw_only=True):
    bank: str | None = None
    clearing: str | None = None
    number: str | None = None
    iban: str | None = None
    bic: str | None = None
    country: str | None = None


class Location(msgspec.Struct, kw_only=True):
    type: str = "Point"
    coordinates: list[float] = field(default_factory=list)


class HomeAddress(msgspec.Struct, kw_only=True):
    street: str | None = None
    postal_code: str | None = field(default=None, name="postalCode")
    city: str | None = None
    country: str | None = None
    location: Location | None = None


class Employee(Row, kw_only=True):
    active: bool
    company_id: str = field(name="companyId")
    user_id: str = field(name="userId")
    employee_number: str = field(name="employeeNumber")
    created: Instant
    updated: Instant
    title: str | None = None
    office_id: str | None = field(default=None, name="officeId")
    manager_employee_id: str | None = field(default=None, name="managerEmployeeId")
    department_id: str | None = field(default=None, name="departmentId")
    cost_center_id: str | None = field(default=None, name="costCenterId")
    employment_id: str | None = field(default=None, name="employmentId")
    employment_type_id: str | None = field(default=None, name="employmentTypeId")
    employment_country: str | None = field(default=None, name="employmentCountry")
    compensation_id: str | None = field(default=None, name="compensationId")
    user_name: str | None = field(default=None, name="userName")
    division: str | None = None
    organization: str | None = None
    tax: Tax | None = None
    work_email: str | None = field(default=None, name="workEmail")
    work_phone: str | None = field(default=None, name="workPhone")
    work_phone_sanitized: str | None = field(default=None, name="workPhoneSanitized")
    hire_date: Instant | None = field(default=None, name="hireDate")
    end_date: Instant | None = field(default=None, name="endDate")
    has_occupational_pension: bool | None = field(default=None, name="hasOccupationalPension")
    private_email: str | None = field(default=None, name="privateEmail")
    first_name: str | None = field(default=None, name="firstName")
    last_name: str | None = field(default=None, name="lastName")
    ssn: str | None = None
    private_phone: str | None = field(default=None, name="privatePhone")
    private_phone_sanitized: str | None = field(default=None, name="privatePhoneSanitized")
    birth_date: Instant | None = field(default=None, name="birthDate")
    age: float | None = None
    avatar_url: str | None = field(default=None, name="avatarUrl")
    nationality: str | None = None
    gender: str | None = None
    pronoun: str | None = None
    bank_account: BankAccount | None = field(default=None, name="bankAccount")
    home_address: HomeAddress | None = field(default=None, name="homeAddress")
    custom: dict[str, object] = field(default_factory=dict)


class Employment(Row, kw_only=True):
    company_id: str = field(name="companyId")
    employee_id: str = field(name="employeeId")
    type_id: str = field(name="typeId")
    start_date: Instant = field(name="startDate")
    terminated: bool
    rate: float
    country: str
    end_date: Instant | None = field(default=None, name="endDate")
    effective_end_date: Instant | None = field(default=None, name="effectiveEndDate")
    updated: Instant | None = None
    note: str | None = None


class EmploymentType(Row, kw_only=True):
    name: str
    vacation: bool
    company_id: str | None = field(default=None, name="companyId")
    country: str | None = None
    max_months: float | None = field(default=None, name="maxMonths")


class Compensation(Row, kw_only=True):
    employee_id: str = field(name="employeeId")
    company_id: str = field(name="companyId")
    amount: float
    effective_date: Instant = field(name="effectiveDate")
    base_amount: float = field(name="baseAmount")
    exchange_rate: float = field(name="exchangeRate")
    currency: str
    payout_day: float = field(name="payoutDay")
    # Free text here too: the simulator must be able to serve a period the client refuses.
    payout_period: str = field(name="payoutPeriod")
    payout_frequency: PayoutFrequency = field(name="payoutFrequency")
    salary_schedule: SalarySchedule = field(name="salarySchedule")
    paid_overtime: bool = field(name="paidOvertime")
    note: str | None = None


class Leave(Row, kw_only=True):
    """No `gradePercentage` and no `childId`: the published leave has neither."""

    employee_id: str = field(name="employeeId")
    type_id: str = field(name="typeId")
    status: LeaveStatus
    duration: LeaveDuration
    start_date: Instant = field(name="startDate")
    end_date: Instant = field(name="endDate")
    description: str | None = None


class LeaveType(Row, kw_only=True):
    name: str
    kind: LeaveKind
    minimum_duration: MinimumDuration = field(name="minimumDuration")
    deductible: bool
    paid: bool
    disabled: bool
    archived: bool | None = None


class LeaveTypeCode(Row, kw_only=True):
    """The payroll code set on a leave type; served only as relation `leaveTypeCode`."""

    company_id: str = field(name="companyId")
    leave_type_id: str = field(name="leaveTypeId")
    code: str


class Child(Row, kw_only=True):
    employee_id: str = field(name="employeeId")
    name: str  # first and last name in one string
    birthdate: Instant


class Department(Row, kw_only=True):
    company_id: str = field(name="companyId")
    name: str
    description: str | None = None
    cost_center_id: str | None = field(default=None, name="costCenterId")
    effective_cost_center_id: str | None = field(default=None, name="effectiveCostCenterId")
    parent_id: str | None = field(default=None, name="parentId")


class Office(Row, kw_only=True):
    company_id: str = field(name="companyId")
    name: str
    phone: str
    email: str
    timezone: str
    cfar: str = field(name="CFAR")
    scb: str = field(name="SCB")
    sni: str = field(name="SNI")


class Company(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A whole Simployer One company: the simulator's data file, `{resource: [rows]}`.

    Unknown *resources* are refused (a misspelt table would silently serve nothing); unknown
    *fields* of a row are kept and served.
    """

    employee: list[Employee] = field(default_factory=list)
    employment: list[Employment] = field(default_factory=list)
    employment_type: list[EmploymentType] = field(default_factory=list, name="employment-type")
    compensation: list[Compensation] = field(default_factory=list)
    leave: list[Leave] = field(default_factory=list)
    leave_type: list[LeaveType] = field(default_factory=list, name="leave-type")
    leave_type_code: list[LeaveTypeCode] = field(default_factory=list, name="leave-type-code")
    child: list[Child] = field(default_factory=list)
    department: list[Department] = field(default_factory=list)
    office: list[Office] = field(default_factory=list)


#: Table name in the data file -> row Struct, in `Company`'s order.
TABLES: dict[str, type[Row]] = {
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
#: The tables served as `GET /v1/<resource>`: leave type codes are published only as a relation.
RESOURCES: tuple[str, ...] = tuple(name for name in TABLES if name != "leave-type-code")
