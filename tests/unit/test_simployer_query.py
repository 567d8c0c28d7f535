"""Simployer One's list query language, table by table: parse_query, run_query, run_get_one."""

from __future__ import annotations

import copy
from urllib.parse import parse_qsl

import pytest

from payroll_sync.assumptions import SIMPLOYER_DEFAULT_LIMIT, SIMPLOYER_MAX_LIMIT
from payroll_sync.simulators.simployer_query import (
    Filter,
    QueryError,
    Row,
    parse_query,
    run_get_one,
    run_query,
)

Tables = dict[str, list[Row]]


def _employee(row_id: str, **fields: object) -> Row:
    row: Row = {
        "id": row_id,
        "active": True,
        "companyId": "c1",
        "employeeNumber": row_id.removeprefix("e"),
        "firstName": None,
        "hireDate": None,
        "employmentId": None,
        "departmentId": None,
        "managerEmployeeId": None,
        "homeAddress": None,
        "custom": {},
        "created": "2024-01-01T00:00:00.000Z",
        "updated": "2024-01-01T00:00:00.000Z",
    }
    row.update(fields)
    return row


# Values chosen so that comparing dates as text or numbers as text gives a different answer.
TABLES: Tables = {
    "employee": [
        _employee(
            "e1",
            firstName="Anna",
            hireDate="2024-08-01",
            updated="2024-08-01T00:00:00.000Z",
            homeAddress={"street": "Gate 1", "postalCode": "0150", "city": "Oslo"},
            employmentId="m1",
            departmentId="d1",
        ),
        _employee(
            "e2",
            active=False,
            firstName="Bjørn",
            hireDate="2024-08-02",
            updated="2024-08-02T12:30:00.000Z",
            homeAddress={"city": "Bergen"},
            employmentId="m2",
            departmentId="d2",
            managerEmployeeId="e1",
        ),
        _employee(
            "e3",
            firstName="Carl",
            updated="2024-07-31T23:59:59.999Z",
            employmentId="m3",
            departmentId="d1",
            managerEmployeeId="e1",
        ),
        _employee(
            "e4",
            hireDate="2023-01-15",
            updated="2024-09-01T08:00:00.000Z",
            homeAddress={"city": None},
            employmentId="m4",
        ),
    ],
    "employment": [
        {
            "id": "m1",
            "employeeId": "e1",
            "typeId": "t1",
            "startDate": "2024-01-01",
            "terminated": False,
            "rate": 100,
            "endDate": None,
        },
        {
            "id": "m2",
            "employeeId": "e2",
            "typeId": "t1",
            "startDate": "2023-06-01T00:00:00.000Z",
            "terminated": True,
            "rate": 80.5,
            "endDate": "2024-12-31",
        },
        # 2024-01-01T01:00+02:00 is 2023-12-31T23:00Z: before m1 by time, after it as text.
        {
            "id": "m3",
            "employeeId": "e3",
            "typeId": "t2",
            "startDate": "2024-01-01T01:00:00+02:00",
            "terminated": False,
            "rate": 50,
            "endDate": None,
        },
        {
            "id": "m4",
            "employeeId": "e4",
            "typeId": "t2",
            "startDate": "2025-03-01",
            "terminated": False,
            "rate": 100,
            "endDate": None,
        },
        {
            "id": "m5",
            "employeeId": "e1",
            "typeId": "t2",
            "startDate": "2022-01-01",
            "terminated": True,
            "rate": 20,
            "endDate": "2023-12-31",
        },
    ],
    "employment-type": [
        {"id": "t1", "name": "Permanent", "vacation": 25, "country": "NO"},
        {"id": "t2", "name": "Temporary", "vacation": None, "country": "NO"},
    ],
    "compensation": [],
    "leave": [],
    "leave-type": [
        {"id": "lt1", "name": "Sick", "kind": "SICK_LEAVE", "paid": True},
        {"id": "lt2", "name": "Holiday", "kind": "VACATION", "paid": True},
        {"id": "lt3", "name": "Unpaid", "kind": "OFF_DUTY", "paid": False},
    ],
    "leave-type-code": [
        {"id": "c1", "leaveTypeId": "lt1", "code": "01"},
        {"id": "c2", "leaveTypeId": "lt2", "code": "04"},
        {"id": "c3", "leaveTypeId": "lt9", "code": "99"},
    ],
    "child": [],
    "department": [
        {"id": "d1", "name": "Sales", "parentId": None},
        {"id": "d2", "name": "Ops", "parentId": "d1"},
        {"id": "d3", "name": "Unused", "parentId": None},
    ],
    "office": [],
}


