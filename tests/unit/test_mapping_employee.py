"""Simployer One bundle → payroll bodies: every row of SPEC's employee table, every settled rule,
every failure with the field to fix, and no personal data in any reason."""

from __future__ import annotations

import datetime
import operator
from collections.abc import Iterator
from typing import Any, Final

import msgspec
import pytest

from payroll_sync.errors import Permanent, RecordSkipped, SyncError
from payroll_sync.rules.employee import MappedEmployee, map_employee
from payroll_sync.schemas import simployer as s
from payroll_sync.schemas.payroll import EmployeeWrite, EmploymentWrite, InternationalIdWrite
from payroll_sync.schemas.settings import Limits
from payroll_sync.schemas.simployer import EmployeeBundle
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.generator import BROKEN_KINDS, generate_company
from tests.support.bundles import bundles_by_number

replace = msgspec.structs.replace

SSN: Final = "15108695088"
D_NUMBER: Final = "55108695071"
ACCOUNT: Final = "86011117947"
IBAN: Final = "DE89370400440532013000"
TODAY: Final = datetime.date(2025, 6, 2)


def _employee(**changes: Any) -> s.Employee:
    base = s.Employee(
        id="e1",
        active=True,
        employee_number="1001",
        first_name="Kari",
        last_name="Nordmann",
        ssn=SSN,
        nationality="NO",
        work_email="kari.nordmann@firma.no",
        private_email="kari77@gmail.com",
        employment_id="m1",
        compensation_id="k2",
        bank_account=s.BankAccount(number=ACCOUNT, country="NO"),
        home_address=s.HomeAddress(
            street="Storgata 1", postal_code="0150", city="OSLO", country="NO"
        ),
    )
    return replace(base, **changes)


def _employment(**changes: Any) -> s.Employment:
    base = s.Employment(
        id="m1",
        employee_id="e1",
        type_id="t1",
        start_date="2024-08-01T00:00:00.000Z",
        rate=100.0,
        note="0111101",
    )
    return replace(base, **changes)


def _compensation(id_: str, day: str, amount: float, period: str = "MONTHLY") -> s.Compensation:
    return s.Compensation(
        id=id_,
        employee_id="e1",
        amount=amount,
        effective_date=f"{day}T00:00:00.000Z",
        currency="NOK",
        payout_period=period,
    )


COMPENSATIONS: Final = [
    _compensation("k1", "2023-01-01", 48000.0),
    _compensation("k2", "2024-08-01", 52000.0),
]


DEFAULT_EMPLOYMENT: Final = _employment()


def bundle(
    *,
    employment: s.Employment | None = DEFAULT_EMPLOYMENT,
    type_name: str | None = "Permanent",
    compensations: list[s.Compensation] | None = None,
    **employee: Any,
) -> EmployeeBundle:
    return EmployeeBundle(
        employee=_employee(**employee),
        employment=employment,
        employment_type=None if type_name is None else s.EmploymentType(id="t1", name=type_name),
        compensations=COMPENSATIONS if compensations is None else compensations,
    )


def with_employment(**changes: Any) -> EmployeeBundle:
    return bundle(employment=_employment(**changes))


def with_bank(**fields: Any) -> EmployeeBundle:
    return bundle(bank_account=s.BankAccount(**fields))


def with_address(**fields: Any) -> EmployeeBundle:
    return bundle(home_address=s.HomeAddress(**fields))


def ended(note: str | None, end: str = "2025-09-30T00:00:00.000Z") -> EmployeeBundle:
    return with_employment(end_date=end, note=note)


# ------------------------------------------------------------------ the whole mapping


def test_a_complete_employee_maps_to_every_integration_field() -> None:
    assert map_employee(bundle()) == MappedEmployee(
        emp_id=1001,
        employee=EmployeeWrite(
            emp_id="1001",
            email="kari.nordmann@firma.no",
            firstname="Kari",
            lastname="Nordmann",
            personnr=SSN,
            vacation_days="25",
            international_id=InternationalIdWrite(
                type="socialSecurityNumber", id=SSN, country_code="NO"
            ),
            postaddress="Storgata 1",
            city="OSLO",
            zipcode="0150",
            country_code="NO",
            account=ACCOUNT,
            bic="",
            clearingno="",
            salary_valid_from="2024-08-01",
            salary_type="monthly",
            salary="52000.00",
        ),
        employment=EmploymentWrite(
            startdate="2024-08-01",
            enddate="",
            enddate_reason="",
            employment_form="fast",
            employment_rate="100.00",
            profession_code="0111101",
            working_times="ikkeSkift",
            employment_type="ordinaertArbeidsforhold",
        ),
    )


