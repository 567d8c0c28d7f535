"""Properties of Simployer One's query language that must hold for any data."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_sync.assumptions import SIMPLOYER_RELATIONS
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.simployer_query import FIELD_KINDS, Row, parse_query, run_query
from tests.support.published_rows import compensation, employee, employment


def _departments(names: list[str]) -> dict[str, list[Row]]:
    rows: list[Row] = [
        msgspec.to_builtins(published.Department(id=f"d{i}", company_id="c1", name=name))
        for i, name in enumerate(names)
    ]
    return {"department": rows}


names = st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=4), max_size=250)


@settings(max_examples=60, deadline=None)
@given(names=names, limit=st.integers(1, 100), sort=st.sampled_from(["", "asc", "desc"]))
def test_paging_returns_every_row_exactly_once(names: list[str], limit: int, sort: str) -> None:
    tables = _departments(names)
    seen: list[object] = []
    offset = 0
    while True:
        params = [("limit", str(limit)), ("offset", str(offset))]
        if sort:
            params.append(("sort[name]", sort))
        body = run_query("department", parse_query("department", params), tables)
        assert body["total"] == len(names)
        page = body["data"]
        assert isinstance(page, list)
        seen.extend(row["id"] for row in page)
        offset += len(page)
        if not page:
            break
    assert sorted(map(str, seen)) == sorted(f"d{i}" for i in range(len(names)))


def _ids(params: list[tuple[str, str]], tables: dict[str, list[Row]]) -> set[str]:
    query = parse_query("department", [*params, ("limit", "100")])
    data = run_query("department", query, tables)["data"]
    assert isinstance(data, list)
    return {str(row["id"]) for row in data}


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=100),
    chosen=st.lists(st.sampled_from(["a", "b", "c", "x"]), min_size=1, max_size=3),
)
def test_in_and_nin_partition_the_rows(names: list[str], chosen: list[str]) -> None:
    tables = _departments(names)
    inside = _ids([("filters[name][$in][]", v) for v in chosen], tables)
    outside = _ids([("filters[name][$nin][]", v) for v in chosen], tables)
    assert inside.isdisjoint(outside)
    assert inside | outside == {f"d{i}" for i in range(len(names))}


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.text(alphabet="abc", min_size=1, max_size=3), max_size=100),
    low=st.text(alphabet="abc", min_size=1, max_size=3),
    high=st.text(alphabet="abc", min_size=1, max_size=3),
)
def test_between_is_gte_and_lte(names: list[str], low: str, high: str) -> None:
    tables = _departments(names)
    between = _ids(
        [("filters[name][$between][]", low), ("filters[name][$between][]", high)], tables
    )
    both = _ids([("filters[name][$gte]", low), ("filters[name][$lte]", high)], tables)
    assert between == both


def _company(employees: int) -> dict[str, list[Row]]:
    """Employees with two employments and two compensations each (the second named by
    employmentId/compensationId), a child, a department and an office: published rows."""
    company = published.Company(
        department=[published.Department(id="d0", company_id="c1", name="Sales")],
        office=[
            published.Office(
                id="o0",
                company_id="c1",
                name="Oslo",
                phone="+4722000000",
                email="oslo@example.no",
                timezone="Europe/Oslo",
                cfar="1",
                scb="1",
                sni="1",
            )
        ],
        employment_type=[published.EmploymentType(id="t0", name="Permanent", vacation=True)],
    )
    for i in range(employees):
        company.employee.append(
            employee(
                f"e{i}",
                str(100 + i),
                active=i % 3 != 0,
                user_id=f"u{i}",
                employment_id=f"m{i}b",
                employment_type_id="t0",
                compensation_id=f"p{i}b",
                department_id="d0" if i % 2 else None,
                office_id="o0" if i % 4 else None,
                manager_employee_id="e0" if i else None,
            )
        )
        for suffix, start in (("a", "2020-01-01T00:00:00.000Z"), ("b", "2023-01-01T00:00:00.000Z")):
            company.employment.append(
                employment(
                    f"m{i}{suffix}",
                    f"e{i}",
                    type_id="t0",
                    start_date=start,
                    terminated=suffix == "a",
                    rate=100,
                )
            )
            company.compensation.append(compensation(f"p{i}{suffix}", f"e{i}", 40000 + i, start))
        company.child.append(
            published.Child(
                id=f"c{i}", employee_id=f"e{i}", name="Ola Nordmann", birthdate="2020-01-01"
            )
        )
    tables: dict[str, list[Row]] = msgspec.to_builtins(company)
    return tables


EMPLOYEE_RELATIONS = sorted(SIMPLOYER_RELATIONS["employee"])
EMPLOYEE_FIELDS = sorted(name for name in FIELD_KINDS["employee"] if "." not in name)


@settings(max_examples=60, deadline=None)
@given(
    chosen=st.lists(st.sampled_from(EMPLOYEE_RELATIONS), min_size=1, max_size=5, unique=True),
    limit=st.integers(1, 12),
    offset=st.integers(0, 12),
)
def test_relations_in_one_parameter_are_those_asked_one_by_one(
    chosen: list[str], limit: int, offset: int
) -> None:
    tables = _company(10)
    page = [("limit", str(limit)), ("offset", str(offset))]

    def relations(names: list[str]) -> dict[str, list[Row]]:
        query = parse_query("employee", [*page, ("relations", ",".join(names))])
        related = run_query("employee", query, tables)["relations"]
        assert isinstance(related, dict)
        return related

    assert relations(chosen) == {name: relations([name])[name] for name in chosen}


@settings(max_examples=60, deadline=None)
@given(limit=st.integers(1, 12), offset=st.integers(0, 12))
def test_employee_employment_and_compensation_relations_are_the_named_rows_only(
    limit: int, offset: int
) -> None:
    tables = _company(10)
    query = parse_query(
        "employee",
        [("limit", str(limit)), ("offset", str(offset)), ("relations", "employment,compensation")],
    )
    body = run_query("employee", query, tables)
    data, related = body["data"], body["relations"]
    assert isinstance(data, list)
    assert isinstance(related, dict)
    assert [row["id"] for row in related["employment"]] == [row["employmentId"] for row in data]
    assert [row["id"] for row in related["compensation"]] == [row["compensationId"] for row in data]


@settings(max_examples=60, deadline=None)
@given(chosen=st.lists(st.sampled_from(EMPLOYEE_FIELDS), min_size=1, max_size=6))
def test_select_in_one_parameter_keeps_exactly_the_asked_fields_and_id(chosen: list[str]) -> None:
    tables = _company(3)
    query = parse_query("employee", [("select", ",".join(chosen))])
    data = run_query("employee", query, tables)["data"]
    assert isinstance(data, list)
    for row, stored in zip(data, tables["employee"], strict=True):
        assert row == {name: stored[name] for name in {"id", *chosen}}
