"""Simployer One employee bundle → 24SevenOffice employee and employment (SPEC "Employee fields").

Pure: no I/O, no clock. A record that cannot be mapped raises `RecordSkipped` (data incomplete,
picked up by a later sync) or `Permanent` (data wrong, someone must fix it). Every reason names
the Simployer One field to fix and never contains the value: values here are personal data.

Decisions (see also compare.py):
- Simployer One owns every field we send, so an absent optional value is sent as "" and clears
  the payroll value (email, address, bank account, bic, clearing number, nationality, end date,
  profession code). The fixed values (vacation days, working times, ...) are always sent.
- No compensation at all: the salary fields are not sent (None), so payroll keeps its salary;
  a missing compensation is far more likely not registered yet than "no pay".
- A missing ssn skips the record like a missing name: payroll cannot report an employee without
  one, and sending "" would erase the identity that the identity-conflict check relies on.
- An empty employment note sends profession_code "" (clears it); an open employment also sends
  enddate and enddate_reason "" (a reason without an end date means nothing).
- Text is sent stripped, emails as written (compare ignores their case), numbers with two
  decimals ("52000.00", "100.00") as the API stores them, dates as YYYY-MM-DD.
- Implausible values fail the record before any write (rules/plausibility.py): dates outside
  1900-2100, salaries above `[limits]`, text longer than payroll keeps, rates outside 0-100.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, Literal, get_args

import msgspec

from payroll_sync.errors import Permanent, RecordSkipped
from payroll_sync.rules import identifiers
from payroll_sync.rules.plausibility import date_within, rate_within, salary_within, text_within
from payroll_sync.schemas import simployer as s
from payroll_sync.schemas.payroll import (
    EmployeeWrite,
    EmploymentForm,
    EmploymentWrite,
    EnddateReason,
    InternationalIdWrite,
    SalaryType,
)
from payroll_sync.schemas.settings import Limits
from payroll_sync.schemas.simployer import EmployeeBundle

__all__ = ["MappedEmployee", "map_employee"]

# ---------------------------------------------------------------- fixed values (SPEC table)

VACATION_DAYS: Final = "25"
INTERNATIONAL_ID_TYPE: Final = "socialSecurityNumber"
WORKING_TIMES: Final = "ikkeSkift"
EMPLOYMENT_TYPE: Final = "ordinaertArbeidsforhold"
NORWAY: Final = "NO"
PAYROLL_CURRENCY: Final = "NOK"

ENDDATE_REASONS: Final[dict[str, EnddateReason]] = {
    "1": "arbeidsforholdetSkulleAldriVaertRapportert",
    "2": "arbeidsgiverHarSagtOppArbeidstaker",
    "3": "arbeidstakerHarSagtOppSelv",
    "4": "byttetLoenssystemEllerRegnskapsfoerer",
    "5": "endringIOrganisasjonsstrukturEllerByttetJobbInternt",
    "6": "kontraktEngasjementEllerVikariatErUtloept",
}
SALARY_TYPES: Final[dict[str, SalaryType]] = {"MONTHLY": "monthly", "HOURLY": "hourly"}

# "<7-digit profession code>" optionally followed by ":<anything>"; only ASCII digits.
NOTE: Final = re.compile(r"(?P<code>[0-9]{7})\s*(?::(?P<reason>.*))?", re.DOTALL)
POSTNUMMER: Final = re.compile(r"[0-9]{4}")
# An ISO date, alone or starting a date-time ("2024-08-01T00:00:00.000Z"). Spelled out because
# date.fromisoformat also takes forms the APIs never use, such as week dates ("2024-W31-4").
ISO_DATE: Final = re.compile(r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ].*)?", re.DOTALL)
CENT: Final = Decimal("0.01")
DEFAULT_LIMITS: Final = Limits()


class MappedEmployee(msgspec.Struct, frozen=True, kw_only=True):
    emp_id: int
    employee: EmployeeWrite  # every integration field, as the strings we send
    employment: EmploymentWrite  # without employment_id: the orchestrator sets it


# ---------------------------------------------------------------- how we format what we send


def text(value: str | None) -> str:
    """Free text as sent: stripped, "" when absent (which clears the payroll value)."""
    return (value or "").strip()


def two_decimals(value: Decimal) -> str:
    """A number as the API stores it: two decimals, "52000.00"."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def calendar_date(value: str | None, field: str) -> str:
    """YYYY-MM-DD of a Simployer One date value (`schemas.simployer.calendar_day`: the Oslo date
    of an instant); Permanent naming `field` when it is missing, no date or outside 1900-2100
    (every date either sync writes comes through here)."""
    try:
        day = s.calendar_day(value)
    except ValueError:
        day = None
    if day is None:
        raise Permanent(f"{field} is not a valid date", field=field)
    return date_within(day, field).isoformat()


