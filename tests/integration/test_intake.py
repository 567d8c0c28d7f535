"""The intake end to end: its HTTP API on a real port, real Redis, a real Dramatiq worker and
both simulators; and the queue route through the same worker."""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

import aiohttp
import pytest
import structlog
from aiohttp.test_utils import TestServer
from dramatiq.brokers.redis import RedisBroker

from payroll_sync.intake import make_app
from payroll_sync.logs import configure_logging
from payroll_sync.producer.producer import Producer
from payroll_sync.queue import broker as broker_setup
from payroll_sync.queue.broker import REQUEST_QUEUE
from payroll_sync.queue.pacing import PaceKeys
from payroll_sync.queue.send import publish_sync_request
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import OUTCOMES, Run
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.stack import (
    PAYROLL_TOKEN_ENV,
    SIMPLOYER_TOKEN_ENV,
    Stack,
    simulator_settings,
)
from tests.integration.conftest import StartSimulators
from tests.support.auth import bearer
from tests.support.logs import event_names
from tests.support.simulator_admin import (
    patch_simployer,
    payroll_requests,
    payroll_state,
    reset_payroll_requests,
    simployer_state,
)
from tests.support.stack import INTEGRATION, isolated_stack, sync_stack

pytestmark = pytest.mark.integration

TOKEN: Final = "intake-test-token-5f2c1d0e9b8a7766"
PATH: Final = "/api/v1/sync-requests"
AUTH: Final = bearer(TOKEN)
# Generous: only a hang should ever reach it (no timed assertions on speed).
RUN_DEADLINE_SECONDS: Final = 120.0


@asynccontextmanager
async def serve_intake(stack: Stack, producer: Producer | None = None) -> AsyncIterator[str]:
    """The intake app on a real loopback port (with the stack's producer unless given one); its
    base URL."""
    app = make_app(
        settings=stack.settings,
        producer=producer or stack.producer,
        tokens={TOKEN: "simployer-one"},
    )
    async with TestServer(app, host="127.0.0.1", port=0) as server:
        yield str(server.make_url("")).rstrip("/")


