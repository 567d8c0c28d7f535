"""The scope preview's pure half: what was read, grouped by the scope's reasons; the pick lists."""

from __future__ import annotations

import datetime

from payroll_sync.connectors.simployer_rows import Unreadable
from payroll_sync.rules.scope import (
    EXCLUDED,
    NOT_CURRENT,
    NOT_IN_TEST_GROUP,
    OUTSIDE_PLACES,
    in_scope,
)
from payroll_sync.schemas.settings import Scope
from payroll_sync.schemas.simployer import Department, Employee, Office
from payroll_sync.wizard.preview import Choice, department_choices, grouped

TODAY = datetime.date(2026, 12, 1)
DEPARTMENTS = [
    Department(id="sales", name="Sales"),
    Department(id="north", name="North", parent_id="sales"),
    Department(id="ops", name="Operations"),
    Department(id="loop-a", name="Loop A", parent_id="loop-b"),
    Department(id="loop-b", name="Loop B", parent_id="loop-a"),
]
OFFICES = [Office(id="oslo", name="Oslo"), Office(id="bergen", name="Bergen")]


def _employee(number: str, department: str | None = None, *, active: bool = True) -> Employee:
    return Employee(
        id=f"e{number}", active=active, employee_number=number, department_id=department
    )


STAFF = [
    _employee("10", "north"),
    _employee("2", "sales"),
    _employee("3", "ops"),
    _employee("4", "sales", active=False),
    _employee("5", "north"),
]
# An employee row the sync cannot read, in a department the scope takes: a sync enrols it (and
# fails it, naming the field), so the preview counts it in.
BROKEN = Unreadable(
    resource="employee",
    row_id="e9",
    field="active",
    reason="missing",
    employee_id="e9",
    employee_number="9",
    department_id="sales",
)


def test_in_scope_and_left_out_by_reason_in_numeric_order() -> None:
    scope = Scope(departments=["sales", "gone"], offices=["nowhere"], exclude=["5", "77"])
    preview = grouped(STAFF, [BROKEN], scope, departments=DEPARTMENTS, offices=OFFICES, today=TODAY)
    assert preview.in_scope == 3
    assert preview.employee_numbers == ["2", "9", "10"]
    assert preview.left_out == {EXCLUDED: ["5"], OUTSIDE_PLACES: ["3"], NOT_CURRENT: ["4"]}
    assert preview.unknown_departments == ["gone"]
    assert preview.unknown_offices == ["nowhere"]
    assert preview.unknown_employees == ["77"]
    assert preview.unreadable == ["9"]


def test_the_preview_takes_in_whom_in_scope_takes_in() -> None:
    scope = Scope(employees=["2", "3", "4"])
    preview = grouped(STAFF, [], scope, departments=DEPARTMENTS, offices=OFFICES, today=TODAY)
    chosen = in_scope(STAFF, scope, departments=DEPARTMENTS, today=TODAY)
    assert preview.employee_numbers == sorted(e.employee_number for e in chosen)
    assert preview.left_out == {NOT_IN_TEST_GROUP: ["5", "10"], NOT_CURRENT: ["4"]}
    everyone = preview.employee_numbers + [n for ns in preview.left_out.values() for n in ns]
    assert sorted(everyone) == sorted(e.employee_number for e in STAFF)


def test_departments_are_offered_under_their_path() -> None:
    assert department_choices(DEPARTMENTS) == [
        Choice("loop-b", "Loop A / Loop B"),
        Choice("loop-a", "Loop B / Loop A"),
        Choice("ops", "Operations"),
        Choice("sales", "Sales"),
        Choice("north", "Sales / North"),
    ]