# ------------------------------------------------------------------ one value at a time

CASES: Final[list[Any]] = [
    # employeeNumber → empId
    pytest.param(bundle(employee_number=" 42 "), "emp_id", 42, id="empId-int"),
    pytest.param(bundle(employee_number="42"), "employee.emp_id", "42", id="empId-text"),
    pytest.param(bundle(employee_number="2147483647"), "emp_id", 2147483647, id="empId-largest"),
    # workEmail, else privateEmail
    pytest.param(bundle(), "employee.email", "kari.nordmann@firma.no", id="email-work"),
    pytest.param(bundle(work_email=None), "employee.email", "kari77@gmail.com", id="email-private"),
    pytest.param(bundle(work_email="  "), "employee.email", "kari77@gmail.com", id="email-blank"),
    pytest.param(bundle(work_email=None, private_email=None), "employee.email", "", id="no-email"),
    pytest.param(bundle(work_email=" A@B.no "), "employee.email", "A@B.no", id="email-stripped"),
    # names
    pytest.param(bundle(first_name=" Kari "), "employee.firstname", "Kari", id="firstname"),
    pytest.param(bundle(last_name="Nordmann "), "employee.lastname", "Nordmann", id="lastname"),
    # ssn → personnr and internationalID.ID
    pytest.param(bundle(ssn="151086 95088"), "employee.personnr", SSN, id="personnr-compact"),
    pytest.param(bundle(ssn=D_NUMBER), "employee.personnr", D_NUMBER, id="personnr-d-nummer"),
    pytest.param(bundle(ssn="15908695043"), "employee.personnr", "15908695043", id="synthetic"),
    pytest.param(bundle(ssn=D_NUMBER), "employee.international_id.id", D_NUMBER, id="id-ID"),
    # fixed values
    pytest.param(bundle(), "employee.vacation_days", "25", id="vacation-days"),
    pytest.param(bundle(), "employee.international_id.type", "socialSecurityNumber", id="id-type"),
    pytest.param(bundle(), "employment.working_times", "ikkeSkift", id="working-times"),
    pytest.param(
        bundle(), "employment.employment_type", "ordinaertArbeidsforhold", id="employment-type"
    ),
    # nationality → internationalID.countryCode
    pytest.param(
        bundle(nationality="se"),
        "employee.international_id.country_code",
        "SE",
        id="nationality-upper",
    ),
    pytest.param(
        bundle(nationality=None),
        "employee.international_id.country_code",
        "",
        id="nationality-absent",
    ),
    # homeAddress
    pytest.param(bundle(), "employee.postaddress", "Storgata 1", id="street"),
    pytest.param(bundle(), "employee.city", "OSLO", id="city"),
    pytest.param(bundle(), "employee.zipcode", "0150", id="postal-code-leading-zero"),
    pytest.param(bundle(), "employee.country_code", "NO", id="country"),
    pytest.param(
        with_address(street="Storgatan 12", postal_code="451 30", city="Uddevalla", country="se"),
        "employee",
        EmployeeWrite(
            postaddress="Storgatan 12", zipcode="451 30", city="Uddevalla", country_code="SE"
        ),
        id="foreign-address",
    ),
    pytest.param(
        bundle(home_address=None),
        "employee",
        EmployeeWrite(postaddress="", zipcode="", city="", country_code=""),
        id="no-address-clears",
    ),
    # bankAccount → account, bic, clearingno
    pytest.param(bundle(), "employee.account", ACCOUNT, id="account-norwegian"),
    pytest.param(
        with_bank(number="8601.11.17947", country="NO"),
        "employee.account",
        ACCOUNT,
        id="account-compact",
    ),
    pytest.param(
        with_bank(number="8601.11.17947", country="no"),
        "employee.account",
        ACCOUNT,
        id="account-country-lower-case",
    ),
    pytest.param(
        with_bank(iban="DE89 3704 0044 0532 0130 00", bic="COBADEFF", country="DE"),
        "employee.account",
        IBAN,
        id="account-iban-abroad",
    ),
    pytest.param(
        with_bank(number=ACCOUNT, iban=IBAN, country="DE"),
        "employee.account",
        IBAN,
        id="account-abroad-prefers-iban",
    ),
    pytest.param(
        with_bank(number=ACCOUNT, iban=IBAN, country="NO"),
        "employee.account",
        ACCOUNT,
        id="account-norway-prefers-number",
    ),
    pytest.param(
        with_bank(number=ACCOUNT), "employee.account", ACCOUNT, id="account-no-country-number"
    ),
    pytest.param(with_bank(iban=IBAN), "employee.account", IBAN, id="account-no-country-iban"),
    pytest.param(
        bundle(bank_account=None),
        "employee",
        EmployeeWrite(account="", bic="", clearingno=""),
        id="no-bank-account-clears",
    ),
    pytest.param(
        with_bank(iban=IBAN, bic="deutdeff xxx", country="DE"),
        "employee.bic",
        "DEUTDEFFXXX",
        id="bic",
    ),
    pytest.param(
        with_bank(iban="SE4550000000058398257466", clearing=" 5123 ", country="SE"),
        "employee.clearingno",
        "5123",
        id="clearing",
    ),
    # employment dates
    pytest.param(bundle(), "employment.startdate", "2024-08-01", id="startdate-from-date-time"),
    pytest.param(
        with_employment(start_date="2024-08-01"),
        "employment.startdate",
        "2024-08-01",
        id="startdate-plain",
    ),
    pytest.param(bundle(), "employment.enddate", "", id="enddate-open-clears"),
    pytest.param(ended("0111101:6"), "employment.enddate", "2025-09-30", id="enddate"),
    # employment type → employment_form
    pytest.param(
        bundle(type_name="Temporary"), "employment.employment_form", "midlertidig", id="temporary"
    ),
    pytest.param(
        bundle(type_name="Temporary substitute"),
        "employment.employment_form",
        "midlertidig",
        id="temporary-substitute",
    ),
    pytest.param(
        bundle(type_name="Seasonal (TEMPORARY)"),
        "employment.employment_form",
        "midlertidig",
        id="temporary-any-case",
    ),
    pytest.param(
        bundle(type_name="Permanent part-time"),
        "employment.employment_form",
        "fast",
        id="permanent-part-time",
    ),
    pytest.param(
        bundle(type_name="Midlertidig"),
        "employment.employment_form",
        "fast",
        id="only-temporary-counts",
    ),
    # rate → employment_rate
    pytest.param(with_employment(rate=60.5), "employment.employment_rate", "60.50", id="rate"),
    pytest.param(with_employment(rate=33.3), "employment.employment_rate", "33.30", id="rate-2"),
    pytest.param(with_employment(rate=0.0), "employment.employment_rate", "0.00", id="rate-0"),
    # note → profession_code and enddate_reason
    pytest.param(
        with_employment(note="0111101:7"),
        "employment",
        EmploymentWrite(profession_code="0111101", enddate="", enddate_reason=""),
        id="seed-example-open",
    ),
    pytest.param(
        with_employment(note="2130102:3"),
        "employment.enddate_reason",
        "",
        id="reason-of-open-employment-ignored",
    ),
    pytest.param(
        with_employment(note=" 2130102 "), "employment.profession_code", "2130102", id="code-only"
    ),
    pytest.param(
        with_employment(note=None), "employment.profession_code", "", id="no-note-clears-code"
    ),
    pytest.param(with_employment(note=""), "employment.profession_code", "", id="empty-note"),
    pytest.param(
        ended(" 2130102 : 3 "),
        "employment",
        EmploymentWrite(profession_code="2130102", enddate_reason="arbeidstakerHarSagtOppSelv"),
        id="spaces-around-the-colon",
    ),
    # the latest compensation → salary
    pytest.param(bundle(), "employee.salary_valid_from", "2024-08-01", id="salary-valid-from"),
    pytest.param(
        bundle(compensations=COMPENSATIONS[::-1]),
        "employee.salary",
        "52000.00",
        id="latest-wins-whatever-the-order",
    ),
    pytest.param(
        bundle(compensations=[*COMPENSATIONS, _compensation("k3", "2099-01-01", 61000.5)]),
        "employee",
        EmployeeWrite(salary="61000.50", salary_valid_from="2099-01-01", salary_type="monthly"),
        id="future-compensation-is-the-latest",
    ),
    pytest.param(
        bundle(compensations=[_compensation("k9", "2024-08-01", 1.0), COMPENSATIONS[1]]),
        "employee.salary",
        "52000.00",
        id="tie-goes-to-compensationId",
    ),
    pytest.param(
        bundle(compensations=[_compensation("k1", "2024-08-01", 187.5, "HOURLY")]),
        "employee",
        EmployeeWrite(salary="187.50", salary_valid_from="2024-08-01", salary_type="hourly"),
        id="hourly",
    ),
]