# ---------------------------------------------------------------- the mapping


def map_employee(bundle: EmployeeBundle, limits: Limits = DEFAULT_LIMITS) -> MappedEmployee:
    """The payroll employee and employment for one Simployer One employee, or raise.

    `limits` bound the salary (the settings' `[limits]`)."""
    emp = bundle.employee
    emp_id = _emp_id(emp.employee_number)
    employment = bundle.employment
    if employment is None:
        raise RecordSkipped(
            "employee has no current employment (employmentId)", field="employmentId"
        )
    firstname = _required_name(emp.first_name, "firstName")
    lastname = _required_name(emp.last_name, "lastName")
    ssn = _person_number(emp.ssn)
    account, bic, clearing = _bank(emp.bank_account)
    address = emp.home_address or s.HomeAddress()
    country = _country(address.country, "homeAddress.country")
    employee = EmployeeWrite(
        emp_id=str(emp_id),
        email=_email(emp),
        firstname=firstname,
        lastname=lastname,
        personnr=ssn,
        vacation_days=VACATION_DAYS,
        international_id=InternationalIdWrite(
            type=INTERNATIONAL_ID_TYPE,
            id=ssn,
            country_code=_country(emp.nationality, "nationality"),
        ),
        postaddress=text_within(text(address.street), "postaddress", "homeAddress.street"),
        city=text_within(text(address.city), "city", "homeAddress.city"),
        zipcode=text_within(
            _postal_code(address.postal_code, country), "zipcode", "homeAddress.postalCode"
        ),
        country_code=country,
        account=account,
        bic=bic,
        clearingno=clearing,
    )
    employee = _with_salary(employee, bundle.compensations, emp.compensation_id, limits)
    return MappedEmployee(
        emp_id=emp_id,
        employee=employee,
        employment=_employment(employment, bundle.employment_type),
    )


def _emp_id(employee_number: str) -> int:
    try:
        return identifiers.employee_id(employee_number)
    except ValueError as problem:
        raise Permanent(f"employeeNumber {problem}", field="employeeNumber") from None


_NAME_FIELDS: Final = {"firstName": "firstname", "lastName": "lastname"}


def _required_name(value: str | None, field: str) -> str:
    name = text(value)
    if not name:
        raise RecordSkipped(f"{field} is missing", field=field)
    return text_within(name, _NAME_FIELDS[field], field)


def _email(emp: s.Employee) -> str:
    """The work email, else the private one; bounded under the field it came from."""
    work = text(emp.work_email)
    if work:
        return text_within(work, "email", "workEmail")
    return text_within(text(emp.private_email), "email", "privateEmail")


def _person_number(value: str | None) -> str:
    if not text(value):
        raise RecordSkipped("ssn is missing", field="ssn")
    try:
        return identifiers.norwegian_person_number(text(value))
    except ValueError:
        raise Permanent("ssn is not a valid fødselsnummer or D-nummer", field="ssn") from None


def _country(value: str | None, field: str) -> str:
    if not text(value):
        return ""
    try:
        return identifiers.country_alpha2(text(value))
    except ValueError:
        raise Permanent(f"{field} is not an ISO 3166 alpha-2 country code", field=field) from None


def _postal_code(value: str | None, country: str) -> str:
    code = text(value)
    # Only Norwegian postnummer have a known shape (4 digits); foreign ones are sent as written.
    if code and country == NORWAY and not POSTNUMMER.fullmatch(code):
        raise Permanent(
            "homeAddress.postalCode must be 4 digits for an address in Norway",
            field="homeAddress.postalCode",
        )
    return code


def _bank(bank: s.BankAccount | None) -> tuple[str, str, str]:
    """(account, bic, clearingno); "" each when there is no bank account."""
    bank = bank or s.BankAccount()
    number, iban = text(bank.number), text(bank.iban)
    country = _country(bank.country, "bankAccount.country")
    # Without a country, the field that is filled in tells which kind of account it is.
    norwegian = country == NORWAY or (not country and not iban)
    if not number and not iban:
        account = ""
    elif norwegian:
        if not number:
            raise Permanent(
                "bankAccount.number is missing for a bank account in Norway",
                field="bankAccount.number",
            )
        account = _identifier(
            identifiers.norwegian_account,
            number,
            "bankAccount.number",
            "is not a valid Norwegian account number (11 digits)",
        )
    else:
        if not iban:
            raise Permanent(
                "bankAccount.iban is missing for a bank account outside Norway",
                field="bankAccount.iban",
            )
        account = _identifier(identifiers.iban, iban, "bankAccount.iban", "is not a valid IBAN")
    bic = text(bank.bic)
    if bic:
        bic = _identifier(identifiers.bic, bic, "bankAccount.bic", "is not a valid BIC")
    return account, bic, text(bank.clearing)


