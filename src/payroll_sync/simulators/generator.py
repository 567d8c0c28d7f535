"""Seeded generator of realistic Norwegian companies in Simployer One's shape.

It feeds the Simployer One simulator, the tests and the benchmarks. The same arguments give the
same bytes: one `random.Random(seed)` drives every choice, every date is relative to `today`,
and sets are used only for membership (their iteration order depends on hash seeds).

A share of employees is broken on purpose, one kind each (`BROKEN_KINDS`), so every failure
path of the sync has data to run on; `GeneratedCompany.broken` says who and how.
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import msgspec
from stdnum import iban
from stdnum.no import fodselsnummer, kontonr

from payroll_sync.simulators import simployer_published as s
from payroll_sync.simulators.generator_data import (
    ALL_STATUSES,
    BBAN_LENGTH,
    D_NUMBER_SHARE,
    DEPARTMENT_CHILDREN,
    DEPARTMENT_ROOTS,
    EMAIL_DOMAINS,
    EMPLOYMENT_TYPE_WEIGHTS,
    FOREIGN_ACCOUNT_SHARE,
    FOREIGN_ADDRESSES,
    FUTURE_STATUS_WEIGHTS,
    HOURLY_SHARE,
    IBAN_BANKS,
    LEAVE_FUTURE_DAYS,
    LEAVE_PAST_DAYS,
    LEAVE_SPECS,
    LEAVE_TYPE_CODES,
    LEAVE_TYPE_NAMES,
    LEAVES_PER_EMPLOYEE,
    LIVES_ABROAD_SHARE,
    NAMES,
    NATIONALITY_WEIGHTS,
    NO_BANKS,
    NO_FEMALE,
    NO_MALE,
    OFFICE_CITIES,
    OFFICE_WEIGHTS,
    OPEN_NOTE_REASON_SHARE,
    PAST_STATUS_WEIGHTS,
    PERMANENT,
    POSTAL_AREAS,
    PRIVATE_DOMAINS,
    PROFESSIONS,
    RATES,
    SEED_EXAMPLE_NOTE,
    STREETS,
    TEMPORARY,
    LeaveSpec,
)

__all__ = ["BROKEN_KINDS", "LEAVE_TYPE_NAMES", "GeneratedCompany", "generate_company"]

T = TypeVar("T")
Day = datetime.date
ONE_DAY: Final = datetime.timedelta(days=1)

BROKEN_KINDS: Final = (
    "ssn_checksum",
    "missing_first_name",
    "missing_last_name",
    "malformed_note",
    "unsupported_payout_period",
    "account_checksum",
    "end_date_without_reason",
)
# Below this many employees a company is too small to hold one of everything.
FULL_COVERAGE_MIN: Final = 20
INACTIVE_SHARE: Final = 0.05


class LeaveFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the generator knows of a leave that the published leave row cannot say."""

    child_id: str | None = msgspec.field(default=None, name="childId")
    grade_percentage: float | None = msgspec.field(default=None, name="gradePercentage")


class GeneratedCompany(msgspec.Struct, frozen=True, kw_only=True):
    dataset: s.Company
    broken: dict[str, str]  # employeeNumber -> one of BROKEN_KINDS
    # Leave id -> the sick child and the grade, for leaves that have either. The published API
    # has no such fields; `with_leave_facts` adds them to the rows as fields beyond it.
    leave_facts: dict[str, LeaveFacts] = msgspec.field(default_factory=dict)


# ------------------------------------------------------------------ small pure helpers


def _weighted(rng: random.Random, weights: dict[T, int]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _add_years(day: Day, years: int) -> Day:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year + years, day=28)


def _between(rng: random.Random, first: Day, last: Day) -> Day:
    return first + datetime.timedelta(days=rng.randint(0, max(0, (last - first).days)))


OSLO: Final = ZoneInfo("Europe/Oslo")


def _iso_date(day: Day) -> str:
    """A calendar date as Simployer One writes it: an instant, in one of the three forms seen
    (APIS.md): midnight with `+00:00`, midnight with `Z`, or Oslo's midnight written in UTC
    (`2024-07-31T22:00:00.000Z` for 1 August). Chosen by the day, so the same day is always
    written the same way and no random draw is spent on it."""
    form = day.toordinal() % 3
    if form == 0:
        return f"{day.isoformat()}T00:00:00.000+00:00"
    if form == 1:
        return f"{day.isoformat()}T00:00:00.000Z"
    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=OSLO)
    utc = midnight.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def day_of(instant: str) -> Day:
    """The calendar date (in Oslo) of an instant this module wrote."""
    parsed = datetime.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return parsed.astimezone(OSLO).date()


