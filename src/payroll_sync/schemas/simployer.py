"""Simployer One (AlexisHR v1) payloads, field names exactly as the API spells them.

Only stdlib and msgspec here. Attribute names are snake_case; every rename to the API's
camelCase name is explicit so a grep for the API name finds it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, field

# The API's enumerations (APIS.md).
PayoutPeriod = Literal["HOURLY", "DAILY", "WEEKLY", "BI_WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL"]
LeaveStatus = Literal["PENDING", "DENIED", "CANCELLED", "APPROVED", "CONFIRMED"]
LeaveDuration = Literal["minutes", "half_day", "one_day", "longer"]
LeaveKind = Literal["SICK_LEAVE", "PARENTAL_LEAVE", "VACATION", "OFF_DUTY", "CHILDCARE"]

# Ids are opaque strings in AlexisHR (24-hex Mongo ids in practice).
Id = Annotated[str, Meta(min_length=1)]
# Date-times are ISO 8601 strings ("2024-08-01T00:00:00.000Z"); kept as text at the edge and
# parsed where they are used, because the API mixes dates and date-times in these fields.
IsoTime = str


class Resource(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every stored Simployer One row."""

    id: Id


class BankAccount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    bank: str | None = None
    clearing: str | None = None
    number: str | None = None
    iban: str | None = None
    bic: str | None = None
    country: str | None = None


class HomeAddress(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    street: str | None = None
    postal_code: str | None = field(default=None, name="postalCode")
    city: str | None = None
    country: str | None = None


class Employee(Resource, kw_only=True, forbid_unknown_fields=True):
    active: bool
    company_id: Id = field(name="companyId")
    # The API types this as a string; payroll needs it numeric (checked by the mapping, not here).
    employee_number: str = field(name="employeeNumber")
    first_name: str | None = field(default=None, name="firstName")
    last_name: str | None = field(default=None, name="lastName")
    ssn: str | None = None
    birth_date: IsoTime | None = field(default=None, name="birthDate")
    nationality: str | None = None
    work_email: str | None = field(default=None, name="workEmail")
    private_email: str | None = field(default=None, name="privateEmail")
    work_phone: str | None = field(default=None, name="workPhone")
    private_phone: str | None = field(default=None, name="privatePhone")
    title: str | None = None
    hire_date: IsoTime | None = field(default=None, name="hireDate")
    end_date: IsoTime | None = field(default=None, name="endDate")
    employment_id: Id | None = field(default=None, name="employmentId")
    employment_type_id: Id | None = field(default=None, name="employmentTypeId")
    compensation_id: Id | None = field(default=None, name="compensationId")
    department_id: Id | None = field(default=None, name="departmentId")
    office_id: Id | None = field(default=None, name="officeId")
    cost_center_id: Id | None = field(default=None, name="costCenterId")
    manager_employee_id: Id | None = field(default=None, name="managerEmployeeId")
    bank_account: BankAccount | None = field(default=None, name="bankAccount")
    home_address: HomeAddress | None = field(default=None, name="homeAddress")
    custom: dict[str, object] = field(default_factory=dict)
    created: IsoTime
    updated: IsoTime


class Employment(Resource, kw_only=True, forbid_unknown_fields=True):
    employee_id: Id = field(name="employeeId")
    type_id: Id = field(name="typeId")
    start_date: IsoTime = field(name="startDate")
    end_date: IsoTime | None = field(default=None, name="endDate")
    effective_end_date: IsoTime | None = field(default=None, name="effectiveEndDate")
    terminated: bool
    rate: float
    country: str | None = None
    note: str | None = None
    updated: IsoTime | None = None


class EmploymentType(Resource, kw_only=True, forbid_unknown_fields=True):
    name: str
    vacation: float | None = None
    country: str | None = None


class Compensation(Resource, kw_only=True, forbid_unknown_fields=True):
    employee_id: Id = field(name="employeeId")
    amount: float
    effective_date: IsoTime = field(name="effectiveDate")
    currency: str | None = None
    # Kept as free text at the edge: an unsupported period must reach the mapping, which
    # fails that one record with a reason, instead of failing the whole page decode.
    payout_period: str = field(name="payoutPeriod")
    payout_frequency: str | None = field(default=None, name="payoutFrequency")
    salary_schedule: str | None = field(default=None, name="salarySchedule")
    note: str | None = None


class Leave(Resource, kw_only=True, forbid_unknown_fields=True):
    employee_id: Id = field(name="employeeId")
    type_id: Id = field(name="typeId")
    status: LeaveStatus
    duration: LeaveDuration | None = None
    start_date: IsoTime = field(name="startDate")
    end_date: IsoTime = field(name="endDate")
    description: str | None = None
    grade_percentage: float | None = field(default=None, name="gradePercentage")
    child_id: Id | None = field(default=None, name="childId")


class LeaveType(Resource, kw_only=True, forbid_unknown_fields=True):
    name: str
    kind: LeaveKind
    paid: bool | None = None
    disabled: bool | None = None
    archived: bool | None = None


class LeaveTypeCode(Resource, kw_only=True, forbid_unknown_fields=True):
    """The payroll code a customer sets on a leave type (relation `leaveTypeCode`)."""

    leave_type_id: Id = field(name="leaveTypeId")
    code: str


class Child(Resource, kw_only=True, forbid_unknown_fields=True):
    employee_id: Id = field(name="employeeId")
    name: str
    birthdate: IsoTime


class Department(Resource, kw_only=True, forbid_unknown_fields=True):
    name: str
    parent_id: Id | None = field(default=None, name="parentId")


class Office(Resource, kw_only=True, forbid_unknown_fields=True):
    name: str
    parent_id: Id | None = field(default=None, name="parentId")


class Dataset(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A whole Simployer One company: the simulator's state and its JSON file format."""

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


# Resource name in the URL -> row Struct. The order is the order of Dataset's fields.
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
    """`GET /v1/<resource>`: rows are decoded per resource by the caller."""

    status: str
    data: list[dict[str, object]]
    total: int
    count: int
    offset: int
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