def _identifier(check: Callable[[str], str], value: str, field: str, problem: str) -> str:
    try:
        return check(value)
    except ValueError:
        raise Permanent(f"{field} {problem}", field=field) from None


def _with_salary(
    employee: EmployeeWrite,
    compensations: list[s.Compensation],
    current_id: str | None,
    limits: Limits,
) -> EmployeeWrite:
    if not compensations:
        return employee
    dated = [
        (calendar_date(c.effective_date, "compensation.effectiveDate"), c.id == current_id, n, c)
        for n, c in enumerate(compensations)
    ]
    # The latest effectiveDate wins; on a tie the employee's compensationId, then the last listed.
    valid_from, _, _, latest = max(dated, key=lambda row: row[:3])
    period = latest.payout_period.strip().upper()
    salary_type = SALARY_TYPES.get(period)
    if salary_type is None:
        # Name the period only when it is one of the API's: the field is free text at the edge.
        named = f" {period}" if period in get_args(s.PayoutPeriod) else ""
        raise Permanent(
            f"compensation.payoutPeriod{named} is not supported: "
            "24SevenOffice takes MONTHLY or HOURLY",
            field="compensation.payoutPeriod",
        )
    currency = text(latest.currency).upper()
    if currency and currency != PAYROLL_CURRENCY:
        raise Permanent(
            "compensation.currency must be NOK: salaries are never converted",
            field="compensation.currency",
        )
    amount = _decimal(latest.amount)
    if amount is None or amount < 0:
        raise Permanent(
            "compensation.amount must be a number of 0 or more", field="compensation.amount"
        )
    salary_within(amount, salary_type, limits, "compensation.amount")
    return msgspec.structs.replace(
        employee,
        salary_valid_from=valid_from,
        salary_type=salary_type,
        salary=two_decimals(amount),
    )


def _decimal(value: float) -> Decimal | None:
    try:
        # str() gives the shortest text that round-trips, so 52000.1 stays 52000.1.
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _employment(
    employment: s.Employment, employment_type: s.EmploymentType | None
) -> EmploymentWrite:
    if employment_type is None:
        raise Permanent(
            "employment.typeId does not name an employment type", field="employment.typeId"
        )
    startdate = calendar_date(employment.start_date, "employment.startDate")
    enddate = ""
    if text(employment.end_date):
        enddate = calendar_date(employment.end_date, "employment.endDate")
    if enddate and enddate < startdate:
        raise Permanent(
            "employment.endDate is before employment.startDate", field="employment.endDate"
        )
    rate = rate_within(_decimal(employment.rate), "employment.rate")
    profession_code, enddate_reason = _note(employment.note, ended=bool(enddate))
    return EmploymentWrite(
        startdate=startdate,
        enddate=enddate,
        enddate_reason=enddate_reason,
        employment_form=_employment_form(employment_type.name),
        employment_rate=two_decimals(rate),
        profession_code=profession_code,
        working_times=WORKING_TIMES,
        employment_type=EMPLOYMENT_TYPE,
    )


def _employment_form(type_name: str) -> EmploymentForm:
    return "midlertidig" if "temporary" in type_name.casefold() else "fast"


def _note(note: str | None, *, ended: bool) -> tuple[str, EnddateReason | Literal[""]]:
    """(profession_code, enddate_reason) from a note like "0111101:6"."""
    raw = text(note)
    if not raw:
        if ended:
            raise _no_reason()
        return "", ""
    match = NOTE.fullmatch(raw)
    if match is None:
        raise Permanent(
            "employment.note must be the 7-digit profession code, then ':' and the end date "
            "reason 1–6 if any, e.g. 0111101:3",
            field="employment.note",
        )
    if not ended:
        return match["code"], ""  # the seed's own "0111101:7": reasons of open employments
    reason = ENDDATE_REASONS.get((match["reason"] or "").strip())
    if reason is None:
        raise _no_reason()
    return match["code"], reason


def _no_reason() -> Permanent:
    # Wording from SPEC: 24SevenOffice requires enddate_reason with enddate.
    return Permanent("end date needs a reason 1–6 in the employment note", field="employment.note")
