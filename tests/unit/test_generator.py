"""The company generator: deterministic, internally consistent, valid where it should be and
broken exactly where it says it is."""

from __future__ import annotations

import datetime
import itertools
import re
from collections import Counter, defaultdict

import msgspec
import pytest
from stdnum import bic, iban
from stdnum.no import fodselsnummer, kontonr

from payroll_sync.simulators import simployer_published as s
from payroll_sync.simulators.generator import (
    BROKEN_KINDS,
    LEAVE_TYPE_NAMES,
    GeneratedCompany,
    LeaveFacts,
    company_rows,
    day_of,
    generate_company,
)

TODAY = datetime.date(2025, 6, 2)
SICK_CHILD_TYPES = {"Care of sick child", "Childcare sickness days", "Care benefit sick child"}
HEX24 = re.compile(r"[0-9a-f]{24}")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# A calendar date as Simployer One writes it: an instant with an offset or Z (APIS.md).
ISO_DATE_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:00:00\.000(Z|\+00:00)")


@pytest.fixture(scope="module", params=[1, 7, 2024])
def company(request: pytest.FixtureRequest) -> GeneratedCompany:
    seed: int = request.param
    return generate_company(200, seed, today=TODAY)


def _day(text: str) -> datetime.date:
    return day_of(text)


def _code_and_reason(note: str | None) -> tuple[str, str | None]:
    code, _, reason = (note or "").partition(":")
    return code, reason if ":" in (note or "") else None


def _current(ds: s.Company) -> dict[str, s.Employment]:
    """employeeNumber -> the employee's current employment."""
    by_id = {row.id: row for row in ds.employment}
    return {e.employee_number: by_id[e.employment_id or ""] for e in ds.employee}


# ------------------------------------------------------------------ determinism


def test_same_arguments_give_the_same_bytes() -> None:
    first = generate_company(120, 5, today=TODAY)
    again = generate_company(120, 5, today=TODAY)
    assert msgspec.json.encode(first) == msgspec.json.encode(again)


def test_another_seed_or_day_gives_another_company() -> None:
    base = msgspec.json.encode(generate_company(50, 1, today=TODAY))
    assert msgspec.json.encode(generate_company(50, 2, today=TODAY)) != base
    later = generate_company(50, 1, today=TODAY + datetime.timedelta(days=1))
    assert msgspec.json.encode(later) != base


def test_the_dataset_round_trips_through_json(company: GeneratedCompany) -> None:
    ds = company.dataset
    assert msgspec.json.decode(msgspec.json.encode(ds), type=s.Company) == ds


@pytest.mark.parametrize("employees", [0, 1, 5, 19])
def test_small_companies_are_generated_too(employees: int) -> None:
    ds = generate_company(employees, 3, today=TODAY).dataset
    assert len(ds.employee) == employees
    assert len(ds.leave_type) == 20


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="employees"):
        generate_company(-1)
    with pytest.raises(ValueError, match="broken_share"):
        generate_company(10, broken_share=1.5)


# ------------------------------------------------------------------ shape and integrity


def test_counts_ids_and_employee_numbers(company: GeneratedCompany) -> None:
    ds = company.dataset
    assert len(ds.employee) == 200
    every_id = [row.id for name in s.TABLES for row in getattr(ds, name.replace("-", "_"))]
    assert len(every_id) == len(set(every_id))
    assert all(HEX24.fullmatch(i) for i in every_id)
    numbers = [e.employee_number for e in ds.employee]
    assert len(set(numbers)) == 200
    assert all(n.isdigit() for n in numbers)
    assert len({e.company_id for e in ds.employee}) == 1
    assert 6 <= len(ds.department) <= 10
    assert any(d.parent_id for d in ds.department)
    assert {o.name for o in ds.office} <= {"Oslo", "Bergen", "Trondheim", "Stavanger"}
    assert 3 <= len(ds.office) <= 4
    names = {t.name for t in ds.employment_type}
    assert {"Permanent", "Temporary", "Temporary substitute", "Permanent part-time"} <= names


