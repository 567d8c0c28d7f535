"""`payroll-sync intake` and `payroll-sync worker` as separate processes, as in production:
a request over HTTP and one published on the queue by a bare Dramatiq client both end in
finished runs; SIGTERM stops the intake cleanly; its log holds no token."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Final

import aiohttp
import dramatiq
import pytest
import redis.asyncio as aioredis
from dramatiq.brokers.redis import RedisBroker

from payroll_sync.queue.broker import broker_namespace
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.outcomes import Run
from payroll_sync.simulators.serve import RunningSimulators
from tests.support import processes
from tests.support.auth import bearer
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL
from tests.support.logs import event_names
from tests.support.settings import simulator_tokens, simulator_toml, toml_table
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

TOKEN: Final = "intake-process-token-3b9e0c55aa"
DEADLINE_SECONDS: Final = 120.0


def _deployment(sims: RunningSimulators, tmp_path: Path) -> Deployment:
    """Callers `simployer-one` (its token set) and `hr-events` (its token missing)."""
    config = tmp_path / "integrations.toml"
    callers = {"simployer-one": "INTAKE_TOKEN_SIMPLOYER_ONE", "hr-events": "INTAKE_TOKEN_HR_EVENTS"}
    config.write_text(
        simulator_toml("demo", sims, rate_limit_per_second=200)
        + toml_table("intake.callers", callers),
        encoding="utf-8",
    )
    deployment = Deployment(config, {**simulator_tokens(sims), "INTAKE_TOKEN_SIMPLOYER_ONE": TOKEN})
    deployment.env.pop("INTAKE_TOKEN_HR_EVENTS", None)
    return deployment


async def _listening_on(process: subprocess.Popen[bytes]) -> str:
    """The intake's base URL, from the line it prints once it listens."""
    text = await processes.first_line(process)
    assert text.startswith("intake listening on http://"), text
    return text.split()[3]


async def _wait_done(store: RunStore, run_id: str) -> Run:
    return await store.wait_done(run_id, poll_seconds=0.1, max_seconds=DEADLINE_SECONDS)


async def test_intake_and_worker_processes_sync_requests_from_http_and_the_queue(
    sims: RunningSimulators, tmp_path: Path, redis: aioredis.Redis, http: aiohttp.ClientSession
) -> None:
    deployment = _deployment(sims, tmp_path)
    intake_log = tmp_path / "intake.log"
    store = RunStore(redis, prefix=deployment.prefix)
    try:
        with intake_log.open("wb") as log:
            intake = deployment.start("intake", "--port", "0", stdout=subprocess.PIPE, stderr=log)
            deployment.start_worker(threads=2)
            base = await _listening_on(intake)

            # Over HTTP: the whole scope, then follow the run.
            async with http.post(
                f"{base}/api/v1/sync-requests",
                json={"integration": "demo", "kind": "employees"},
                headers=bearer(TOKEN),
            ) as answer:
                assert answer.status == 202, await answer.text()
                accepted = await answer.json()
            run = await _wait_done(store, accepted["run_id"])
            assert run.trigger == "upstream"
            assert run.total == accepted["enqueued"] > 0
            assert sum(run.counts.values()) == run.total
            created = [
                item.employee_number
                for item in await store.outcomes(run.id)
                if item.outcome == "created"
            ]

            # On the queue, as a publisher without our code would: a Dramatiq message for the
            # actor `submit_sync_request` on queue `requests`, its one argument the JSON text.
            publisher = RedisBroker(  # type: ignore[no-untyped-call]
                url=REDIS_URL, namespace=broker_namespace(deployment.prefix)
            )
            body = json.dumps(
                {
                    "integration": "demo",
                    "kind": "employees",
                    "trigger": "upstream",
                    "employees": created[:2],
                }
            )
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

            async def two_runs() -> bool:
                return len(await store.list_runs()) >= 2

            await wait_for(
                two_runs, "the published request made a run", within=DEADLINE_SECONDS, every=0.1
            )
            runs = await store.list_runs()
            queued = next(item for item in runs if item.id != run.id)
            queued = await _wait_done(store, queued.id)
            assert (queued.total, queued.counts["unchanged"]) == (2, 2)

            # SIGTERM: the intake stops, exit 0.
            assert processes.stop(intake) == 0
        output = intake_log.read_text(encoding="utf-8")
        events = event_names(output)
        assert "intake.started" in events
        assert "intake.accepted" in events
        assert "intake.caller_disabled" in events  # hr-events has no token set
        assert "intake.stopping" in events
        for secret in (TOKEN, sims.simployer_token, sims.payroll_token):
            assert secret not in output
    finally:
        deployment.stop_all()
        await deployment.remove_keys(redis)