def _params(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))


def _body(resource: str, query: str, tables: Tables = TABLES) -> dict[str, object]:
    return run_query(resource, parse_query(resource, _params(query)), tables)


def _rows(resource: str, query: str, tables: Tables = TABLES) -> list[Row]:
    data = _body(resource, query, tables)["data"]
    assert isinstance(data, list)
    return data


def _ids(resource: str, query: str, tables: Tables = TABLES) -> list[str]:
    return [str(row["id"]) for row in _rows(resource, query, tables)]


def _relation_ids(body: dict[str, object], name: str) -> list[str]:
    relations = body["relations"]
    assert isinstance(relations, dict)
    return [str(row["id"]) for row in relations[name]]


# ------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filters[firstName]=Anna", Filter("firstName", "$eq", ("Anna",))),
        ("filters[firstName][$eq]=Anna", Filter("firstName", "$eq", ("Anna",))),
        ("filters[firstName][$neq]=Anna", Filter("firstName", "$neq", ("Anna",))),
        (
            "filters[firstName][$in][]=A&filters[firstName][$in][]=B",
            Filter("firstName", "$in", ("A", "B")),
        ),
        ("filters[firstName][$nin][]=A", Filter("firstName", "$nin", ("A",))),
        (
            "filters[updated][$between][]=2024-01-01&filters[updated][$between][]=2024-02-01",
            Filter("updated", "$between", ("2024-01-01", "2024-02-01")),
        ),
        ("filters[homeAddress.city][$gte]=O", Filter("homeAddress.city", "$gte", ("O",))),
    ],
)
def test_parse_filters(query: str, expected: Filter) -> None:
    assert parse_query("employee", _params(query)).filters == (expected,)


def test_parse_defaults_and_every_part() -> None:
    default = parse_query("employee", [])
    assert (default.limit, default.offset) == (SIMPLOYER_DEFAULT_LIMIT, 0) == (20, 0)
    assert (default.select, default.relations, default.sort, default.filters) == ((), (), (), ())
    query = parse_query(
        "employee",
        _params(
            "limit=5&offset=7&select[]=firstName&select[]=id&relations[]=employment"
            "&sort[active]=desc&sort[firstName]=asc"
        ),
    )
    assert (query.limit, query.offset) == (5, 7)
    assert query.select == ("firstName", "id")
    assert query.relations == ("employment",)
    assert query.sort == (("active", True), ("firstName", False))