def test_every_reference_points_at_an_existing_row(company: GeneratedCompany) -> None:
    ds = company.dataset
    ids = {name: {row.id for row in getattr(ds, name)} for name in s.Company.__struct_fields__}
    employees = ids["employee"]
    for e in ds.employee:
        assert e.employment_id in ids["employment"]
        assert e.employment_type_id in ids["employment_type"]
        assert e.compensation_id in ids["compensation"]
        assert e.department_id in ids["department"]
        assert e.office_id in ids["office"]
        assert e.manager_employee_id is None or e.manager_employee_id in employees
    for emp in ds.employment:
        assert emp.employee_id in employees
        assert emp.type_id in ids["employment_type"]
    assert all(c.employee_id in employees for c in ds.compensation)
    assert all(c.employee_id in employees for c in ds.child)
    for leave in ds.leave:
        assert leave.employee_id in employees
        assert leave.type_id in ids["leave_type"]
    assert all(d.parent_id is None or d.parent_id in ids["department"] for d in ds.department)
    assert all(code.leave_type_id in ids["leave_type"] for code in ds.leave_type_code)
    # The current employment and compensation belong to the employee.
    employments = {row.id: row for row in ds.employment}
    compensations = {row.id: row for row in ds.compensation}
    for e in ds.employee:
        assert employments[e.employment_id or ""].employee_id == e.id
        assert compensations[e.compensation_id or ""].employee_id == e.id


def test_times_are_iso_and_updated_follows_created(company: GeneratedCompany) -> None:
    for e in company.dataset.employee:
        assert ISO_TIME.fullmatch(e.created)
        assert ISO_TIME.fullmatch(e.updated)
        assert e.created <= e.updated < TODAY.isoformat()


# ------------------------------------------------------------------ identifiers


def test_ssns_are_valid_except_the_broken_ones(company: GeneratedCompany) -> None:
    d_numbers = 0
    for e in company.dataset.employee:
        ssn = e.ssn or ""
        assert len(ssn) == 11
        assert ssn.isdigit()
        if company.broken.get(e.employee_number) == "ssn_checksum":
            assert not fodselsnummer.is_valid(ssn)
            continue
        assert fodselsnummer.is_valid(ssn), ssn
        assert fodselsnummer.get_birth_date(ssn) == _day(e.birth_date or "")
        assert 1960 <= _day(e.birth_date or "").year <= 2004
        d_numbers += int(ssn[0]) >= 4
    assert 5 <= d_numbers <= 40  # about 10 % of 200
    assert len({e.ssn for e in company.dataset.employee}) == 200


def test_bank_accounts_are_valid_except_the_broken_ones(company: GeneratedCompany) -> None:
    foreign = 0
    for e in company.dataset.employee:
        account = e.bank_account
        assert account is not None
        if account.country == "NO":
            number = account.number or ""
            assert len(number) == 11
            assert number.isdigit()
            assert account.iban is None
            broken = company.broken.get(e.employee_number) == "account_checksum"
            assert kontonr.is_valid(number) is not broken
        else:
            foreign += 1
            assert account.number is None
            assert iban.is_valid(account.iban or "")
            assert (account.iban or "")[:2] == account.country
            assert bic.is_valid(account.bic or "")
            assert (account.bic or "")[4:6] == account.country
            assert account.clearing is None or account.country == "SE"
    assert 5 <= foreign <= 40


def test_contact_details(company: GeneratedCompany) -> None:
    employees = company.dataset.employee
    assert all(e.work_email or e.private_email for e in employees)
    assert 5 <= sum(e.work_email is None for e in employees) <= 40
    work = [e.work_email for e in employees if e.work_email]
    assert len(work) == len(set(work))
    assert {e.nationality for e in employees} > {"NO"}
    for e in employees:
        address = e.home_address
        assert address is not None
        assert address.street
        assert address.city
        if address.country == "NO":
            assert re.fullmatch(r"\d{4}", address.postal_code or "")
    assert any(e.home_address and e.home_address.country != "NO" for e in employees)


# ------------------------------------------------------------------ employments and pay


def test_notes_hold_a_seven_digit_code_except_the_broken_ones(company: GeneratedCompany) -> None:
    ds = company.dataset
    current = _current(ds)
    broken_notes = {n for n, kind in company.broken.items() if kind == "malformed_note"}
    assert broken_notes
    for number, employment in current.items():
        code, _ = _code_and_reason(employment.note)
        is_code = len(code) == 7 and code.isdigit()
        assert is_code is (number not in broken_notes), employment.note
    currents = {row.id for row in current.values()}
    for employment in ds.employment:
        if employment.id not in currents:  # earlier employments are always well-formed
            code, reason = _code_and_reason(employment.note)
            assert len(code) == 7
            assert code.isdigit()
            assert reason in set("123456")
    assert "0111101:7" in {row.note for row in current.values()}


