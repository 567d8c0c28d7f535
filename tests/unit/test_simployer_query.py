"""Simployer One's list query language, table by table: parse_query, run_query, run_get_one."""

from __future__ import annotations

import copy
from urllib.parse import parse_qsl

import pytest

from payroll_sync.assumptions import (
    SIMPLOYER_DEFAULT_LIMIT,
    SIMPLOYER_MAX_LIMIT,
    SIMPLOYER_RELATIONS,
)
from payroll_sync.simulators.simployer_published import RESOURCES
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
        "userId": f"u{row_id}",
        "employeeNumber": row_id.removeprefix("e"),
        "firstName": None,
        "hireDate": None,
        "employmentId": None,
        "employmentTypeId": None,
        "compensationId": None,
        "departmentId": None,
        "officeId": None,
        "costCenterId": None,
        "managerEmployeeId": None,
        "homeAddress": None,
        "custom": {},
        "created": "2024-01-01T00:00:00.000Z",
        "updated": "2024-01-01T00:00:00.000Z",
    }
    row.update(fields)
    return row


def _compensation(row_id: str, employee_id: str, amount: float, effective: str) -> Row:
    return {
        "id": row_id,
        "employeeId": employee_id,
        "companyId": "c1",
        "amount": amount,
        "effectiveDate": effective,
        "currency": "NOK",
        "payoutPeriod": "MONTHLY",
    }


def _leave(row_id: str, employee_id: str, type_id: str, **fields: object) -> Row:
    row: Row = {"id": row_id, "employeeId": employee_id, "typeId": type_id, "description": None}
    row.update(fields)
    return row


# Values chosen so that comparing dates as text or numbers as text gives a different answer.
# e1 has two employments (m5 ended) and two compensations (p1 older), and names the current
# ones in employmentId/compensationId: the published relations join only those.
TABLES: Tables = {
    "employee": [
        _employee(
            "e1",
            firstName="Anna",
            hireDate="2024-08-01",
            updated="2024-08-01T00:00:00.000Z",
            homeAddress={"street": "Gate 1", "postalCode": "0150", "city": "Oslo"},
            employmentId="m1",
            employmentTypeId="t1",
            compensationId="p2",
            departmentId="d1",
            officeId="o1",
            costCenterId="cc1",
        ),
        _employee(
            "e2",
            active=False,
            firstName="Bjørn",
            hireDate="2024-08-02",
            updated="2024-08-02T12:30:00.000Z",
            homeAddress={"city": "Bergen"},
            employmentId="m2",
            employmentTypeId="t1",
            compensationId="p3",
            departmentId="d2",
            managerEmployeeId="e1",
        ),
        _employee(
            "e3",
            firstName="Carl",
            updated="2024-07-31T23:59:59.999Z",
            employmentId="m3",
            employmentTypeId="t2",
            departmentId="d1",
            managerEmployeeId="e1",
        ),
        _employee(
            "e4",
            hireDate="2023-01-15",
            updated="2024-09-01T08:00:00.000Z",
            homeAddress={"city": None},
            employmentId="m4",
            employmentTypeId="t2",
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
        {"id": "t1", "name": "Permanent", "vacation": True, "maxMonths": None, "country": "NO"},
        {"id": "t2", "name": "Temporary", "vacation": False, "maxMonths": 24, "country": "NO"},
    ],
    "compensation": [
        _compensation("p1", "e1", 41000, "2024-01-01T00:00:00.000+00:00"),
        _compensation("p2", "e1", 45000, "2024-07-31T22:00:00.000Z"),
        _compensation("p3", "e2", 38000, "2023-06-01T00:00:00.000Z"),
    ],
    "leave": [
        _leave(
            "l1",
            "e1",
            "lt1",
            status="APPROVED",
            duration="one_day",
            startDate="2024-08-01T00:00:00.000+00:00",
            endDate="2024-08-01T00:00:00.000+00:00",
        ),
        # 1 to 10 August in Oslo, written as Oslo midnights in UTC.
        _leave(
            "l2",
            "e3",
            "lt2",
            status="PENDING",
            duration="longer",
            startDate="2024-07-31T22:00:00.000Z",
            endDate="2024-08-09T22:00:00.000Z",
        ),
        _leave(
            "l3",
            "e1",
            "lt9",
            status="CANCELLED",
            duration="half_day",
            startDate="2024-09-02T00:00:00.000Z",
            endDate="2024-09-02T00:00:00.000Z",
            description="Doctor",
        ),
    ],
    "leave-type": [
        {"id": "lt1", "name": "Sick", "kind": "SICK_LEAVE", "paid": True},
        {"id": "lt2", "name": "Holiday", "kind": "VACATION", "paid": True},
        {"id": "lt3", "name": "Unpaid", "kind": "OFF_DUTY", "paid": False},
    ],
    # Not a served resource: only the relation `leaveTypeCode` of a leave type.
    "leave-type-code": [
        {"id": "c1", "companyId": "c1", "leaveTypeId": "lt1", "code": "01"},
        {"id": "c2", "companyId": "c1", "leaveTypeId": "lt2", "code": "04"},
        {"id": "c3", "companyId": "c1", "leaveTypeId": "lt9", "code": "99"},
    ],
    "child": [
        {"id": "ch1", "employeeId": "e1", "name": "Ola Nordmann", "birthdate": "2019-05-17"},
        {"id": "ch2", "employeeId": "e1", "name": "Kari Nordmann", "birthdate": "2021-02-01"},
        {"id": "ch3", "employeeId": "e3", "name": "Per Hansen", "birthdate": "2020-10-10"},
    ],
    "department": [
        {"id": "d1", "name": "Sales", "parentId": None, "costCenterId": "cc1"},
        {"id": "d2", "name": "Ops", "parentId": "d1", "effectiveCostCenterId": "cc1"},
        {"id": "d3", "name": "Unused", "parentId": None},
    ],
    "office": [
        {"id": "o1", "companyId": "c1", "name": "Oslo"},
        {"id": "o2", "companyId": "c1", "name": "Bergen"},
    ],
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


def _relations(body: dict[str, object]) -> dict[str, list[Row]]:
    relations = body["relations"]
    assert isinstance(relations, dict)
    return relations


def _relation_ids(body: dict[str, object], name: str) -> list[str]:
    return [str(row["id"]) for row in _relations(body)[name]]


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
            "limit=5&offset=7&select=firstName,id&relations=employment,managerEmployee"
            "&sort[active]=desc&sort[firstName]=asc"
        ),
    )
    assert (query.limit, query.offset) == (5, 7)
    assert query.select == ("firstName", "id")
    assert query.relations == ("employment", "managerEmployee")
    assert query.sort == (("active", True), ("firstName", False))