# ------------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # text
        ("filters[firstName]=Anna", ["e1"]),
        ("filters[firstName][$eq]=Anna", ["e1"]),
        ("filters[firstName][$eq]=anna", []),
        ("filters[firstName][$neq]=Anna", ["e2", "e3", "e4"]),
        ("filters[firstName][$gt]=Anna", ["e2", "e3"]),
        ("filters[firstName][$gte]=Bjørn", ["e2", "e3"]),
        ("filters[firstName][$lt]=Bjørn", ["e1"]),
        ("filters[firstName][$lte]=Bjørn", ["e1", "e2"]),
        ("filters[firstName][$in][]=Anna&filters[firstName][$in][]=Carl", ["e1", "e3"]),
        ("filters[firstName][$in]=Carl", ["e3"]),
        ("filters[firstName][$nin][]=Anna&filters[firstName][$nin][]=Carl", ["e2", "e4"]),
        ("filters[firstName][$between][]=Anna&filters[firstName][$between][]=Bjørn", ["e1", "e2"]),
        ("filters[firstName][$between][]=Bjørn&filters[firstName][$between][]=Anna", []),
        # bool
        ("filters[active]=true", ["e1", "e3", "e4"]),
        ("filters[active]=TRUE", ["e1", "e3", "e4"]),
        ("filters[active]=1", ["e1", "e3", "e4"]),
        ("filters[active][$eq]=false", ["e2"]),
        ("filters[active][$eq]=0", ["e2"]),
        ("filters[active][$neq]=true", ["e2"]),
        ("filters[active][$gt]=false", ["e1", "e3", "e4"]),
        ("filters[active][$gte]=true", ["e1", "e3", "e4"]),
        ("filters[active][$lt]=true", ["e2"]),
        ("filters[active][$lte]=false", ["e2"]),
        ("filters[active][$in][]=false", ["e2"]),
        ("filters[active][$nin][]=false", ["e1", "e3", "e4"]),
        (
            "filters[active][$between][]=false&filters[active][$between][]=true",
            ["e1", "e2", "e3", "e4"],
        ),
        # date against date-time and back: compared by time, not as text
        ("filters[hireDate]=2024-08-01T00:00:00.000Z", ["e1"]),
        ("filters[updated]=2024-08-01", ["e1"]),
        ("filters[updated][$eq]=2024-08-02T14:30:00%2B02:00", ["e2"]),
        ("filters[updated][$neq]=2024-08-01", ["e2", "e3", "e4"]),
        ("filters[updated][$gt]=2024-08-01", ["e2", "e4"]),
        ("filters[updated][$gte]=2024-08-01", ["e1", "e2", "e4"]),
        ("filters[updated][$lt]=2024-08-01T00:00:00.000Z", ["e3"]),
        ("filters[updated][$lte]=2024-08-01", ["e1", "e3"]),
        ("filters[updated][$gte]=2024-08-02T12:30:00.001Z", ["e4"]),
        (
            "filters[updated][$in][]=2024-08-01&filters[updated][$in][]=2024-09-01T08:00:00Z",
            ["e1", "e4"],
        ),
        (
            "filters[updated][$nin][]=2024-08-01&filters[updated][$nin][]=2024-09-01T08:00:00Z",
            ["e2", "e3"],
        ),
        (
            "filters[updated][$between][]=2024-08-01&filters[updated][$between][]=2024-08-02T12:30:00.000Z",
            ["e1", "e2"],
        ),
        ("filters[hireDate][$gte]=2024-08-01T00:00:00.000Z", ["e1", "e2"]),
        ("filters[hireDate][$lt]=2024-08-01", ["e4"]),
        # dotted paths into nested objects
        ("filters[homeAddress.city]=Oslo", ["e1"]),
        ("filters[homeAddress.city][$neq]=Oslo", ["e2", "e3", "e4"]),
        (
            "filters[homeAddress.city][$in][]=Oslo&filters[homeAddress.city][$in][]=Bergen",
            ["e1", "e2"],
        ),
        ("filters[homeAddress.city][$lt]=Oslo", ["e2"]),
        ("filters[homeAddress.postalCode]=0150", ["e1"]),
        # null
        ("filters[firstName]=null", ["e4"]),
        ("filters[firstName][$neq]=null", ["e1", "e2", "e3"]),
        ("filters[hireDate]=null", ["e3"]),
        ("filters[homeAddress.city]=null", ["e3", "e4"]),
        ("filters[homeAddress.city][$neq]=null", ["e1", "e2"]),
        (
            "filters[managerEmployeeId][$in][]=null&filters[managerEmployeeId][$in][]=e9",
            ["e1", "e4"],
        ),
        ("filters[hireDate][$gt]=null", []),
        # several filters: all must hold
        ("filters[active]=true&filters[hireDate][$gte]=2024-01-01", ["e1"]),
        (
            "filters[active]=true&filters[firstName][$neq]=null&filters[departmentId]=d1",
            ["e1", "e3"],
        ),
    ],
)
def test_employee_filters(query: str, expected: list[str]) -> None:
    assert _ids("employee", f"{query}&limit=100") == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filters[rate]=100", ["m1", "m4"]),
        ("filters[rate]=100.0", ["m1", "m4"]),
        ("filters[rate][$eq]=80.5", ["m2"]),
        ("filters[rate][$neq]=100", ["m2", "m3", "m5"]),
        ("filters[rate][$gt]=80.5", ["m1", "m4"]),
        ("filters[rate][$gt]=9", ["m1", "m2", "m3", "m4", "m5"]),  # as numbers, not as text
        ("filters[rate][$gte]=80.5", ["m1", "m2", "m4"]),
        ("filters[rate][$lt]=80.5", ["m3", "m5"]),
        ("filters[rate][$lt]=100", ["m2", "m3", "m5"]),
        ("filters[rate][$lte]=80.5", ["m2", "m3", "m5"]),
        ("filters[rate][$in][]=50&filters[rate][$in][]=80.5", ["m2", "m3"]),
        ("filters[rate][$nin][]=50&filters[rate][$nin][]=80.5", ["m1", "m4", "m5"]),
        ("filters[rate][$between][]=50&filters[rate][$between][]=80.5", ["m2", "m3"]),
        ("filters[rate][$between][]=-1e3&filters[rate][$between][]=2e1", ["m5"]),
        ("filters[terminated]=true", ["m2", "m5"]),
        ("filters[terminated][$neq]=true", ["m1", "m3", "m4"]),
        ("filters[startDate][$lt]=2024-01-01", ["m2", "m3", "m5"]),  # m3 is 2023-12-31T23:00Z
        ("filters[startDate][$gte]=2024-01-01T00:00:00.000Z", ["m1", "m4"]),
        ("filters[startDate]=2023-12-31T23:00:00.000Z", ["m3"]),
        ("filters[endDate]=null", ["m1", "m3", "m4"]),
        ("filters[endDate][$lte]=2024-12-31T00:00:00.000Z", ["m2", "m5"]),
        ("filters[employeeId]=e1&filters[terminated]=false", ["m1"]),
    ],
)
def test_employment_filters(query: str, expected: list[str]) -> None:
    assert _ids("employment", f"{query}&limit=100") == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filters[vacation][$gte]=20", ["t1"]),
        ("filters[vacation]=null", ["t2"]),
        ("filters[vacation][$neq]=25", ["t2"]),
        ("filters[name][$in][]=Temporary", ["t2"]),
    ],
)
def test_optional_number_and_text_filters(query: str, expected: list[str]) -> None:
    assert _ids("employment-type", query) == expected


