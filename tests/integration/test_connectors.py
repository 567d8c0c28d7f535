"""Both API clients against the simulators over real HTTP: paging, bundles, writes, tokens,
and how every kind of failure surfaces as an `errors.SyncError`."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from typing import Any

import aiohttp
import msgspec
import pytest

from payroll_sync.assumptions import SIMPLOYER_MAX_LIMIT
from payroll_sync.connectors.payroll import PayrollAuth, PayrollClient
from payroll_sync.connectors.simployer import COMPENSATION_BATCH, SimployerClient
from payroll_sync.errors import ConfigError, Conflict, Permanent, RateLimited, Retryable
from payroll_sync.schemas import simployer
from payroll_sync.schemas.payroll import AbsenceWrite, ChildWrite, EmployeeWrite, EmploymentWrite
from payroll_sync.simulators import simployer as simployer_sim
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.serve import RunningSimulators
from tests.integration.conftest import StartSimulators
from tests.support.bundles import as_read, bundles_by_number
from tests.support.payroll_api import Payroll
from tests.support.simulator_admin import (
    patch_settings,
    patch_simployer,
    put_simployer_state,
    requests_of,
    reset_requests,
    simployer_rows,
    simployer_state,
)

pytestmark = pytest.mark.integration

NO_LIMITS: dict[str, Any] = {"rate_limit_per_second": 0, "simployer_rate_limit_per_second": 0}

KARI = EmployeeWrite(
    emp_id=12,
    firstname="Kari",
    lastname="Nordmann",
    salary_type="monthly",
    salary=45000,
    salary_valid_from="2024-01-01",
)


# ---------------------------------------------------------------- helpers


def simployer_client(http: aiohttp.ClientSession, sims: RunningSimulators) -> SimployerClient:
    return SimployerClient(http, sims.simployer_url, sims.simployer_token)


def payroll_client(
    http: aiohttp.ClientSession, sims: RunningSimulators, **auth_options: Any
) -> PayrollClient:
    auth = PayrollAuth(http, sims.payroll_url, sims.payroll_token, **auth_options)
    return PayrollClient(http, sims.payroll_url, auth)


# ---------------------------------------------------------------- Simployer One


async def test_list_all_pages_with_the_largest_limit(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(employees=250, **NO_LIMITS)
    rows, related = await simployer_client(http, sims).list_all("employee")
    assert len(rows) == 250
    assert len({row["id"] for row in rows}) == 250
    assert related == {}
    report = await requests_of(sims.simployer_admin)
    assert report["by_route"] == {"GET /employee": 3}  # 100 + 100 + 50


def _by_number(bundles: list[simployer.EmployeeBundle]) -> dict[str, simployer.EmployeeBundle]:
    """Bundles by employee number, compensations in id order (the order is not the point)."""
    return {
        b.employee.employee_number: msgspec.structs.replace(
            b, compensations=sorted(b.compensations, key=lambda c: c.id)
        )
        for b in bundles
    }


def _compensation_pages(data: published.Company, employee_ids: list[str]) -> int:
    """The `/compensation` requests the client needs: ids in batches, each batch paged."""
    count = Counter(row.employee_id for row in data.compensation)
    pages = 0
    for start in range(0, len(employee_ids), COMPENSATION_BATCH):
        rows = sum(count[e] for e in employee_ids[start : start + COMPENSATION_BATCH])
        pages += max(1, math.ceil(rows / SIMPLOYER_MAX_LIMIT))
    return pages


async def test_employee_bundles_match_the_dataset_in_few_requests(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(employees=150, **NO_LIMITS)
    bundles, unreadable = await simployer_client(http, sims).employee_bundles()
    report = await requests_of(sims.simployer_admin)
    data = await simployer_state(sims)
    # The types once, the employees with their current employment in pages of 100, and the
    # compensations of 50 employees at a time.
    assert report["by_route"] == {
        "GET /employment-type": 1,
        "GET /employee": 2,
        "GET /compensation": _compensation_pages(data, [e.id for e in data.employee]),
    }
    assert unreadable == []
    assert [b.employee for b in bundles] == as_read(data.employee, simployer.Employee)
    assert _by_number(bundles) == _by_number(list(bundles_by_number(data).values()))
    # Every compensation of every employee, not only the one compensationId names.
    for bundle in bundles:
        expected = [c for c in data.compensation if c.employee_id == bundle.employee.id]
        assert sorted(c.id for c in bundle.compensations) == sorted(c.id for c in expected)
    assert sum(len(b.compensations) for b in bundles) == len(data.compensation)
    assert any(len(b.compensations) > 1 for b in bundles)  # the case the relation would miss


async def test_employee_bundles_pass_filters(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    data = await simployer_state(sims)
    client = simployer_client(http, sims)
    active, _ = await client.employee_bundles(filters={"active": "true"})
    assert [b.employee.id for b in active] == [e.id for e in data.employee if e.active]
    newest = max(e.updated for e in data.employee)
    recent, _ = await client.employee_bundles(filters={"updated[$gte]": newest})
    assert [b.employee.id for b in recent] == [e.id for e in data.employee if e.updated == newest]
    # The compensations are those of the filtered employees only.
    assert {c.employee_id for b in recent for c in b.compensations} <= {
        b.employee.id for b in recent
    }


async def test_one_bundle_is_two_requests_and_equals_the_bulk_one(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    client = simployer_client(http, sims)
    bulk = {b.employee.id: b for b in (await client.employee_bundles()).bundles}
    await reset_requests(sims.simployer_admin)
    for employee_id in list(bulk)[:5]:
        assert await client.employee_bundle(employee_id) == bulk[employee_id]
    report = await requests_of(sims.simployer_admin)
    # The employee with its current employment and type, and its compensations.
    assert report["by_route"] == {"GET /employee/{id}": 5, "GET /compensation": 5}
    assert await client.employee_bundle("no-such-employee") is None


async def test_one_bundle_takes_the_type_of_the_current_employment(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    client = simployer_client(http, sims)
    data = await simployer_state(sims)
    employee = data.employee[0]
    employment = next(e for e in data.employment if e.id == employee.employment_id)
    other_type = next(t for t in data.employment_type if t.id != employment.type_id)
    # The employee's own employmentTypeId disagrees with its current employment's typeId.
    await patch_simployer(sims, "employee", employee.id, {"employmentTypeId": other_type.id})
    await reset_requests(sims.simployer_admin)
    bundle = await client.employee_bundle(employee.id)
    assert bundle is not None
    assert bundle.employment_type is not None
    assert bundle.employment_type.id == employment.type_id
    report = await requests_of(sims.simployer_admin)
    assert report["by_route"] == {
        "GET /employee/{id}": 1,
        "GET /employment-type/{id}": 1,
        "GET /compensation": 1,
    }


async def test_departments_and_offices(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    client = simployer_client(http, sims)
    data = await simployer_state(sims)
    assert await client.departments() == as_read(data.department, simployer.Department)
    assert await client.offices() == as_read(data.office, simployer.Office)
    await client.check()


async def test_a_malformed_row_fails_alone_naming_the_field_not_the_value(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    data = await simployer_state(sims)
    bad_account, no_start = data.employee[3], data.employee[5]
    assert no_start.employment_id is not None
    # Behind the simulator's validation, as an API that changed its types would answer.
    store = simployer_sim.store_of(sims.simployer_app)
    store.by_id["employee"][bad_account.id]["bankAccount"] = 5
    del store.by_id["employment"][no_start.employment_id]["startDate"]
    client = simployer_client(http, sims)

    bundles, unreadable = await client.employee_bundles()
    assert {u.employee_id: u.field for u in unreadable} == {
        bad_account.id: "bankAccount",
        no_start.id: "employment.startDate",
    }
    by_id = {u.employee_id: u for u in unreadable}
    assert by_id[bad_account.id].reason == (
        f"Simployer One employee {bad_account.id}: field bankAccount is missing or invalid"
    )
    assert by_id[no_start.id].reason == (
        f"Simployer One employment {no_start.employment_id}: field startDate is missing or invalid"
    )
    assert by_id[no_start.id].employee_number == no_start.employee_number
    # Every other employee is read, exactly as from the company's rows.
    expected = bundles_by_number(data)
    for broken in (bad_account, no_start):
        del expected[broken.employee_number]
    assert _by_number(bundles) == _by_number(list(expected.values()))

    with pytest.raises(Permanent) as failed:
        await client.employee_bundle(bad_account.id)
    assert failed.value.field == "bankAccount"
    assert str(failed.value) == by_id[bad_account.id].reason
    with pytest.raises(Permanent) as failed:
        await client.employee_bundle(no_start.id)
    assert failed.value.field == "employment.startDate"
    assert "startDate" in str(failed.value)


def _unknown_fields(row: dict[str, Any], count: int) -> dict[str, Any]:
    """`count` fields the client does not know: scalars, lists and nested objects, some with
    the names of known fields inside them."""
    kinds: list[Any] = [
        "text",
        42,
        4.5,
        True,
        None,
        [1, "two", None],
        {"nested": {"deeper": {"id": 5, "employeeNumber": None}}},
        {"startDate": "not a date", "rate": "full"},
    ]
    extra = {f"unknown{i}": kinds[i % len(kinds)] for i in range(count)}
    out = {**row, **extra}
    for name in ("homeAddress", "bankAccount", "tax", "custom"):
        if isinstance(out.get(name), dict):
            out[name] = {**out[name], "unknownInner": {"a": [1, {"b": None}]}, "extra": 1}
    return out


async def test_unknown_fields_change_nothing_the_client_reads(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    client = simployer_client(http, sims)
    before = await client.employee_bundles()
    tables = msgspec.json.decode(await simployer_rows(sims))
    for name, rows in tables.items():
        tables[name] = [_unknown_fields(row, 20) for row in rows]
    await put_simployer_state(sims, tables)
    served = msgspec.json.decode(await simployer_rows(sims))
    assert served["employee"][0]["unknown19"] == tables["employee"][0]["unknown19"]
    after = await client.employee_bundles()
    assert after == before
    assert after.unreadable == []
    for bundle in after.bundles[:3]:
        assert await client.employee_bundle(bundle.employee.id) == bundle
    assert await client.departments() == as_read(
        (await simployer_state(sims)).department, simployer.Department
    )


async def test_before_request_runs_before_every_request(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    calls: list[str] = []

    def hook(name: str) -> Any:
        async def before() -> None:
            calls.append(name)

        return before

    auth = PayrollAuth(http, sims.payroll_url, sims.payroll_token, before_request=hook("auth"))
    payroll = PayrollClient(http, sims.payroll_url, auth, before_request=hook("payroll"))
    await payroll.list_employees()
    await payroll.list_employees()
    client = SimployerClient(
        http, sims.simployer_url, sims.simployer_token, before_request=hook("simployer")
    )
    await reset_requests(sims.simployer_admin)
    await client.employee_bundles()
    served = (await requests_of(sims.simployer_admin))["total"]
    assert served >= 3  # types, employees, compensations
    assert calls == ["auth", "payroll", "payroll"] + ["simployer"] * served


async def test_simployer_bad_token_is_a_config_error(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    client = SimployerClient(http, sims.simployer_url, "revoked-token-value")
    for call in (client.check(), client.employee_bundles(), client.employee_bundle("x")):
        with pytest.raises(ConfigError) as failed:
            await call
        assert "Simployer One rejected the access token" in str(failed.value)
        assert "simployer_token_env" in str(failed.value)
        assert "revoked-token-value" not in str(failed.value)
    assert "revoked-token-value" not in repr(client)


async def test_simployer_429_is_retryable_with_the_servers_delay(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    await patch_settings(sims.simployer_admin, rate_limit_per_second=0.5, rate_limit_burst=1)
    client = simployer_client(http, sims)
    await client.check()
    with pytest.raises(RateLimited) as throttled:
        await client.check()
    assert throttled.value.delay == 2.0


# ---------------------------------------------------------------- 24SevenOffice Lønn


async def test_create_conflict_update_and_employments(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    client = payroll_client(http, sims)
    await client.check()
    assert await client.get_employee(12) is None
    assert await client.list_employments(12) == []

    await client.create_employee(KARI)
    created = await client.get_employee(12)
    assert created is not None
    assert (created.emp_id, created.firstname, created.salary) == ("12", "Kari", "45000.00")
    with pytest.raises(Conflict):
        await client.create_employee(KARI)

    await client.update_employee(12, EmployeeWrite(city="Bergen"))
    updated = await client.get_employee(12)
    assert updated is not None
    assert (updated.city, updated.firstname) == ("Bergen", "Kari")  # the rest unchanged
    assert await client.list_employees() == [updated]

    first = EmploymentWrite(
        startdate="2024-01-01",
        employment_form="fast",
        employment_type="ordinaertArbeidsforhold",
        working_times="ikkeSkift",
        employment_rate=80.5,
        profession_code="2511101",
    )
    await client.create_employment(12, first)
    (employment,) = await client.list_employments(12)
    assert (employment.startdate, employment.employment_rate) == ("2024-01-01", "80.50")
    end = EmploymentWrite(
        employment_id=employment.employment_id,
        enddate="2024-12-31",
        enddate_reason="arbeidstakerHarSagtOppSelv",
    )
    await client.update_employment(12, end)
    (ended,) = await client.list_employments(12)
    assert (ended.employment_id, ended.enddate) == (employment.employment_id, "2024-12-31")
    assert ended.startdate == "2024-01-01"
    with pytest.raises(Retryable, match="no longer in 24SevenOffice"):
        await client.update_employment(12, EmploymentWrite(employment_id="12-99"))


async def test_400_names_the_field_but_not_the_submitted_value(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    client = payroll_client(http, sims)
    bad_salary = msgspec.structs.replace(KARI, salary="Kari-Secret-Value")
    with pytest.raises(Permanent) as failed:
        await client.create_employee(bad_salary)
    assert str(failed.value) == "24SevenOffice refused create employee: field salary (HTTP 400)"
    await client.create_employee(KARI)
    with pytest.raises(Permanent) as failed:
        await client.update_employee(12, EmployeeWrite(employee_date="1985-13-45"))
    assert "field employee_date" in str(failed.value)
    assert "1985-13-45" not in str(failed.value)
    # An update of an unknown employee is a refusal too, not a silent None.
    with pytest.raises(Permanent, match="HTTP 404"):
        await client.update_employee(99, EmployeeWrite(city="Bergen"))


async def test_concurrent_callers_share_one_token_exchange(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    client = payroll_client(http, sims)
    await asyncio.gather(*(client.list_employees() for _ in range(10)))
    report = await requests_of(sims.payroll_admin)
    assert report["by_route"] == {"GET /auth": 1, "GET /employee/v2": 10}


async def test_token_is_refreshed_before_it_expires(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(token_ttl_seconds=2, **NO_LIMITS)
    client = payroll_client(http, sims)
    await client.list_employees()
    await client.list_employees()
    await asyncio.sleep(2.2)
    await client.list_employees()
    report = await requests_of(sims.payroll_admin)
    # Refreshed on time: no request was refused.
    assert report["by_route_status"] == {"GET /auth 200": 2, "GET /employee/v2 200": 3}


async def test_a_401_refreshes_the_token_once_and_retries(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(token_ttl_seconds=1, **NO_LIMITS)
    # A clock that never moves: we believe the token valid after the server expired it.
    client = payroll_client(http, sims, clock=lambda: 1_000.0)
    await client.list_employees()
    await asyncio.sleep(1.2)
    assert await client.list_employees() == []
    report = await requests_of(sims.payroll_admin)
    assert report["by_route_status"] == {
        "GET /auth 200": 2,
        "GET /employee/v2 200": 2,
        "GET /employee/v2 401": 1,
    }


async def test_a_second_401_is_a_config_error(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(token_ttl_seconds=0, **NO_LIMITS)  # every bearer token dead at once
    client = payroll_client(http, sims)
    with pytest.raises(ConfigError, match="payroll_token_env"):
        await client.create_employee(KARI)
    report = await requests_of(sims.payroll_admin)
    assert report["by_route_status"] == {"GET /auth 200": 2, "POST /employee/v2 401": 2}


async def test_a_bad_persistent_token_is_a_config_error(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    auth = PayrollAuth(http, sims.payroll_url, "wrong-persistent-token")
    client = PayrollClient(http, sims.payroll_url, auth)
    with pytest.raises(ConfigError) as failed:
        await client.check()
    message = str(failed.value)
    assert message.startswith("24SevenOffice rejected the access token")
    assert "payroll_token_env" in message
    assert "wrong-persistent-token" not in message
    assert "wrong-persistent-token" not in repr(auth)


async def test_payroll_429_is_retryable_with_the_servers_delay(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    # One request per 2 s: the token exchange takes it, so the call after it is refused.
    await patch_settings(sims.payroll_admin, rate_limit_per_second=0.5, rate_limit_burst=1)
    with pytest.raises(RateLimited) as throttled:
        await payroll_client(http, sims).list_employees()
    assert throttled.value.delay == 2.0
    assert isinstance(throttled.value, Retryable)


async def test_503_is_retryable(sims: RunningSimulators, http: aiohttp.ClientSession) -> None:
    client = payroll_client(http, sims)
    await client.check()
    await patch_settings(sims.payroll_admin, error_rate=1.0, error_statuses=[503])
    with pytest.raises(Retryable) as failed:
        await client.create_employee(KARI)
    assert type(failed.value) is Retryable
    assert str(failed.value) == "24SevenOffice answered HTTP 503 to create employee"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"timeout_rate": 1.0, "hang_seconds": 1.0}, "24SevenOffice: list employees timed out"),
        (
            {"drop_rate": 1.0},
            "24SevenOffice: list employees failed (ServerDisconnectedError)",
        ),
    ],
)
async def test_no_answer_is_retryable(
    sims: RunningSimulators,
    http: aiohttp.ClientSession,
    fault: dict[str, float],
    expected: str,
) -> None:
    timeout = aiohttp.ClientTimeout(total=0.3)
    auth = PayrollAuth(http, sims.payroll_url, sims.payroll_token, timeout=timeout)
    client = PayrollClient(http, sims.payroll_url, auth, timeout=timeout)
    await client.check()
    await patch_settings(sims.payroll_admin, **fault)
    with pytest.raises(Retryable) as failed:
        await client.list_employees()
    assert str(failed.value) == expected
    assert failed.value.__cause__ is None  # aiohttp's text (with URLs) is not kept


async def test_leaves_their_types_and_children_as_the_absence_sync_reads_them(
    http: aiohttp.ClientSession, sims: RunningSimulators
) -> None:
    """Bulk and single reads agree; the single leave type's code comes as one object in the
    published answer, and children are read per employee."""
    client = simployer_client(http, sims)
    company = await simployer_state(sims)
    types, unreadable = await client.leave_types()
    assert unreadable == []
    codes = {row.leave_type_id: row.code for row in company.leave_type_code}
    assert {row.type.id: row.code for row in types} == {
        row.id: codes.get(row.id) for row in company.leave_type
    }
    for row in types:
        assert await client.leave_type(row.type.id) == row
    assert await client.leave_type("no-such-type") is None

    leave = company.leave[0]
    assert await client.leave(leave.id) == as_read([leave], simployer.Leave)[0]
    parent = company.child[0].employee_id
    mine = [row for row in company.child if row.employee_id == parent]
    assert await client.children_of(parent) == as_read(mine, simployer.Child)
    everyone, bad = await client.children()
    assert bad == []
    assert everyone == as_read(company.child, simployer.Child)


# ---------------------------------------------------------------- either reading of the docs


@pytest.mark.parametrize("update_mode", ["merge", "replace"])
@pytest.mark.parametrize("post_answer", ["empty", "array"])
async def test_writes_are_right_whatever_a_post_answers_and_an_update_does(
    start_simulators: StartSimulators,
    http: aiohttp.ClientSession,
    post_answer: str,
    update_mode: str,
) -> None:
    sims = start_simulators(
        **NO_LIMITS, payroll_post_answer=post_answer, payroll_update_mode=update_mode
    )
    client = payroll_client(http, sims)
    # Payroll staff keep fields of their own on the employee: we must never clear them.
    await client.create_employee(msgspec.structs.replace(KARI, telefon="99887766", taxtable="7100"))
    await client.update_employee(12, EmployeeWrite(city="Bergen"))
    employee = await client.get_employee(12)
    assert employee is not None
    assert (employee.city, employee.firstname, employee.salary) == ("Bergen", "Kari", "45000.00")
    assert (employee.telefon, employee.taxtable) == ("99887766", "7100")

    await client.create_employment(
        12,
        EmploymentWrite(
            startdate="2024-01-01",
            employment_form="fast",
            employment_rate=80,
            enterprise_number="811010472",
        ),
    )
    (employment,) = await client.list_employments(12)
    assert employment.primary_employment == "1"
    await client.update_employment(
        12, EmploymentWrite(employment_id=employment.employment_id, employment_rate=60)
    )
    (updated,) = await client.list_employments(12)
    assert updated == msgspec.structs.replace(employment, employment_rate="60.00")

    await client.create_child(
        ChildWrite(emp_id=12, firstname="Ola", lastname="N", birthdate="2019-05-01")
    )
    (child,) = await client.list_children(12)
    await client.create_absence(
        AbsenceWrite(
            emp_id=12,
            absence_type="02",
            start_date="2025-02-03",
            end_date="2025-02-04",
            child_id=child.child_id,
            comment="note",
            external_id="leave-1",
        )
    )
    await client.create_absence(
        AbsenceWrite(emp_id=12, absence_type="12", start_date="2025-05-05", external_id="leave-2")
    )
    before = {row.external_id: row for row in await client.list_absences(12) or []}
    assert before["leave-2"].permisjon_id, "generated by the API"
    for row in before.values():
        await client.update_absence(
            AbsenceWrite(emp_id=row.emp_id, serial_no=row.serial_no, approved="2")
        )
    after = {row.external_id: row for row in await client.list_absences(12) or []}
    for key, row in before.items():
        assert after[key] == msgspec.structs.replace(
            row, approved="2", last_changed=after[key].last_changed
        )

    report = await requests_of(sims.payroll_admin)
    # An update costs one read of the record right before it; a create none.
    assert report["by_route"]["POST /employee/v2/{empId}"] == 1
    assert report["by_route"]["GET /employee/v2/{empId}"] == 2  # re-read + our check
    with pytest.raises(Retryable, match="no longer in 24SevenOffice"):
        await client.update_absence(AbsenceWrite(emp_id=12, serial_no=99, approved="2"))


async def test_a_partial_update_would_lose_data_under_replace(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    """The control for the test above: the replace mode does clear what a body leaves out."""
    sims = start_simulators(**NO_LIMITS, payroll_update_mode="replace")
    client = payroll_client(http, sims)
    await client.create_employee(msgspec.structs.replace(KARI, telefon="99887766"))
    # Around the client, whose updates send the whole record: the raw partial body.
    api = Payroll(http, sims)
    await api.login()
    status, _ = await api.call(
        "POST", "/employee/v2/12", msgspec.to_builtins(EmployeeWrite(city="Bergen"))
    )
    assert status == 200
    employee = await client.get_employee(12)
    assert employee is not None
    assert (employee.city, employee.firstname, employee.telefon) == ("Bergen", "", "")