@pytest.mark.parametrize(
    ("query", "select", "relations"),
    [
        ("select=firstName", ("firstName",), ()),
        (
            "select=firstName,lastName,homeAddress.city",
            ("firstName", "lastName", "homeAddress.city"),
            (),
        ),
        ("relations=employment", (), ("employment",)),
        ("relations=employment,compensation,child", (), ("employment", "compensation", "child")),
        ("select=id&relations=office,department", ("id",), ("office", "department")),
    ],
)
def test_select_and_relations_are_comma_separated_in_one_parameter(
    query: str, select: tuple[str, ...], relations: tuple[str, ...]
) -> None:
    parsed = parse_query("employee", _params(query))
    assert (parsed.select, parsed.relations) == (select, relations)


@pytest.mark.parametrize("key", ["select[]", "relations[]"])
def test_the_exploded_array_form_is_refused_pointing_to_the_comma_separated_one(key: str) -> None:
    value = "id" if key == "select[]" else "employment"
    for params in ([(key, value)], [(key, value), (key, value)], [("limit", "5"), (key, value)]):
        with pytest.raises(QueryError) as caught:
            parse_query("employee", params)
        message = str(caught.value)
        assert key in message
        assert f"{key[:-2]}=a,b" in message
        assert "comma-separated" in message


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
        ("filters[maxMonths][$gte]=20", ["t2"]),
        ("filters[maxMonths]=null", ["t1"]),
        ("filters[maxMonths][$neq]=24", ["t1"]),
        ("filters[vacation]=true", ["t1"]),  # a bool, as published (not a number of days)
        ("filters[name][$in][]=Temporary", ["t2"]),
    ],
)
def test_optional_number_and_text_filters(query: str, expected: list[str]) -> None:
    assert _ids("employment-type", query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filters[id]=l2", ["l2"]),
        ("filters[employeeId]=e1", ["l1", "l3"]),
        ("filters[typeId][$nin][]=lt9", ["l1", "l2"]),
        ("filters[status]=APPROVED", ["l1"]),
        ("filters[status][$in][]=PENDING&filters[status][$in][]=CANCELLED", ["l2", "l3"]),
        ("filters[duration][$neq]=longer", ["l1", "l3"]),
        # instants compared by time: l2 starts 1 August in Oslo, 31 July 22:00 in UTC
        ("filters[startDate][$gte]=2024-08-01", ["l1", "l3"]),
        ("filters[startDate][$gte]=2024-07-31T22:00:00.000Z", ["l1", "l2", "l3"]),
        ("filters[endDate][$lt]=2024-08-05", ["l1"]),
    ],
)
def test_leave_filters_on_the_published_filterable_fields(query: str, expected: list[str]) -> None:
    assert _ids("leave", query) == expected