def test_filters_do_not_change_the_rows() -> None:
    before = copy.deepcopy(TABLES)
    _body("employee", "filters[updated][$gte]=2024-08-01&sort[updated]=desc&select[]=firstName")
    assert before == TABLES


# ------------------------------------------------------------------------------- sorting


@pytest.mark.parametrize(
    ("resource", "query", "expected"),
    [
        ("employee", "", ["e1", "e2", "e3", "e4"]),  # insertion order without a sort
        # None sorts as the smallest value: first ascending, last descending
        ("employee", "sort[firstName]=asc", ["e4", "e1", "e2", "e3"]),
        ("employee", "sort[firstName]=desc", ["e3", "e2", "e1", "e4"]),
        ("employee", "sort[hireDate]=asc", ["e3", "e4", "e1", "e2"]),
        ("employee", "sort[hireDate]=desc", ["e2", "e1", "e4", "e3"]),
        ("employee", "sort[updated]=asc", ["e3", "e1", "e2", "e4"]),
        ("employee", "sort[homeAddress.city]=asc", ["e3", "e4", "e2", "e1"]),
        ("employee", "sort[homeAddress.city]=desc", ["e1", "e2", "e3", "e4"]),
        ("employee", "sort[active]=asc", ["e2", "e1", "e3", "e4"]),
        ("employee", "sort[active]=desc&sort[firstName]=asc", ["e4", "e1", "e3", "e2"]),
        ("employee", "sort[active]=desc&sort[firstName]=desc", ["e3", "e1", "e4", "e2"]),
        ("employee", "sort[firstName]=asc&limit=2&offset=1", ["e1", "e2"]),
        ("employee", "sort[firstName]=desc&filters[active]=true", ["e3", "e1", "e4"]),
        # numbers as numbers (text would put 100 before 20), ties keep insertion order
        ("employment", "sort[rate]=asc", ["m5", "m3", "m2", "m1", "m4"]),
        ("employment", "sort[rate]=desc", ["m1", "m4", "m2", "m3", "m5"]),
        # dates by time: as text m1 (2024-01-01) would come before m3 (2024-01-01T01:00+02:00)
        ("employment", "sort[startDate]=asc", ["m5", "m2", "m3", "m1", "m4"]),
        ("employment", "sort[startDate]=desc", ["m4", "m1", "m3", "m2", "m5"]),
        ("employment", "sort[endDate]=desc&sort[rate]=asc", ["m2", "m5", "m3", "m1", "m4"]),
    ],
)
def test_sort(resource: str, query: str, expected: list[str]) -> None:
    assert _ids(resource, query) == expected


