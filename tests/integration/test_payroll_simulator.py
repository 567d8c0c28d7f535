"""The 24SevenOffice Lønn simulator over real HTTP: auth, each endpoint's rules, limits, state."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import aiohttp
import msgspec
import pytest

from payroll_sync.assumptions import DEFAULT_ABSENCE_TYPES
from payroll_sync.schemas import payroll
from payroll_sync.simulators.serve import RunningSimulators
from tests.integration.conftest import StartSimulators
from tests.support.auth import bearer
from tests.support.payroll_api import Payroll
from tests.support.simulator_admin import patch_settings

pytestmark = pytest.mark.integration

EMPLOYEE = {
    "empId": 12,
    "firstname": "Kari",
    "lastname": "Nordmann",
    "email": "kari@example.no",
    "salary_type": "monthly",
    "salary": 45000,
    "salary_valid_from": "2024-01-01",
    "vacation_days": "25",
    "internationalID": {"type": "socialSecurityNumber", "ID": "x", "countryCode": "NO"},
}


@pytest.fixture
async def api(sims: RunningSimulators, http: aiohttp.ClientSession) -> Payroll:
    client = Payroll(http, sims)
    await client.login()
    return client


@pytest.fixture
async def array_api(api: Payroll, sims: RunningSimulators, http: aiohttp.ClientSession) -> Payroll:
    """The API whose POSTs answer with the stored rows as an array (not the default)."""
    await patch_settings(sims.payroll_admin, post_answer="array")
    return api


async def test_auth_exchange_gives_bearer_token_with_oslo_expiry(api: Payroll) -> None:
    body = await api.login()
    assert set(body) == {"accessToken", "expiresOn"}
    assert body["expiresOn"][-6:] in ("+01:00", "+02:00")  # Europe/Oslo offset
    status, employees = await api.call("GET", "/employee/v2")
    assert (status, employees) == (200, [])


async def test_wrong_persistent_token_and_missing_bearer_are_401(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{sims.payroll_url}/auth", params={"token": "nope"}) as answer:
        assert answer.status == 401
        assert (await answer.json())["error"] == "Unauthorized"
    async with http.get(f"{sims.payroll_url}/employee/v2") as answer:
        assert answer.status == 401
    async with http.get(f"{sims.payroll_url}/employee/v2", headers=bearer("made-up")) as answer:
        assert answer.status == 401


async def test_token_expires_then_refresh_works(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(rate_limit_per_second=0, token_ttl_seconds=1.0)
    api = Payroll(http, sims)
    await api.login()
    assert (await api.call("GET", "/employee/v2"))[0] == 200
    await asyncio.sleep(1.2)
    status, body = await api.call("GET", "/employee/v2")
    assert status == 401
    assert "expired" in body["message"]
    await api.login()
    assert (await api.call("GET", "/employee/v2"))[0] == 200


async def test_revoked_persistent_token_kills_its_bearer_tokens(
    api: Payroll, http: aiohttp.ClientSession, sims: RunningSimulators
) -> None:
    async with http.patch(f"{sims.payroll_admin}/settings", json={"tokens": ["other"]}) as answer:
        assert answer.status == 200
    assert (await api.call("GET", "/employee/v2"))[0] == 401


async def test_posts_answer_200_with_an_empty_body_by_default(
    api: Payroll, sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{sims.payroll_admin}/settings") as answer:
        settings = await answer.json()
    assert (settings["post_answer"], settings["update_mode"]) == ("empty", "merge")
    writes: list[tuple[str, object]] = [
        ("/employee/v2", EMPLOYEE),
        ("/employee/v2/12", {"city": "Bergen"}),
        ("/employment/v2/12", [EMPLOYMENT]),
        ("/child/v2", {"empId": 12, "firstname": "Ola", "birthdate": "2019-05-01"}),
        ("/absence/v2", {"empId": 12, "absenceType": "12", "startDate": "2025-01-06"}),
    ]
    for path, body in writes:
        async with http.post(sims.payroll_url + path, json=body, headers=api.headers) as answer:
            assert (answer.status, await answer.read()) == (200, b""), path
    # Every write happened; the GETs show it.
    assert (await api.call("GET", "/employee/v2/12"))[1][0]["city"] == "Bergen"
    assert len((await api.call("GET", "/employment/v2/12"))[1]) == 1
    assert len((await api.call("GET", "/child/v2/12"))[1]) == 1
    # Errors keep their JSON body.
    status, error = await api.call("POST", "/employee/v2", EMPLOYEE)
    assert (status, error["error"]) == (409, "Conflict")


async def test_create_answers_strings_in_a_one_element_array(array_api: Payroll) -> None:
    api = array_api
    status, created = await api.call("POST", "/employee/v2", EMPLOYEE)
    assert status == 200
    assert isinstance(created, list)
    assert len(created) == 1
    row = created[0]
    assert row["empId"] == "12"
    assert row["salary"] == "45000.00"
    assert row["vacation_days"] == "25"
    assert row["postaddress"] == ""  # empty is "", never null
    assert row["internationalID"] == {
        "countryCode": "NO",
        "ID": "x",
        "type": "socialSecurityNumber",
    }
    assert all(isinstance(v, str) for v in row.values() if not isinstance(v, dict | list))
    assert (await api.call("GET", "/employee/v2/12")) == (200, created)
    status, everyone = await api.call("GET", "/employee/v2")
    assert everyone == created
    msgspec.convert(everyone, list[payroll.Employee])  # the read schema accepts it


async def test_duplicate_create_is_409_and_changes_nothing(api: Payroll) -> None:
    assert (await api.call("POST", "/employee/v2", EMPLOYEE))[0] == 200
    status, body = await api.call("POST", "/employee/v2", {**EMPLOYEE, "firstname": "Other"})
    assert status == 409
    assert body["error"] == "Conflict"
    assert (await api.call("GET", "/employee/v2/12"))[1][0]["firstname"] == "Kari"


async def test_update_changes_only_the_fields_sent(api: Payroll) -> None:
    await api.call("POST", "/employee/v2", EMPLOYEE)
    status, _ = await api.call(
        "POST", "/employee/v2/12", {"city": "Bergen", "internationalID": {"ID": "y"}}
    )
    assert status == 200
    row = (await api.call("GET", "/employee/v2/12"))[1][0]
    assert row["city"] == "Bergen"
    assert row["firstname"] == "Kari"
    assert row["internationalID"] == {
        "countryCode": "NO",
        "ID": "y",
        "type": "socialSecurityNumber",
    }


async def test_unknown_employee_is_404(api: Payroll) -> None:
    for method, path, body in [
        ("GET", "/employee/v2/77", None),
        ("POST", "/employee/v2/77", {"city": "Oslo"}),
        ("GET", "/employment/v2/77", None),
        ("GET", "/absence/v2/77", None),
        ("GET", "/child/v2/77", None),
    ]:
        status, answer = await api.call(method, path, body)
        assert status == 404, (method, path)
        assert answer["error"] == "Not Found"


EMPLOYMENT = {
    "startdate": "2024-01-01",
    "employment_form": "fast",
    "employment_rate": 80,
    "profession_code": "2130102",
    "working_times": "ikkeSkift",
    "employment_type": "ordinaertArbeidsforhold",
}


async def test_employment_upsert_by_employment_id(array_api: Payroll) -> None:
    api = array_api
    await api.call("POST", "/employee/v2", EMPLOYEE)
    status, first = await api.call("POST", "/employment/v2/12", [EMPLOYMENT])
    assert status == 200
    assert len(first) == 1
    employment_id = first[0]["employment_id"]
    assert first[0]["employment_rate"] == "80.00"
    assert first[0]["primary_employment"] == "1"
    # Same id: an update, not a second employment.
    status, second = await api.call(
        "POST", "/employment/v2/12", [{"employment_id": employment_id, "employment_rate": 60}]
    )
    assert status == 200
    assert [e["employment_id"] for e in second] == [employment_id]
    assert second[0]["employment_rate"] == "60.00"
    assert second[0]["startdate"] == "2024-01-01"
    # Unknown id: created under that id.
    status, third = await api.call(
        "POST", "/employment/v2/12", {**EMPLOYMENT, "employment_id": "mine-1"}
    )
    assert status == 200
    assert [e["employment_id"] for e in third] == [employment_id, "mine-1"]
    assert (await api.call("GET", "/employment/v2/12")) == (200, third)


async def test_absence_upsert_by_serial_no(array_api: Payroll) -> None:
    api = array_api
    await api.call("POST", "/employee/v2", EMPLOYEE)
    vacation = {
        "empId": 12,
        "absenceType": "04",
        "startDate": "2025-07-01",
        "endDate": "2025-07-14",
        "numberOfDays": 10,
        "externalId": "leave-1",
    }
    status, created = await api.call("POST", "/absence/v2", vacation)
    assert status == 200
    serial = created[0]["serialNo"]
    assert created[0]["startDate"] == "2025-07-01 00:00:00"
    assert created[0]["description"] == "Ferie"
    assert created[0]["externalId"] == "leave-1"
    status, updated = await api.call(
        "POST", "/absence/v2", {"empId": 12, "serialNo": serial, "endDate": "2025-07-10"}
    )
    assert status == 200
    assert updated[0]["serialNo"] == serial
    assert updated[0]["endDate"] == "2025-07-10 00:00:00"
    assert updated[0]["numberOfDays"] == "10"
    status, rejected = await api.call(
        "POST", "/absence/v2", {"empId": 12, "serialNo": serial, "approved": "2"}
    )
    assert rejected[0]["approved"] == "2"
    status, everything = await api.call("GET", "/absence/v2")
    assert [a["serialNo"] for a in everything] == [serial]


async def test_absence_filters_by_period_and_serial(api: Payroll) -> None:
    await api.call("POST", "/employee/v2", EMPLOYEE)
    for start, end in [("2025-01-06", "2025-01-07"), ("2025-03-03", "2025-03-05")]:
        await api.call(
            "POST",
            "/absence/v2",
            {"empId": 12, "absenceType": "01", "startDate": start, "endDate": end},
        )
    status, january = await api.call("GET", "/absence/v2?datefrom=2025-01-07&dateto=2025-02-01")
    assert [a["startDate"][:10] for a in january] == ["2025-01-06"]  # overlap counts
    status, by_serial = await api.call("GET", "/absence/v2/12?serialNo=2")
    assert status == 200
    assert [a["serialNo"] for a in by_serial] == ["2"]
    assert (await api.call("GET", "/absence/v2?serialNo=two"))[0] == 400
    assert (await api.call("GET", "/absence/v2?datefrom=2025-13-01"))[0] == 400


async def test_children_and_sick_child_absence(array_api: Payroll) -> None:
    api = array_api
    await api.call("POST", "/employee/v2", EMPLOYEE)
    status, made = await api.call(
        "POST", "/child/v2", {"empId": 12, "firstname": "Ola", "birthdate": "2019-05-01"}
    )
    assert status == 200
    child_id = made[0]["childId"]
    status, renamed = await api.call(
        "POST", "/child/v2", {"empId": 12, "childId": child_id, "lastname": "Nordmann"}
    )
    assert renamed[0] == {
        "childId": child_id,
        "firstname": "Ola",
        "lastname": "Nordmann",
        "birthdate": "2019-05-01",
    }
    assert (await api.call("GET", "/child/v2/12")) == (200, renamed)
    status, absence = await api.call(
        "POST",
        "/absence/v2",
        {
            "empId": 12,
            "absenceType": "02",
            "startDate": "2025-02-03",
            "endDate": "2025-02-04",
            "childId": child_id,
        },
    )
    assert status == 200
    assert absence[0]["childId"] == child_id


async def test_default_absence_types(api: Payroll) -> None:
    status, types = await api.call("GET", "/absencetypes/v2")
    assert status == 200
    assert [t["code"] for t in types] == list(DEFAULT_ABSENCE_TYPES)
    by_code = {t["code"]: t for t in types}
    assert by_code["02"]["category"] == "sick_child"
    assert by_code["16"]["category"] == "sick_child"
    assert by_code["04"]["category"] == "vacation"
    assert by_code["06"]["leave_of_absence_type"] == "permisjonMedForeldrepenger"
    assert by_code["05"]["permisjonId"] == "1"
    assert by_code["01"]["permisjonId"] == "0"
    assert (await api.call("GET", "/absencetypes/v2/19"))[1][0]["category"] == "leave_of_absence"
    assert (await api.call("GET", "/absencetypes/v2/99"))[0] == 404


BAD_REQUESTS = [
    # (case, method, path, body, words the message must contain)
    ("enum salary_type", "POST", "/employee/v2/12", {"salary_type": "weekly"}, ["salary_type"]),
    (
        "enum internationalID.type",
        "POST",
        "/employee/v2/12",
        {"internationalID": {"type": "passport"}},
        ["type"],
    ),
    (
        "enum employment_form",
        "POST",
        "/employment/v2/12",
        [{**EMPLOYMENT, "employment_form": "permanent"}],
        ["employment_form"],
    ),
    (
        "enum working_times",
        "POST",
        "/employment/v2/12",
        [{**EMPLOYMENT, "working_times": "dag"}],
        ["working_times"],
    ),
    (
        "enum employment_type",
        "POST",
        "/employment/v2/12",
        [{**EMPLOYMENT, "employment_type": "x"}],
        ["employment_type"],
    ),
    (
        "enum enddate_reason",
        "POST",
        "/employment/v2/12",
        [{**EMPLOYMENT, "enddate": "2025-01-01", "enddate_reason": "quit"}],
        ["enddate_reason"],
    ),
    ("malformed date", "POST", "/employee/v2/12", {"salary_valid_from": "01.02.2024"}, ["salary"]),
    (
        "impossible date",
        "POST",
        "/employee/v2/12",
        {"employee_date": "2024-02-30"},
        ["employee_date"],
    ),
    (
        "malformed employment date",
        "POST",
        "/employment/v2/12",
        [{**EMPLOYMENT, "startdate": "2024/01/01"}],
        ["startdate"],
    ),
    (
        "malformed absence date",
        "POST",
        "/absence/v2",
        {"empId": 12, "absenceType": "01", "startDate": "1 May", "endDate": "2025-05-02"},
        ["startDate"],
    ),
    ("non-numeric empId in path", "GET", "/employee/v2/12a", None, ["empId"]),
    ("non-numeric empId in path (post)", "POST", "/employment/v2/x", [EMPLOYMENT], ["empId"]),
    ("non-numeric empId in body", "POST", "/employee/v2", {**EMPLOYEE, "empId": "A12"}, ["empId"]),
    (
        "enddate without enddate_reason",
        "POST",
        "/employment/v2/12",
        [{**EMPLOYMENT, "enddate": "2025-01-31"}],
        ["enddate_reason"],
    ),
    (
        "unknown absenceType",
        "POST",
        "/absence/v2",
        {"empId": 12, "absenceType": "14x", "startDate": "2025-05-01", "endDate": "2025-05-02"},
        ["absenceType", "14x"],
    ),
    (
        "sick child without childId",
        "POST",
        "/absence/v2",
        {"empId": 12, "absenceType": "16", "startDate": "2025-05-01", "endDate": "2025-05-02"},
        ["childId"],
    ),
    (
        "sick child with someone else's child",
        "POST",
        "/absence/v2",
        {
            "empId": 12,
            "absenceType": "02",
            "startDate": "2025-05-01",
            "endDate": "2025-05-02",
            "childId": "999",
        },
        ["childId"],
    ),
    (
        "parental benefit without startdateParental",
        "POST",
        "/absence/v2",
        {"empId": 12, "absenceType": "06", "startDate": "2025-05-01"},
        ["startdateParental"],
    ),
    (
        "new employment without startdate",
        "POST",
        "/employment/v2/12",
        [{"employment_form": "fast"}],
        ["startdate"],
    ),
    ("unknown field", "POST", "/employee/v2/12", {"shoe_size": "44"}, ["shoe_size"]),
    ("non-numeric salary", "POST", "/employee/v2/12", {"salary": "lots"}, ["salary"]),
    ("non-numeric vacation_days", "POST", "/employee/v2/12", {"vacation_days": "x"}, ["vacation"]),
    (
        "non-numeric percent",
        "POST",
        "/absence/v2",
        {
            "empId": 12,
            "absenceType": "01",
            "startDate": "2025-05-01",
            "endDate": "2025-05-02",
            "percent": "abc",
        },
        ["percent"],
    ),
    (
        "non-numeric numberOfDays",
        "POST",
        "/absence/v2",
        {
            "empId": 12,
            "absenceType": "04",
            "startDate": "2025-05-01",
            "endDate": "2025-05-02",
            "numberOfDays": "x",
        },
        ["numberOfDays"],
    ),
    (
        "profession code not 7 digits",
        "POST",
        "/employment/v2/12",
        [{**EMPLOYMENT, "profession_code": "21301"}],
        ["profession_code"],
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "words"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
async def test_invalid_requests_get_400_naming_the_field_and_change_nothing(
    api: Payroll, method: str, path: str, body: object, words: list[str]
) -> None:
    await api.call("POST", "/employee/v2", EMPLOYEE)
    await api.call("POST", "/employment/v2/12", [{**EMPLOYMENT, "employment_id": "12-1"}])
    before = await api.call("GET", "/employee/v2"), await api.call("GET", "/employment/v2/12")
    status, answer = await api.call(method, path, body)
    assert status == 400
    assert answer["error"] == "Bad Request"
    for word in words:
        assert word in answer["message"]
    after = await api.call("GET", "/employee/v2"), await api.call("GET", "/employment/v2/12")
    assert after == before
    assert (await api.call("GET", "/absence/v2"))[1] == []


async def test_rate_limit_answers_429_with_retry_after(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    # A slow refill, so a loaded machine cannot earn a token back in the middle of the burst.
    sims = start_simulators(rate_limit_per_second=0.5, rate_limit_burst=4)
    api = Payroll(http, sims)
    await api.login()  # takes one token from the bucket
    answers = []
    for _ in range(10):
        async with http.get(f"{sims.payroll_url}/employee/v2", headers=api.headers) as answer:
            answers.append((answer.status, answer.headers.get("Retry-After")))
    statuses = [status for status, _ in answers]
    assert statuses.count(200) == 3
    assert statuses.count(429) == 7
    for status, retry_after in answers:
        if status == 429:
            assert retry_after is not None
            assert int(retry_after) >= 1
    await asyncio.sleep(2.0)  # one token back at 0.5/s
    assert (await api.call("GET", "/employee/v2"))[0] == 200


async def test_refreshing_the_token_does_not_reset_the_rate_limit(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(rate_limit_per_second=0.25, rate_limit_burst=2)
    api = Payroll(http, sims)
    await api.login()
    await api.call("GET", "/employee/v2")
    async with http.get(f"{sims.payroll_url}/auth", params={"token": sims.payroll_token}) as answer:
        assert answer.status == 429


async def test_injected_errors_arrive_at_the_configured_share(
    api: Payroll, sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    share, n = 0.2, 400
    async with http.patch(
        f"{sims.payroll_admin}/settings", json={"error_rate": share, "error_statuses": [503]}
    ) as answer:
        assert answer.status == 200
    statuses = [(await api.call("GET", "/absencetypes/v2"))[0] for _ in range(n)]
    failures = statuses.count(503)
    assert set(statuses) <= {200, 503}
    sigma = math.sqrt(n * share * (1 - share))
    assert abs(failures - n * share) < 4 * sigma


async def test_writes_are_counted_by_route(
    api: Payroll, sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with http.delete(f"{sims.payroll_admin}/requests") as answer:
        assert answer.status == 204
    await api.call("POST", "/employee/v2", EMPLOYEE)
    await api.call("POST", "/employee/v2", EMPLOYEE)
    await api.call("POST", "/employee/v2/12", {"city": "Oslo"})
    await api.call("GET", "/employee/v2")
    async with http.get(f"{sims.payroll_admin}/requests", params={"log": "1"}) as answer:
        counts = await answer.json()
    assert counts["by_route"] == {
        "POST /employee/v2": 2,
        "POST /employee/v2/{empId}": 1,
        "GET /employee/v2": 1,
    }
    assert counts["writes"] == 3
    assert counts["by_route_status"]["POST /employee/v2 409"] == 1
    assert counts["log"][2]["body"] == {"city": "Oslo"}


async def test_state_dump_and_load_round_trip(
    array_api: Payroll, sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    api = array_api
    await api.call("POST", "/employee/v2", EMPLOYEE)
    await api.call("POST", "/employment/v2/12", [EMPLOYMENT])
    await api.call(
        "POST", "/child/v2", {"empId": 12, "firstname": "Ola", "birthdate": "2019-05-01"}
    )
    await api.call(
        "POST",
        "/absence/v2",
        {
            "empId": 12,
            "absenceType": "02",
            "startDate": "2025-02-03",
            "endDate": "2025-02-03",
            "childId": "1",
        },
    )
    async with http.get(f"{sims.payroll_admin}/state") as answer:
        dumped = await answer.read()
    state = msgspec.json.decode(dumped, type=payroll.Dataset)
    assert [c.emp_id for c in state.child] == ["12"]
    assert [e.emp_id for e in state.employment] == ["12"]
    async with http.put(f"{sims.payroll_admin}/state", data=b'{"employee": []}') as answer:
        assert answer.status == 204
    assert (await api.call("GET", "/employee/v2"))[1] == []
    async with http.put(f"{sims.payroll_admin}/state", data=dumped) as answer:
        assert answer.status == 204
    async with http.get(f"{sims.payroll_admin}/state") as answer:
        assert msgspec.json.decode(await answer.read()) == msgspec.json.decode(dumped)
    # New ids continue after the loaded ones: no collision with what was there.
    status, child = await api.call(
        "POST", "/child/v2", {"empId": 12, "firstname": "Per", "birthdate": "2021-01-01"}
    )
    assert status == 200
    assert child[0]["childId"] == "2"


async def test_state_load_refuses_invalid_data(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    bad = b'{"employment": [{"employment_id": "1-1", "empId": "1"}]}'
    async with http.put(f"{sims.payroll_admin}/state", data=bad) as answer:
        assert answer.status == 400
        assert "empId" in (await answer.json())["message"]


async def test_concurrent_creates_of_one_employee_make_exactly_one(api: Payroll) -> None:
    answers = await asyncio.gather(*(api.call("POST", "/employee/v2", EMPLOYEE) for _ in range(20)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * 19
    assert len((await api.call("GET", "/employee/v2"))[1]) == 1


@pytest.mark.parametrize(
    ("lost_after_handling_share", "stored"),
    [(1.0, ["12"]), (0.0, [])],
    ids=["answer lost after the write", "dropped before the write"],
)
async def test_a_dropped_answer_may_or_may_not_hide_a_write(
    api: Payroll,
    sims: RunningSimulators,
    http: aiohttp.ClientSession,
    lost_after_handling_share: float,
    stored: list[str],
) -> None:
    """The case a client must survive: it cannot tell from a drop whether its create happened."""
    async with http.patch(
        f"{sims.payroll_admin}/settings",
        json={"drop_rate": 1.0, "lost_after_handling_share": lost_after_handling_share},
    ) as answer:
        assert answer.status == 200
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.call("POST", "/employee/v2", EMPLOYEE)  # POST: aiohttp does not retry it
    async with http.patch(f"{sims.payroll_admin}/settings", json={"drop_rate": 0.0}) as answer:
        assert answer.status == 200
    status, employees = await api.call("GET", "/employee/v2")
    assert status == 200
    assert [e["empId"] for e in employees] == stored
    retry_status = (await api.call("POST", "/employee/v2", EMPLOYEE))[0]
    assert retry_status == (409 if stored else 200)  # a blind retry is told either way


# ---------------------------------------------------------------- whole records, replace mode

WHOLE_EMPLOYEE = {
    **EMPLOYEE,
    "telefon": "99887766",
    "taxtable": "7100",
    "employee_date": "2020-01-01",
    "hidden": "0",
    "continental_shelf": "-1",
    "taxexemption": {"percentage": "20", "amount": "1000"},
    "accounting": [
        {"percentage": "50.00", "dimensions": [{"dimid": "1", "value": "10"}]},
        {"percentage": 50, "dimensions": [{"dimid": 2, "value": 11}]},
    ],
}


async def _company_with_one_of_everything(api: Payroll) -> None:
    assert (await api.call("POST", "/employee/v2", WHOLE_EMPLOYEE))[0] == 200
    employment = {**EMPLOYMENT, "enterprise_number": "811010472"}
    assert (await api.call("POST", "/employment/v2/12", [employment]))[0] == 200
    child = {"empId": 12, "firstname": "Ola", "lastname": "N", "birthdate": "2019-05-01"}
    assert (await api.call("POST", "/child/v2", child))[0] == 200
    absences: list[dict[str, object]] = [
        {
            "absenceType": "04",
            "startDate": "2025-07-01",
            "endDate": "2025-07-14",
            "numberOfDays": 9,
        },
        {"absenceType": "02", "startDate": "2025-02-03", "endDate": "2025-02-04", "childId": "1"},
        {"absenceType": "06", "startDate": "2025-03-03", "startdateParental": "2025-03-03"},
        {"absenceType": "12", "startDate": "2025-05-05", "comment": "x", "externalId": "l-1"},
    ]
    for absence in absences:
        status, error = await api.call("POST", "/absence/v2", {"empId": 12, **absence})
        assert status == 200, error


async def _served(api: Payroll) -> dict[str, Any]:
    return {
        "employee": (await api.call("GET", "/employee/v2/12"))[1],
        "employment": (await api.call("GET", "/employment/v2/12"))[1],
        "child": (await api.call("GET", "/child/v2/12"))[1],
        "absence": [
            {**row, "lastChanged": ""} for row in (await api.call("GET", "/absence/v2/12"))[1]
        ],
    }


@pytest.mark.parametrize("mode", ["merge", "replace"])
async def test_every_record_served_is_taken_back_whole_and_changes_nothing(
    api: Payroll, sims: RunningSimulators, http: aiohttp.ClientSession, mode: str
) -> None:
    await patch_settings(sims.payroll_admin, update_mode=mode)
    await _company_with_one_of_everything(api)
    before = await _served(api)
    assert before["employee"][0]["accounting"][1]["percentage"] == "50.00"
    assert before["employee"][0]["taxexemption"] == {"percentage": "20", "amount": "1000"}
    (employee,) = before["employee"]
    (employment,) = before["employment"]
    (child,) = before["child"]
    assert (await api.call("POST", "/employee/v2/12", employee)) == (200, None)
    assert (await api.call("POST", "/employment/v2/12", [employment])) == (200, None)
    assert (await api.call("POST", "/child/v2", {**child, "empId": 12})) == (200, None)
    raw = (await api.call("GET", "/absence/v2/12"))[1]
    assert {"requestDate", "lastChanged", "description", "permisjonId"} <= set(raw[0])
    for absence in raw:
        assert (await api.call("POST", "/absence/v2", absence)) == (200, None), absence
    assert await _served(api) == before


async def test_replace_mode_clears_what_an_update_leaves_out(
    api: Payroll, sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    await _company_with_one_of_everything(api)
    before = await _served(api)
    await patch_settings(sims.payroll_admin, update_mode="replace")

    assert (await api.call("POST", "/employee/v2/12", {"city": "Bergen"}))[0] == 200
    (employee,) = (await api.call("GET", "/employee/v2/12"))[1]
    assert (employee["city"], employee["firstname"], employee["telefon"]) == ("Bergen", "", "")
    assert employee["accounting"] == []
    assert employee["internationalID"]["ID"] == ""

    employment_id = before["employment"][0]["employment_id"]
    change = {"employment_id": employment_id, "employment_rate": 60}
    assert (await api.call("POST", "/employment/v2/12", [change]))[0] == 200
    (employment,) = (await api.call("GET", "/employment/v2/12"))[1]
    assert (employment["employment_rate"], employment["primary_employment"]) == ("60.00", "")
    assert employment["enterprise_number"] == ""

    leave = next(row for row in before["absence"] if row["externalId"] == "l-1")
    serial = leave["serialNo"]
    # Without its type, a replaced absence is invalid: nothing is changed.
    status, error = await api.call(
        "POST", "/absence/v2", {"empId": 12, "serialNo": serial, "approved": "2"}
    )
    assert (status, error["message"]) == (400, "absenceType is required")
    body = {"empId": 12, "serialNo": serial, "absenceType": "12", "startDate": "2025-05-05"}
    assert (await api.call("POST", "/absence/v2", {**body, "approved": "2"}))[0] == 200
    (after,) = (await api.call("GET", f"/absence/v2?serialNo={serial}"))[1]
    assert (after["approved"], after["comment"], after["externalId"]) == ("2", "", "")
    assert after["requestDate"] == leave["requestDate"], "the server's own field stays"

    # Merge again: fields left out stay.
    await patch_settings(sims.payroll_admin, update_mode="merge")
    assert (await api.call("POST", "/employee/v2/12", {"firstname": "Kari"}))[0] == 200
    (employee,) = (await api.call("GET", "/employee/v2/12"))[1]
    assert (employee["city"], employee["firstname"]) == ("Bergen", "Kari")


async def test_the_two_settings_refuse_other_values(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    for values in ({"post_answer": "object"}, {"update_mode": "patch"}):
        async with http.patch(f"{sims.payroll_admin}/settings", json=values) as answer:
            assert answer.status == 400, values


async def test_the_two_settings_can_be_set_at_start_up(start_simulators: StartSimulators) -> None:
    sims = start_simulators(employees=1, payroll_post_answer="array", payroll_update_mode="replace")
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sims.payroll_admin}/settings") as answer,
    ):
        settings = await answer.json()
    assert (settings["post_answer"], settings["update_mode"]) == ("array", "replace")