def test_filters_do_not_change_the_rows() -> None:
    before = copy.deepcopy(TABLES)
    _body(
        "employee",
        "filters[updated][$gte]=2024-08-01&sort[updated]=desc&select=firstName"
        "&relations=employment,compensation",
    )
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
        ("select=firstName", {"id", "firstName"}),
        ("select=firstName,hireDate", {"id", "firstName", "hireDate"}),
        ("select=hireDate,firstName,firstName", {"id", "firstName", "hireDate"}),
        ("select=id", {"id"}),
        ("select=homeAddress.city", {"id", "homeAddress"}),
        ("select=custom,active", {"id", "custom", "active"}),
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
        "select=firstName&filters[active]=true&sort[hireDate]=desc&relations=department",
    )
    assert body["data"] == [
        {"id": "e1", "firstName": "Anna"},
        {"id": "e4", "firstName": None},
        {"id": "e3", "firstName": "Carl"},
    ]
    assert _relation_ids(body, "department") == ["d1"]
    assert "hireDate" in TABLES["employee"][0]  # the stored row is not projected


# ------------------------------------------------------------------------------- relations


#: The relation names APIS.md publishes, resource by resource (written out here rather than
#: read from `assumptions`, so the simulator is checked against the page, not against itself).
PUBLISHED_RELATIONS: dict[str, set[str]] = {
    "employee": {
        "office",
        "costCenter",
        "effectiveCostCenter",
        "child",
        "department",
        "emergencyContact",
        "employment",
        "employmentType",
        "compensation",
        "managerEmployee",
        "teamReference",
    },
    "employment": {"type", "employee"},
    "leave": {"type", "employee"},
    "leave-type": {"leaveTypeCode"},
    "department": {"costCenter", "effectiveCostCenter"},
}


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_published_relation_is_accepted_and_no_other(resource: str) -> None:
    published = PUBLISHED_RELATIONS.get(resource, set())
    assert set(SIMPLOYER_RELATIONS.get(resource, {})) == published
    if published:
        query = parse_query(resource, [("relations", ",".join(sorted(published)))])
        assert set(query.relations) == published
        body = run_query(resource, query, TABLES)
        relations = body["relations"]
        assert isinstance(relations, dict)
        assert set(relations) == published
    for name in {"employee", "nope"} - published:
        with pytest.raises(QueryError, match=f"'{name}'"):
            parse_query(resource, [("relations", name)])


