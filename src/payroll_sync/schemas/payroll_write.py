"""24SevenOffice Lønn payroll API v2 request bodies: what a client may POST (see the official
OpenAPI file).

Values may be strings or numbers, enumerations are checked, unknown fields are refused. The
simulator decodes request bodies with these Structs, so a client that passes here is refused by
neither. A record exactly as the API served it passes too (the published update examples send
whole records): read-only fields are accepted there and ignored. `schemas.payroll` re-exports
the names the rest of the package imports from it. Only stdlib and msgspec here.
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
Approved = Literal["", "1", "2"]

# A date as the API takes it, or "" to clear it. Calendar validity is checked by the simulator.
DateText = Annotated[str, Meta(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
# Absence dates: as above, or as `GET /absence/v2` answers them (`YYYY-MM-DD HH:MM:SS`), so an
# absence read can be sent back as it is.
AbsenceDateText = Annotated[str, Meta(pattern=r"^(\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?)?$")]
# Numbers may be sent as JSON numbers or strings; the API answers with strings.
NumberLike = int | float | str
# `empId` is an integer in every path; in bodies it may be either.
EmpIdLike = int | str
ProfessionCode = Annotated[str, Meta(pattern=r"^(\d{7})?$")]


class InternationalIdWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    country_code: str | None = field(default=None, name="countryCode")
    id: str | None = field(default=None, name="ID")
    type: InternationalIdType | None = None


class TaxExemptionWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    percentage: NumberLike | None = None
    amount: NumberLike | None = None


class AccountingDimensionWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    dimid: EmpIdLike
    value: EmpIdLike


class AccountingWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    percentage: NumberLike
    dimensions: list[AccountingDimensionWrite] = field(default_factory=list)


class EmployeeWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Body of `POST /employee/v2` and `POST /employee/v2/{empId}`; None = not sent."""

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
    salary_type: SalaryType | Literal[""] | None = None
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
    taxexemption: TaxExemptionWrite | None = None
    accounting: list[AccountingWrite] | None = None


class EmploymentWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One item of `POST /employment/v2/{empId}`; None = not sent."""

    employment_id: str | None = None
    primary_employment: Literal["0", "1", 0, 1] | None = None
    startdate: DateText | None = None
    enddate: DateText | None = None
    enddate_reason: EnddateReason | Literal[""] | None = None
    # "" as the API answers for an employment created without it, so a record read passes.
    employment_form: EmploymentForm | Literal[""] | None = None
    profession_code: ProfessionCode | None = None
    employment_rate: NumberLike | None = None
    employment_type: EmploymentType | Literal[""] | None = None
    enterprise_number: str | None = None
    working_times: WorkingTimes | Literal[""] | None = None


class AbsenceWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Body of `POST /absence/v2`: creates, or updates the absence whose `serialNo` is given.

    The last four fields are not among the published POST fields but are in every row read:
    accepted so a record read can be sent back whole, and ignored (the API keeps them)."""

    emp_id: EmpIdLike = field(name="empId")
    serial_no: EmpIdLike | None = field(default=None, name="serialNo")
    start_date: AbsenceDateText | None = field(default=None, name="startDate")
    end_date: AbsenceDateText | None = field(default=None, name="endDate")
    absence_type: str | None = field(default=None, name="absenceType")
    percent: NumberLike | None = None
    approved: Approved | Literal[1, 2] | None = None
    comment: str | None = None
    child_id: EmpIdLike | None = field(default=None, name="childId")
    number_of_days: NumberLike | None = field(default=None, name="numberOfDays")
    permisjon_id: EmpIdLike | None = field(default=None, name="permisjonId")
    startdate_parental: AbsenceDateText | None = field(default=None, name="startdateParental")
    external_id: str | None = field(default=None, name="externalId")
    request_date: str | None = field(default=None, name="requestDate")
    request_motivation: str | None = field(default=None, name="requestMotivation")
    description: str | None = None
    last_changed: str | None = field(default=None, name="lastChanged")


class ChildWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Body of `POST /child/v2`: updates when `childId` is given, else creates."""

    emp_id: EmpIdLike = field(name="empId")
    child_id: EmpIdLike | None = field(default=None, name="childId")
    firstname: str | None = None
    lastname: str | None = None
    birthdate: DateText | None = None
