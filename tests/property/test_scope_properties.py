"""Properties of the scope filter that must hold for any employees and any settings."""

from __future__ import annotations

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_sync.rules.scope import (
    EXCLUDED,
    NOT_CURRENT,
    NOT_IN_TEST_GROUP,
    NOT_REQUESTED,
    OUTSIDE_PLACES,
    department_closure,
    in_scope,
    is_current,
    why_left_out,
)
from payroll_sync.schemas.settings import Scope
from payroll_sync.schemas.simployer import Department, Employee

TODAY = datetime.date(2025, 6, 2)
NUMBERS = [str(n) for n in range(1, 13)]
DEPARTMENT_IDS = ["d0", "d1", "d2", "d3", "d4", "d5"]
OFFICE_IDS = ["o0", "o1", "o2"]

numbers = st.lists(st.sampled_from(NUMBERS), max_size=6)
end_dates = st.one_of(
    st.none(),
    st.integers(-30, 200).map(lambda d: (TODAY - datetime.timedelta(days=d)).isoformat()),
)


@st.composite
def employees(draw: st.DrawFn) -> list[Employee]:
    chosen = draw(st.lists(st.sampled_from(NUMBERS), max_size=12))
    return [
        Employee(
            id=f"e{i}",
            active=draw(st.booleans()),
            employee_number=number,
            end_date=draw(end_dates),
            department_id=draw(st.one_of(st.none(), st.sampled_from(DEPARTMENT_IDS))),
            office_id=draw(st.one_of(st.none(), st.sampled_from(OFFICE_IDS))),
        )
        for i, number in enumerate(chosen)
    ]


# Any parent links at all, cycles included.
departments = st.lists(
    st.sampled_from([*DEPARTMENT_IDS, "gone"]) | st.none(),
    min_size=len(DEPARTMENT_IDS),
    max_size=len(DEPARTMENT_IDS),
).map(
    lambda parents: [
        Department(id=id_, name=id_, parent_id=parent)
        for id_, parent in zip(DEPARTMENT_IDS, parents, strict=True)
    ]
)

scopes = st.builds(
    Scope,
    departments=st.lists(st.sampled_from([*DEPARTMENT_IDS, "nope"]), max_size=3),
    offices=st.lists(st.sampled_from([*OFFICE_IDS, "nope"]), max_size=2),
    employees=numbers,
    exclude=numbers,
)


@settings(max_examples=300, deadline=None)
@given(
    staff=employees(),
    scope=scopes,
    tree=departments,
    only=st.one_of(st.none(), numbers),
)
def test_result_is_an_ordered_subset_without_excluded(
    staff: list[Employee],
    scope: Scope,
    tree: list[Department],
    only: list[str] | None,
) -> None:
    chosen = in_scope(staff, scope, departments=tree, today=TODAY, only=only)
    # An ordered sub-sequence of the input (identity, so repeats are checked too).
    remaining = iter(staff)
    assert all(any(e is candidate for candidate in remaining) for e in chosen)
    assert not {e.employee_number for e in chosen} & set(scope.exclude)
    if only is not None:
        assert {e.employee_number for e in chosen} <= set(only)
    if scope.employees:
        assert {e.employee_number for e in chosen} <= set(scope.employees)
    # Narrowing with `only` never adds anyone.
    wider = in_scope(staff, scope, departments=tree, today=TODAY)
    assert all(any(e is w for w in wider) for e in chosen)


@settings(max_examples=300, deadline=None)
@given(tree=departments, roots=st.lists(st.sampled_from([*DEPARTMENT_IDS, "nope"]), max_size=3))
def test_closure_contains_known_roots_and_is_closed_under_children(
    tree: list[Department], roots: list[str]
) -> None:
    closure = department_closure(tree, roots)
    known = {d.id for d in tree}
    assert closure <= known
    assert {r for r in roots if r in known} <= closure
    assert all(d.id in closure for d in tree if d.parent_id in closure)


@settings(max_examples=300, deadline=None)
@given(
    staff=employees(),
    scope=scopes,
    tree=departments,
    only=st.one_of(st.none(), numbers),
)
def test_the_reasons_agree_with_in_scope_and_each_one_holds(
    staff: list[Employee],
    scope: Scope,
    tree: list[Department],
    only: list[str] | None,
) -> None:
    chosen = in_scope(staff, scope, departments=tree, today=TODAY, only=only)
    verdict = why_left_out(scope, departments=tree, today=TODAY, only=only)
    reasons = [verdict(e) for e in staff]
    # In scope exactly when there is no reason, in the same order.
    assert [e for e, reason in zip(staff, reasons, strict=True) if reason is None] == chosen
    # Each reason, checked against the rule it names (read here from the settings directly).
    places = department_closure(tree, scope.departments)
    for employee, reason in zip(staff, reasons, strict=True):
        number = employee.employee_number
        broken = {
            EXCLUDED: number in scope.exclude,
            NOT_IN_TEST_GROUP: bool(scope.employees) and number not in scope.employees,
            NOT_REQUESTED: only is not None and number not in only,
            OUTSIDE_PLACES: bool(scope.departments or scope.offices)
            and employee.department_id not in places
            and employee.office_id not in scope.offices,
            NOT_CURRENT: not is_current(employee, TODAY),
        }
        if reason is None:
            assert not any(broken.values()), (employee, broken)
        else:
            assert broken[reason], (employee, reason)
            # The one named is the first rule broken, in the documented order.
            assert reason == next(name for name, hit in broken.items() if hit)