def test_sort_on_free_text_where_only_some_values_look_like_dates_does_not_crash() -> None:
    tables: Tables = {
        "department": [
            {"id": "d1", "name": "Sales", "parentId": None},
            {"id": "d2", "name": "2024-01-01", "parentId": None},
            {"id": "d3", "name": "Ops", "parentId": None},
        ]
    }
    for direction in ("asc", "desc"):
        assert sorted(_ids("department", f"sort[name]={direction}", tables)) == ["d1", "d2", "d3"]


# ------------------------------------------------------------------------------- select


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("select[]=firstName", {"id", "firstName"}),
        ("select=firstName", {"id", "firstName"}),
        ("select[]=firstName&select[]=hireDate", {"id", "firstName", "hireDate"}),
        ("select[]=id", {"id"}),
        ("select[]=homeAddress.city", {"id", "homeAddress"}),
        ("select[]=custom&select[]=active", {"id", "custom", "active"}),
    ],
)
def test_select_keeps_the_fields_asked_and_always_id(query: str, keys: set[str]) -> None:
    rows = _rows("employee", query)
    assert [row["id"] for row in rows] == ["e1", "e2", "e3", "e4"]
    assert all(set(row) == keys for row in rows)
    originals = {str(row["id"]): row for row in TABLES["employee"]}
    assert all(row[k] == originals[str(row["id"])][k] for row in rows for k in keys)


def test_select_does_not_limit_what_filters_sort_and_relations_see() -> None:
    body = _body(
        "employee",
        "select[]=firstName&filters[active]=true&sort[hireDate]=desc&relations[]=department",
    )
    assert body["data"] == [
        {"id": "e1", "firstName": "Anna"},
        {"id": "e4", "firstName": None},
        {"id": "e3", "firstName": "Carl"},
    ]
    assert _relation_ids(body, "department") == ["d1"]
    assert "hireDate" in TABLES["employee"][0]  # the stored row is not projected


# ------------------------------------------------------------------------------- relations


