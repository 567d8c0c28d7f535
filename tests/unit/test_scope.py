"""Scope: which employees an integration syncs. Tables of inputs and the numbers that come out."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import pytest

from payroll_sync.rules.scope import (
    EXCLUDED,
    INACTIVE_GRACE_DAYS,
    NOT_CURRENT,
    NOT_IN_TEST_GROUP,
    NOT_REQUESTED,
    OUTSIDE_PLACES,
    department_closure,
    end_day,
    in_scope,
    is_current,
    unknown_ids,
    unknown_numbers,
    why_left_out,
)
from payroll_sync.schemas.settings import Scope
from payroll_sync.schemas.simployer import Department, Employee, Office
from payroll_sync.simulators.generator import day_of, generate_company
from tests.support.bundles import as_read

TODAY = datetime.date(2025, 6, 2)


def _day(days_ago: int) -> str:
    return (TODAY - datetime.timedelta(days=days_ago)).isoformat()


def _employee(
    number: str,
    *,
    active: bool = True,
    end: str | None = None,
    department: str | None = None,
    office: str | None = None,
) -> Employee:
    return Employee(
        id=f"e{number}",
        active=active,
        employee_number=number,
        end_date=end,
        department_id=department,
        office_id=office,
    )


# Tree:  sales ── north ── north-east
#              └─ south
#        ops ── it
#        loop-a ⇄ loop-b   (bad data: each is the other's parent)
DEPARTMENTS = [
    Department(id="sales", name="Sales"),
    Department(id="north", name="North", parent_id="sales"),
    Department(id="north-east", name="North-East", parent_id="north"),
    Department(id="south", name="South", parent_id="sales"),
    Department(id="ops", name="Operations"),
    Department(id="it", name="IT", parent_id="ops"),
    Department(id="loop-a", name="Loop A", parent_id="loop-b"),
    Department(id="loop-b", name="Loop B", parent_id="loop-a"),
    Department(id="orphan", name="Orphan", parent_id="gone"),
]

STAFF = [
    _employee("1", department="sales", office="oslo"),
    _employee("2", department="north", office="bergen"),
    _employee("3", department="north-east"),
    _employee("4", department="south", office="oslo"),
    _employee("5", department="ops", office="bergen"),
    _employee("6", department="it"),
    _employee("7", office="oslo"),
    _employee("8"),
    _employee("9", active=False, end=_day(10), department="north-east"),
    _employee("10", active=False, end=_day(200), department="sales", office="oslo"),
]


def _numbers(employees: Sequence[Employee]) -> list[str]:
    return [employee.employee_number for employee in employees]


# ------------------------------------------------------------------ department tree


@pytest.mark.parametrize(
    ("roots", "expected"),
    [
        pytest.param([], set(), id="none"),
        pytest.param(["sales"], {"sales", "north", "north-east", "south"}, id="grandchildren"),
        pytest.param(["north"], {"north", "north-east"}, id="subtree"),
        pytest.param(["north-east"], {"north-east"}, id="leaf"),
        pytest.param(["north", "sales"], {"sales", "north", "north-east", "south"}, id="overlap"),
        pytest.param(["south", "it"], {"south", "it"}, id="two-leaves"),
        pytest.param(["loop-a"], {"loop-a", "loop-b"}, id="cycle"),
        pytest.param(["loop-b", "loop-b"], {"loop-a", "loop-b"}, id="cycle-repeated-root"),
        pytest.param(["orphan"], {"orphan"}, id="dangling-parent"),
        pytest.param(["nope"], set(), id="unknown-root-ignored"),
        pytest.param(["nope", "ops"], {"ops", "it"}, id="unknown-and-known"),
        # "gone" is not a department even if rows name it as their parent.
        pytest.param(["gone"], set(), id="parent-only-id"),
    ],
)
def test_department_closure(roots: list[str], expected: set[str]) -> None:
    assert department_closure(DEPARTMENTS, roots) == expected


def test_department_closure_of_a_self_parent() -> None:
    rows = [Department(id="d", name="D", parent_id="d")]
    assert department_closure(rows, iter(["d"])) == {"d"}


def test_unknown_ids_keeps_order_and_drops_repeats() -> None:
    offices = [Office(id="oslo", name="Oslo"), Office(id="bergen", name="Bergen")]
    assert unknown_ids(offices, ["x", "oslo", "y", "x"]) == ["x", "y"]
    assert unknown_ids(DEPARTMENTS, ["sales", "loop-a"]) == []


def test_unknown_numbers() -> None:
    assert unknown_numbers(["3", "99", "1", "98", "99"], STAFF) == ["99", "98"]
    assert unknown_numbers([], STAFF) == []
    assert unknown_numbers(["1"], []) == ["1"]


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("scope", "only", "expected"),
    [
        pytest.param(Scope(), None, ["1", "2", "3", "4", "5", "6", "7", "8", "9"], id="everyone"),
        pytest.param(Scope(departments=["sales"]), None, ["1", "2", "3", "4", "9"], id="tree"),
        pytest.param(Scope(departments=["north"]), None, ["2", "3", "9"], id="subtree"),
        pytest.param(Scope(departments=["north", "it"]), None, ["2", "3", "6", "9"], id="two"),
        pytest.param(Scope(offices=["oslo"]), None, ["1", "4", "7"], id="office"),
        pytest.param(
            Scope(departments=["north"], offices=["oslo"]),
            None,
            ["1", "2", "3", "4", "7", "9"],
            id="departments-or-offices",
        ),
        pytest.param(Scope(departments=["nope"]), None, [], id="unknown-department-matches-none"),
        pytest.param(Scope(offices=["nope"]), None, [], id="unknown-office-matches-none"),
        pytest.param(Scope(employees=["8", "3", "10"]), None, ["3", "8"], id="test-group"),
        pytest.param(
            Scope(departments=["sales"], employees=["1", "5", "7"]),
            None,
            ["1"],
            id="test-group-within-departments",
        ),
        pytest.param(Scope(exclude=["2", "9", "404"]), None, ["1", "3", "4", "5", "6", "7", "8"]),
        pytest.param(
            Scope(departments=["sales"], employees=["1", "2"], exclude=["2"]),
            None,
            ["1"],
            id="exclude-beats-test-group",
        ),
        pytest.param(Scope(), ["7", "1", "10", "404"], ["1", "7"], id="only-keeps-input-order"),
        pytest.param(Scope(), [], [], id="only-empty-means-nobody"),
        pytest.param(Scope(offices=["bergen"]), ["1", "2", "5"], ["2", "5"], id="only-in-scope"),
        pytest.param(Scope(exclude=["2"]), ["2", "5"], ["5"], id="only-cannot-undo-exclude"),
        pytest.param(Scope(employees=["1"]), ["2"], [], id="only-outside-test-group"),
    ],
)
def test_in_scope(scope: Scope, only: list[str] | None, expected: list[str]) -> None:
    chosen = in_scope(STAFF, scope, departments=DEPARTMENTS, today=TODAY, only=only)
    assert _numbers(chosen) == expected


@pytest.mark.parametrize(
    ("active", "end", "expected"),
    [
        pytest.param(True, None, True, id="active"),
        pytest.param(True, _day(400), True, id="active-despite-old-end"),
        pytest.param(True, _day(-100), True, id="active-temporary-contract"),
        pytest.param(False, None, False, id="inactive-no-end"),
        pytest.param(False, "", False, id="inactive-empty-end"),
        pytest.param(False, "not a date", False, id="inactive-unreadable-end"),
        pytest.param(False, _day(0), True, id="ended-today"),
        pytest.param(False, _day(1), True, id="ended-yesterday"),
        pytest.param(False, _day(89), True, id="89-days"),
        pytest.param(False, _day(90), True, id="exactly-90-days"),
        pytest.param(False, _day(91), False, id="91-days"),
        pytest.param(False, _day(-1), False, id="inactive-ends-tomorrow"),
        pytest.param(False, _day(90) + "T00:00:00.000Z", True, id="90-days-utc-midnight"),
        pytest.param(False, _day(91) + "T00:00:00.000Z", False, id="91-days-utc-midnight"),
        # Oslo midnight of the 90th day (March, UTC+1), stored in UTC: 23:00 the evening before.
        pytest.param(False, _day(91) + "T23:00:00.000Z", True, id="90-days-oslo-midnight"),
        pytest.param(False, _day(91) + "T22:59:59+00:00", False, id="91-days-oslo-late-evening"),
        pytest.param(False, _day(90) + "T23:30:00", True, id="naive-date-time-keeps-its-day"),
    ],
)
def test_inactive_grace_period(active: bool, end: str | None, expected: bool) -> None:
    employee = _employee("1", active=active, end=end)
    assert is_current(employee, TODAY) is expected
    chosen = in_scope([employee], Scope(), departments=[], today=TODAY)
    assert bool(chosen) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("2025-13-01", None),
        ("2025-03-01", datetime.date(2025, 3, 1)),
        ("2025-03-01T00:00:00.000Z", datetime.date(2025, 3, 1)),
        ("2025-02-28T23:00:00.000Z", datetime.date(2025, 3, 1)),  # Oslo midnight, winter
        ("2025-05-31T22:00:00.000Z", datetime.date(2025, 6, 1)),  # Oslo midnight, summer
        ("2025-03-01T12:00:00+01:00", datetime.date(2025, 3, 1)),
        ("2025-03-01T12:00:00", datetime.date(2025, 3, 1)),
    ],
)
def test_end_day(text: str | None, expected: datetime.date | None) -> None:
    assert end_day(text) == expected


def test_grace_is_ninety_days() -> None:
    assert INACTIVE_GRACE_DAYS == 90


def test_input_order_and_repeats_are_kept() -> None:
    staff = [STAFF[3], STAFF[0], STAFF[3], STAFF[6]]
    chosen = in_scope(staff, Scope(offices=["oslo"]), departments=DEPARTMENTS, today=TODAY)
    assert chosen == staff


@pytest.mark.parametrize(
    ("scope", "only", "expected"),
    [
        pytest.param(Scope(), None, {"10": NOT_CURRENT}, id="everyone-but-the-old-leaver"),
        pytest.param(
            Scope(departments=["north"], offices=["oslo"]),
            None,
            {"5": OUTSIDE_PLACES, "6": OUTSIDE_PLACES, "8": OUTSIDE_PLACES, "10": NOT_CURRENT},
            id="places",
        ),
        pytest.param(
            Scope(employees=["1", "2", "10"], exclude=["2"]),
            ["1", "10"],
            {
                "2": EXCLUDED,
                **{n: NOT_IN_TEST_GROUP for n in ["3", "4", "5", "6", "7", "8", "9"]},
                "10": NOT_CURRENT,
            },
            id="exclude-before-test-group",
        ),
        pytest.param(
            Scope(offices=["bergen"]),
            ["2", "7"],
            {
                **{n: NOT_REQUESTED for n in ["1", "3", "4", "5", "6", "8", "9", "10"]},
                "7": OUTSIDE_PLACES,
            },
            id="asked-for-before-places",
        ),
    ],
)
def test_why_left_out(scope: Scope, only: list[str] | None, expected: dict[str, str]) -> None:
    verdict = why_left_out(scope, departments=DEPARTMENTS, today=TODAY, only=only)
    found = {e.employee_number: verdict(e) for e in STAFF}
    assert {number: reason for number, reason in found.items() if reason} == expected
    chosen = in_scope(STAFF, scope, departments=DEPARTMENTS, today=TODAY, only=only)
    assert _numbers(chosen) == [n for n, reason in found.items() if reason is None]


# ------------------------------------------------------------------ generated company


def test_generated_company() -> None:
    company = generate_company(200, seed=1, today=TODAY).dataset
    employees = as_read(company.employee, Employee)
    departments = as_read(company.department, Department)
    everyone = in_scope(employees, Scope(), departments=departments, today=TODAY)

    inactive = [e for e in employees if not e.active]
    # An independent reading of the rule, with the generator's own date reader.
    recent = [e for e in inactive if e.end_date and (TODAY - day_of(e.end_date)).days <= 90]
    assert recent  # the data has both kinds
    assert len(recent) < len(inactive)
    assert _numbers(everyone) == _numbers([e for e in employees if e.active or e in recent])

    # A root department with sub-departments: its subtree, nothing else.
    parents = {d.parent_id for d in departments if d.parent_id is not None}
    root = next(d.id for d in departments if d.parent_id is None and d.id in parents)
    tree = department_closure(departments, [root])
    assert len(tree) > 1
    by_department = in_scope(
        employees, Scope(departments=[root]), departments=departments, today=TODAY
    )
    assert by_department
    assert all(e.department_id in tree for e in by_department)
    assert _numbers(by_department) == _numbers([e for e in everyone if e.department_id in tree])

    # An office plus a test group plus an exclude.
    office = company.office[0].id
    group = _numbers(everyone[:20])
    chosen = in_scope(
        employees,
        Scope(offices=[office], employees=group, exclude=group[:3]),
        departments=departments,
        today=TODAY,
    )
    assert _numbers(chosen) == [e.employee_number for e in everyone[3:20] if e.office_id == office]
