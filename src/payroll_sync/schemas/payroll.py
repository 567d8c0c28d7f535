"""24SevenOffice Lønn payroll API v2 payloads (see the official OpenAPI file).

Two families:
- *read* Structs mirror what the API answers: every value a string, `""` for empty.
- *write* Structs are what a client may POST: values may be strings or numbers, enumerations
  are checked, unknown fields are refused. The simulator decodes request bodies with them, so a
  client that passes here is refused by neither.
Only stdlib and msgspec here.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, field

EmploymentForm = Literal[
    "fast",
    "fastAnsattUtleid",
    "midlertidig",
    "midlertidigAnsattUtleid",
    "midlertidigAnsattSomTilkallingsvikar",
]
EmploymentType = Literal[
    "ordinaertArbeidsforhold",
    "maritimtArbeidsforhold",
    "frilanserOppdragstakerHonorarPersonerMm",
    "pensjonOgAndreTyperYtelserUtenAnsettelsesforhold",
]
WorkingTimes = Literal[
    "ikkeSkift",
    "offshore336",
    "doegnkontinuerligSkiftOgTurnus355",
    "helkontinuerligSkiftOgAndreOrdninger336",
    "skift365",
    "andreSkift",
]
EnddateReason = Literal[
    "arbeidsforholdetSkulleAldriVaertRapportert",
    "arbeidsgiverHarSagtOppArbeidstaker",
    "arbeidstakerHarSagtOppSelv",
    "byttetLoenssystemEllerRegnskapsfoerer",
    "endringIOrganisasjonsstrukturEllerByttetJobbInternt",
    "kontraktEngasjementEllerVikariatErUtloept",
]
SalaryType = Literal["monthly", "hourly"]
InternationalIdType = Literal[
    "passnummer", "socialSecurityNumber", "taxIdentificationNumber", "valueAddedTaxNumber"
]
AbsenceCategory = Literal["sickness", "sick_child", "self_report", "vacation", "leave_of_absence"]
Approved = Literal["", "1", "2"]

# A date as the API takes it, or "" to clear it. Calendar validity is checked by the simulator.
DateText = Annotated[str, Meta(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
# Numbers may be sent as JSON numbers or strings; the API answers with strings.
NumberLike = int | float | str
# `empId` is an integer in every path; in bodies it may be either.
EmpIdLike = int | str
ProfessionCode = Annotated[str, Meta(pattern=r"^(\d{7})?$")]


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

    emp_id: str = field(name="empId")
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

    employment_id: str
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

    emp_id: str = field(name="empId")
    serial_no: str = field(name="serialNo")
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
    """`GET /child/v2/{empId}` row (field names as APIS.md gives them)."""

    child_id: str = field(name="childId")
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


# ---------------------------------------------------------------- write (requests)


class InternationalIdWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    country_code: str | None = field(default=None, name="countryCode")
    id: str | None = field(default=None, name="ID")
    type: InternationalIdType | None = None


class EmployeeWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Body of `POST /employee/v2` and `POST /employee/v2/{empId}`; None = leave unchanged."""

    emp_id: EmpIdLike | None = field(default=None, name="empId")
    email: str | None = None
    email_copy: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    postaddress: str | None = None
    zipcode: str | None = None
    city: str | None = None
    country_code: str | None = field(default=None, name="countryCode")
    clearingno: str | None = None
    account: str | None = None
    bic: str | None = None
    employee_date: DateText | None = None
    telefon: str | None = None
    personnr: str | None = None
    international_id: InternationalIdWrite | None = field(default=None, name="internationalID")
    salary_type: SalaryType | None = None
    salary: NumberLike | None = None
    salary_valid_from: DateText | None = None
    taxtable: str | None = None
    employment_rate: NumberLike | None = None
    employment_rate_valid_from: DateText | None = None
    hours_per_week: NumberLike | None = None
    hours_per_week_valid_from: DateText | None = None
    vacation_percent: NumberLike | None = None
    vacation_percent_valid_from: DateText | None = None
    vacation_days: NumberLike | None = None
    hidden: Literal["0", "1", 0, 1] | None = None
    percentage_tax_main_employer: NumberLike | None = None
    percentage_tax_bi_employer: NumberLike | None = None
    tax_resident_country: str | None = None
    continental_shelf: Literal["1", "-1", "", 1, -1] | None = None


class EmploymentWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One item of `POST /employment/v2/{empId}`; None = leave unchanged."""

    employment_id: str | None = None
    primary_employment: Literal["0", "1", 0, 1] | None = None
    startdate: DateText | None = None
    enddate: DateText | None = None
    enddate_reason: EnddateReason | Literal[""] | None = None
    employment_form: EmploymentForm | None = None
    profession_code: ProfessionCode | None = None
    employment_rate: NumberLike | None = None
    employment_type: EmploymentType | None = None
    enterprise_number: str | None = None
    working_times: WorkingTimes | None = None


class AbsenceWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Body of `POST /absence/v2`: creates, or updates the absence whose `serialNo` is given."""

    emp_id: EmpIdLike = field(name="empId")
    serial_no: EmpIdLike | None = field(default=None, name="serialNo")
    start_date: DateText | None = field(default=None, name="startDate")
    end_date: DateText | None = field(default=None, name="endDate")
    absence_type: str | None = field(default=None, name="absenceType")
    percent: NumberLike | None = None
    approved: Approved | Literal[1, 2] | None = None
    comment: str | None = None
    child_id: EmpIdLike | None = field(default=None, name="childId")
    number_of_days: NumberLike | None = field(default=None, name="numberOfDays")
    permisjon_id: EmpIdLike | None = field(default=None, name="permisjonId")
    startdate_parental: DateText | None = field(default=None, name="startdateParental")
    external_id: str | None = field(default=None, name="externalId")


class ChildWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Body of `POST /child/v2`: updates when `childId` is given, else creates."""

    emp_id: EmpIdLike = field(name="empId")
    child_id: EmpIdLike | None = field(default=None, name="childId")
    firstname: str | None = None
    lastname: str | None = None
    birthdate: DateText | None = None


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