def _pick(mapped: MappedEmployee, path: str, expected: object) -> object:
    """The value at `path`; for an expected Struct, only the fields that one sets."""
    value = operator.attrgetter(path)(mapped)
    if isinstance(expected, msgspec.Struct):
        wanted = [k for k, v in msgspec.structs.asdict(expected).items() if v is not None]
        return replace(type(expected)(), **{k: getattr(value, k) for k in wanted})
    return value


@pytest.mark.parametrize(("source", "path", "expected"), CASES)
def test_each_field(source: EmployeeBundle, path: str, expected: object) -> None:
    assert _pick(map_employee(source), path, expected) == expected


def test_no_compensation_leaves_every_salary_field_unsent() -> None:
    employee = map_employee(bundle(compensations=[])).employee
    assert (employee.salary, employee.salary_type, employee.salary_valid_from) == (None,) * 3


REASONS: Final = {
    "1": "arbeidsforholdetSkulleAldriVaertRapportert",
    "2": "arbeidsgiverHarSagtOppArbeidstaker",
    "3": "arbeidstakerHarSagtOppSelv",
    "4": "byttetLoenssystemEllerRegnskapsfoerer",
    "5": "endringIOrganisasjonsstrukturEllerByttetJobbInternt",
    "6": "kontraktEngasjementEllerVikariatErUtloept",
}


