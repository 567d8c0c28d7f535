"""Issue 16's alerts, end to end: real runs made by a real Dramatiq worker against the
simulators over HTTP, the real Redis, the alerts' loop, and a local webhook receiver counting
what it is sent.

An integration whose every record fails raises exactly one call, however many passes (and
evaluators at once) see it still failing; once it syncs cleanly again, exactly one recovery
call. No body holds personal data or a token.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Final

import aiohttp
import msgspec
import redis.asyncio as aioredis

from payroll_sync.alerts.loop import AlertLoop
from payroll_sync.catalog import LiveCatalog
from payroll_sync.runs.store import RunStore
from payroll_sync.scheduler.slots import next_slot_at
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Scope, Worker
from payroll_sync.simulators import simployer as simployer_sim
from payroll_sync.simulators.generator import generate_company
from payroll_sync.stack import Stack, simulator_settings
from tests.integration.conftest import StartSimulators
from tests.support import waiting
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL
from tests.support.settings import simulator_tokens, simulator_toml, toml_table
from tests.support.stack import INTEGRATION, isolated_stack
from tests.support.webhook_receiver import Receiver, webhook_receiver
from tests.support.worker_runs import wait_until_done

EMPLOYEES: Final = 20
HOOK_ENV: Final = "PAYROLL_SYNC_ALERT_WEBHOOK_URL"
#: Far above the plausibility bound of a monthly or an hourly salary: the record fails unwritten.
IMPLAUSIBLE: Final = 1e9
# Generous: waiting for something that must happen, never a claim about speed.
WITHIN: Final = 90.0


def alert_loops(stack: Stack, receiver: Receiver, count: int) -> list[AlertLoop]:
    """`count` evaluators on one Redis: as many scheduler processes."""
    return [
        AlertLoop(
            catalog=LiveCatalog.fixed(stack.settings),
            redis=stack.redis,
            prefix=stack.prefix,
            next_slot=next_slot_at,
            enabled_since=ScheduleState(stack.redis, prefix=stack.prefix).enabled_since,
            environ={HOOK_ENV: receiver.url},
        )
        for _ in range(count)
    ]


def personal_values(sims_seed: int) -> set[str]:
    company = generate_company(EMPLOYEES, seed=sims_seed)
    found: set[str] = set()
    for row in company.dataset.employee:
        found |= {row.ssn or "", row.first_name or "", row.last_name or ""}
        if row.bank_account:
            found |= {row.bank_account.number or "", row.bank_account.iban or ""}
        if row.home_address:
            found.add(row.home_address.street or "")
    for pay in company.dataset.compensation:
        found |= {f"{pay.amount:.2f}", str(int(pay.amount))}
    return {value for value in found if len(value) >= 4}


async def test_a_failing_integration_pages_once_and_once_when_it_recovers(
    start_simulators: StartSimulators,
) -> None:
    sims = start_simulators(
        employees=EMPLOYEES, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    # The generated company's deliberately broken employees stay out: a clean run is clean.
    broken = sorted(generate_company(EMPLOYEES, seed=1).broken)
    settings, env = simulator_settings(
        sims,
        integration=INTEGRATION,
        rate_limit_per_second=200,
        scope=Scope(exclude=broken),
        worker=Worker(first_retry_seconds=0.2, max_retry_delay_seconds=2.0),
    )
    compensations = simployer_sim.store_of(sims.simployer_app).by_id["compensation"]
    salaries = {row_id: row["amount"] for row_id, row in compensations.items()}

    async def sync() -> tuple[int, int]:
        run, _ = await stack.sync(SyncRequest(integration=INTEGRATION), max_seconds=120)
        return run.counts["failed"], run.finished

    async with (
        isolated_stack(settings, env, worker_threads=4) as stack,
        webhook_receiver() as receiver,
        aiohttp.ClientSession() as session,
    ):
        loops = alert_loops(stack, receiver, 2)

        async def passes(count: int = 2) -> None:
            for _ in range(count):
                await asyncio.gather(*(alerts.tick(session) for alerts in loops))

        failed, records = await sync()
        assert (failed, records > 0) == (0, True)
        await passes()
        assert receiver.calls == 0

        # Every salary implausible: every record fails.
        for row in compensations.values():
            row["amount"] = IMPLAUSIBLE
        failed, records = await sync()
        assert failed == records
        await passes()
        assert receiver.calls == 1
        [opened] = receiver.opened()
        # Two runs counted: the clean one and the failed one.
        assert f"{failed} of {2 * records} records failed in the last 2 runs" in opened
        assert f"payroll-sync: {INTEGRATION}: records failing" in opened

        # Still failing, run after run: no more calls.
        await sync()
        await passes(3)
        assert receiver.calls == 1

        # Fixed: the last three runs must be clean enough (3 x failed of 3 x records first).
        for row_id, amount in salaries.items():
            compensations[row_id]["amount"] = amount
        for expected_calls in (1, 1, 2):
            failed, _ = await sync()
            assert failed == 0
            await passes()
            assert receiver.calls == expected_calls
        [recovered] = receiver.recovered()
        assert f"0 of {3 * records} records failed in the last 3 runs" in recovered
        await passes(3)
        assert receiver.calls == 2

        incidents = loops[0].store
        assert await incidents.open_incidents() == []
        [resolved] = await incidents.recently_resolved(since=0)
        assert resolved.condition == "failing"

    text = msgspec.json.encode(receiver.bodies).decode()
    for secret in sorted(personal_values(1) | {sims.simployer_token, sims.payroll_token}):
        assert secret not in text, "personal data or a token in a webhook body"
    assert receiver.url not in text


async def test_two_scheduler_processes_page_once_and_once_on_recovery(
    start_simulators: StartSimulators, tmp_path: Path
) -> None:
    """`payroll-sync scheduler` twice and `payroll-sync worker`, as deployed: the runs come from
    `payroll-sync sync`, the calls from whichever scheduler process gets there first."""
    sims = start_simulators(
        employees=EMPLOYEES, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    broken = sorted(generate_company(EMPLOYEES, seed=1).broken)
    config = tmp_path / "integrations.toml"
    config.write_text(
        simulator_toml("demo", sims, rate_limit_per_second=200.0)
        + toml_table("integrations.demo.scope", {"exclude": broken})
        + toml_table("worker", {"first_retry_seconds": 0.2, "max_retry_delay_seconds": 2})
        + toml_table("alerts", {"interval_seconds": 1, "dashboard_url": "https://dash.example"})
    )
    compensations = simployer_sim.store_of(sims.simployer_app).by_id["compensation"]
    salaries = {row_id: row["amount"] for row_id, row in compensations.items()}
    redis = aioredis.Redis.from_url(REDIS_URL)
    async with webhook_receiver() as receiver:
        deployment = Deployment(config, {**simulator_tokens(sims), HOOK_ENV: receiver.url})
        store = RunStore(redis, prefix=deployment.prefix)

        async def sync() -> int:
            submitted = await asyncio.to_thread(
                deployment.cli, "sync", "employees", "--integration", "demo", "--json"
            )
            assert submitted.returncode == 0, submitted.stderr
            run_id = json.loads(submitted.stdout)["run_id"]
            outcomes = await wait_until_done(store, run_id, within=WITHIN)
            return sum(item.outcome == "failed" for item in outcomes)

        async def calls(count: int) -> bool:
            return receiver.calls >= count

        try:
            deployment.start_worker(threads=4)
            for index in range(2):
                deployment.start_logged("scheduler", log=tmp_path / f"scheduler-{index}.log")
            for pay in compensations.values():
                pay["amount"] = IMPLAUSIBLE
            assert await sync() > 0
            await waiting.wait_for(lambda: calls(1), "the opening call", within=WITHIN)

            for row_id, amount in salaries.items():
                compensations[row_id]["amount"] = amount
            for _ in range(3):
                assert await sync() == 0
            await waiting.wait_for(lambda: calls(2), "the recovery call", within=WITHIN)
        finally:
            await asyncio.to_thread(deployment.stop_all)
            await deployment.remove_keys(redis)
            await redis.aclose()
    # Both processes stopped: nothing more can come.
    assert receiver.calls == 2
    assert len(receiver.opened()) == 1
    assert len(receiver.recovered()) == 1
    assert "<https://dash.example/integrations/demo|" in receiver.texts()[0]
    logs = "".join(
        await asyncio.to_thread(lambda: [p.read_text() for p in tmp_path.glob("scheduler-*.log")])
    )
    assert "alert.opened" in logs
    assert receiver.url not in logs
    assert "secret-part" not in logs