def _iso_time(rng: random.Random, day: Day) -> str:
    seconds = rng.randrange(6 * 3600, 18 * 3600)  # office hours, UTC
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{day.isoformat()}T{hh:02d}:{mm:02d}:{ss:02d}.{rng.randrange(1000):03d}Z"


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _fnr_check_digits(body: str) -> str | None:
    """Both check digits for 9 digits, None when one would be 10 (such numbers are never issued)."""
    first = fodselsnummer.calc_check_digit1(body)
    second = fodselsnummer.calc_check_digit2(body + first) if len(first) == 1 else "10"
    return first + second if len(second) == 1 else None


def _spoil_last_digit(rng: random.Random, number: str) -> str:
    # Exactly one check digit is right, so any other one makes the checksum fail.
    wrong = rng.choice([d for d in "0123456789" if d != number[-1]])
    return number[:-1] + wrong


# Letters NFKD does not split into a base letter and an accent.
FOLDED: Final[dict[str, str | int | None]] = {"æ": "ae", "ø": "o", "ł": "l", "ß": "ss"}
ASCII_FOLD: Final = str.maketrans(FOLDED)


def _ascii(text: str) -> str:
    """Email-safe lower-case form of a name: æ → ae, ø → o, ł → l, accents dropped."""
    text = text.lower().translate(ASCII_FOLD)
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain if ch.isalnum() or ch in ".-")


def _iban(country: str, bban: str) -> str:
    return f"{country}{iban.calc_check_digits(country + '00' + bban)}{bban}"


# ------------------------------------------------------------------ company-level rows


@dataclass
class Published:
    """Values of published fields the sync does not read, drawn from a random stream of their
    own so that adding one never changes the company the sync sees."""

    rng: random.Random
    company_id: str
    domain: str