@pytest.mark.parametrize(
    ("resource", "query", "relation", "expected"),
    [
        # The narrowest join: only the employment that employmentId names (not e1's ended m5).
        ("employee", "relations=employment", "employment", ["m1", "m2", "m3", "m4"]),
        ("employee", "relations=employment&limit=1", "employment", ["m1"]),
        ("employee", "relations=employment&limit=2&offset=1", "employment", ["m2", "m3"]),
        ("employee", "relations=employment&filters[active]=false", "employment", ["m2"]),
        ("employee", "relations=employment&offset=50", "employment", []),
        # ... and only the compensation that compensationId names (not e1's older p1).
        ("employee", "relations=compensation", "compensation", ["p2", "p3"]),
        ("employee", "relations=compensation&limit=1", "compensation", ["p2"]),
        ("employee", "relations=compensation&offset=2", "compensation", []),
        ("employee", "relations=employmentType", "employmentType", ["t1", "t2"]),
        ("employee", "relations=employmentType&limit=2", "employmentType", ["t1"]),
        ("employee", "relations=department", "department", ["d1", "d2"]),
        ("employee", "relations=department&limit=1&offset=3", "department", []),  # no dept
        ("employee", "relations=office", "office", ["o1"]),
        ("employee", "relations=child", "child", ["ch1", "ch2", "ch3"]),
        ("employee", "relations=child&limit=1", "child", ["ch1", "ch2"]),
        ("employee", "relations=child&filters[active]=false", "child", []),
        (
            "employee",
            "relations=managerEmployee&filters[firstName]=Carl",
            "managerEmployee",
            ["e1"],
        ),
        ("employee", "relations=managerEmployee&limit=1", "managerEmployee", []),
        # Resources the simulator does not hold: accepted, and empty even when the id is set.
        ("employee", "relations=costCenter", "costCenter", []),
        ("employee", "relations=effectiveCostCenter", "effectiveCostCenter", []),
        ("employee", "relations=emergencyContact", "emergencyContact", []),
        ("employee", "relations=teamReference", "teamReference", []),
        ("department", "relations=costCenter", "costCenter", []),
        ("department", "relations=effectiveCostCenter", "effectiveCostCenter", []),
        ("employment", "relations=type&limit=2", "type", ["t1"]),
        ("employment", "relations=type", "type", ["t1", "t2"]),
        ("employment", "relations=employee&filters[rate]=100", "employee", ["e1", "e4"]),
        ("employment", "relations=employee&filters[employeeId]=e1", "employee", ["e1"]),
        ("leave", "relations=type", "type", ["lt1", "lt2"]),  # l3's lt9 does not exist
        ("leave", "relations=employee", "employee", ["e1", "e3"]),
        ("leave", "relations=employee&filters[status]=PENDING", "employee", ["e3"]),
        ("leave-type", "relations=leaveTypeCode", "leaveTypeCode", ["c1", "c2"]),
        ("leave-type", "relations=leaveTypeCode&filters[paid]=false", "leaveTypeCode", []),
        ("leave-type", "relations=leaveTypeCode&offset=1", "leaveTypeCode", ["c2"]),
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
    body = _body("leave-type", "relations=leaveTypeCode&limit=1")
    assert body["relations"] == {"leaveTypeCode": [TABLES["leave-type-code"][0]]}
    assert _body("leave-type", "")["relations"] == {}
    both = _body("employee", "relations=employment,department&limit=1")
    assert set(_relations(both)) == {"employment", "department"}
    assert _relation_ids(both, "employment") == ["m1"]
    assert _relation_ids(both, "department") == ["d1"]


def test_relations_in_one_parameter_equal_each_asked_alone() -> None:
    names = ["employment", "compensation", "child", "department", "costCenter"]
    together = _body("employee", f"relations={','.join(names)}&limit=3")
    alone = {name: _relations(_body("employee", f"relations={name}&limit=3")) for name in names}
    assert _relations(together) == {name: rows[name] for name, rows in alone.items()}
    assert [len(rows) for rows in _relations(together).values()] == [3, 2, 3, 2, 0]


def test_employee_relations_hold_only_the_named_rows_the_resources_hold_all() -> None:
    """Employee e1 has two employments and two compensations: its relations hold the ones
    employmentId/compensationId name; `/employment` and `/compensation` filtered by employee
    hold all of them (the client reads compensations there)."""
    body = _body("employee", "filters[id]=e1&relations=employment,compensation")
    assert _relation_ids(body, "employment") == ["m1"]
    assert _relation_ids(body, "compensation") == ["p2"]
    assert _ids("employment", "filters[employeeId]=e1") == ["m1", "m5"]
    assert _ids("compensation", "filters[employeeId][$in][]=e1") == ["p1", "p2"]
    assert _ids("compensation", "filters[employeeId][$in][]=e1&filters[employeeId][$in][]=e2") == [
        "p1",
        "p2",
        "p3",
    ]


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
        # the exploded array form, refused with the form to send instead
        ("employee", "relations[]=employment", ["relations[]", "relations=a,b"]),
        ("employee", "select[]=firstName", ["select[]", "select=a,b"]),
        ("employee", "select[]=nope", ["select[]", "select=a,b"]),
        # unknown relations, named (and the old names, which are not published)
        ("employee", "relations=nope", ["relations", "'nope'", "employment"]),
        ("employee", "relations=employment,nope", ["relations", "'nope'"]),
        ("employee", "relations=manager", ["relations", "'manager'"]),
        ("employee", "relations=leaveTypeCode", ["relations", "'leaveTypeCode'"]),
        ("employment", "relations=employmentType", ["relations", "'employmentType'"]),
        ("leave", "relations=leaveType", ["relations", "'leaveType'"]),
        ("leave", "relations=child", ["relations", "'child'"]),
        ("department", "relations=parent", ["relations", "'parent'"]),
        ("compensation", "relations=employee", ["relations", "'employee'", "none"]),
        ("child", "relations=employee", ["relations", "'employee'"]),
        ("leave-type", "relations=employment", ["relations", "'employment'"]),
        ("employee", "relations=", ["relations"]),
        ("employee", "relations=employment,,office", ["relations"]),
        ("employee", "select=nope", ["select", "'nope'"]),
        ("employee", "select=firstName,nope", ["select", "'nope'"]),
        ("employee", "select=firstName,", ["select"]),
        # a leave filters only on the fields the publisher lists
        ("leave", "filters[description]=Doctor", ["filters[description]", "'description'"]),
        ("leave", "filters[description][$neq]=null", ["filters[description][$neq]"]),
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
        ("select=firstName", {"id": "e2", "firstName": "Bjørn"}, {}),
        (
            "select=firstName&relations=employment,managerEmployee",
            {"id": "e2", "firstName": "Bjørn"},
            {"employment": [TABLES["employment"][1]], "managerEmployee": [TABLES["employee"][0]]},
        ),
        (
            "relations=department",
            TABLES["employee"][1],
            {"department": [TABLES["department"][1]]},
        ),
        (
            "select=id&relations=compensation,costCenter,child",
            {"id": "e2"},
            {"compensation": [TABLES["compensation"][2]], "costCenter": [], "child": []},
        ),
    ],
)
def test_get_one(query: str, data: Row, relations: dict[str, list[Row]]) -> None:
    row = TABLES["employee"][1]
    body = run_get_one("employee", row, parse_query("employee", _params(query)), TABLES)
    assert body == {"status": "ok", "data": data, "relations": relations}