@pytest.mark.parametrize(
    ("resource", "query", "relation", "expected"),
    [
        ("employee", "relations[]=employment", "employment", ["m1", "m2", "m3", "m4", "m5"]),
        ("employee", "relations[]=employment&limit=1", "employment", ["m1", "m5"]),
        ("employee", "relations[]=employment&limit=2&offset=1", "employment", ["m2", "m3"]),
        ("employee", "relations[]=employment&filters[active]=false", "employment", ["m2"]),
        ("employee", "relations[]=employment&offset=50", "employment", []),
        ("employee", "relations[]=department", "department", ["d1", "d2"]),
        ("employee", "relations[]=department&limit=1&offset=3", "department", []),  # no dept
        ("employee", "relations[]=manager&filters[firstName]=Carl", "manager", ["e1"]),
        ("employment", "relations[]=employmentType&limit=2", "employmentType", ["t1"]),
        ("employment", "relations[]=employee&filters[rate]=100", "employee", ["e1", "e4"]),
        ("leave-type", "relations[]=leaveTypeCode", "leaveTypeCode", ["c1", "c2"]),
        ("leave-type", "relations[]=leaveTypeCode&filters[paid]=false", "leaveTypeCode", []),
        ("leave-type", "relations=leaveTypeCode&offset=1", "leaveTypeCode", ["c2"]),
        ("department", "relations[]=parent", "parent", ["d1"]),
    ],
)
def test_relations_hold_the_related_rows_of_the_page_only(
    resource: str, query: str, relation: str, expected: list[str]
) -> None:
    body = _body(resource, query)
    relations = body["relations"]
    assert isinstance(relations, dict)
    assert set(relations) == {relation}
    assert _relation_ids(body, relation) == expected


def test_relations_are_full_rows_and_empty_without_asking() -> None:
    body = _body("leave-type", "relations[]=leaveTypeCode&limit=1")
    assert body["relations"] == {"leaveTypeCode": [TABLES["leave-type-code"][0]]}
    assert _body("leave-type", "")["relations"] == {}
    both = _body("employee", "relations[]=employment&relations[]=department&limit=1")
    assert _relation_ids(both, "employment") == ["m1", "m5"]
    assert _relation_ids(both, "department") == ["d1"]


# ------------------------------------------------------------------------------- paging


def _departments(count: int) -> Tables:
    return {
        "department": [{"id": f"d{i}", "name": f"n{i}", "parentId": None} for i in range(count)]
    }


@pytest.mark.parametrize(
    ("query", "ids", "total", "offset"),
    [
        ("", list(range(SIMPLOYER_DEFAULT_LIMIT)), 150, 0),
        ("limit=1", [0], 150, 0),
        ("limit=100", list(range(100)), 150, 0),
        (f"limit={SIMPLOYER_MAX_LIMIT}&offset=100", list(range(100, 150)), 150, 100),
        ("limit=10&offset=145", list(range(145, 150)), 150, 145),
        ("offset=150", [], 150, 150),
        ("offset=1000", [], 150, 1000),
        ("limit=5&offset=3&filters[name][$in][]=n4&filters[name][$in][]=n149", [], 2, 3),
        ("limit=1&offset=1&filters[name][$in][]=n4&filters[name][$in][]=n149", [149], 2, 1),
    ],
)
def test_limit_and_offset(query: str, ids: list[int], total: int, offset: int) -> None:
    body = _body("department", query, _departments(150))
    data = body["data"]
    assert isinstance(data, list)
    assert [row["id"] for row in data] == [f"d{i}" for i in ids]
    assert body["status"] == "ok"
    assert (body["total"], body["count"], body["offset"]) == (total, len(ids), offset)


