"""The dashboard's JSON API over real HTTP, on the real Redis (a key prefix per test).

Most tests seed runs the way a worker records them and check what the API answers and what
it enqueues; the last one retries a broken employee for real: simulators, a Dramatiq worker,
the fix made in Simployer One, and the failure leaving the list.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import Any
from urllib.parse import quote

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer
from stdnum.no import fodselsnummer

from payroll_sync.alerts.store import IncidentStore
from payroll_sync.dashboard.app import create_app
from payroll_sync.dashboard.attempts import FailedTokens
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import SyncRequest, Task
from payroll_sync.schemas.outcomes import FieldChange
from tests.integration.conftest import StartSimulators
from tests.support.auth import bearer
from tests.support.dashboard import OPERATOR_TOKEN, repaired
from tests.support.recorders import Recorder
from tests.support.runs import Seed, seed_run
from tests.support.simulator_admin import patch_simployer, simployer_state
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration

AUTH = bearer(OPERATOR_TOKEN)
SSN = "20059800850"
ACCOUNT = "60114639071"
SALARY = "67800.00"
PERSONAL_DIFF = [
    FieldChange(field="personnr", old="", new=SSN),
    FieldChange(field="account", old="86014494725", new=ACCOUNT),
    FieldChange(field="salary", old="41000.00", new=SALARY),
    FieldChange(field="lastname", old="Hansen", new="Berg"),
]


async def _json(client: TestClient[Any, Any], method: str, path: str, **kw: Any) -> Any:
    kw.setdefault("headers", AUTH)
    async with client.request(method, path, **kw) as answer:
        return answer.status, await answer.json()


async def test_every_route_needs_the_operator_token(
    client: TestClient[Any, Any], store: RunStore
) -> None:
    routes = [
        ("GET", "/api/v1/runs"),
        ("GET", "/api/v1/runs/x"),
        ("GET", "/api/v1/failures"),
        ("GET", "/api/v1/incidents"),
        ("POST", "/api/v1/failures/retry"),
        ("POST", "/api/v1/failures/acme%3Aemployees%3A1/retry"),
        ("POST", "/api/v1/failures/acme%3Aemployees%3A1/discard"),
    ]
    wrong = [
        {},
        bearer("not-the-token"),
        bearer(OPERATOR_TOKEN[:-1]),
        {"Authorization": f"Basic {OPERATOR_TOKEN}"},
        {"Authorization": "Bearer "},
    ]
    for method, path in routes:
        # Wrong tokens lock a client out after a few (test_dashboard_lockout.py): not here.
        await FailedTokens(store.redis, store.prefix).forget("127.0.0.1")
        for headers in wrong:
            async with client.request(method, path, headers=headers) as answer:
                assert answer.status == 401, (method, path, headers)
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
                body = await answer.text()
                assert OPERATOR_TOKEN not in body
                assert (await answer.json())["error"] == "Unauthorized"


async def test_runs_and_a_run_with_its_records(
    client: TestClient[Any, Any], store: RunStore
) -> None:
    run_id = await seed_run(store, [Seed("1"), Seed("2", "created", diff=PERSONAL_DIFF)])
    status, body = await _json(client, "GET", "/api/v1/runs")
    assert status == 200
    (run,) = body["runs"]
    assert (run["run_id"], run["status"], run["total"]) == (run_id, "done", 2)
    assert run["counts"]["failed"] == 1
    assert run["counts"]["created"] == 1

    status, body = await _json(client, "GET", f"/api/v1/runs/{run_id}")
    assert status == 200
    assert [(item["employee_number"], item["outcome"]) for item in body["records"]] == [
        ("1", "failed"),
        ("2", "created"),
    ]
    text = msgspec.json.encode(body).decode()
    assert SSN not in text
    assert ACCOUNT not in text
    assert SALARY not in text

    assert (await _json(client, "GET", "/api/v1/runs/nope"))[0] == 404
    for limit in ("0", "x", "501"):
        assert (await _json(client, "GET", f"/api/v1/runs?limit={limit}"))[0] == 400


async def test_incidents_open_and_lately_resolved(
    client: TestClient[Any, Any], store: RunStore
) -> None:
    incidents = IncidentStore(store.redis, prefix=store.prefix)
    status, none = await _json(client, "GET", "/api/v1/incidents")
    assert status == 200
    assert (none["open"], none["resolved"]) == ([], [])
    now = time.time()
    failing = await incidents.open(
        INTEGRATION,
        "failing",
        now=now - 600,
        detail="3 of the last 3 runs had more than 20% of records failed",
        numbers={"share": 0.75},
    )
    assert failing is not None
    await incidents.open("globex", "stale", now=now - 300, detail="no scheduled run for 26 h")
    await incidents.resolve("globex", "stale", now=now - 60, detail="a scheduled run finished")

    status, body = await _json(client, "GET", "/api/v1/incidents")
    assert status == 200
    (opened,) = body["open"]
    assert opened["id"] == failing.id
    assert (opened["integration"], opened["condition"]) == (INTEGRATION, "failing")
    assert opened["what"] == "records failing"
    assert opened["numbers"] == {"share": 0.75}
    assert opened["resolved_at"] is None
    assert datetime.datetime.fromisoformat(opened["opened_at"]).timestamp() == pytest.approx(
        now - 600, abs=1
    )
    (resolved,) = body["resolved"]
    assert (resolved["integration"], resolved["condition"]) == ("globex", "stale")
    assert resolved["resolved_detail"] == "a scheduled run finished"
    assert resolved["resolved_at"] is not None

    status, one = await _json(client, "GET", "/api/v1/incidents?integration=globex")
    assert status == 200
    assert one["open"] == []
    assert [item["integration"] for item in one["resolved"]] == ["globex"]


async def test_failures_carry_what_an_operator_acts_on(
    client: TestClient[Any, Any], store: RunStore
) -> None:
    before = time.time()
    run_id = await seed_run(
        store, [Seed("17", diff=PERSONAL_DIFF, attempt=3), Seed("18", "unchanged")]
    )
    absences = await seed_run(
        store,
        [
            Seed(
                "leave-5",
                reason="absenceType 99 is unknown",
                field="leave.type",
                employee_number="17",
            )
        ],
        kind="absences",
    )
    status, body = await _json(client, "GET", "/api/v1/failures")
    assert status == 200
    assert body["count"] == 2
    by_id = {item["id"]: item for item in body["failures"]}
    employee = by_id["acme:employees:17"]
    assert {key: employee[key] for key in employee if key not in ("last_attempt", "diff")} == {
        "id": "acme:employees:17",
        "integration": "acme",
        "kind": "employees",
        "employee_number": "17",
        "reason": "ssn is not a valid fødselsnummer or D-nummer",
        "field": "ssn",
        "attempts": 3,
        "run_id": run_id,
        "retrying": False,
    }
    last = employee["last_attempt"]
    assert last.endswith("+00:00")
    assert before - 1 <= datetime.datetime.fromisoformat(last).timestamp() <= time.time()
    assert employee["diff"] == [
        {"field": "personnr", "old": "", "new": "•••••••0850"},
        {"field": "account", "old": "•••••••4725", "new": "•••••••9071"},
        {"field": "salary", "hidden": True},
        {"field": "lastname", "old": "Hansen", "new": "Berg"},
    ]
    leave = by_id["acme:absences:leave-5"]
    assert (leave["leave_id"], leave["employee_number"], leave["run_id"]) == (
        "leave-5",
        "17",
        absences,
    )
    assert "leave_id" not in employee
    text = msgspec.json.encode(body).decode()
    for secret in (SSN, ACCOUNT, "86014494725", SALARY, "41000.00"):
        assert secret not in text
    assert {tuple(item.values()) for item in body["reasons"]} == {
        ("ssn is not a valid fødselsnummer or D-nummer", 1),
        ("absenceType 99 is unknown", 1),
    }


async def test_failure_filters(client: TestClient[Any, Any], store: RunStore) -> None:
    await seed_run(store, [Seed("1"), Seed("2", reason="employment.note is wrong")])
    await seed_run(store, [Seed("1"), Seed("3")], integration="beta")

    async def ids(query: str) -> list[str]:
        status, body = await _json(client, "GET", f"/api/v1/failures?{query}")
        assert status == 200, body
        return sorted(item["id"] for item in body["failures"])

    assert await ids("integration=beta") == ["beta:employees:1", "beta:employees:3"]
    assert await ids("reason=NOTE") == ["acme:employees:2"]
    assert await ids("employee_number=1") == ["acme:employees:1", "beta:employees:1"]
    assert await ids("employee_number=1&integration=acme") == ["acme:employees:1"]
    assert await ids("reason=nothing") == []
    status, body = await _json(client, "GET", "/api/v1/failures?reason=" + "x" * 300)
    assert status == 400
    assert body["message"].startswith("reason:")


async def test_retry_one(
    client: TestClient[Any, Any], store: RunStore, recorder: Recorder[Task]
) -> None:
    old_run = await seed_run(store, [Seed("1", attempt=5), Seed("2")])
    status, body = await _json(client, "POST", "/api/v1/failures/acme%3Aemployees%3A1/retry")
    assert status == 202, body
    assert body["status"] == "queued"
    assert body["run_id"] != old_run
    assert recorder.keys == ["1"]
    (task,) = recorder.calls[0]
    assert (task.attempt, task.refetch, task.run_id) == (1, True, body["run_id"])
    # Listed until the new outcome is in; marked as queued meanwhile.
    status, listed = await _json(client, "GET", "/api/v1/failures?employee_number=1")
    assert [(item["id"], item["retrying"]) for item in listed["failures"]] == [
        ("acme:employees:1", True)
    ]
    run = await store.get_run(body["run_id"])
    assert run is not None
    assert (run.trigger, run.total) == ("retry", 1)

    assert (await _json(client, "POST", "/api/v1/failures/acme%3Aemployees%3A9/retry"))[0] == 404
    await store.redis.delete(store.keys.tasks(old_run))
    status, body = await _json(client, "POST", "/api/v1/failures/acme%3Aemployees%3A2/retry")
    assert status == 409
    assert "expired" in body["message"]
    assert recorder.keys == ["1"], "nothing else enqueued"


async def test_retry_matching_retries_exactly_the_filtered_set(
    client: TestClient[Any, Any], store: RunStore, recorder: Recorder[Task]
) -> None:
    note = "employment.note must be the 7-digit profession code"
    await seed_run(store, [Seed("1"), Seed("2", reason=note), Seed("3", reason=note), Seed("4")])
    await seed_run(store, [Seed("2", reason=note)], integration="beta")
    status, body = await _json(
        client, "POST", "/api/v1/failures/retry", json={"integration": "acme", "reason": "note"}
    )
    assert status == 202, body
    assert (body["matched"], body["queued"]) == (2, 2)
    assert sorted(item["id"] for item in body["results"]) == [
        "acme:employees:2",
        "acme:employees:3",
    ]
    assert recorder.keys == ["2", "3"]

    for bad in (b"", b"[]", b"not json", b'{"reason": 5}', b'{"employee": "1"}'):
        async with client.post("/api/v1/failures/retry", data=bad, headers=AUTH) as answer:
            assert answer.status == 400, bad
            message = (await answer.json())["message"]
            assert message.startswith(("body:", "reason:")), message
    assert recorder.keys == ["2", "3"], "a refused request retries nothing"


async def test_discard(client: TestClient[Any, Any], store: RunStore) -> None:
    run_id = await seed_run(store, [Seed("1"), Seed("2")])
    status, body = await _json(client, "POST", "/api/v1/failures/acme%3Aemployees%3A1/discard")
    assert (status, body) == (200, {"id": "acme:employees:1", "discarded": True})
    status, listed = await _json(client, "GET", "/api/v1/failures")
    assert [item["id"] for item in listed["failures"]] == ["acme:employees:2"]
    assert (await _json(client, "POST", "/api/v1/failures/acme%3Aemployees%3A1/discard"))[0] == 404
    # The run keeps the outcome: discarding hides the failure, it rewrites no history.
    outcome = await store.outcome(run_id, "1")
    assert outcome is not None
    assert outcome.outcome == "failed"


async def test_a_fixed_employee_retried_through_the_api_leaves_the_failures(
    start_simulators: StartSimulators,
) -> None:
    sims = start_simulators(
        employees=20, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    async with sync_stack(sims) as stack:
        _, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        bad_ssn = next(
            item for item in outcomes if item.field == "ssn" and item.outcome == "failed"
        )
        app = create_app(producer=stack.producer, operator_token=OPERATOR_TOKEN, login_delay=0)
        async with TestClient(TestServer(app)) as client:
            ident = f"{INTEGRATION}:employees:{bad_ssn.employee_number}"
            path = f"/api/v1/failures/{quote(ident, safe='')}/retry"
            status, listed = await _json(client, "GET", "/api/v1/failures")
            failing = {item["id"] for item in listed["failures"]}
            assert ident in failing
            assert failing == {
                f"{INTEGRATION}:employees:{item.employee_number}"
                for item in outcomes
                if item.outcome == "failed"
            }
            # Retrying before the fix fails again, for the same reason, in a retry run.
            status, body = await _json(client, "POST", path)
            assert status == 202
            first_retry = await stack.wait(body["run_id"])
            assert (first_retry.trigger, first_retry.counts["failed"]) == ("retry", 1)

            # Fix the fødselsnummer in Simployer One, retry: it is created and leaves the list.
            data = await simployer_state(sims)
            row = next(e for e in data.employee if e.employee_number == bad_ssn.employee_number)
            assert row.ssn is not None
            fixed = repaired(row.ssn, fodselsnummer.is_valid)
            await patch_simployer(sims, "employee", row.id, {"ssn": fixed})
            status, body = await _json(client, "POST", path)
            assert status == 202
            run = await stack.wait(body["run_id"])
            assert run.counts["created"] == 1
            for _ in range(50):
                status, listed = await _json(client, "GET", "/api/v1/failures")
                if ident not in {item["id"] for item in listed["failures"]}:
                    break
                await asyncio.sleep(0.1)
            remaining = {item["id"] for item in listed["failures"]}
            assert remaining == failing - {ident}