def test_end_dates_carry_a_reason_except_the_broken_ones(company: GeneratedCompany) -> None:
    current = _current(company.dataset)
    for employment in company.dataset.employment:
        if employment.end_date is None:
            assert not employment.terminated
            continue
        _, reason = _code_and_reason(employment.note)
        number = next(n for n, row in current.items() if row.employee_id == employment.employee_id)
        broken = company.broken.get(number) == "end_date_without_reason"
        is_current = current[number].id == employment.id
        assert (reason in set("123456")) is not (broken and is_current), employment.note
        assert employment.terminated is (_day(employment.end_date) < TODAY)


def test_employments_and_employees_agree(company: GeneratedCompany) -> None:
    ds = company.dataset
    current = _current(ds)
    types = {t.id: t.name for t in ds.employment_type}
    per_employee = Counter(row.employee_id for row in ds.employment)
    assert set(per_employee.values()) == {1, 2}
    for e in ds.employee:
        employment = current[e.employee_number]
        assert e.employment_type_id == employment.type_id
        assert e.end_date == employment.end_date
        assert employment.rate > 0
        assert employment.start_date >= (e.hire_date or "")
        if company.broken.get(e.employee_number) == "end_date_without_reason":
            assert "temporary" in types[employment.type_id].lower()


def test_inactive_employees_ended_recently_or_long_ago(company: GeneratedCompany) -> None:
    inactive = [e for e in company.dataset.employee if not e.active]
    assert 5 <= len(inactive) <= 20
    ages = [(TODAY - _day(e.end_date or "")).days for e in inactive]
    assert all(age > 0 for age in ages)
    assert any(age < 90 for age in ages)
    assert any(age > 180 for age in ages)
    assert not {e.employee_number for e in inactive} & company.broken.keys()


def test_compensations(company: GeneratedCompany) -> None:
    ds = company.dataset
    rows: defaultdict[str, list[s.Compensation]] = defaultdict(list)
    for row in ds.compensation:
        rows[row.employee_id].append(row)
    by_id = {row.id: row for row in ds.compensation}
    for e in ds.employee:
        mine = rows[e.id]
        assert 2 <= len(mine) <= 4
        assert len({c.effective_date for c in mine}) == len(mine)
        latest = max(mine, key=lambda c: c.effective_date)
        assert by_id[e.compensation_id or ""] == latest
        broken = company.broken.get(e.employee_number) == "unsupported_payout_period"
        assert (latest.payout_period in ("WEEKLY", "ANNUAL", "DAILY")) is broken
        for c in mine:
            assert c.currency == "NOK"
            if c.payout_period == "MONTHLY":
                assert 35_000 <= c.amount <= 95_000
            elif c.payout_period == "HOURLY":
                assert 180 <= c.amount <= 450
    latest_days = [_day(by_id[e.compensation_id or ""].effective_date) for e in ds.employee]
    assert sum(day > TODAY for day in latest_days) < len(latest_days) / 4


def test_children(company: GeneratedCompany) -> None:
    ds = company.dataset
    parents = Counter(c.employee_id for c in ds.child)
    assert 0.2 <= len(parents) / len(ds.employee) <= 0.4
    assert set(parents.values()) <= {1, 2, 3}
    births = {e.id: _day(e.birth_date or "") for e in ds.employee}
    for child in ds.child:
        assert births[child.employee_id] < _day(child.birthdate) < TODAY


# ------------------------------------------------------------------ leaves


def test_leave_types_and_codes(company: GeneratedCompany) -> None:
    ds = company.dataset
    names = [t.name for t in ds.leave_type]
    assert len(LEAVE_TYPE_NAMES) == 19
    assert set(LEAVE_TYPE_NAMES) < set(names)
    extra = [t for t in ds.leave_type if t.name not in LEAVE_TYPE_NAMES]
    assert len(extra) == 1
    codes = {t.id: t.name for t in ds.leave_type}
    by_name = {codes[c.leave_type_id]: c.code for c in ds.leave_type_code}
    assert by_name["Vacation"] == "04"
    assert extra[0].name not in by_name
    assert any(not re.fullmatch(r"0[1-7]|1\d|2[01]", code) for code in by_name.values())


def test_leaves_cover_every_type_and_status(company: GeneratedCompany) -> None:
    ds = company.dataset
    type_names = {t.id: t.name for t in ds.leave_type}
    assert {type_names[leave.type_id] for leave in ds.leave} == set(type_names.values())
    assert {leave.status for leave in ds.leave} == {
        "PENDING",
        "DENIED",
        "CANCELLED",
        "APPROVED",
        "CONFIRMED",
    }
    facts = [company.leave_facts.get(leave.id, LeaveFacts()) for leave in ds.leave]
    grades = Counter(fact.grade_percentage for fact in facts)
    assert grades[50.0] > 0
    assert grades[None] + grades[100.0] > len(ds.leave) / 2