class Ids:
    """24-hex ids like Mongo ObjectIds, unique within one company."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def __call__(self) -> str:
        while True:
            new = f"{self._rng.getrandbits(96):024x}"
            if new not in self._seen:
                self._seen.add(new)
                return new


def _offices(rng: random.Random, new_id: Ids, published: Published) -> list[s.Office]:
    others = rng.sample(OFFICE_CITIES[1:], rng.randint(2, 3))
    chosen = [city for city in OFFICE_CITIES if city == "Oslo" or city in others]
    return [
        s.Office(
            id=new_id(),
            company_id=published.company_id,
            name=city,
            phone=_phone(published.rng),
            email=f"{_ascii(city)}@{published.domain}",
            timezone="Europe/Oslo",
            # Swedish registry numbers: empty for a Norwegian office.
            cfar="",
            scb="",
            sni="",
        )
        for city in chosen
    ]


def _department_names(rng: random.Random) -> list[tuple[str, str | None]]:
    """6–10 departments: every root plus sub-departments whose parent is already in."""
    chosen: list[str] = list(DEPARTMENT_ROOTS)
    wanted = rng.randint(6, 10)
    while len(chosen) < wanted:
        open_ = [
            name for name, parent in DEPARTMENT_CHILDREN if parent in chosen and name not in chosen
        ]
        chosen.append(rng.choice(open_))
    tree: list[tuple[str, str | None]] = [(root, None) for root in DEPARTMENT_ROOTS]
    tree += [(name, parent) for name, parent in DEPARTMENT_CHILDREN if name in chosen]
    return tree


def _departments(rng: random.Random, new_id: Ids, company_id: str) -> list[s.Department]:
    ids: dict[str, str] = {}
    rows = []
    for name, parent in _department_names(rng):
        ids[name] = new_id()
        parent_id = ids[parent] if parent is not None else None
        rows.append(
            s.Department(id=ids[name], company_id=company_id, name=name, parent_id=parent_id)
        )
    return rows


def _employment_types(new_id: Ids, company_id: str) -> dict[str, s.EmploymentType]:
    return {
        name: s.EmploymentType(
            id=new_id(),
            company_id=company_id,
            name=name,
            vacation=True,
            country="NO",
            max_months=12.0 if name == TEMPORARY else None,
        )
        for name in EMPLOYMENT_TYPE_WEIGHTS
    }


def _leave_types(new_id: Ids) -> list[tuple[LeaveSpec, s.LeaveType]]:
    return [
        (
            spec,
            s.LeaveType(
                id=new_id(),
                name=spec.name,
                kind=spec.kind,
                minimum_duration="HALF_DAY" if spec.days[0] == 1 else "DAY",
                deductible=not spec.paid,
                paid=spec.paid,
                disabled=False,
                archived=False,
            ),
        )
        for spec in LEAVE_SPECS
    ]


def _leave_type_codes(
    new_id: Ids, types: list[s.LeaveType], company_id: str
) -> list[s.LeaveTypeCode]:
    return [
        s.LeaveTypeCode(
            id=new_id(),
            company_id=company_id,
            leave_type_id=row.id,
            code=LEAVE_TYPE_CODES[row.name],
        )
        for row in types
        if row.name in LEAVE_TYPE_CODES
    ]


# ------------------------------------------------------------------ one person


class Person(NamedTuple):
    nationality: str
    female: bool
    first_name: str
    last_name: str
    birth: Day
    ssn: str


def _birth_date(rng: random.Random, today: Day) -> Day:
    # Aged about 21–65 (born 1960–2004 when today is in 2025).
    return _between(rng, Day(today.year - 65, 1, 1), Day(today.year - 21, 12, 31))


def _fodselsnummer(rng: random.Random, birth: Day, *, female: bool, d_number: bool) -> str:
    """A valid fødselsnummer (or D-number: day + 40) for this birth date and gender."""
    if not 1900 <= birth.year <= 2039:
        raise ValueError(f"no individual-number range for birth year {birth.year}")
    day = birth.day + (40 if d_number else 0)
    head = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    low, high = (0, 499) if birth.year < 2000 else (500, 999)
    while True:
        individual = rng.randint(low // 2, high // 2) * 2 + (0 if female else 1)  # odd = male
        body = head + f"{individual:03d}"
        check = _fnr_check_digits(body)
        if check is not None:
            return body + check


def _person(rng: random.Random, today: Day, used_ssn: set[str]) -> Person:
    nationality = _weighted(rng, NATIONALITY_WEIGHTS)
    names = NAMES[nationality]
    female = rng.random() < 0.5
    first = rng.choice(names.female if female else names.male)
    last = rng.choice(names.last_female if female else names.last_male)
    birth = _birth_date(rng, today)
    d_number = nationality != "NO" and rng.random() < D_NUMBER_SHARE
    while True:
        ssn = _fodselsnummer(rng, birth, female=female, d_number=d_number)
        if ssn not in used_ssn:
            used_ssn.add(ssn)
            return Person(nationality, female, first, last, birth, ssn)


def _norwegian_account(rng: random.Random) -> s.BankAccount:
    prefix, bank = rng.choice(NO_BANKS)
    while True:
        body = prefix + _digits(rng, 6)
        # One check digit fits, or none when the mod-11 rest is 10: then draw again.
        for check in "0123456789":
            if kontonr.is_valid(body + check):
                return s.BankAccount(bank=bank, number=body + check, country="NO")


def _foreign_account(rng: random.Random, country: str) -> s.BankAccount:
    bank = rng.choice(IBAN_BANKS[country])
    bban = bank.bban_prefix + _digits(rng, BBAN_LENGTH[country] - len(bank.bban_prefix))
    clearing = None
    if bank.clearing_prefix and rng.random() < 0.6:
        # Swedbank's clearing numbers have five digits, the others four.
        clearing = bank.clearing_prefix + _digits(rng, 4 if bank.clearing_prefix == "8" else 3)
    return s.BankAccount(
        bank=bank.name, clearing=clearing, iban=_iban(country, bban), bic=bank.bic, country=country
    )


def _bank_account(rng: random.Random, nationality: str, *, force_norwegian: bool) -> s.BankAccount:
    if not force_norwegian and nationality in IBAN_BANKS and rng.random() < FOREIGN_ACCOUNT_SHARE:
        return _foreign_account(rng, nationality)
    return _norwegian_account(rng)


def _home_address(rng: random.Random, nationality: str, office: str) -> s.HomeAddress:
    if nationality != "NO" and rng.random() < LIVES_ABROAD_SHARE:
        street, postal_code, city = FOREIGN_ADDRESSES[nationality]
        return s.HomeAddress(street=street, postal_code=postal_code, city=city, country=nationality)
    postal_code, city = rng.choice(POSTAL_AREAS[office])
    number = f"{rng.randint(1, 120)}{'B' if rng.random() < 0.1 else ''}"
    return s.HomeAddress(
        street=f"{rng.choice(STREETS)} {number}", postal_code=postal_code, city=city, country="NO"
    )


def _phone(rng: random.Random) -> str:
    return f"+47 {rng.choice('49')}{_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 3)}"


def _unique_email(local: str, domain: str, used: set[str]) -> str:
    candidate, n = f"{local}@{domain}", 1
    while candidate in used:
        n += 1
        candidate = f"{local}{n}@{domain}"
    used.add(candidate)
    return candidate


def _emails(
    rng: random.Random, person: Person, domain: str, used: set[str]
) -> tuple[str | None, str | None]:
    local = f"{_ascii(person.first_name)}.{_ascii(person.last_name)}"
    work = _unique_email(local, domain, used) if rng.random() < 0.9 else None
    private = None
    if work is None or rng.random() < 0.5:
        private_local = f"{local.replace('.', rng.choice(['.', '', '_']))}{rng.randint(1, 99)}"
        private = _unique_email(private_local, rng.choice(PRIVATE_DOMAINS), used)
    return work, private


# ------------------------------------------------------------------ employments and pay


class Span(NamedTuple):
    start: Day
    end: Day | None


def _current_span(rng: random.Random, role: str, earliest: Day, today: Day) -> Span:
    if role == "inactive_recent":  # ended within the last 90 days: still in scope
        end = today - datetime.timedelta(days=rng.randint(1, 85))
        return Span(_between(rng, earliest, end - datetime.timedelta(days=30)), end)
    if role == "inactive_old":
        end = max(
            today - datetime.timedelta(days=rng.randint(180, 4 * 365)),
            earliest + datetime.timedelta(days=120),
        )
        return Span(_between(rng, earliest, end - datetime.timedelta(days=60)), end)
    return Span(_between(rng, earliest, today - datetime.timedelta(days=14)), None)


def _timeline(
    rng: random.Random, role: str, birth: Day, today: Day, *, may_end_later: bool
) -> tuple[Span | None, Span]:
    """(an earlier ended employment or None, the current one)."""
    earliest = max(_add_years(birth, 18), _add_years(today, -15))
    current = _current_span(rng, role, earliest, today)
    if current.end is None and may_end_later and rng.random() < 0.5:
        # A temporary contract that runs out later: active, with an end date and reason 6.
        current = Span(current.start, today + datetime.timedelta(days=rng.randint(20, 300)))
    previous = None
    room = (current.start - earliest).days
    if room >= 180 and rng.random() < 0.25:
        start = earliest + datetime.timedelta(days=rng.randint(0, room - 90))
        previous = Span(start, current.start - ONE_DAY)
    return previous, current


def _note(rng: random.Random, code: str, *, ended: bool, temporary: bool) -> str:
    if ended:
        reason = 6 if temporary else rng.choice((1, 2, 3, 3, 3, 4, 5, 5))
        return f"{code}:{reason}"
    if rng.random() < OPEN_NOTE_REASON_SHARE:
        # Reasons on open employments are ignored by the sync, 7 included.
        return f"{code}:{rng.choice((1, 2, 3, 5, 6, 7, 7, 7))}"
    return code


class Job(NamedTuple):
    type_name: str
    profession: tuple[str, str]  # (yrkeskode, title)


def _employment(
    rng: random.Random,
    ids: Ids,
    employee_id: str,
    type_row: s.EmploymentType,
    span: Span,
    note: str,
    today: Day,
    company_id: str,
) -> s.Employment:
    ended = span.end is not None and span.end < today
    last_change = span.end if span.end is not None and ended else span.start
    return s.Employment(
        id=ids(),
        company_id=company_id,
        employee_id=employee_id,
        type_id=type_row.id,
        start_date=_iso_date(span.start),
        end_date=_iso_date(span.end) if span.end else None,
        effective_end_date=_iso_date(span.end) if span.end else None,
        terminated=ended,
        rate=rng.choice(RATES[type_row.name]),
        country="NO",
        note=note,
        updated=_iso_time(rng, _between(rng, last_change, today - ONE_DAY)),
    )


def _amount(rng: random.Random, period: str) -> float:
    if period == "HOURLY":
        return float(rng.randrange(180, 400, 5))
    return float(rng.randrange(38_000, 80_001, 500))


def _raise(rng: random.Random, amount: float, period: str) -> float:
    cap, step = (450.0, 0.5) if period == "HOURLY" else (95_000.0, 100.0)
    raised = round(amount * (1 + rng.uniform(0.02, 0.06)) / step) * step
    return min(cap, raised)


def _effective_dates(
    rng: random.Random, first: Day, last: Day, *, future_latest: bool, today: Day
) -> list[Day]:
    count = rng.randint(2, 4)
    span = max(1, (last - first).days)
    later = sorted(rng.sample(range(1, span + 1), min(count - 1, span)))
    days = [first] + [first + datetime.timedelta(days=n) for n in later]
    if future_latest:
        days[-1] = today + datetime.timedelta(days=rng.randint(1, 60))
    return days


def _compensations(
    rng: random.Random,
    ids: Ids,
    employee_id: str,
    period: str,
    days: list[Day],
    published: Published,
) -> list[s.Compensation]:
    rows: list[s.Compensation] = []
    amount = _amount(rng, period)
    for n, day in enumerate(days):
        note = "Ansettelse" if n == 0 else rng.choice(("Lønnsoppgjør", "Lønnsjustering", None))
        if n:
            amount = _raise(rng, amount, period)
        rows.append(
            s.Compensation(
                id=ids(),
                employee_id=employee_id,
                amount=amount,
                effective_date=_iso_date(day),
                currency="NOK",
                payout_period=period,
                note=note,
                company_id=published.company_id,
                base_amount=amount,
                exchange_rate=1.0,
                payout_day=float(published.rng.choice((12, 20, 25))),
                payout_frequency="MONTH",
                salary_schedule=published.rng.choice(("ADVANCE", "DELAYED")),
                paid_overtime=period == "HOURLY",
            )
        )
    return rows


def _children(
    rng: random.Random, ids: Ids, employee_id: str, parent_birth: Day, today: Day
) -> list[s.Child]:
    first = max(_add_years(parent_birth, 20), _add_years(today, -19))
    last = today - datetime.timedelta(days=60)
    if first > last or rng.random() >= 0.3:
        return []
    count = rng.choice((1, 1, 1, 2, 2, 3))
    names = rng.sample(NO_FEMALE + NO_MALE, count)
    births = sorted(_between(rng, first, last) for _ in range(count))
    return [
        s.Child(id=ids(), employee_id=employee_id, name=name, birthdate=_iso_date(birth))
        for name, birth in zip(names, births, strict=True)
    ]


# ------------------------------------------------------------------ deliberate breakage


def _malformed_note(rng: random.Random, code: str) -> str:
    return rng.choice((f"{code[:5]}:3", "abc:2", f"{code}1", f"{code[:4]} {code[4:]}", code[:6]))


def _monthly_to(period: str, monthly: float) -> float:
    factor = {"ANNUAL": 12.0, "WEEKLY": 12 / 52, "DAILY": 1 / 21.7}[period]
    return round(monthly * factor, 0)


@dataclass
class Bundle:
    """One employee's rows, plus what the leave generator needs to know about them."""

    employee: s.Employee
    employments: list[s.Employment]
    compensations: list[s.Compensation]
    children: list[s.Child]
    female: bool
    first_day: Day
    last_day: Day | None