@pytest.mark.parametrize(("code", "reason"), REASONS.items())
def test_every_end_date_reason(code: str, reason: str) -> None:
    employment = map_employee(ended(f"0111101:{code}")).employment
    assert (employment.profession_code, employment.enddate, employment.enddate_reason) == (
        "0111101",
        "2025-09-30",
        reason,
    )


# ------------------------------------------------------------------ what stops a record

FAILURES: Final[list[Any]] = [
    # incomplete: skipped
    pytest.param(bundle(employment=None), RecordSkipped, "employmentId", id="no-employment"),
    pytest.param(bundle(first_name=None), RecordSkipped, "firstName", id="no-first-name"),
    pytest.param(bundle(first_name=" "), RecordSkipped, "firstName", id="blank-first-name"),
    pytest.param(bundle(last_name=None), RecordSkipped, "lastName", id="no-last-name"),
    pytest.param(bundle(last_name=""), RecordSkipped, "lastName", id="empty-last-name"),
    pytest.param(bundle(ssn=None), RecordSkipped, "ssn", id="no-ssn"),
    # wrong: failed
    pytest.param(bundle(employee_number="A-12"), Permanent, "employeeNumber", id="empno-letters"),
    pytest.param(bundle(employee_number="12.5"), Permanent, "employeeNumber", id="empno-decimal"),
    pytest.param(bundle(employee_number=""), Permanent, "employeeNumber", id="empno-empty"),
    pytest.param(bundle(employee_number="١٢"), Permanent, "employeeNumber", id="empno-non-ascii"),
    # Issue 13: "0001" silently became empId 1 (and "0042" the employee "42" is).
    pytest.param(bundle(employee_number="0001"), Permanent, "employeeNumber", id="empno-zeros"),
    pytest.param(bundle(employee_number=" 0042"), Permanent, "employeeNumber", id="empno-zero"),
    pytest.param(bundle(employee_number="0"), Permanent, "employeeNumber", id="empno-0"),
    pytest.param(
        bundle(employee_number="2147483648"), Permanent, "employeeNumber", id="empno-too-big"
    ),
    pytest.param(bundle(ssn="15108695089"), Permanent, "ssn", id="ssn-checksum"),
    pytest.param(bundle(ssn="1510869508"), Permanent, "ssn", id="ssn-length"),
    pytest.param(bundle(ssn="15508695060"), Permanent, "ssn", id="ssn-h-nummer"),
    pytest.param(bundle(nationality="Norway"), Permanent, "nationality", id="nationality"),
    pytest.param(with_address(country="NOR"), Permanent, "homeAddress.country", id="country"),
    pytest.param(
        with_address(postal_code="150", country="NO"),
        Permanent,
        "homeAddress.postalCode",
        id="postnummer",
    ),
    pytest.param(
        with_bank(number="86011117949", country="NO"),
        Permanent,
        "bankAccount.number",
        id="account-checksum",
    ),
    pytest.param(
        with_bank(number="4090403", country="NO"),
        Permanent,
        "bankAccount.number",
        id="account-postgiro",
    ),
    pytest.param(
        with_bank(iban="NO9386011117947", country="NO"),
        Permanent,
        "bankAccount.number",
        id="account-norway-without-number",
    ),
    pytest.param(
        with_bank(number=ACCOUNT, country="SE"),
        Permanent,
        "bankAccount.iban",
        id="account-abroad-without-iban",
    ),
    pytest.param(
        with_bank(iban="DE89370400440532013001", country="DE"),
        Permanent,
        "bankAccount.iban",
        id="iban-checksum",
    ),
    pytest.param(
        with_bank(iban=IBAN, bic="DEUT1EFF", country="DE"), Permanent, "bankAccount.bic", id="bic"
    ),
    pytest.param(
        with_bank(iban=IBAN, country="Tyskland"),
        Permanent,
        "bankAccount.country",
        id="bank-country",
    ),
    pytest.param(bundle(type_name=None), Permanent, "employment.typeId", id="no-employment-type"),
    pytest.param(
        with_employment(start_date="1.8.2024"), Permanent, "employment.startDate", id="start-date"
    ),
    pytest.param(
        with_employment(start_date="2024-W31-4"),
        Permanent,
        "employment.startDate",
        id="start-week-date",
    ),
    pytest.param(
        with_employment(start_date="20240801"), Permanent, "employment.startDate", id="start-basic"
    ),
    pytest.param(
        ended("0111101:3", end="2025-13-01T00:00:00.000Z"),
        Permanent,
        "employment.endDate",
        id="end-date",
    ),
    pytest.param(
        ended("0111101:3", end="2024-07-31T00:00:00.000Z"),
        Permanent,
        "employment.endDate",
        id="end-before-start",
    ),
    pytest.param(with_employment(rate=120.0), Permanent, "employment.rate", id="rate-high"),
    pytest.param(with_employment(rate=-1.0), Permanent, "employment.rate", id="rate-negative"),
    *(
        pytest.param(with_employment(note=note), Permanent, "employment.note", id=f"note-{n}")
        for n, note in enumerate(
            ["01111:3", "abc:2", "01111011", "0111 101", "011110", "Vikar for Ola", ":3"]
        )
    ),
    *(
        pytest.param(ended(note), Permanent, "employment.note", id=f"end-without-reason-{n}")
        for n, note in enumerate(["0111101", "0111101:7", "0111101:0", "0111101:", "0111101:x"])
    ),
    pytest.param(ended(""), Permanent, "employment.note", id="end-with-empty-note"),
    pytest.param(ended(None), Permanent, "employment.note", id="end-without-note"),
    *(
        pytest.param(
            bundle(compensations=[*COMPENSATIONS, _compensation("k3", "2025-01-01", 1.0, p)]),
            Permanent,
            "compensation.payoutPeriod",
            id=f"payout-{p or 'empty'}",
        )
        for p in ("DAILY", "WEEKLY", "BI_WEEKLY", "QUARTERLY", "ANNUAL", "")
    ),
    pytest.param(
        bundle(compensations=[replace(COMPENSATIONS[1], currency="EUR")]),
        Permanent,
        "compensation.currency",
        id="currency",
    ),
    pytest.param(
        bundle(compensations=[replace(COMPENSATIONS[1], amount=-5.0)]),
        Permanent,
        "compensation.amount",
        id="negative-amount",
    ),
    pytest.param(
        bundle(compensations=[replace(COMPENSATIONS[1], effective_date="soon")]),
        Permanent,
        "compensation.effectiveDate",
        id="effective-date",
    ),
    # Plausibility (issue 13): well-formed values nobody can mean.
    pytest.param(
        bundle(compensations=[replace(COMPENSATIONS[1], amount=1e12)]),
        Permanent,
        "compensation.amount",
        id="salary-1e12",
    ),
    pytest.param(
        bundle(compensations=[_compensation("k2", "2024-08-01", 20_001.0, "HOURLY")]),
        Permanent,
        "compensation.amount",
        id="hourly-salary-too-high",
    ),
    pytest.param(bundle(first_name="K" * 10_000), Permanent, "firstName", id="first-name-10k"),
    pytest.param(bundle(last_name="N" * 101), Permanent, "lastName", id="last-name-long"),
    pytest.param(
        bundle(work_email="k" * 250 + "@f.no"), Permanent, "workEmail", id="work-email-long"
    ),
    pytest.param(
        bundle(work_email=None, private_email="k" * 250 + "@f.no"),
        Permanent,
        "privateEmail",
        id="private-email-long",
    ),
    pytest.param(
        with_address(street="S" * 201, country="NO"),
        Permanent,
        "homeAddress.street",
        id="street-long",
    ),
    pytest.param(
        with_address(city="O" * 101, country="NO"), Permanent, "homeAddress.city", id="city-long"
    ),
    pytest.param(
        with_address(postal_code="1" * 21, country="SE"),
        Permanent,
        "homeAddress.postalCode",
        id="postal-code-long",
    ),
    pytest.param(
        with_employment(start_date="9999-12-31T00:00:00.000Z"),
        Permanent,
        "employment.startDate",
        id="start-9999",
    ),
    pytest.param(
        with_employment(start_date="1899-12-31"), Permanent, "employment.startDate", id="start-1899"
    ),
    pytest.param(
        ended("0111101:3", end="2101-01-01T00:00:00.000Z"),
        Permanent,
        "employment.endDate",
        id="end-2101",
    ),
    pytest.param(
        bundle(compensations=[_compensation("k3", "9999-01-01", 1.0)]),
        Permanent,
        "compensation.effectiveDate",
        id="effective-date-9999",
    ),
]


