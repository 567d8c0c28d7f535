"""24SevenOffice Lønn payroll API v2 payloads (see the official OpenAPI file).

The *read* Structs here mirror what the API answers: every value a string, `""` for empty.
Answers are read through `tolerant` first (null as "", numbers as their text, a second spelling
of some names), so the Structs stay strict about shape while the API may be loose about scalars.
The *write* Structs (what a client may POST) live in `payroll_write`; the ones the rest of the
package uses are re-exported here, so this stays the one module to import payloads from.
Only stdlib and msgspec here.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Final, Literal

import msgspec
import msgspec.inspect as mi
from msgspec import Meta, field

from payroll_sync.schemas.payroll_write import AbsenceWrite as AbsenceWrite
from payroll_sync.schemas.payroll_write import ChildWrite as ChildWrite
from payroll_sync.schemas.payroll_write import EmployeeWrite as EmployeeWrite
from payroll_sync.schemas.payroll_write import EmploymentForm as EmploymentForm
from payroll_sync.schemas.payroll_write import EmploymentWrite as EmploymentWrite
from payroll_sync.schemas.payroll_write import EnddateReason as EnddateReason
from payroll_sync.schemas.payroll_write import InternationalIdWrite as InternationalIdWrite
from payroll_sync.schemas.payroll_write import SalaryType as SalaryType

AbsenceCategory = Literal["sickness", "sick_child", "self_report", "vacation", "leave_of_absence"]

# An identifier we use (empId, serialNo, employment_id, childId): an empty one is malformed.
IdText = Annotated[str, Meta(min_length=1)]


# ---------------------------------------------------------------- read (answers)


class InternationalId(msgspec.Struct, kw_only=True):
    country_code: str = field(default="", name="countryCode")
    id: str = field(default="", name="ID")
    type: str = "passnummer"


class TaxExemption(msgspec.Struct, kw_only=True):
    percentage: str = ""
    amount: str = ""


class AccountingDimension(msgspec.Struct, kw_only=True):
    dimid: str
    value: str


class Accounting(msgspec.Struct, kw_only=True):
    percentage: str
    dimensions: list[AccountingDimension] = field(default_factory=list)


class Employee(msgspec.Struct, kw_only=True):
    """`GET /employee/v2` row. Every scalar is a string; "" means empty."""

    emp_id: IdText = field(name="empId")
    email: str = ""
    email_copy: str = ""
    firstname: str = ""
    lastname: str = ""
    postaddress: str = ""
    zipcode: str = ""
    city: str = ""
    country_code: str = field(default="", name="countryCode")
    clearingno: str = ""
    account: str = ""
    bic: str = ""
    employee_date: str = ""
    telefon: str = ""
    personnr: str = ""
    international_id: InternationalId = field(
        default_factory=InternationalId, name="internationalID"
    )
    salary_type: str = ""
    salary: str = ""
    salary_valid_from: str = ""
    taxtable: str = ""
    employment_rate: str = ""
    employment_rate_valid_from: str = ""
    hours_per_week: str = ""
    hours_per_week_valid_from: str = ""
    vacation_percent: str = ""
    vacation_percent_valid_from: str = ""
    vacation_days: str = ""
    hidden: str = "0"
    percentage_tax_main_employer: str = ""
    percentage_tax_bi_employer: str = ""
    tax_resident_country: str = ""
    continental_shelf: str = ""
    taxexemption: TaxExemption = field(default_factory=TaxExemption)
    accounting: list[Accounting] = field(default_factory=list)


class Employment(msgspec.Struct, kw_only=True):
    """`GET /employment/v2/{empId}` row."""

    employment_id: IdText
    primary_employment: str = ""
    startdate: str = ""
    enddate: str = ""
    enddate_reason: str = ""
    employment_form: str = ""
    profession_code: str = ""
    employment_rate: str = ""
    employment_type: str = ""
    enterprise_number: str = ""
    working_times: str = ""


class Absence(msgspec.Struct, kw_only=True):
    """`GET /absence/v2` row; dates come back as `YYYY-MM-DD HH:MM:SS`."""

    emp_id: IdText = field(name="empId")
    serial_no: IdText = field(name="serialNo")
    start_date: str = field(default="", name="startDate")
    end_date: str = field(default="", name="endDate")
    comment: str = ""
    request_date: str = field(default="", name="requestDate")
    request_motivation: str = field(default="", name="requestMotivation")
    approved: str = ""
    percent: str = ""
    absence_type: str = field(default="", name="absenceType")
    description: str = ""
    child_id: str = field(default="", name="childId")
    number_of_days: str = field(default="", name="numberOfDays")
    permisjon_id: str = field(default="", name="permisjonId")
    startdate_parental: str = field(default="", name="startdateParental")
    last_changed: str = field(default="", name="lastChanged")
    external_id: str = field(default="", name="externalId")


class Child(msgspec.Struct, kw_only=True):
    """`GET /child/v2/{empId}` row (field names as APIS.md gives them; `tolerant` also reads
    the OpenAPI example's `firstnamn` and `surname` into them)."""

    child_id: IdText = field(name="childId")
    firstname: str = ""
    lastname: str = ""
    birthdate: str = ""


class AbsenceType(msgspec.Struct, kw_only=True):
    code: str
    description: str
    inntektsmelding_type: str = ""
    permisjon_id: str = field(default="0", name="permisjonId")
    leave_of_absence_type: str = ""
    percentage: str = "1"
    comment_mandatory: str = "0"
    category: AbsenceCategory


class AuthToken(msgspec.Struct, kw_only=True):
    access_token: str = field(name="accessToken")
    expires_on: str = field(name="expiresOn")


class ErrorBody(msgspec.Struct, kw_only=True):
    error: str
    message: str


# ---------------------------------------------------------------- reading answers tolerantly

#: Other names the API is documented to use for a read field: alias -> our field's API name.
#: The OpenAPI example of `GET /child/v2/{empId}` spells the names `firstnamn` and `surname`
#: while its description (and `POST /child/v2`) says `firstname` and `lastname`.
READ_ALIASES: Final[dict[type, dict[str, str]]] = {
    Child: {"firstnamn": "firstname", "surname": "lastname"},
}

_TEXT_TYPES = (mi.StrType, mi.LiteralType)


def api_text(value: object) -> object:
    """A scalar as the API's text: null as "", an int as its digits, a float as Python prints
    it (160.5 -> "160.5"), a boolean as "1"/"0". Anything else is returned unchanged, for the
    Struct to refuse with the field's path."""
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


@functools.cache
def _type_info(row_type: Any) -> mi.Type:
    return mi.type_info(row_type)


def tolerant(decoded: object, row_type: Any) -> object:
    """Decoded JSON made fit for `msgspec.convert(..., row_type)`, following `row_type`'s
    fields: where a field is text, any scalar is read as text (`api_text`); a field that is an
    object or a list and comes as null ("will be nulled") is dropped, so it reads as its empty
    default; `READ_ALIASES` names are read under our name. Unknown fields are left for msgspec
    to ignore. Pure: `decoded` is not changed."""
    return _tolerant(decoded, _type_info(row_type))


def _tolerant(value: object, kind: mi.Type) -> object:
    if isinstance(kind, _TEXT_TYPES):
        return api_text(value)
    if isinstance(kind, mi.ListType) and isinstance(value, list):
        return [_tolerant(item, kind.item_type) for item in value]
    if not (isinstance(kind, mi.StructType) and isinstance(value, dict)):
        return value  # a shape msgspec reports with its path
    row = dict(value)
    for alias, name in READ_ALIASES.get(kind.cls, {}).items():
        if row.get(name) is None and alias in row:
            row[name] = row.pop(alias)
    for info in kind.fields:
        if info.encode_name not in row:
            continue
        item = row[info.encode_name]
        if item is None and not isinstance(info.type, _TEXT_TYPES):
            del row[info.encode_name]
        else:
            row[info.encode_name] = _tolerant(item, info.type)
    return row


# ---------------------------------------------------------------- simulator state / data file


class StoredEmployment(Employment, kw_only=True):
    emp_id: str = field(name="empId")


class StoredChild(Child, kw_only=True):
    emp_id: str = field(name="empId")


class Dataset(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A whole 24SevenOffice company: the simulator's state and its JSON file format."""

    employee: list[Employee] = field(default_factory=list)
    employment: list[StoredEmployment] = field(default_factory=list)
    absence: list[Absence] = field(default_factory=list)
    child: list[StoredChild] = field(default_factory=list)
    absencetypes: list[AbsenceType] = field(default_factory=list)