def _last_day(bundle: Bundle) -> Day | None:
    end = bundle.employments[-1].end_date
    return day_of(end) if end else None


def _break(
    rng: random.Random, bundle: Bundle, kind: str, types: dict[str, s.EmploymentType], today: Day
) -> None:
    """Spoil one thing of an otherwise normal employee, in place."""
    emp, current = bundle.employee, bundle.employments[-1]
    replace = msgspec.structs.replace
    code = (current.note or "").split(":")[0]
    if kind == "ssn_checksum":
        emp = replace(emp, ssn=_spoil_last_digit(rng, emp.ssn or ""))
    elif kind == "missing_first_name":
        emp = replace(emp, first_name=rng.choice((None, "")))
    elif kind == "missing_last_name":
        emp = replace(emp, last_name=rng.choice((None, "")))
    elif kind == "malformed_note":
        current = replace(current, note=_malformed_note(rng, code))
    elif kind == "unsupported_payout_period":
        latest = bundle.compensations[-1]
        period = rng.choice(("WEEKLY", "ANNUAL", "DAILY"))
        monthly = latest.amount * (162.5 if latest.payout_period == "HOURLY" else 1)
        latest = replace(latest, payout_period=period, amount=_monthly_to(period, monthly))
        bundle.compensations[-1] = latest
    elif kind == "account_checksum":
        account = emp.bank_account or s.BankAccount()
        number = _spoil_last_digit(rng, account.number or "")
        emp = replace(emp, bank_account=replace(account, number=number))
    elif kind == "end_date_without_reason":
        end = _iso_date(today + datetime.timedelta(days=rng.randint(90, 240)))
        note = rng.choice((code, f"{code}:7", f"{code}:0", f"{code}:"))
        temporary = types[TEMPORARY].id
        current = replace(
            current,
            end_date=end,
            effective_end_date=end,
            note=note,
            terminated=False,
            type_id=temporary,
        )
        emp = replace(emp, end_date=end, employment_type_id=temporary)
    else:
        raise ValueError(f"unknown kind of breakage {kind!r}")
    bundle.employee = emp
    bundle.employments[-1] = current
    bundle.last_day = _last_day(bundle)


