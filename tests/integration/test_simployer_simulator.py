"""The Simployer One simulator over real HTTP: paging, the query language, auth, limits, faults,
request counts and the admin state routes."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import aiohttp
import msgspec
import pytest
from multidict import CIMultiDictProxy

from payroll_sync.schemas import simployer
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.serve import RunningSimulators
from tests.integration.conftest import StartSimulators
from tests.support.auth import bearer
from tests.support.published_rows import compensation, employee, employment

pytestmark = pytest.mark.integration

Params = list[tuple[str, str]]


def _leave_type(
    row_id: str, name: str, kind: published.LeaveKind, *, paid: bool
) -> published.LeaveType:
    return published.LeaveType(
        id=row_id,
        name=name,
        kind=kind,
        minimum_duration="DAY",
        deductible=kind == "VACATION",
        paid=paid,
        disabled=False,
    )


def _dataset() -> published.Company:
    """A small company whose values tell apart date-vs-text and number-vs-text comparisons.

    e1 has two employments (m4 ended) and two compensations (p1 older): its employmentId and
    compensationId name the current ones, m1 and p2.
    """
    return published.Company(
        employee=[
            employee(
                "e1",
                "101",
                first_name="Anna",
                hire_date="2024-08-01",
                updated="2024-08-01T00:00:00.000Z",
                employment_id="m1",
                employment_type_id="t1",
                compensation_id="p2",
                department_id="d1",
                office_id="o1",
                cost_center_id="cc1",
                home_address=published.HomeAddress(city="Oslo", postal_code="0150"),
            ),
            employee(
                "e2",
                "102",
                active=False,
                first_name="Bjørn",
                hire_date="2024-08-02",
                updated="2024-08-02T12:30:00.000Z",
                employment_id="m2",
                compensation_id="p3",
                department_id="d2",
                manager_employee_id="e1",
                home_address=published.HomeAddress(city="Bergen"),
            ),
            employee(
                "e3",
                "103",
                first_name="Carl",
                updated="2024-07-31T23:59:59.999Z",
                employment_id="m3",
                department_id="d1",
            ),
            employee(
                "e4",
                "104",
                hire_date="2023-01-15",
                updated="2024-09-01T08:00:00.000Z",
                home_address=published.HomeAddress(),
            ),
        ],
        employment=[
            employment("m1", "e1", start_date="2024-08-01", terminated=False, rate=100),
            employment(
                "m2",
                "e2",
                start_date="2024-08-02",
                terminated=True,
                rate=80.5,
                end_date="2024-12-31",
            ),
            employment("m3", "e3", start_date="2022-01-01", terminated=False, rate=50),
            employment(
                "m4",
                "e1",
                start_date="2020-01-01",
                terminated=True,
                rate=20,
                end_date="2021-12-31",
            ),
        ],
        employment_type=[
            published.EmploymentType(id="t1", name="Permanent", vacation=True, company_id="c1")
        ],
        compensation=[
            compensation("p1", "e1", 41000, "2024-01-01T00:00:00.000+00:00"),
            compensation("p2", "e1", 45000, "2024-07-31T22:00:00.000Z"),
            compensation("p3", "e2", 38000, "2024-08-02T00:00:00.000Z"),
        ],
        leave=[
            published.Leave(
                id="l1",
                employee_id="e1",
                type_id="lt1",
                status="APPROVED",
                duration="one_day",
                start_date="2024-09-02T00:00:00.000Z",
                end_date="2024-09-02T00:00:00.000Z",
                description="Flu",
            )
        ],
        leave_type=[
            _leave_type("lt1", "Sick", "SICK_LEAVE", paid=True),
            _leave_type("lt2", "Holiday", "VACATION", paid=True),
            _leave_type("lt3", "Unpaid", "OFF_DUTY", paid=False),
        ],
        leave_type_code=[
            published.LeaveTypeCode(id="c1", company_id="c1", leave_type_id="lt1", code="01"),
            published.LeaveTypeCode(id="c2", company_id="c1", leave_type_id="lt2", code="04"),
        ],
        child=[
            published.Child(id="ch1", employee_id="e1", name="Ola Nordmann", birthdate="2019-05-17")
        ],
        department=[
            published.Department(id="d1", company_id="c1", name="Sales", cost_center_id="cc1"),
            published.Department(id="d2", company_id="c1", name="Ops", parent_id="d1"),
        ],
        office=[
            published.Office(
                id="o1",
                company_id="c1",
                name="Oslo",
                phone="+4722000000",
                email="oslo@example.no",
                timezone="Europe/Oslo",
                cfar="12345678",
                scb="12345678",
                sni="62.010",
            )
        ],
    )


def _rows(rows: Any) -> Any:
    """Published rows as the API serves them."""
    return msgspec.to_builtins(rows)


class Api:
    """A thin test client of one running Simployer One simulator."""

    def __init__(self, http: aiohttp.ClientSession, sims: RunningSimulators) -> None:
        self.http, self.sims = http, sims
        self.base, self.admin = sims.simployer_url, sims.simployer_admin
        self.headers = bearer(sims.simployer_token)

    async def get(
        self, path: str, params: Params | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, CIMultiDictProxy[str]]:
        async with self.http.get(
            self.base + path,
            params=params or [],
            headers=self.headers if headers is None else headers,
        ) as answer:
            raw = await answer.read()
            if answer.content_type != "application/json":  # e.g. aiohttp's own 500 page
                return answer.status, raw.decode("utf-8", "replace"), answer.headers
            return answer.status, msgspec.json.decode(raw), answer.headers

    async def ids(self, path: str, params: Params) -> list[str]:
        status, body, _ = await self.get(path, [*params, ("limit", "100")])
        assert status == 200, body
        return [row["id"] for row in body["data"]]

    async def admin_call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        data = None if body is None else msgspec.json.encode(body)
        async with self.http.request(method, self.admin + path, data=data) as answer:
            raw = await answer.read()
            return answer.status, msgspec.json.decode(raw) if raw else None

    async def put_state(self, raw: bytes) -> tuple[int, Any]:
        async with self.http.put(f"{self.admin}/state", data=raw) as answer:
            raw_answer = await answer.read()
            return answer.status, msgspec.json.decode(raw_answer) if raw_answer else None

    async def state_bytes(self) -> bytes:
        async with self.http.get(f"{self.admin}/state") as answer:
            assert answer.status == 200
            return await answer.read()

    async def settings(self, **changes: object) -> None:
        status, body = await self.admin_call("PATCH", "/settings", changes)
        assert status == 200, body

    async def requests(self) -> dict[str, Any]:
        status, body = await self.admin_call("GET", "/requests")
        assert status == 200
        assert isinstance(body, dict)
        return body


@pytest.fixture
async def api(sims: RunningSimulators, http: aiohttp.ClientSession) -> Api:
    client = Api(http, sims)
    status, body = await client.put_state(msgspec.json.encode(_dataset()))
    assert status == 204, body
    return client


def _assert_error(body: Any, status: int, error: str) -> str:
    assert set(body) == {"statusCode", "message", "error"}
    assert (body["statusCode"], body["error"]) == (status, error)
    msgspec.convert(body, simployer.ErrorBody)
    message = body["message"]
    assert isinstance(message, str)
    assert message
    return message


def _binomial_band(n: int, p: float) -> tuple[float, float]:
    sigma = math.sqrt(n * p * (1 - p))
    return n * p - 4 * sigma, n * p + 4 * sigma


# ------------------------------------------------------------------------------- paging


async def test_paging_through_1000_employees_returns_each_exactly_once(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    api = Api(http, start_simulators(employees=1000, simployer_rate_limit_per_second=0))
    stored = msgspec.json.decode(await api.state_bytes(), type=published.Company)
    assert len(stored.employee) == 1000
    seen: list[str] = []
    offset = 0
    pages = 0
    while True:
        status, body, _ = await api.get("/employee", [("limit", "100"), ("offset", str(offset))])
        assert status == 200
        assert body["status"] == "ok"
        assert (body["total"], body["offset"], body["count"]) == (1000, offset, len(body["data"]))
        assert body["count"] <= 100
        if not body["data"]:
            break
        msgspec.convert(body["data"], list[published.Employee])  # served as published
        seen.extend(row["id"] for row in body["data"])
        offset += body["count"]
        pages += 1
    assert pages == 10
    assert len(seen) == len(set(seen)) == 1000
    assert set(seen) == {row.id for row in stored.employee}


async def test_default_page_is_20_and_list_body_shape(api: Api) -> None:
    status, body, headers = await api.get("/employee")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert set(body) == {"status", "data", "total", "count", "offset", "relations"}
    parsed = msgspec.convert(body, simployer.ListBody)
    assert (parsed.total, parsed.count, parsed.offset, parsed.relations) == (4, 4, 0, {})
    assert [row["id"] for row in body["data"]] == ["e1", "e2", "e3", "e4"]
    expected = msgspec.to_builtins(_dataset().employee[0])
    assert body["data"][0] == expected


# ------------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/employee", [("filters[firstName]", "Anna")], ["e1"]),
        ("/employee", [("filters[updated][$eq]", "2024-08-01")], ["e1"]),
        ("/employee", [("filters[updated][$eq]", "2024-08-02T14:30:00+02:00")], ["e2"]),
        ("/employee", [("filters[active][$neq]", "true")], ["e2"]),
        ("/employee", [("filters[updated][$gt]", "2024-08-01")], ["e2", "e4"]),
        ("/employee", [("filters[hireDate][$gte]", "2024-08-01T00:00:00.000Z")], ["e1", "e2"]),
        ("/employee", [("filters[firstName][$lt]", "Bjørn")], ["e1"]),
        ("/employee", [("filters[homeAddress.city][$lte]", "Bergen")], ["e2"]),
        (
            "/employee",
            [("filters[firstName][$in][]", "Anna"), ("filters[firstName][$in][]", "Carl")],
            ["e1", "e3"],
        ),
        (
            "/employee",
            [("filters[firstName][$nin][]", "Anna"), ("filters[firstName][$nin][]", "Carl")],
            ["e2", "e4"],
        ),
        (
            "/employee",
            [
                ("filters[updated][$between][]", "2024-08-01"),
                ("filters[updated][$between][]", "2024-08-02T12:30:00.000Z"),
            ],
            ["e1", "e2"],
        ),
        ("/employee", [("filters[firstName]", "null")], ["e4"]),
        ("/employee", [("filters[homeAddress.city]", "Oslo")], ["e1"]),
        (
            "/employee",
            [("filters[active]", "true"), ("filters[hireDate][$lt]", "2024-01-01")],
            ["e4"],
        ),
        ("/employment", [("filters[rate][$gt]", "50")], ["m1", "m2"]),
        ("/employment", [("filters[rate][$gte]", "9")], ["m1", "m2", "m3", "m4"]),
        ("/employment", [("filters[terminated]", "true")], ["m2", "m4"]),
        (
            "/employment",
            [("filters[rate][$in][]", "20"), ("filters[rate][$in][]", "80.5")],
            ["m2", "m4"],
        ),
        (
            "/employment",
            [
                ("filters[endDate][$between][]", "2021-01-01"),
                ("filters[endDate][$between][]", "2024-12-31"),
            ],
            ["m2", "m4"],
        ),
        ("/employment", [("filters[employeeId]", "e1")], ["m1", "m4"]),
        (
            "/leave-type",
            [("filters[kind][$nin][]", "SICK_LEAVE"), ("filters[paid]", "true")],
            ["lt2"],
        ),
    ],
)
async def test_filter_operators_over_http(
    api: Api, path: str, params: Params, expected: list[str]
) -> None:
    assert await api.ids(path, params) == expected


async def test_repeated_in_params_in_a_literal_url(api: Api) -> None:
    """The same `$in[]` query written by hand, brackets unescaped, as a client might send it."""
    url = (
        f"{api.base}/employee?filters[firstName][$in][]=Anna&filters[firstName][$in][]=Carl"
        "&filters[firstName][$in][]=Nobody"
    )
    async with api.http.get(url, headers=api.headers) as answer:
        assert answer.status == 200
        body = await answer.json()
    assert [row["id"] for row in body["data"]] == ["e1", "e3"]
    assert body["total"] == 2


async def test_filtered_total_counts_all_matches_not_the_page(api: Api) -> None:
    status, body, _ = await api.get(
        "/employee", [("filters[active]", "true"), ("limit", "1"), ("offset", "1")]
    )
    assert status == 200
    assert (body["total"], body["count"], body["offset"]) == (3, 1, 1)
    assert [row["id"] for row in body["data"]] == ["e3"]


# ------------------------------------------------------------------- relations, select, sort


def _related_ids(body: Any, name: str) -> list[str]:
    return [row["id"] for row in body["relations"][name]]


async def test_relations_employment_holds_the_pages_current_employments(api: Api) -> None:
    status, body, _ = await api.get("/employee", [("relations", "employment"), ("limit", "2")])
    assert status == 200, body
    assert set(body["relations"]) == {"employment"}
    # Only the employment each employmentId names: e1's ended m4 is not there.
    assert _related_ids(body, "employment") == ["m1", "m2"]
    assert body["relations"]["employment"][0] == _rows(_dataset().employment[0])
    status, body, _ = await api.get(
        "/employee", [("relations", "employment"), ("filters[firstName]", "Carl")]
    )
    assert _related_ids(body, "employment") == ["m3"]


async def test_relations_a_b_in_one_parameter(api: Api) -> None:
    status, body, _ = await api.get(
        "/employee",
        [("relations", "employment,department,managerEmployee,office,child"), ("limit", "2")],
    )
    assert status == 200, body
    assert {name: _related_ids(body, name) for name in body["relations"]} == {
        "employment": ["m1", "m2"],
        "department": ["d1", "d2"],
        "managerEmployee": ["e1"],
        "office": ["o1"],
        "child": ["ch1"],
    }
    # A literal URL, as a client writes it: the comma is not escaped.
    url = f"{api.base}/employment?relations=type,employee&filters[employeeId]=e1"
    async with api.http.get(url, headers=api.headers) as answer:
        assert answer.status == 200
        body = await answer.json()
    assert [row["id"] for row in body["data"]] == ["m1", "m4"]
    assert body["relations"] == {
        "type": _rows(_dataset().employment_type),
        "employee": [_rows(_dataset().employee[0])],
    }


@pytest.mark.parametrize(
    ("path", "relation"),
    [
        ("/employee", "costCenter"),  # e1 has costCenterId cc1: still nothing to serve
        ("/employee", "effectiveCostCenter"),
        ("/employee", "emergencyContact"),
        ("/employee", "teamReference"),
        ("/department", "costCenter"),  # d1 has costCenterId cc1
        ("/department", "effectiveCostCenter"),
    ],
)
async def test_a_relation_to_a_resource_the_simulator_does_not_hold_is_empty(
    api: Api, path: str, relation: str
) -> None:
    status, body, _ = await api.get(path, [("relations", relation)])
    assert status == 200, body
    assert body["relations"] == {relation: []}
    assert body["data"]


async def test_employee_compensation_relation_is_the_named_row_the_resource_has_all(
    api: Api,
) -> None:
    status, body, _ = await api.get(
        "/employee", [("relations", "compensation"), ("filters[id]", "e1")]
    )
    assert status == 200, body
    assert body["relations"] == {"compensation": [_rows(_dataset().compensation[1])]}  # p2
    status, body, _ = await api.get("/employee/e1", [("relations", "compensation,employment")])
    assert status == 200, body
    assert (_related_ids(body, "compensation"), _related_ids(body, "employment")) == (
        ["p2"],
        ["m1"],
    )
    assert await api.ids("/compensation", [("filters[employeeId][$in][]", "e1")]) == ["p1", "p2"]
    everyone = [("filters[employeeId][$in][]", e) for e in ("e1", "e2", "e3")]
    status, body, _ = await api.get("/compensation", everyone)
    assert status == 200, body
    assert body["data"] == _rows(_dataset().compensation)
    assert body["total"] == 3


async def test_relations_leave_type_code_on_leave_type(api: Api) -> None:
    status, body, _ = await api.get("/leave-type", [("relations", "leaveTypeCode")])
    assert status == 200
    assert body["relations"] == {"leaveTypeCode": _rows(_dataset().leave_type_code)}
    status, body, _ = await api.get(
        "/leave-type", [("relations", "leaveTypeCode"), ("filters[paid]", "false")]
    )
    assert [row["id"] for row in body["data"]] == ["lt3"]
    assert body["relations"] == {"leaveTypeCode": []}


async def test_leave_type_codes_are_served_only_as_a_relation(api: Api) -> None:
    for path in ("/leave-type-code", "/leave-type-code/c1"):
        status, body, _ = await api.get(path)
        assert status == 404, body
    status, body, _ = await api.get("/leave", [("relations", "type,employee")])
    assert status == 200, body
    assert (_related_ids(body, "type"), _related_ids(body, "employee")) == (["lt1"], ["e1"])


async def test_select_keeps_only_the_asked_fields_and_id(api: Api) -> None:
    status, body, _ = await api.get("/employee", [("select", "firstName,employeeNumber")])
    assert status == 200
    assert body["data"] == [
        {"id": "e1", "firstName": "Anna", "employeeNumber": "101"},
        {"id": "e2", "firstName": "Bjørn", "employeeNumber": "102"},
        {"id": "e3", "firstName": "Carl", "employeeNumber": "103"},
        {"id": "e4", "firstName": None, "employeeNumber": "104"},
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("sort[firstName]", "asc")], ["e4", "e1", "e2", "e3"]),
        ([("sort[firstName]", "desc")], ["e3", "e2", "e1", "e4"]),
        ([("sort[updated]", "desc")], ["e4", "e2", "e1", "e3"]),
        ([("sort[active]", "asc"), ("sort[employeeNumber]", "desc")], ["e2", "e4", "e3", "e1"]),
    ],
)
async def test_sort_over_http(api: Api, params: Params, expected: list[str]) -> None:
    assert await api.ids("/employee", params) == expected


async def test_sort_on_employment_rate_is_numeric(api: Api) -> None:
    assert await api.ids("/employment", [("sort[rate]", "desc")]) == ["m1", "m2", "m3", "m4"]


# ------------------------------------------------------------------------------- one row


async def test_get_by_id(api: Api) -> None:
    status, body, _ = await api.get("/employee/e2")
    assert status == 200
    assert body == {
        "status": "ok",
        "data": msgspec.to_builtins(_dataset().employee[1]),
        "relations": {},
    }
    status, body, _ = await api.get(
        "/employee/e2", [("select", "firstName"), ("relations", "managerEmployee,employment")]
    )
    assert status == 200
    assert body == {
        "status": "ok",
        "data": {"id": "e2", "firstName": "Bjørn"},
        "relations": {
            "managerEmployee": [_rows(_dataset().employee[0])],
            "employment": [_rows(_dataset().employment[1])],
        },
    }
    status, body, _ = await api.get("/leave-type/lt2", [("relations", "leaveTypeCode")])
    assert status == 200
    assert body["relations"] == {"leaveTypeCode": _rows(_dataset().leave_type_code[1])}
    status, body, _ = await api.get("/department/d2", [("relations", "costCenter")])
    assert status == 200
    assert body["relations"] == {"costCenter": []}


async def test_get_unknown_id_is_404_in_the_api_error_shape(api: Api) -> None:
    status, body, _ = await api.get("/employee/nope")
    assert status == 404
    assert body["statusCode"] == 404
    assert "nope" in _assert_error(body, 404, "Not Found")
    status, body, _ = await api.get("/leave-type/e1")  # an id of another resource
    assert status == 404
    _assert_error(body, 404, "Not Found")


async def test_get_by_id_refuses_list_parameters(api: Api) -> None:
    status, body, _ = await api.get("/employee/e1", [("limit", "5")])
    assert status == 400
    _assert_error(body, 400, "Bad Request")
    status, body, _ = await api.get("/employee/e1", [("select", "nope")])
    assert status == 400
    assert "'nope'" in _assert_error(body, 400, "Bad Request")
    status, body, _ = await api.get("/employee/e1", [("relations", "manager")])
    assert status == 400
    assert "'manager'" in _assert_error(body, 400, "Bad Request")
    for key in ("select[]", "relations[]"):
        status, body, _ = await api.get("/employee/e1", [(key, "id")])
        assert status == 400
        assert f"{key[:-2]}=a,b" in _assert_error(body, 400, "Bad Request")


# ------------------------------------------------------------------------------- auth, 400


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("wrong-token"),
        {"Authorization": "Bearer"},
        {"Authorization": "Basic c2ltcGxveWVyLWRlbW8tdG9rZW4="},
        {"Authorization": "simployer-demo-token"},
    ],
)
async def test_missing_or_wrong_token_is_401(api: Api, headers: dict[str, str]) -> None:
    for path in ("/employee", "/employee/e1", "/leave-type"):
        status, body, _ = await api.get(path, headers=headers)
        assert status == 401
        _assert_error(body, 401, "Unauthorized")
    status, _, _ = await api.get("/employee")  # the right token still works
    assert status == 200


async def test_revoked_token_is_401(api: Api) -> None:
    await api.settings(tokens=["another-token"])
    status, body, _ = await api.get("/employee")
    assert status == 401
    _assert_error(body, 401, "Unauthorized")
    status, _, _ = await api.get("/employee", headers=bearer("another-token"))
    assert status == 200


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ([("filters[nope]", "1")], "filters[nope]"),
        ([("filters[firstName][$like]", "A")], "$like"),
        ([("filters[rate][$between][]", "1")], "filters[rate][$between][]"),
        ([("filters[firstName][$eq][]", "A")], "filters[firstName][$eq][]"),
        ([("filters[active]", "maybe")], "filters[active]"),
        ([("relations", "nope")], "'nope'"),
        ([("relations", "employment,manager")], "'manager'"),
        ([("relations", "")], "relations"),
        ([("select", "id,nope")], "'nope'"),
        ([("relations[]", "employment")], "relations=a,b"),
        ([("select[]", "firstName")], "select=a,b"),
        ([("limit", "101")], "limit"),
        ([("offset", "-1")], "offset"),
        ([("page", "2")], "page"),
        ([("sort[homeAddress]", "asc")], "sort[homeAddress]"),  # an object cannot be ordered
    ],
)
async def test_bad_query_is_400_with_a_message_naming_the_parameter(
    api: Api, params: Params, named: str
) -> None:
    path = "/employment" if "rate" in params[0][0] else "/employee"
    status, body, _ = await api.get(path, params)
    assert status == 400
    assert named in _assert_error(body, 400, "Bad Request")


@pytest.mark.parametrize(
    ("key", "value"),
    [("select[]", "firstName"), ("relations[]", "employment"), ("relations[]", "nope")],
)
async def test_the_exploded_array_form_is_400_asking_for_the_comma_separated_one(
    api: Api, key: str, value: str
) -> None:
    for params in ([(key, value)], [(key, value), (key, "id")]):
        status, body, _ = await api.get("/employee", params)
        assert status == 400
        message = _assert_error(body, 400, "Bad Request")
        assert key in message
        assert f"{key[:-2]}=a,b" in message
        assert "comma-separated" in message


async def test_an_unknown_relation_is_400_naming_it(api: Api) -> None:
    for path, name in [
        ("/employee", "manager"),
        ("/employment", "employmentType"),
        ("/leave", "leaveType"),
        ("/leave", "child"),
        ("/department", "parent"),
        ("/compensation", "employee"),
        ("/employee", "nope"),
    ]:
        status, body, _ = await api.get(path, [("relations", name)])
        assert status == 400, (path, name)
        message = _assert_error(body, 400, "Bad Request")
        assert f"'{name}'" in message
        assert path.removeprefix("/") in message


async def test_a_leave_filters_only_on_the_published_filterable_fields(api: Api) -> None:
    status, body, _ = await api.get("/leave", [("filters[description]", "Flu")])
    assert status == 400
    assert "filters[description]" in _assert_error(body, 400, "Bad Request")
    assert await api.ids("/leave", [("filters[status]", "APPROVED")]) == ["l1"]
    assert await api.ids("/leave", [("filters[startDate][$gte]", "2024-09-01")]) == ["l1"]


# ------------------------------------------------------------------------------- rate limit


async def _burst(api: Api, token: str, count: int) -> list[tuple[int, Any, CIMultiDictProxy[str]]]:
    return [
        await api.get("/employee", [("limit", "1")], headers=bearer(token)) for _ in range(count)
    ]


async def test_rate_limit_answers_429_with_retry_after_per_token(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(simployer_rate_limit_per_second=0.5, simployer_rate_limit_burst=3)
    api = Api(http, sims)
    answers = await _burst(api, sims.simployer_token, 10)
    assert [status for status, _, _ in answers] == [200] * 3 + [429] * 7
    for _, body, headers in answers[3:]:
        _assert_error(body, 429, "Too Many Requests")
        retry_after = headers["Retry-After"]
        assert retry_after.isdigit(), retry_after
        assert int(retry_after) == 2  # at 0.5 tokens/s the next token is up to 2 s away
    # Retry-After tells the truth: after waiting that long the next request passes.
    await asyncio.sleep(int(answers[-1][2]["Retry-After"]))
    assert (await _burst(api, sims.simployer_token, 1))[0][0] == 200

    # Each token has its own bucket (the settings change refills every bucket).
    await api.settings(tokens=["token-a", "token-b"])
    a = [status for status, _, _ in await _burst(api, "token-a", 10)]
    b = [status for status, _, _ in await _burst(api, "token-b", 10)]
    assert a == [200] * 3 + [429] * 7
    assert b == [200] * 3 + [429] * 7
    counts = await api.requests()
    assert counts["by_route_status"]["GET /employee 429"] == 7 + 14


async def test_wrong_tokens_get_401_not_429(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(simployer_rate_limit_per_second=0.5, simployer_rate_limit_burst=3)
    api = Api(http, sims)
    assert [status for status, _, _ in await _burst(api, "made-up", 6)] == [401] * 6
    assert [status for status, _, _ in await _burst(api, sims.simployer_token, 3)] == [200] * 3


# ------------------------------------------------------------------------------- faults


async def test_error_rate_injects_500_and_503_at_the_configured_share(api: Api) -> None:
    await api.settings(error_rate=0.3)
    status, _ = await api.admin_call("DELETE", "/requests")
    assert status == 204
    n = 400
    statuses: Counter[int] = Counter()
    for _ in range(n):
        status, body, _ = await api.get("/employee", [("limit", "1")])
        statuses[status] += 1
        if status >= 500:
            _assert_error(
                body, status, "Internal Server Error" if status == 500 else "Service Unavailable"
            )
    errors = statuses[500] + statuses[503]
    low, high = _binomial_band(n, 0.3)
    assert low <= errors <= high, statuses
    assert set(statuses) == {200, 500, 503}  # both error statuses drawn
    counts = await api.requests()
    assert counts["by_route"] == {"GET /employee": n}
    assert counts["by_status"] == {str(code): count for code, count in statuses.items()}
    await api.settings(error_rate=0.0)
    assert [(await api.get("/employee"))[0] for _ in range(20)] == [200] * 20


async def test_drop_rate_closes_connections_without_an_answer(api: Api) -> None:
    p = 0.25
    await api.settings(drop_rate=p)
    await api.admin_call("DELETE", "/requests")
    ok = dropped = 0
    for _ in range(200):
        try:
            status, _, _ = await api.get("/employee", [("limit", "1")])
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            dropped += 1
        else:
            assert status == 200
            ok += 1
    counts = await api.requests()
    served = counts["by_route"]["GET /employee"]  # aiohttp retries some drops: count here
    by_status = counts["by_status"]
    assert set(by_status) == {"200", "drop"}
    assert by_status["200"] == ok
    assert by_status["200"] + by_status["drop"] == served >= 200
    low, high = _binomial_band(served, p)
    assert low <= by_status["drop"] <= high, counts
    assert 1 <= dropped <= by_status["drop"]


async def test_timeout_rate_hangs_until_the_client_gives_up(api: Api) -> None:
    await api.settings(timeout_rate=1.0, hang_seconds=2)
    await api.admin_call("DELETE", "/requests")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with api.http.get(
            f"{api.base}/employee",
            headers=api.headers,
            timeout=aiohttp.ClientTimeout(total=0.3),
        ) as answer:
            await answer.read()
    assert time.monotonic() - started < 1.5
    await api.settings(timeout_rate=0.0)
    status, _, _ = await api.get("/employee")
    assert status == 200
    deadline = time.monotonic() + 5  # the hung request is counted once it gives up
    while (await api.requests())["by_status"].get("timeout", 0) < 1:
        assert time.monotonic() < deadline, "the hung request was never counted"
        await asyncio.sleep(0.1)
    counts = await api.requests()
    assert counts["by_status"] == {"timeout": 1, "200": 1}
    assert counts["by_route"] == {"GET /employee": 2}


# ------------------------------------------------------------------------------- counts


async def test_request_counts_by_route_and_reset(api: Api) -> None:
    assert (await api.admin_call("DELETE", "/requests"))[0] == 204
    for _ in range(3):
        await api.get("/employee")
    await api.get("/employee/e1")
    await api.get("/employee/nope")
    await api.get("/leave-type", [("relations", "leaveTypeCode")])
    await api.get("/employee", headers={})
    await api.get("/employee", [("limit", "101")])
    await api.state_bytes()  # admin routes are not counted
    counts = await api.requests()
    assert counts["total"] == 8
    assert counts["writes"] == 0
    assert counts["by_route"] == {
        "GET /employee": 5,
        "GET /employee/{id}": 2,
        "GET /leave-type": 1,
    }
    assert counts["by_route_status"] == {
        "GET /employee 200": 3,
        "GET /employee 401": 1,
        "GET /employee 400": 1,
        "GET /employee/{id} 200": 1,
        "GET /employee/{id} 404": 1,
        "GET /leave-type 200": 1,
    }
    status, with_log = await api.admin_call("GET", "/requests?log=1")
    assert status == 200
    assert [entry["path"] for entry in with_log["log"]][:4] == ["/v1/employee"] * 3 + [
        "/v1/employee/e1"
    ]
    assert (await api.admin_call("DELETE", "/requests"))[0] == 204
    counts = await api.requests()
    assert (counts["total"], counts["by_route"], counts["by_status"]) == (0, {}, {})


# ------------------------------------------------------------------------------- state


async def test_state_round_trips(api: Api) -> None:
    first = await api.state_bytes()
    assert msgspec.json.decode(first) == msgspec.to_builtins(_dataset())
    assert (await api.put_state(first))[0] == 204
    second = await api.state_bytes()
    assert msgspec.json.decode(second) == msgspec.json.decode(first)
    assert msgspec.json.decode(second, type=published.Company) == _dataset()


async def test_state_round_trips_a_generated_company(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    api = Api(http, sims)
    first = await api.state_bytes()
    decoded = msgspec.json.decode(first, type=published.Company)
    assert len(decoded.employee) == 20
    assert decoded.leave_type_code  # the table is in the data file, though not a resource
    assert (await api.put_state(first))[0] == 204
    assert msgspec.json.decode(await api.state_bytes()) == msgspec.json.decode(first)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"active": "yes"}, "active"),
        ({"employeeNumber": None}, "employeeNumber"),
        ({"employeeNumber": 102}, "employeeNumber"),
        ({"homeAddress": {"city": 5}}, "homeAddress.city"),
        ({"bankAccount": "NO93 8601 1117 947"}, "bankAccount"),
        ({"id": 2}, "id"),
    ],
)
async def test_put_state_with_an_invalid_row_is_400_naming_the_field(
    api: Api, change: dict[str, object], named: str
) -> None:
    before = await api.state_bytes()
    state = msgspec.json.decode(before)
    state["employee"][1].update(change)
    status, body = await api.put_state(msgspec.json.encode(state))
    assert status == 400
    assert named in body["message"], body
    assert await api.state_bytes() == before  # nothing of the bad state was loaded


@pytest.mark.parametrize(
    ("table", "index", "field"),
    [
        ("employee", 1, "userId"),
        ("employee", 1, "employeeNumber"),
        ("employment", 2, "startDate"),
        ("employment", 2, "country"),
        ("employment-type", 0, "vacation"),
        ("compensation", 0, "payoutFrequency"),
        ("leave", 0, "duration"),
        ("leave-type", 2, "minimumDuration"),
        ("leave-type-code", 1, "companyId"),
        ("child", 0, "birthdate"),
        ("department", 0, "companyId"),
        ("office", 0, "CFAR"),
    ],
)
async def test_put_state_refuses_a_row_missing_a_published_required_field(
    api: Api, table: str, index: int, field: str
) -> None:
    before = await api.state_bytes()
    state = msgspec.json.decode(before)
    row = state[table][index]
    del row[field]
    status, body = await api.put_state(msgspec.json.encode(state))
    assert status == 400, body
    message = body["message"]
    assert table in message
    assert repr(row["id"]) in message  # the row
    assert f"`{field}`" in message
    assert await api.state_bytes() == before


def _with_unknown_fields(row: dict[str, Any], tag: str) -> dict[str, Any]:
    """The row with fields the published API does not list, at the top and nested."""
    extra: dict[str, Any] = {
        f"{tag}Note": "not published",
        f"{tag}Count": 7,
        f"{tag}Flags": [True, None, {"deep": {"deeper": [1, 2]}}],
        f"{tag}Nested": {"a": {"b": {"c": "d"}}, "list": []},
        f"{tag}Null": None,
    }
    out = {**row, **extra}
    for name in ("homeAddress", "bankAccount", "tax"):
        if isinstance(out.get(name), dict):
            out[name] = {**out[name], f"{tag}Inner": {"x": 1}, "location2": [0.5]}
    return out


async def test_put_state_keeps_unknown_fields_and_serves_them_unchanged(api: Api) -> None:
    state = msgspec.json.decode(await api.state_bytes())
    for table, rows in state.items():
        state[table] = [_with_unknown_fields(row, "x") for row in rows]
    state["employee"][0]["homeAddress"]["location"] = {
        "type": "Point",
        "coordinates": [10.75, 59.91],
        "crs": {"name": "WGS84"},
    }
    status, body = await api.put_state(msgspec.json.encode(state))
    assert status == 204, body
    assert msgspec.json.decode(await api.state_bytes()) == state
    status, body, _ = await api.get("/employee", [("limit", "100")])
    assert status == 200
    assert body["data"] == state["employee"]
    status, body, _ = await api.get("/employee/e1", [("relations", "employment,compensation")])
    assert status == 200
    assert body["data"] == state["employee"][0]
    assert body["relations"] == {
        "employment": [state["employment"][0]],
        "compensation": [state["compensation"][1]],
    }
    status, body, _ = await api.get("/leave-type", [("relations", "leaveTypeCode")])
    assert body["relations"]["leaveTypeCode"] == state["leave-type-code"]
    # A selected field comes back as stored, unknown parts and all.
    status, body, _ = await api.get("/employee", [("select", "homeAddress"), ("limit", "1")])
    assert body["data"] == [{"id": "e1", "homeAddress": state["employee"][0]["homeAddress"]}]


async def test_put_state_refuses_an_unknown_table(api: Api) -> None:
    before = await api.state_bytes()
    state = msgspec.json.decode(before)
    state["leaves"] = state.pop("leave")
    status, body = await api.put_state(msgspec.json.encode(state))
    assert status == 400
    assert "leaves" in body["message"]
    assert await api.state_bytes() == before


async def test_put_state_refuses_duplicate_ids_and_broken_json(api: Api) -> None:
    before = await api.state_bytes()
    state = msgspec.json.decode(before)
    state["employee"][1]["id"] = "e1"
    status, body = await api.put_state(msgspec.json.encode(state))
    assert status == 400
    assert "e1" in body["message"]
    status, body = await api.put_state(b'{"employee": [')
    assert status == 400
    assert body["message"]
    assert await api.state_bytes() == before


async def test_patch_row_changes_one_row_and_bumps_updated(api: Api) -> None:
    before = await api.state_bytes()
    watermark = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    status, row = await api.admin_call(
        "PATCH", "/state/employee/e3", {"firstName": "Carla", "homeAddress": {"city": "Tromsø"}}
    )
    assert status == 200, row
    assert (row["id"], row["firstName"], row["homeAddress"]["city"]) == ("e3", "Carla", "Tromsø")
    assert row["updated"] != "2024-07-31T23:59:59.999Z"
    status, body, _ = await api.get("/employee/e3")
    assert body["data"] == row
    # Only that row changed.
    old, new = msgspec.json.decode(before), msgspec.json.decode(await api.state_bytes())
    changed = [
        i for i, (a, b) in enumerate(zip(old["employee"], new["employee"], strict=True)) if a != b
    ]
    assert changed == [2]
    assert {k: v for k, v in new.items() if k != "employee"} == {
        k: v for k, v in old.items() if k != "employee"
    }
    # An incremental sync that remembers when it last looked finds the change.
    assert datetime.fromisoformat(row["updated"]) >= datetime.fromisoformat(watermark), (
        f"updated {row['updated']} is earlier than the change ({watermark} or later)"
    )
    assert await api.ids("/employee", [("filters[updated][$gte]", watermark)]) == ["e3"]


async def test_patch_row_bumps_updated_so_since_last_change_finds_it(api: Api) -> None:
    status, row = await api.admin_call("PATCH", "/state/employment/m2", {"rate": 60})
    assert status == 200
    assert row["rate"] == 60
    assert row["updated"] is not None
    found = await api.ids("/employment", [("filters[updated][$gte]", "2025-01-01")])
    assert found == ["m2"]
    employees = await api.ids("/employee", [("filters[updated][$gte]", "2024-09-01T08:00:00.000Z")])
    assert employees == ["e4"]  # untouched rows keep their time


@pytest.mark.parametrize(
    ("path", "change", "status", "named"),
    [
        ("/state/employee/e1", {"active": "yes"}, 400, "active"),
        ("/state/employee/e1", {"employeeNumber": 5}, 400, "employeeNumber"),
        ("/state/employee/e1", {"userId": None}, 400, "userId"),
        ("/state/employee/e1", {"bankAccount": 5}, 400, "bankAccount"),
        ("/state/employee/e1", {"id": "e9"}, 400, "id"),
        ("/state/employment/m1", {"rate": "full"}, 400, "rate"),
        ("/state/leave-type/lt1", {"kind": "HOLIDAY"}, 400, "kind"),
        ("/state/employee/nope", {"firstName": "X"}, 404, "nope"),
        ("/state/nothing/e1", {"firstName": "X"}, 404, "nothing"),
    ],
)
async def test_patch_row_with_a_bad_value_changes_nothing(
    api: Api, path: str, change: dict[str, object], status: int, named: str
) -> None:
    before = await api.state_bytes()
    got, body = await api.admin_call("PATCH", path, change)
    assert got == status
    assert named in body["message"], body
    assert await api.state_bytes() == before


async def test_patch_row_keeps_an_unknown_field(api: Api) -> None:
    change = {"nickname": "A", "homeAddress": {"city": "Oslo", "floor": {"n": 3}}}
    status, row = await api.admin_call("PATCH", "/state/employee/e1", change)
    assert status == 200, row
    status, body, _ = await api.get("/employee/e1")
    assert status == 200
    assert body["data"] == row
    assert (row["nickname"], row["homeAddress"]) == ("A", change["homeAddress"])


async def test_patch_row_with_broken_json_is_400(api: Api) -> None:
    async with api.http.patch(f"{api.admin}/state/employee/e1", data=b"{nope") as answer:
        assert answer.status == 400