@pytest.mark.parametrize(
    ("source", "field"),
    [
        (bundle(compensations=[replace(COMPENSATIONS[1], amount=3_000_000.0)]), "salary"),
        (bundle(compensations=[_compensation("k2", "2024-08-01", 20_000.0, "HOURLY")]), "salary"),
        (bundle(first_name="K" * 100, last_name="N" * 100), "firstname"),
        (with_address(street="S" * 200, city="O" * 100, country="NO"), "postaddress"),
        (with_employment(start_date="1900-01-01"), "startdate"),
        (ended("0111101:3", end="2100-12-31T00:00:00.000Z"), "enddate"),
    ],
)
def test_values_at_the_bounds_are_written(source: EmployeeBundle, field: str) -> None:
    mapped = map_employee(source)
    assert field in msgspec.to_builtins(mapped.employee) | msgspec.to_builtins(mapped.employment)


def test_the_salary_bound_comes_from_the_settings() -> None:
    high = bundle(compensations=[replace(COMPENSATIONS[1], amount=4_000_000.0)])
    with pytest.raises(Permanent) as caught:
        map_employee(high)
    assert caught.value.field == "compensation.amount"
    assert "4000000" not in caught.value.reason.replace(",", "")
    raised = Limits(max_monthly_salary=5_000_000.0)
    assert map_employee(high, raised).employee.salary == "4000000.00"