# ------------------------------------------------------------------ one employee


@dataclass
class Company:
    """What every employee builder shares; mutated only to keep values unique."""

    rng: random.Random
    today: Day
    ids: Ids
    company_id: str
    domain: str
    types: dict[str, s.EmploymentType]
    departments: list[s.Department]
    offices: list[s.Office]
    managers: list[str]
    published: Published
    used_ssn: set[str] = field(default_factory=set)
    used_email: set[str] = field(default_factory=set)


def _job(rng: random.Random, role: str) -> Job:
    if role == "seed_example":
        return Job(PERMANENT, ("0111101", "Offiser"))
    return Job(_weighted(rng, EMPLOYMENT_TYPE_WEIGHTS), rng.choice(PROFESSIONS))


def _employments(
    co: Company, employee_id: str, role: str, job: Job, birth: Day
) -> list[s.Employment]:
    rng, today = co.rng, co.today
    temporary = "temporary" in job.type_name.lower()
    ordinary = role in ("normal", "inactive_recent", "inactive_old")
    previous, current = _timeline(rng, role, birth, today, may_end_later=temporary and ordinary)
    rows = []
    if previous is not None:
        prev_type = TEMPORARY if rng.random() < 0.6 else _weighted(rng, EMPLOYMENT_TYPE_WEIGHTS)
        note = _note(rng, rng.choice(PROFESSIONS)[0], ended=True, temporary=prev_type != PERMANENT)
        rows.append(
            _employment(
                rng,
                co.ids,
                employee_id,
                co.types[prev_type],
                previous,
                note,
                today,
                co.published.company_id,
            )
        )
    code = job.profession[0]
    if role == "seed_example":
        note = SEED_EXAMPLE_NOTE
    else:
        note = _note(rng, code, ended=current.end is not None, temporary=temporary)
    rows.append(
        _employment(
            rng,
            co.ids,
            employee_id,
            co.types[job.type_name],
            current,
            note,
            today,
            co.published.company_id,
        )
    )
    return rows


