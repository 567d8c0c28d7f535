"""`payroll-sync intake` and `payroll-sync worker` as separate processes, as in production:
a request over HTTP and one published on the queue by a bare Dramatiq client both end in
finished runs; SIGTERM stops the intake cleanly; its log holds no token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

import aiohttp
import dramatiq
import pytest
import redis.asyncio as aioredis
from dramatiq.brokers.redis import RedisBroker

from payroll_sync.queue.broker import broker_namespace
from payroll_sync.runs.store import RunStore, delete_keys
from payroll_sync.schemas.outcomes import Run
from payroll_sync.simulators.serve import RunningSimulators
from tests.support.keys import REDIS_URL, unique_prefix

pytestmark = pytest.mark.integration

CLI: Final = [sys.executable, "-m", "payroll_sync.cli"]
TOKEN: Final = "intake-process-token-3b9e0c55aa"
DEADLINE_SECONDS: Final = 120.0


def _config(sims: RunningSimulators) -> str:
    return f"""
[integrations.demo]
simployer_url = "{sims.simployer_url}"
simployer_token_env = "DEMO_SIMPLOYER_TOKEN"
payroll_url = "{sims.payroll_url}"
payroll_token_env = "DEMO_PAYROLL_TOKEN"
rate_limit_per_second = 200

[intake.callers]
simployer-one = "INTAKE_TOKEN_SIMPLOYER_ONE"
hr-events = "INTAKE_TOKEN_HR_EVENTS"
"""


class Deployment:
    def __init__(self, sims: RunningSimulators, tmp_path: Path) -> None:
        config = tmp_path / "integrations.toml"
        config.write_text(_config(sims), encoding="utf-8")
        self.prefix = unique_prefix()
        self.env = {
            **os.environ,
            "PAYROLL_SYNC_CONFIG": str(config),
            "REDIS_URL": REDIS_URL,
            "PAYROLL_SYNC_PREFIX": self.prefix,
            "DEMO_SIMPLOYER_TOKEN": sims.simployer_token,
            "DEMO_PAYROLL_TOKEN": sims.payroll_token,
            "INTAKE_TOKEN_SIMPLOYER_ONE": TOKEN,
        }
        self.env.pop("INTAKE_TOKEN_HR_EVENTS", None)
        self.intake_log = tmp_path / "intake.log"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, stdout: Any, stderr: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [*CLI, *args], env=self.env, start_new_session=True, stdout=stdout, stderr=stderr
        )
        self.processes.append(process)
        return process


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


async def _listening_on(process: subprocess.Popen[bytes]) -> str:
    """The intake's base URL, from the line it prints once it listens."""
    assert process.stdout is not None
    line = await asyncio.to_thread(process.stdout.readline)
    text = line.decode()
    assert text.startswith("intake listening on http://"), text
    return text.split()[3]


async def _wait_done(store: RunStore, run_id: str) -> Run:
    return await store.wait_done(run_id, poll_seconds=0.1, max_seconds=DEADLINE_SECONDS)


async def test_intake_and_worker_processes_sync_requests_from_http_and_the_queue(
    sims: RunningSimulators, tmp_path: Path, redis: aioredis.Redis, http: aiohttp.ClientSession
) -> None:
    deployment = Deployment(sims, tmp_path)
    store = RunStore(redis, prefix=deployment.prefix)
    try:
        with deployment.intake_log.open("wb") as log:
            intake = deployment.start("intake", "--port", "0", stdout=subprocess.PIPE, stderr=log)
            deployment.start(
                "worker",
                "--processes",
                "1",
                "--threads",
                "2",
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = await _listening_on(intake)

            # Over HTTP: the whole scope, then follow the run.
            async with http.post(
                f"{base}/api/v1/sync-requests",
                json={"integration": "demo", "kind": "employees"},
                headers={"Authorization": f"Bearer {TOKEN}"},
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
            deadline = time.monotonic() + DEADLINE_SECONDS
            while len(runs := await store.list_runs()) < 2:
                assert time.monotonic() < deadline, "the published request made no run"
                await asyncio.sleep(0.1)
            queued = next(item for item in runs if item.id != run.id)
            queued = await _wait_done(store, queued.id)
            assert (queued.total, queued.counts["unchanged"]) == (2, 2)

            # SIGTERM: the intake stops, exit 0.
            assert _stop(intake) == 0
        output = deployment.intake_log.read_text(encoding="utf-8")
        events = [json.loads(line)["event"] for line in output.splitlines() if line.startswith("{")]
        assert "intake.started" in events
        assert "intake.accepted" in events
        assert "intake.caller_disabled" in events  # hr-events has no token set
        assert "intake.stopping" in events
        for secret in (TOKEN, sims.simployer_token, sims.payroll_token):
            assert secret not in output
    finally:
        for process in deployment.processes:
            _stop(process)
        await store.delete_everything()
        await delete_keys(redis, f"{broker_namespace(deployment.prefix)}:*")
