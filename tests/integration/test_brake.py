"""The mass-change brake end to end: `payroll-sync intake` and `payroll-sync worker` as separate
processes, both simulators over HTTP, the real Redis.

Issue 16's Done-when: every bank account blanked in Simployer One -> the next sync holds with
100% of accounts in its summary and writes nothing; approval writes them; cancel writes
nothing (and the next sync holds again, in a new run). A few accounts changed: nothing held.
A scheduled request joining a held run leaves it held.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp
import dramatiq
import msgspec
import pytest
import redis.asyncio as aioredis
from dramatiq.brokers.redis import RedisBroker

from payroll_sync.cli.exit_codes import EXIT_FAILED
from payroll_sync.cli.sync import HELD_NOTE
from payroll_sync.queue.broker import broker_namespace
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.outcomes import Run
from payroll_sync.simulators.serve import RunningSimulators
from tests.support import processes
from tests.support.auth import bearer
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL
from tests.support.logs import json_events
from tests.support.settings import simulator_tokens, simulator_toml, toml_table
from tests.support.simulator_admin import (
    admin_call,
    payroll_requests,
    payroll_rows,
    reset_payroll_requests,
    simployer_rows,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

TOKEN: Final = "intake-brake-token-7c1e55d0a9"
DEADLINE_SECONDS: Final = 120.0
WRITES: Final = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Running:
    deployment: Deployment
    base: str
    store: RunStore
    intake_log: Path


@pytest.fixture
async def running(
    sims: RunningSimulators, tmp_path: Path, redis: aioredis.Redis
) -> AsyncIterator[Running]:
    """Intake and one worker process on a prefix of their own (brake at its defaults)."""
    config = tmp_path / "integrations.toml"
    config.write_text(
        simulator_toml("demo", sims, rate_limit_per_second=200)
        + toml_table("intake.callers", {"simployer-one": "INTAKE_TOKEN"}),
        encoding="utf-8",
    )
    deployment = Deployment(config, {**simulator_tokens(sims), "INTAKE_TOKEN": TOKEN})
    intake_log = tmp_path / "intake.log"
    try:
        with intake_log.open("wb") as log:
            intake = deployment.start("intake", "--port", "0", stdout=subprocess.PIPE, stderr=log)
        deployment.start_worker(threads=4)
        line = await processes.first_line(intake)
        assert line.startswith("intake listening on http://"), line
        yield Running(
            deployment=deployment,
            base=line.split()[3],
            store=RunStore(redis, prefix=deployment.prefix),
            intake_log=intake_log,
        )
    finally:
        deployment.stop_all()
        await deployment.remove_keys(redis)


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, body: object = None
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, json=body, headers=bearer(TOKEN)) as answer:
        return answer.status, await answer.json()


async def _sync(http: aiohttp.ClientSession, running: Running) -> dict[str, Any]:
    status, accepted = await _call(
        http,
        "POST",
        f"{running.base}/api/v1/sync-requests",
        {"integration": "demo", "kind": "employees"},
    )
    assert status == 202, accepted
    return accepted


async def _settled(running: Running, run_id: str) -> Run:
    return await running.store.wait_done(run_id, poll_seconds=0.1, max_seconds=DEADLINE_SECONDS)


async def _done(running: Running, run_id: str) -> Run:
    async def done() -> bool:
        run = await running.store.get_run(run_id)
        return run is not None and run.status == "done"

    await wait_for(done, f"run {run_id} done", within=DEADLINE_SECONDS, every=0.1)
    run = await running.store.get_run(run_id)
    assert run is not None
    return run


async def _accounts(sims: RunningSimulators) -> dict[str, str]:
    rows = await payroll_rows(sims)
    return {str(row["empId"]): str(row.get("account") or "") for row in rows["employee"]}


async def _blank_accounts(sims: RunningSimulators, numbers: set[str] | None = None) -> int:
    """Remove the bank account of every employee (or those numbered `numbers`) in Simployer
    One, as a damaged import would; how many were blanked."""
    company = msgspec.json.decode(await simployer_rows(sims))
    blanked = 0
    for row in company["employee"]:
        if numbers is None or str(row.get("employeeNumber")) in numbers:
            row["bankAccount"] = None
            blanked += 1
    await admin_call("PUT", f"{sims.simployer_admin}/state", company)
    return blanked


async def _payroll_writes(sims: RunningSimulators) -> list[str]:
    report = await payroll_requests(sims, log=True)
    return [
        f"{entry['method']} {entry['path']}"
        for entry in report.get("log", [])
        if entry.get("method") in WRITES
    ]


async def _first_sync(http: aiohttp.ClientSession, running: Running) -> Run:
    """The first sync: nothing to compare, so nothing holds (the generated company has some
    broken rows on purpose: they fail on their own)."""
    first = await _settled(running, (await _sync(http, running))["run_id"])
    assert first.status == "done", first
    assert first.counts["created"] > 0
    return first


async def test_blanked_accounts_hold_the_run_and_approval_writes_them(
    sims: RunningSimulators, running: Running, http: aiohttp.ClientSession
) -> None:
    first = await _first_sync(http, running)
    before = await _accounts(sims)
    with_account = [emp for emp, account in before.items() if account]
    # Every employee written has an account (the count below is of those).
    assert len(with_account) == len(before) == first.counts["created"]

    await _blank_accounts(sims)
    await reset_payroll_requests(sims)
    accepted = await _sync(http, running)
    run = await _settled(running, accepted["run_id"])
    assert run.status == "awaiting_approval"
    assert not accepted["joined"]

    status, view = await _call(http, "GET", f"{running.base}/api/v1/runs/{run.id}")
    assert status == 200
    assert view["status"] == "awaiting_approval"
    brake = view["brake"]
    assert brake["decision"] == "held"
    assert brake["awaiting_approval"] is True
    assert brake["tripped"] == ["account"]
    account = next(field for field in brake["fields"] if field["field"] == "account")
    assert account["name"] == "Bank account"
    assert (account["count"], account["total"], account["percent"]) == (
        len(with_account),
        len(with_account),
        100.0,
    )
    # Masked: the last four digits of the old account at most, and the new one is blank.
    for example in account["examples"]:
        assert example["new"] == ""
        assert example["old"].startswith("•")
        assert len(example["old"].strip("•")) == 4
    # Nothing was written, and payroll still holds every account.
    assert await _payroll_writes(sims) == []
    assert await _accounts(sims) == before

    # The event says which field and how many, never an account.
    held = [e for e in json_events(running.intake_log.read_text()) if e["event"] == "run.held"]
    assert len(held) == 1
    assert held[0]["tripped"][0]["field"] == "account"
    assert held[0]["tripped"][0]["count"] == len(with_account)
    text = json.dumps(held[0])
    for account_number in with_account:
        assert before[account_number] not in text
        assert before[account_number][-4:] not in text

    # Approved through the API: the blank accounts are written.
    status, decided = await _call(http, "POST", f"{running.base}/api/v1/runs/{run.id}/approve")
    assert status == 200, decided
    assert decided["decision"] == "approved"
    assert decided["decided_by"] == "api:simployer-one"
    assert decided["awaiting_approval"] is False
    approved = await _done(running, run.id)
    assert approved.counts["updated"] == len(with_account)
    assert set((await _accounts(sims)).values()) == {""}

    # No such run, or no run id at all: 404, the same words as GET.
    for run_id in ("20990101T000000-00000000", "a:b"):
        status, refused = await _call(http, "POST", f"{running.base}/api/v1/runs/{run_id}/approve")
        assert status == 404
        assert refused == {"error": "unknown run (or expired)"}
    # A second answer is refused, naming the status.
    status, refused = await _call(http, "POST", f"{running.base}/api/v1/runs/{run.id}/cancel")
    assert status == 409
    assert refused["error"] == f"run {run.id} is done, not awaiting approval"


async def test_cancel_writes_nothing_and_the_next_sync_holds_again_in_a_new_run(
    sims: RunningSimulators,
    running: Running,
    http: aiohttp.ClientSession,
    redis: aioredis.Redis,
) -> None:
    await _first_sync(http, running)
    before = await _accounts(sims)
    await _blank_accounts(sims)
    await reset_payroll_requests(sims)
    held = await _settled(running, (await _sync(http, running))["run_id"])
    assert held.status == "awaiting_approval"

    # A scheduled request (published on the queue, run by the worker's producer) joins the
    # held run, and leaves it held: a scheduled run never releases itself.
    held_summary = await running.store.brake_summary(held.id)
    assert held_summary is not None
    first_count = held_summary.counted_at
    publisher = RedisBroker(  # type: ignore[no-untyped-call]
        url=REDIS_URL, namespace=broker_namespace(running.deployment.prefix)
    )
    body = json.dumps({"integration": "demo", "kind": "employees", "trigger": "scheduled"})
    publisher.enqueue(
        dramatiq.Message(
            queue_name="requests",
            actor_name="submit_sync_request",
            args=(body,),
            kwargs={},
            options={},
        )
    )
    publisher.close()

    async def joined() -> bool:
        summary = await running.store.brake_summary(held.id)
        return summary is not None and summary.counted_at > first_count

    await wait_for(joined, "the scheduled request counted the held run", within=DEADLINE_SECONDS)
    still = await running.store.get_run(held.id)
    assert still is not None
    assert still.status == "awaiting_approval"
    assert len(await running.store.list_runs()) == 2  # joined: no run of its own
    assert await _payroll_writes(sims) == []

    status, decided = await _call(http, "POST", f"{running.base}/api/v1/runs/{held.id}/cancel")
    assert status == 200
    assert decided["decision"] == "cancelled"
    cancelled = await running.store.get_run(held.id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"
    assert cancelled.finished == 0
    assert cancelled.total == held.total
    assert not await redis.exists(running.store.keys.snapshots(held.id))  # personal data
    assert await _payroll_writes(sims) == []
    assert await _accounts(sims) == before

    # The next sync, from the command line, starts a new run, counted again: it holds again,
    # and `sync --wait` says so and exits 1 (nothing was written: a person must decide).
    waited = running.deployment.cli(
        "sync", "employees", "--integration", "demo", "--wait", "--json"
    )
    assert waited.returncode == EXIT_FAILED, waited.stderr
    assert HELD_NOTE in waited.stderr
    again = json.loads(waited.stdout)
    assert again["run_id"] != held.id
    assert again["status"] == "awaiting_approval"
    rerun = await running.store.get_run(again["run_id"])
    assert rerun is not None
    assert rerun.status == "awaiting_approval"
    assert await _payroll_writes(sims) == []


async def test_a_few_changed_accounts_are_written_without_a_hold(
    sims: RunningSimulators, running: Running, http: aiohttp.ClientSession
) -> None:
    first = await _first_sync(http, running)
    # 2 of 20 = 10%: below the default 20%.
    few = {str(number) for number in sorted(int(emp) for emp in await _accounts(sims))[:2]}
    assert await _blank_accounts(sims, few) == 2
    run = await _settled(running, (await _sync(http, running))["run_id"])
    assert run.status == "done"
    assert run.counts["updated"] == 2
    assert run.total == first.total
    summary = await running.store.brake_summary(run.id)
    assert summary is not None
    assert summary.decision == "released"
    assert not summary.tripped
    assert {field.field: field.count for field in summary.fields}["account"] == 2
    accounts = await _accounts(sims)
    assert {emp for emp, account in accounts.items() if not account} == few