async def post(
    http: aiohttp.ClientSession,
    base: str,
    body: object,
    *,
    headers: Mapping[str, str] = AUTH,
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http.post(base + PATH, data=data, headers=dict(headers)) as answer:
        return answer.status, await answer.json(), answer.headers


async def wait_done_over_http(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """Poll `GET /api/v1/runs/{id}` until the run is done."""
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while True:
        async with http.get(url, headers=AUTH) as answer:
            assert answer.status == 200, await answer.text()
            run: dict[str, Any] = await answer.json()
        if run["status"] == "done":
            return run
        assert time.monotonic() < deadline, f"run not done: {run}"
        await asyncio.sleep(0.05)


def assert_counts_exact(run: dict[str, Any] | Run, distinct: int) -> None:
    """Total = the run's distinct records, and the outcome counters add up to it."""
    if isinstance(run, Run):
        total, counts = run.total, run.counts
    else:
        total, counts = run["total"], run["counts"]
    assert total == distinct, run
    assert sum(counts.get(name, 0) for name in OUTCOMES) == total, run


async def valid_employees(stack: Stack, count: int) -> list[str]:
    """Employee numbers that sync cleanly (created by a first whole-scope run)."""
    run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
    assert run.status == "done"
    created = [item.employee_number for item in outcomes if item.outcome == "created"]
    assert len(created) >= count
    return created[:count]


async def queued_messages(stack: Stack) -> int:
    """Messages on the broker's queues not yet acknowledged (queued, delayed or in work), and
    those waiting in the pacer for their integration's turn."""
    broker = stack.broker
    assert isinstance(broker, RedisBroker)
    redis = stack.redis
    total = 0
    for queue in (broker_setup.EMPLOYEE_QUEUE, broker_setup.ABSENCE_QUEUE, REQUEST_QUEUE):
        for name in (queue, f"{queue}.DQ"):
            total += int(await redis.hlen(f"{broker.namespace}:{name}.msgs"))
    async for waiting in redis.scan_iter(match=PaceKeys(broker.namespace).pending("*")):
        total += int(await redis.llen(waiting))
    return total


# ------------------------------------------------------------------ HTTP


async def test_a_request_is_accepted_and_its_run_completes(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with sync_stack(sims) as stack, serve_intake(stack) as base:
        numbers = await valid_employees(stack, 3)
        status, body, headers = await post(
            http, base, {"integration": INTEGRATION, "kind": "employees", "employees": numbers}
        )
        assert status == 202, body
        assert set(body) == {"run_id", "status", "joined", "in_scope", "enqueued"}
        assert (body["joined"], body["enqueued"]) == (False, 3)
        assert body["status"] in ("queued", "running", "done")
        assert headers["Location"] == f"/api/v1/runs/{body['run_id']}"
        run = await wait_done_over_http(http, base + headers["Location"])
        assert run["run_id"] == body["run_id"]
        assert run["trigger"] == "upstream"
        assert_counts_exact(run, 3)
        # Already synced by the first run: nothing to change.
        assert run["counts"]["unchanged"] == 3
        outcomes = await stack.store.outcomes(body["run_id"])
        assert sorted(item.employee_number for item in outcomes) == sorted(numbers)


BAD_BODIES: Final[list[tuple[object, str]]] = [
    ({"integration": 7, "kind": "employees"}, "integration: expected a string, got a whole number"),
    ({"integration": INTEGRATION, "kind": "employees", "employees": "12"}, "employees: expected"),
    ({"integration": INTEGRATION, "kind": "employees", "dry_run": "no"}, "dry_run: expected"),
    ({"integration": INTEGRATION, "kind": "salaries"}, 'kind: expected "employees" or'),
    (
        {
            "integration": INTEGRATION,
            "kind": "absences",
            "period": {"from": "2025-03-09", "to": "2025-03-01"},
        },
        "period: 'from' 2025-03-09 is after 'to' 2025-03-01",
    ),
    (
        {
            "integration": INTEGRATION,
            "kind": "absences",
            "period": {"from": "2025-13-01", "to": "2025-12-31"},
        },
        "period.from: expected a date as YYYY-MM-DD",
    ),
    ({"integration": INTEGRATION, "kind": "absences"}, "period: an absence sync needs a period"),
    (
        {
            "integration": INTEGRATION,
            "kind": "absences",
            "codes": ["98"],
            "period": {"from": "2025-03-01", "to": "2025-03-31"},
        },
        "codes: unknown absence code '98'",
    ),
    ({"integration": INTEGRATION, "kind": "employees", "trigger": "manual"}, "trigger: unknown"),
    ({"integration": INTEGRATION, "kind": "employees", "priority": 1}, "priority: unknown"),
    (b"{not json", "body is not valid JSON"),
    (b"[]", "body: expected an object"),
]


async def test_malformed_bodies_are_400_and_nothing_is_queued(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    settings, env = simulator_settings(sims, integration=INTEGRATION)
    # No worker: whatever were enqueued would stay on the queue to be counted.
    async with (
        isolated_stack(settings, env, start_worker=False) as stack,
        serve_intake(stack) as base,
    ):
        before = await queued_messages(stack)
        for body, message in BAD_BODIES:
            status, answer, _ = await post(http, base, body)
            assert status == 400, (body, answer)
            assert message in answer["error"], (body, answer)
        status, answer, _ = await post(http, base, b"{" + b" " * (70 * 1024) + b"}")
        assert (status, answer) == (413, {"error": "body: larger than 64 KiB"})
        assert await stack.store.list_runs() == []
        assert await queued_messages(stack) == before
        # The same checks do see a request that is accepted.
        status, answer, _ = await post(
            http, base, {"integration": INTEGRATION, "kind": "employees"}
        )
        assert status == 202, answer
        assert [run.id for run in await stack.store.list_runs()] == [answer["run_id"]]
        assert await queued_messages(stack) == before + answer["enqueued"] > before


async def test_unauthenticated_requests_are_401_and_unknown_things_404(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with sync_stack(sims) as stack, serve_intake(stack) as base:
        body = {"integration": INTEGRATION, "kind": "employees"}
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
            status, answer, answer_headers = await post(http, base, body, headers=headers)
            assert status == 401, answer
            assert TOKEN not in json.dumps(answer)
            assert answer_headers["WWW-Authenticate"].startswith("Bearer")
            async with http.get(f"{base}/api/v1/runs/x", headers=headers) as got:
                assert got.status == 401
        assert await stack.store.list_runs() == []

        status, answer, _ = await post(http, base, {"integration": "nope", "kind": "employees"})
        assert (status, answer) == (404, {"error": "unknown integration 'nope'"})
        async with http.get(f"{base}/api/v1/runs/20250101T000000-00000000", headers=AUTH) as got:
            assert got.status == 404
            assert "unknown run" in (await got.json())["error"]
        assert await stack.store.list_runs() == []


async def test_an_unknown_employee_is_422(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with sync_stack(sims) as stack, serve_intake(stack) as base:
        status, answer, _ = await post(
            http,
            base,
            {"integration": INTEGRATION, "kind": "employees", "employees": ["99999"]},
        )
        assert status == 422
        assert answer == {"error": "employees: not found in Simployer One: 99999"}
        assert await stack.store.list_runs() == []


async def test_bad_source_credentials_are_502_with_the_reason(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with sync_stack(sims) as stack:
        env = {**stack.env, SIMPLOYER_TOKEN_ENV: "not-the-simployer-token"}
        async with serve_intake(stack, Producer(stack.redis, stack.prefix, env=env)) as base:
            status, answer, _ = await post(
                http, base, {"integration": INTEGRATION, "kind": "employees"}
            )
        assert status == 502
        assert "Simployer One rejected the access token" in answer["error"]
        assert "simployer_token_env" in answer["error"]
        assert "not-the-simployer-token" not in answer["error"]


async def test_an_absence_request_exports_the_leaves_of_its_period(
    start_simulators: StartSimulators, http: aiohttp.ClientSession
) -> None:
    sims = start_simulators(
        employees=40, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    async with sync_stack(sims) as stack, serve_intake(stack) as base:
        await stack.sync(SyncRequest(integration=INTEGRATION))
        year = datetime.date.today().year
        start, end = f"{year}-01-01", f"{year}-12-31"
        body = {
            "integration": INTEGRATION,
            "kind": "absences",
            "period": {"from": start, "to": end},
        }
        status, answer, headers = await post(http, base, body)
        assert status == 202, answer
        run = await wait_done_over_http(http, base + headers["Location"])
        assert (run["kind"], run["trigger"], run["period"]) == (
            "absences",
            "upstream",
            f"{start}..{end}",
        )
        outcomes = await stack.store.outcomes(run["run_id"])
        assert_counts_exact(run, len(outcomes))
        hr = {leave.id: leave for leave in (await simployer_state(sims)).leave}
        for item in outcomes:
            leave = hr[item.leave_id]
            assert leave.start_date[:10] <= end
            assert leave.end_date[:10] >= start
        created = {item.leave_id for item in outcomes if item.outcome == "created"}
        assert len(created) > 10, "the generated year has leaves to export"
        exported = {row.external_id for row in (await payroll_state(sims)).absence}
        assert created <= exported


# ------------------------------------------------------------------ coalescing


async def _burst(
    http: aiohttp.ClientSession, base: str, number: str, size: int
) -> list[dict[str, Any]]:
    body = {"integration": INTEGRATION, "kind": "employees", "employees": [number]}
    answers = await asyncio.gather(*(post(http, base, body) for _ in range(size)))
    assert [status for status, _, _ in answers] == [202] * size, answers
    return [answer for _, answer, _ in answers]


async def _change_and_burst(
    sims: RunningSimulators,
    http: aiohttp.ClientSession,
    base: str,
    *,
    employee_id: str,
    number: str,
    change: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Change the employee's last name, send 50 identical requests at once, wait for every run
    they made or joined; the answers and the finished runs."""
    await patch_simployer(sims, "employee", employee_id, {"lastName": change})
    await reset_payroll_requests(sims)
    answers = await _burst(http, base, number, 50)
    run_ids = sorted({answer["run_id"] for answer in answers})
    runs = [await wait_done_over_http(http, f"{base}/api/v1/runs/{run_id}") for run_id in run_ids]
    return answers, runs


async def test_a_burst_of_identical_requests_writes_each_change_once(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with sync_stack(sims) as stack, serve_intake(stack) as base:
        (number,) = await valid_employees(stack, 1)
        employee = next(
            row for row in (await simployer_state(sims)).employee if row.employee_number == number
        )
        for change in ("Burst-one", "Burst-two", "Burst-three"):
            answers, runs = await _change_and_burst(
                sims, http, base, employee_id=employee.id, number=number, change=change
            )
            report = await payroll_requests(sims, log=True)
            writes = [entry for entry in report["log"] if entry["method"] != "GET"]
            assert len(writes) == 1, f"{change}: {len(writes)} writes by {len(runs)} runs"
            assert change in json.dumps(writes[0]["body"]), "the latest data wins"
            stored = next(
                row for row in (await payroll_state(sims)).employee if row.emp_id == number
            )
            assert stored.lastname == change
            # The first request's submit, and at most one more for all that came during it.
            assert len(runs) <= 2
            for run in runs:
                # One record per run however many requests joined it.
                assert_counts_exact(run, 1)
            assert sum(run["counts"]["updated"] for run in runs) == 1
            # Each request started a run or joined one; a record is queued once per run.
            assert len([answer for answer in answers if not answer["joined"]]) == len(runs)
            assert sum(answer["enqueued"] for answer in answers) == len(runs)


async def test_concurrent_requests_for_different_employees_sync_each_once(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    async with sync_stack(sims) as stack, serve_intake(stack) as base:
        numbers = await valid_employees(stack, 10)
        by_number = {row.employee_number: row for row in (await simployer_state(sims)).employee}
        for index, number in enumerate(numbers):
            await patch_simployer(sims, "employee", by_number[number].id, {"lastName": f"N{index}"})
        await reset_payroll_requests(sims)
        bodies = [
            {"integration": INTEGRATION, "kind": "employees", "employees": [number]}
            for number in numbers
        ]
        answers = await asyncio.gather(*(post(http, base, body) for body in bodies))
        assert [status for status, _, _ in answers] == [202] * len(numbers), answers
        run_ids = sorted({answer["run_id"] for _, answer, _ in answers})
        runs = [
            await wait_done_over_http(http, f"{base}/api/v1/runs/{run_id}") for run_id in run_ids
        ]
        records = [
            item.employee_number
            for run_id in run_ids
            for item in await stack.store.outcomes(run_id)
        ]
        assert sorted(records) == sorted(numbers), "each employee in exactly one run"
        for run in runs:
            assert_counts_exact(run, len(await stack.store.outcomes(run["run_id"])))
        assert sum(run["counts"]["updated"] for run in runs) == len(numbers)
        report = await payroll_requests(sims)
        assert report["writes"] == len(numbers)


# ------------------------------------------------------------------ the queue route


async def _new_run(stack: Stack, known: set[str]) -> Run:
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while True:
        fresh = [run for run in await stack.store.list_runs() if run.id not in known]
        if fresh:
            (run,) = fresh
            return run
        assert time.monotonic() < deadline, "the published request made no run"
        await asyncio.sleep(0.05)


async def test_a_published_request_makes_a_run_that_completes(
    sims: RunningSimulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker process reads the integration's tokens from its environment.
    monkeypatch.setenv(SIMPLOYER_TOKEN_ENV, sims.simployer_token)
    monkeypatch.setenv(PAYROLL_TOKEN_ENV, sims.payroll_token)
    async with sync_stack(sims) as stack:
        numbers = await valid_employees(stack, 2)
        known = {run.id for run in await stack.store.list_runs()}
        request = SyncRequest(integration=INTEGRATION, trigger="upstream", employees=numbers)
        with structlog.testing.capture_logs() as events:
            message_id = await asyncio.to_thread(publish_sync_request, request)
            run = await _new_run(stack, known)
            run = await stack.wait(run.id, max_seconds=RUN_DEADLINE_SECONDS)
        assert message_id
        assert (run.trigger, run.integration, run.kind) == ("upstream", INTEGRATION, "employees")
        assert_counts_exact(run, 2)
        assert run.counts["unchanged"] == 2
        (accepted,) = [e for e in events if e["event"] == "request.accepted"]
        assert (accepted["run_id"], accepted["employees"]) == (run.id, 2)


async def test_a_malformed_message_is_dropped_not_retried(sims: RunningSimulators) -> None:
    async with sync_stack(sims) as stack:
        from payroll_sync.worker.actors import submit_sync_request

        broker = stack.broker
        assert isinstance(broker, RedisBroker)
        with structlog.testing.capture_logs() as events:
            for body in ('{"integration": "demo", "kind": "salaries"}', "not json at all"):
                await asyncio.to_thread(submit_sync_request.send, body)
            deadline = time.monotonic() + RUN_DEADLINE_SECONDS
            while sum(e["event"] == "request.malformed" for e in events) < 2:
                assert time.monotonic() < deadline, "the malformed messages were not handled"
                await asyncio.sleep(0.05)
            # Acknowledged, not retried, not dead-lettered.
            while await queued_messages(stack):
                assert time.monotonic() < deadline, "a malformed message is still queued"
                await asyncio.sleep(0.05)
        errors = sorted(e["error"] for e in events if e["event"] == "request.malformed")
        assert "Invalid enum value 'salaries' - at `$.kind`" in errors[0]
        assert "JSON is malformed" in errors[1]
        redis = stack.redis
        assert await redis.zcard(f"{broker.namespace}:{REQUEST_QUEUE}.XQ") == 0
        assert await stack.store.list_runs() == []


# ------------------------------------------------------------------ the logs


async def test_tokens_never_appear_in_the_log_output(
    sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        async with sync_stack(sims) as stack, serve_intake(stack) as base:
            (number,) = await valid_employees(stack, 1)
            body = {"integration": INTEGRATION, "kind": "employees", "employees": [number]}
            status, answer, _ = await post(http, base, body)
            assert status == 202
            await wait_done_over_http(http, f"{base}/api/v1/runs/{answer['run_id']}")
            for headers in (
                {"Authorization": f"Bearer {TOKEN}x"},
                {"Authorization": f"Basic {TOKEN}"},
                {"Authorization": TOKEN},
            ):
                assert (await post(http, base, body, headers=headers))[0] == 401
            # A token pasted into the body is not echoed into the log either.
            status, answer, _ = await post(http, base, {"integration": INTEGRATION, "kind": TOKEN})
            assert status == 400
            assert TOKEN not in answer["error"]
    finally:
        structlog.reset_defaults()
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "stream", None) is stream:
                logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    events = event_names(output)
    assert "intake.accepted" in events
    assert events.count("intake.refused") == 4
    for secret in (TOKEN, sims.simployer_token, sims.payroll_token):
        assert secret not in output