def _pay(co: Company, employee_id: str, role: str, job: Job, span: Span) -> list[s.Compensation]:
    rng, today = co.rng, co.today
    period = "HOURLY" if rng.random() < HOURLY_SHARE[job.type_name] else "MONTHLY"
    last = min(span.end, today) if span.end is not None else today
    future = role == "normal" and rng.random() < 0.08
    days = _effective_dates(rng, span.start, last, future_latest=future, today=today)
    return _compensations(rng, co.ids, employee_id, period, days, co.published)


def _digits_of(phone: str | None) -> str | None:
    return None if phone is None else "+" + "".join(ch for ch in phone if ch.isdigit())


def _located(rng: random.Random, address: s.HomeAddress | None) -> s.HomeAddress | None:
    """A GeoJSON point somewhere in southern Norway (the sync never reads it)."""
    if address is None or address.country != "NO":
        return address
    point = s.Location(
        coordinates=[round(rng.uniform(5.0, 11.0), 5), round(rng.uniform(58.0, 63.5), 5)]
    )
    return msgspec.structs.replace(address, location=point)


def _unread_employee_fields(
    published: Published, person: Person, work_email: str | None, today: Day
) -> dict[str, Any]:
    """The employee's published fields that the sync does not read, plausibly filled."""
    rng = published.rng
    age = (
        today.year
        - person.birth.year
        - ((today.month, today.day) < (person.birth.month, person.birth.day))
    )
    return {
        "user_id": f"{rng.getrandbits(96):024x}",
        "user_name": work_email,
        "employment_country": "NO",
        "division": None,
        "organization": rng.choice((None, "Drift", "Salg og marked")),
        "tax": s.Tax(table=float(rng.choice((7100, 7101, 7150))), column=1.0),
        "has_occupational_pension": rng.random() < 0.9,
        "age": float(age),
        "avatar_url": (
            f"https://files.alexishr.com/avatars/{rng.getrandbits(64):016x}.png"
            if rng.random() < 0.3
            else None
        ),
        "gender": "female" if person.female else "male",
        "pronoun": None,
        "custom": {"tshirtSize": rng.choice(("S", "M", "L", "XL"))} if rng.random() < 0.5 else {},
    }


def _bundle(co: Company, number: str, employee_id: str, role: str) -> Bundle:
    rng, today = co.rng, co.today
    person = _person(rng, today, co.used_ssn)
    office = _weighted(rng, {o.name: OFFICE_WEIGHTS[o.name] for o in co.offices})
    job = _job(rng, role)
    employments = _employments(co, employee_id, role, job, person.birth)
    current = employments[-1]
    first_day = day_of(employments[0].start_date)
    last_day = day_of(current.end_date) if current.end_date else None
    compensations = _pay(co, employee_id, role, job, Span(first_day, last_day))
    work_email, private_email = _emails(rng, person, co.domain, co.used_email)
    created = first_day - datetime.timedelta(days=rng.randint(1, 30))
    last_change = last_day if last_day is not None and last_day < today else first_day
    employee = s.Employee(
        id=employee_id,
        active=role not in ("inactive_recent", "inactive_old"),
        company_id=co.company_id,
        employee_number=number,
        first_name=person.first_name,
        last_name=person.last_name,
        ssn=person.ssn,
        birth_date=_iso_date(person.birth),
        nationality=person.nationality,
        work_email=work_email,
        private_email=private_email,
        work_phone=_phone(rng) if rng.random() < 0.4 else None,
        private_phone=_phone(rng) if rng.random() < 0.8 else None,
        title=job.profession[1],
        hire_date=employments[0].start_date,
        end_date=current.end_date,
        employment_id=current.id,
        employment_type_id=current.type_id,
        compensation_id=max(compensations, key=lambda c: day_of(c.effective_date)).id,
        department_id=rng.choice(co.departments).id,
        office_id=next(o.id for o in co.offices if o.name == office),
        manager_employee_id=rng.choice(co.managers) if employee_id not in co.managers else None,
        bank_account=_bank_account(
            rng, person.nationality, force_norwegian=role == "account_checksum"
        ),
        home_address=_home_address(rng, person.nationality, office),
        created=_iso_time(rng, created),
        updated=_iso_time(rng, _between(rng, last_change, today - ONE_DAY)),
        **_unread_employee_fields(co.published, person, work_email, today),
    )
    employee = msgspec.structs.replace(
        employee,
        work_phone_sanitized=_digits_of(employee.work_phone),
        private_phone_sanitized=_digits_of(employee.private_phone),
        home_address=_located(co.published.rng, employee.home_address),
    )
    children = _children(rng, co.ids, employee_id, person.birth, today)
    bundle = Bundle(
        employee, employments, compensations, children, person.female, first_day, last_day
    )
    if role in BROKEN_KINDS:
        _break(rng, bundle, role, co.types, today)
    return bundle