@pytest.mark.parametrize(("source", "error", "field"), FAILURES)
def test_failures_name_the_field(
    source: EmployeeBundle, error: type[SyncError], field: str
) -> None:
    with pytest.raises(error) as caught:
        map_employee(source)
    assert type(caught.value) is error  # a skip is never a failure, nor the other way round
    assert caught.value.field == field
    assert field.split(".")[-1].lower() in caught.value.reason.lower().replace(" ", "")


def test_an_older_unsupported_compensation_does_not_matter() -> None:
    old = _compensation("k0", "2020-01-01", 1.0, "ANNUAL")
    assert map_employee(bundle(compensations=[old, *COMPENSATIONS])).employee.salary == "52000.00"


def test_end_date_without_reason_uses_the_settled_wording() -> None:
    with pytest.raises(Permanent) as caught:
        map_employee(ended("0111101:7"))
    assert caught.value.reason == "end date needs a reason 1–6 in the employment note"


@pytest.mark.parametrize(
    ("source", "secrets"),
    [
        (bundle(ssn="15108695089"), ["15108695089"]),
        (bundle(ssn="151086 95089"), ["151086 95089", "15108695089"]),
        (with_bank(number="8601.11.17949", country="NO"), ["8601.11.17949", "86011117949"]),
        (with_bank(iban="DE89 3704 0044 0532 0130 01", country="DE"), ["DE89370400440532013001"]),
        (bundle(compensations=[replace(COMPENSATIONS[1], amount=-52000.0)]), ["52000"]),
    ],
)
def test_no_reason_contains_the_value(source: EmployeeBundle, secrets: list[str]) -> None:
    with pytest.raises(Permanent) as caught:
        map_employee(source)
    for secret in secrets:
        assert secret not in caught.value.reason
        assert secret not in str(caught.value)