def test_leaves_lie_in_the_window_without_overlapping(company: GeneratedCompany) -> None:
    ds = company.dataset
    first, last = TODAY - datetime.timedelta(days=270), TODAY + datetime.timedelta(days=90)
    spans: defaultdict[str, list[tuple[datetime.date, datetime.date]]] = defaultdict(list)
    for leave in ds.leave:
        start, end = _day(leave.start_date), _day(leave.end_date)
        assert first <= start <= end <= last
        assert leave.duration == ("one_day" if start == end else "longer")
        spans[leave.employee_id].append((start, end))
    for mine in spans.values():
        mine.sort()
        assert all(a[1] < b[0] for a, b in itertools.pairwise(mine))


def test_sick_child_leaves_know_a_child_of_the_employee(company: GeneratedCompany) -> None:
    ds = company.dataset
    type_names = {t.id: t.name for t in ds.leave_type}
    children = {c.id: c for c in ds.child}
    for leave in ds.leave:
        facts = company.leave_facts.get(leave.id, LeaveFacts())
        if type_names[leave.type_id] in SICK_CHILD_TYPES:
            child = children[facts.child_id or ""]
            assert child.employee_id == leave.employee_id
            assert _day(child.birthdate) < _day(leave.start_date)
        else:
            assert facts.child_id is None


def test_rows_carry_every_published_field_and_leave_facts_only_when_asked(
    company: GeneratedCompany,
) -> None:
    plain = company_rows(company)
    for name, struct in s.TABLES.items():
        published = {f.encode_name for f in msgspec.structs.fields(struct)}
        rows: list[dict[str, object]] = plain[name]  # type: ignore[assignment]
        assert rows, name
        assert all(set(row) == published for row in rows), name
    with_facts = company_rows(company, leave_facts=True)
    leaves: list[dict[str, object]] = with_facts["leave"]  # type: ignore[assignment]
    extra = [row for row in leaves if "childId" in row]
    assert extra
    assert len(extra) == len(company.leave_facts)


def test_calendar_dates_are_instants_in_the_three_published_forms(
    company: GeneratedCompany,
) -> None:
    """UTC midnight with Z or +00:00, or the Oslo midnight written in UTC: each reads back as
    its Oslo date, which is what the client must do with them."""
    dates = [row.start_date for row in company.dataset.employment]
    dates += [row.effective_date for row in company.dataset.compensation]
    assert all(ISO_DATE_INSTANT.fullmatch(text) for text in dates)
    assert {text[-6:] == "+00:00" for text in dates} == {True, False}
    # Some are Oslo midnights written in UTC: 22:00Z in summer, 23:00Z in winter.
    assert any("T22:00" in text or "T23:00" in text for text in dates)


# ------------------------------------------------------------------ deliberate breakage


def test_every_kind_of_breakage_is_present(company: GeneratedCompany) -> None:
    assert set(company.broken.values()) == set(BROKEN_KINDS)
    assert len(company.broken) <= 200 * 0.03 + len(BROKEN_KINDS)
    employees = {e.employee_number: e for e in company.dataset.employee}
    assert all(employees[n].active for n in company.broken)
    for number, kind in company.broken.items():
        e = employees[number]
        assert (not e.first_name) is (kind == "missing_first_name")
        assert (not e.last_name) is (kind == "missing_last_name")


def test_no_breakage_when_the_share_is_zero() -> None:
    company = generate_company(200, 1, today=TODAY, broken_share=0)
    assert company.broken == {}
    for e in company.dataset.employee:
        assert fodselsnummer.is_valid(e.ssn or "")
        assert e.first_name
        assert e.last_name


def test_a_larger_share_breaks_more() -> None:
    company = generate_company(200, 1, today=TODAY, broken_share=0.2)
    assert len(company.broken) == 40
    assert Counter(company.broken.values()).most_common()[-1][1] >= 5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fifty_employees_already_hold_one_of_everything(seed: int) -> None:
    company = generate_company(50, seed, today=TODAY)
    ds = company.dataset
    assert {leave.type_id for leave in ds.leave} == {t.id for t in ds.leave_type}
    assert len({leave.status for leave in ds.leave}) == 5
    assert set(company.broken.values()) == set(BROKEN_KINDS)