# ------------------------------------------------------------------ roles


def _roles(rng: random.Random, employees: int, broken_share: float) -> list[str]:
    """Per employee: a kind of breakage, inactive_recent/old, seed_example or normal."""
    full = employees >= FULL_COVERAGE_MIN
    broken = round(employees * broken_share)
    if full and broken_share > 0:
        broken = max(broken, len(BROKEN_KINDS))
    inactive = max(round(employees * INACTIVE_SHARE), 2 if full else 0)
    broken = min(broken, employees)
    inactive = min(inactive, employees - broken)
    special = [BROKEN_KINDS[n % len(BROKEN_KINDS)] for n in range(broken)]
    special += ["inactive_recent" if n % 2 == 0 else "inactive_old" for n in range(inactive)]
    if len(special) < employees:
        special.append("seed_example")
    roles = ["normal"] * employees
    for index, role in zip(rng.sample(range(employees), len(special)), special, strict=True):
        roles[index] = role
    return roles


# ------------------------------------------------------------------ leaves


@dataclass
class Absentee:
    """One employee as the leave generator sees them; `busy` keeps their leaves apart."""

    employee_id: str
    female: bool
    first: Day  # earliest day a leave may start
    last: Day  # latest day a leave may end
    children: list[tuple[str, Day]]
    busy: list[tuple[Day, Day]] = field(default_factory=list)


def _absentee(bundle: Bundle, today: Day) -> Absentee:
    first = max(today - datetime.timedelta(days=LEAVE_PAST_DAYS), bundle.first_day)
    last = today + datetime.timedelta(days=LEAVE_FUTURE_DAYS)
    if bundle.last_day is not None:
        last = min(last, bundle.last_day)
    children = [(c.id, day_of(c.birthdate)) for c in bundle.children]
    return Absentee(bundle.employee.id, bundle.female, first, last, children)


def _weekday_on_or_after(day: Day) -> Day:
    return day + datetime.timedelta(days=7 - day.weekday() if day.weekday() >= 5 else 0)


def _young_child(rng: random.Random, who: Absentee, start: Day) -> str | None:
    # A sick-child leave needs a child born before it and still under 18.
    young = [cid for cid, born in who.children if _add_years(start, -18) < born < start]
    return rng.choice(young) if young else None


class Slot(NamedTuple):
    start: Day
    end: Day
    child_id: str | None


def _slot(rng: random.Random, who: Absentee, spec: LeaveSpec) -> Slot | None:
    """A free period for this kind of leave, or None when the employee has no room for it."""
    if spec.female_only and not who.female:
        return None
    for _ in range(6):
        length = rng.randint(*spec.days)
        start = _weekday_on_or_after(_between(rng, who.first, who.last))
        end = start + datetime.timedelta(days=length - 1)
        if end > who.last or any(start <= b_end and b_start <= end for b_start, b_end in who.busy):
            continue
        child_id = _young_child(rng, who, start) if spec.needs_child else None
        if spec.needs_child and child_id is None:
            continue
        who.busy.append((start, end))
        return Slot(start, end, child_id)
    return None


def _status(rng: random.Random, slot: Slot, today: Day) -> s.LeaveStatus:
    return _weighted(rng, PAST_STATUS_WEIGHTS if slot.end < today else FUTURE_STATUS_WEIGHTS)


def _grade(rng: random.Random, spec: LeaveSpec, slot: Slot) -> float | None:
    if spec.graded and slot.end > slot.start and rng.random() < 0.2:
        return 50.0
    return rng.choice((None, None, 100.0))


class GeneratedLeave(NamedTuple):
    row: s.Leave
    facts: LeaveFacts