# ------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("resource", "query", "named"),
    [
        ("employee", "filters[nope]=1", ["filters[nope]", "'nope'"]),
        ("employee", "filters[nope][$gt]=1", ["filters[nope][$gt]"]),
        ("employee", "filters[homeAddress.nope]=x", ["filters[homeAddress.nope]"]),
        ("employee", "filters[firstName][$like]=A", ["filters[firstName][$like]", "$like"]),
        ("employee", "filters[firstName][eq]=A", ["filters[firstName][eq]"]),
        ("employee", "filters[firstName][$eq][]=A", ["filters[firstName][$eq][]"]),
        ("employee", "filters[firstName][]=A", ["filters[firstName][]"]),
        ("employee", "filters[updated][$gte][]=2024-01-01", ["filters[updated][$gte][]"]),
        ("employee", "filters[firstName][$neq][]=A", ["filters[firstName][$neq][]"]),
        ("employment", "filters[rate][$between][]=1", ["filters[rate][$between][]"]),
        (
            "employment",
            "filters[rate][$between][]=1&filters[rate][$between][]=2&filters[rate][$between][]=3",
            ["filters[rate][$between][]"],
        ),
        ("employment", "filters[rate]=abc", ["filters[rate]", "'abc'"]),
        ("employment", "filters[rate][$gt]=", ["filters[rate][$gt]"]),
        ("employment", "filters[rate][$in][]=1&filters[rate][$in][]=x", ["filters[rate][$in][]"]),
        ("employee", "filters[active]=yes", ["filters[active]", "'yes'"]),
        ("employment", "filters[terminated][$neq]=2", ["filters[terminated][$neq]"]),
        ("employee", "filters[homeAddress]=Oslo", ["filters[homeAddress]"]),
        ("employee", "filters[custom]=x", ["filters[custom]"]),
        ("employee", "filters[firstName]=A&filters[firstName][$eq]=B", ["filters[firstName]"]),
        ("employee", "relations[]=nope", ["relations[]", "'nope'"]),
        ("employee", "relations[]=leaveTypeCode", ["relations[]", "'leaveTypeCode'"]),
        ("leave-type", "relations[]=employment", ["relations[]", "'employment'"]),
        ("employee", "select[]=nope", ["select[]", "'nope'"]),
        ("employee", "sort[nope]=asc", ["sort[nope]"]),
        ("employee", "sort[firstName]=up", ["sort[firstName]", "'up'"]),
        ("employee", "sort[firstName]=", ["sort[firstName]"]),
        # an object cannot be ordered, just as it cannot be filtered
        ("employee", "sort[homeAddress]=asc", ["sort[homeAddress]"]),
        ("employee", "foo=bar", ["'foo'"]),
        ("employee", "filter[firstName]=A", ["'filter[firstName]'"]),
        ("employee", "page=2", ["'page'"]),
        ("employee", "limit=101", ["limit", "101"]),
        ("employee", "limit=0", ["limit", "0"]),
        ("employee", "limit=-5", ["limit"]),
        ("employee", "limit=abc", ["limit", "'abc'"]),
        ("employee", "limit=", ["limit"]),
        ("employee", "limit=2.5", ["limit"]),
        ("employee", "offset=-1", ["offset", "-1"]),
        ("employee", "offset=x", ["offset", "'x'"]),
    ],
)
def test_bad_query_raises_query_error_naming_the_parameter(
    resource: str, query: str, named: list[str]
) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(resource, _params(query))
    message = str(caught.value)
    for part in named:
        assert part in message, f"{part!r} not in {message!r}"


def test_query_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)


def test_limit_bounds_are_inclusive() -> None:
    assert parse_query("employee", [("limit", "1")]).limit == 1
    assert parse_query("employee", [("limit", str(SIMPLOYER_MAX_LIMIT))]).limit == 100
    assert parse_query("employee", [("offset", "0")]).offset == 0


# ------------------------------------------------------------------------------- one row


@pytest.mark.parametrize(
    ("query", "data", "relations"),
    [
        ("", TABLES["employee"][1], {}),
        ("select[]=firstName", {"id": "e2", "firstName": "Bjørn"}, {}),
        (
            "select[]=firstName&relations[]=employment&relations[]=manager",
            {"id": "e2", "firstName": "Bjørn"},
            {"employment": [TABLES["employment"][1]], "manager": [TABLES["employee"][0]]},
        ),
        (
            "relations[]=department",
            TABLES["employee"][1],
            {"department": [TABLES["department"][1]]},
        ),
    ],
)
def test_get_one(query: str, data: Row, relations: dict[str, list[Row]]) -> None:
    row = TABLES["employee"][1]
    body = run_get_one("employee", row, parse_query("employee", _params(query)), TABLES)
    assert body == {"status": "ok", "data": data, "relations": relations}


def test_get_one_relation_of_a_leave_type() -> None:
    row = TABLES["leave-type"][1]
    query = parse_query("leave-type", [("relations[]", "leaveTypeCode")])
    body = run_get_one("leave-type", row, query, TABLES)
    assert body["relations"] == {
        "leaveTypeCode": [{"id": "c2", "leaveTypeId": "lt2", "code": "04"}]
    }