# ------------------------------------------------------------------ generated companies

EXPECTED_BREAKAGE: Final[dict[str, tuple[type[SyncError], str]]] = {
    "ssn_checksum": (Permanent, "ssn"),
    "missing_first_name": (RecordSkipped, "firstName"),
    "missing_last_name": (RecordSkipped, "lastName"),
    "malformed_note": (Permanent, "employment.note"),
    "unsupported_payout_period": (Permanent, "compensation.payoutPeriod"),
    "account_checksum": (Permanent, "bankAccount.number"),
    "end_date_without_reason": (Permanent, "employment.note"),
}


def _bundles(dataset: published.Company) -> Iterator[EmployeeBundle]:
    yield from bundles_by_number(dataset).values()


def _personal_values(employee: s.Employee) -> list[str]:
    bank = employee.bank_account or s.BankAccount()
    return [v for v in (employee.ssn, bank.number, bank.iban) if v]


def test_every_kind_of_breakage_has_an_expectation() -> None:
    assert set(EXPECTED_BREAKAGE) == set(BROKEN_KINDS)


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_generated_company_maps_or_fails_as_labelled(seed: int) -> None:
    company = generate_company(200, seed=seed, today=TODAY)
    seen: set[str] = set()
    for source in _bundles(company.dataset):
        kind = company.broken.get(source.employee.employee_number)
        if kind is None:
            mapped = map_employee(source)
            # What the payroll simulator would decode: patterns and enumerations hold.
            for body in (mapped.employee, mapped.employment):
                assert msgspec.json.decode(msgspec.json.encode(body), type=type(body)) == body
            continue
        error, field = EXPECTED_BREAKAGE[kind]
        with pytest.raises(error) as caught:
            map_employee(source)
        assert (type(caught.value), caught.value.field) == (error, field), kind
        for secret in _personal_values(source.employee):
            assert secret not in caught.value.reason
        seen.add(kind)
    assert seen == set(BROKEN_KINDS)


def test_generated_company_with_default_today() -> None:
    # generate_company(200, seed=1) as it is called elsewhere: whatever today is.
    company = generate_company(200, seed=1)
    results = []
    for source in _bundles(company.dataset):
        try:
            map_employee(source)
            results.append("ok")
        except SyncError as exc:
            results.append(exc.field)
    assert results.count("ok") == 200 - len(company.broken)


@pytest.mark.parametrize(
    ("period", "reason"),
    [
        ("WEEKLY", "compensation.payoutPeriod WEEKLY is not supported"),
        ("fortnightly-ish", "compensation.payoutPeriod is not supported"),
    ],
)
def test_payout_period_reason_names_only_the_apis_periods(period: str, reason: str) -> None:
    with pytest.raises(Permanent) as caught:
        map_employee(bundle(compensations=[replace(COMPENSATIONS[1], payout_period=period)]))
    assert caught.value.reason.startswith(reason)