def _leave(
    rng: random.Random,
    ids: Ids,
    who: Absentee,
    spec: LeaveSpec,
    type_id: str,
    slot: Slot,
    status: s.LeaveStatus,
) -> GeneratedLeave:
    row = s.Leave(
        id=ids(),
        employee_id=who.employee_id,
        type_id=type_id,
        status=status,
        duration="one_day" if slot.start == slot.end else "longer",
        start_date=_iso_date(slot.start),
        end_date=_iso_date(slot.end),
        description=rng.choice(spec.descriptions) if rng.random() < 0.85 else None,
    )
    return GeneratedLeave(
        row, LeaveFacts(child_id=slot.child_id, grade_percentage=_grade(rng, spec, slot))
    )


def _leaves(
    rng: random.Random,
    ids: Ids,
    people: list[Absentee],
    types: list[tuple[LeaveSpec, s.LeaveType]],
    today: Day,
    *,
    full_coverage: bool,
) -> list[GeneratedLeave]:
    rows: list[GeneratedLeave] = []
    if full_coverage:
        # One of every leave type, the statuses in turn, so a company holds one of everything.
        for n, (spec, row) in enumerate(types):
            for who in rng.sample(people, len(people)):
                slot = _slot(rng, who, spec)
                if slot is not None:
                    status = ALL_STATUSES[n % len(ALL_STATUSES)]
                    rows.append(_leave(rng, ids, who, spec, row.id, slot, status))
                    break
    weights = {n: spec.weight for n, (spec, _) in enumerate(types)}
    for who in people:
        for _ in range(rng.choice(LEAVES_PER_EMPLOYEE)):
            spec, row = types[_weighted(rng, weights)]
            slot = _slot(rng, who, spec)
            if slot is not None:
                rows.append(_leave(rng, ids, who, spec, row.id, slot, _status(rng, slot, today)))
    return sorted(rows, key=lambda leave: (day_of(leave.row.start_date), leave.row.id))


# ------------------------------------------------------------------ the company


def generate_company(
    employees: int,
    seed: int = 1,
    *,
    today: datetime.date | None = None,
    broken_share: float = 0.03,
) -> GeneratedCompany:
    """A whole Simployer One company of `employees` people, the same for the same arguments."""
    if employees < 0:
        raise ValueError("employees must be 0 or more")
    if not 0.0 <= broken_share <= 1.0:
        raise ValueError("broken_share must be between 0 and 1")
    today = today or datetime.date.today()
    rng = random.Random(seed)
    ids = Ids(rng)
    employee_ids = [ids() for _ in range(employees)]
    company_id = ids()
    domain = rng.choice(EMAIL_DOMAINS)
    # Its own stream (a str seed hashes the same on every run), so `rng` draws as it always did.
    published = Published(random.Random(f"published-{seed}"), company_id, domain)
    co = Company(
        rng=rng,
        today=today,
        ids=ids,
        company_id=company_id,
        domain=domain,
        types=_employment_types(ids, company_id),
        departments=_departments(rng, ids, company_id),
        offices=_offices(rng, ids, published),
        managers=employee_ids[: max(1, employees // 8)],
        published=published,
    )
    leave_types = _leave_types(ids)
    roles = _roles(rng, employees, broken_share)
    bundles = [_bundle(co, str(1001 + n), employee_ids[n], role) for n, role in enumerate(roles)]
    # Those who left before the leave window have no leaves.
    people = [p for p in (_absentee(b, today) for b in bundles) if p.first <= p.last]
    leaves = _leaves(
        rng, ids, people, leave_types, today, full_coverage=employees >= FULL_COVERAGE_MIN
    )
    dataset = s.Company(
        employee=[b.employee for b in bundles],
        employment=[row for b in bundles for row in b.employments],
        employment_type=list(co.types.values()),
        compensation=[row for b in bundles for row in b.compensations],
        leave=[leave.row for leave in leaves],
        leave_type=[row for _, row in leave_types],
        leave_type_code=_leave_type_codes(ids, [row for _, row in leave_types], company_id),
        child=[row for b in bundles for row in b.children],
        department=co.departments,
        office=co.offices,
    )
    broken = {
        b.employee.employee_number: role
        for b, role in zip(bundles, roles, strict=True)
        if role in BROKEN_KINDS
    }
    facts = {
        leave.row.id: leave.facts
        for leave in leaves
        if leave.facts.child_id is not None or leave.facts.grade_percentage is not None
    }
    return GeneratedCompany(dataset=dataset, broken=broken, leave_facts=facts)


def company_rows(company: GeneratedCompany, *, leave_facts: bool = False) -> dict[str, object]:
    """The company as the simulator's data file (`{resource: [rows]}`, the API's row format).

    With `leave_facts`, leaves also carry `childId` and `gradePercentage`: fields the published
    API does not have, served as a real company's rows might carry unpublished fields.
    """
    tables: dict[str, Any] = msgspec.to_builtins(company.dataset)
    if leave_facts:
        for row in tables["leave"]:
            known = company.leave_facts.get(row["id"])
            if known is not None:
                row.update(msgspec.to_builtins(known))
    return tables
