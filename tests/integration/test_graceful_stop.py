"""SIGTERM to `payroll-sync worker` (to its main process, or to its whole process group as
systemd sends it) stops it gracefully: records in flight finish or go back to the queue, none
fails for an internal reason, no employee is left without an employment, the worker exits 0
within its bound, and a second worker finishes the run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

import pytest
import redis.asyncio as aioredis

from payroll_sync.runs.store import RunStore
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.worker.stopping import HAND_BACK_SECONDS
from tests.integration.conftest import StartSimulators
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL
from tests.support.logs import json_events
from tests.support.settings import simulator_tokens, simulator_toml, toml_table
from tests.support.worker_runs import (
    internal_failures,
    payroll_defects,
    wait_for_records,
    wait_until_done,
)

pytestmark = pytest.mark.integration

#: Beyond the bound, how long a stopping worker may take to be gone (process exit, a loaded
#: machine); a worker still there after this did not stop.
EXIT_MARGIN_SECONDS = 15.0

Target = Literal["process", "group"]
Deploy = Callable[[RunningSimulators, float], Deployment]


@pytest.fixture
async def deploy(tmp_path: Path) -> AsyncIterator[Deploy]:
    redis = aioredis.Redis.from_url(REDIS_URL)
    made: list[Deployment] = []

    def make(sims: RunningSimulators, stop_timeout: float) -> Deployment:
        config = tmp_path / "integrations.toml"
        worker = {
            "first_retry_seconds": 0.2,
            "max_retry_delay_seconds": 2,
            "dead_worker_after_seconds": 5,
            "stop_timeout_seconds": stop_timeout,
        }
        config.write_text(
            simulator_toml("demo", sims, rate_limit_per_second=200.0) + toml_table("worker", worker)
        )
        deployment = Deployment(config, simulator_tokens(sims))
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.stop_all()
        await deployment.remove_keys(redis)
    await redis.aclose()


def _events_of(log: Path) -> list[dict[str, Any]]:
    return json_events(log.read_text())


def _send_sigterm(process: subprocess.Popen[bytes], target: Target) -> None:
    if target == "group":
        os.killpg(process.pid, signal.SIGTERM)  # what systemd does
    else:
        os.kill(process.pid, signal.SIGTERM)


async def _stop_mid_run(
    sims: RunningSimulators,
    deployment: Deployment,
    *,
    target: Target,
    stop_timeout: float,
    log: Path,
) -> None:
    store = RunStore(aioredis.Redis.from_url(REDIS_URL), prefix=deployment.prefix)
    try:
        first = deployment.start_logged("worker", "--processes", "1", "--threads", "8", log=log)
        submitted = deployment.cli("sync", "employees", "--integration", "demo", "--json")
        assert submitted.returncode == 0, submitted.stderr
        run_id = json.loads(submitted.stdout)["run_id"]
        await wait_for_records(store, run_id, finished=3, within=90)

        _send_sigterm(first, target)
        bound = stop_timeout + HAND_BACK_SECONDS + EXIT_MARGIN_SECONDS
        returncode = await asyncio.to_thread(first.wait, timeout=bound)
        assert returncode == 0, _events_of(log)[-20:]
        run = await store.get_run(run_id)
        assert run is not None
        assert run.status != "done", "the stop must land mid-run"

        deployment.start_worker(threads=8)
        outcomes = await wait_until_done(store, run_id, within=120)
        assert internal_failures(outcomes) == []
        assert await payroll_defects(sims) == []
    finally:
        await store.redis.aclose()


@pytest.mark.parametrize("target", ["process", "group"])
async def test_sigterm_lets_records_in_flight_finish(
    start_simulators: StartSimulators, deploy: Deploy, target: Target, tmp_path: Path
) -> None:
    sims = start_simulators(
        employees=40, latency_ms=150, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    log = tmp_path / "worker.log"
    await _stop_mid_run(sims, deploy(sims, 20.0), target=target, stop_timeout=20.0, log=log)
    events = _events_of(log)
    assert "worker.stopped" in [event["event"] for event in events]
    cut_short = [e for e in events if e["event"] == "record.handed_back" and e["started"]]
    assert cut_short == [], "the bound was long enough for them to finish"


async def test_records_past_the_bound_are_handed_back(
    start_simulators: StartSimulators, deploy: Deploy, tmp_path: Path
) -> None:
    # Each request takes a second and a record makes several: none ends within the bound.
    sims = start_simulators(
        employees=24, latency_ms=1000, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    log = tmp_path / "worker.log"
    await _stop_mid_run(sims, deploy(sims, 1.0), target="group", stop_timeout=1.0, log=log)
    events = _events_of(log)
    assert [e for e in events if e["event"] == "record.handed_back" and e["started"]]