def test_get_one_relation_of_a_leave_type() -> None:
    row = TABLES["leave-type"][1]
    query = parse_query("leave-type", [("relations", "leaveTypeCode")])
    body = run_get_one("leave-type", row, query, TABLES)
    # As the published example: one object in a single-row answer, not a list.
    assert body["relations"] == {
        "leaveTypeCode": {"id": "c2", "companyId": "c1", "leaveTypeId": "lt2", "code": "04"}
    }
    none = run_get_one("leave-type", {"id": "lt-none"}, query, TABLES)
    assert none["relations"] == {"leaveTypeCode": None}


def test_get_one_employee_holds_only_its_current_employment_and_compensation() -> None:
    row = TABLES["employee"][0]
    query = parse_query("employee", [("relations", "employment,compensation,child,office")])
    body = run_get_one("employee", row, query, TABLES)
    assert (
        body["relations"]
        == {
            "employment": [TABLES["employment"][0]],  # m1, not the ended m5
            "compensation": [TABLES["compensation"][1]],  # p2, not the older p1
            "child": TABLES["child"][:2],
            "office": [TABLES["office"][0]],
        }
    )


def test_leave_type_codes_are_a_table_but_not_a_resource() -> None:
    """Leave type codes are published only as the relation `leaveTypeCode` of a leave type."""
    assert "leave-type-code" in TABLES
    assert "leave-type-code" not in RESOURCES
    assert set(RESOURCES) == set(TABLES) - {"leave-type-code"}
