"""A worker killed outright (SIGKILL, the OOM killer, a lost machine) leaves its messages
unacknowledged; Dramatiq's broker maintenance gives them to a live worker once it counts as dead.
That maintenance must run often enough without the luck of `broker_maintenance_chance`: here it
is one in a million commands, and the run still completes soon after `dead_worker_after_seconds`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from payroll_sync.runs.store import RunStore
from tests.integration.conftest import StartSimulators
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL
from tests.support.settings import simulator_tokens, simulator_toml, toml_table
from tests.support.worker_runs import (
    internal_failures,
    payroll_defects,
    wait_for_records,
    wait_until_done,
)

pytestmark = pytest.mark.integration

DEAD_AFTER_SECONDS = 3


async def test_a_killed_workers_records_go_to_another_without_luck(
    start_simulators: StartSimulators, tmp_path: Path
) -> None:
    sims = start_simulators(
        employees=40, latency_ms=150, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    config = tmp_path / "integrations.toml"
    worker = {
        "first_retry_seconds": 0.2,
        "max_retry_delay_seconds": 2,
        "dead_worker_after_seconds": DEAD_AFTER_SECONDS,
        "broker_maintenance_chance": 1,
    }
    config.write_text(
        simulator_toml("demo", sims, rate_limit_per_second=200.0) + toml_table("worker", worker)
    )
    deployment = Deployment(config, simulator_tokens(sims))
    redis = aioredis.Redis.from_url(REDIS_URL)
    store = RunStore(redis, prefix=deployment.prefix)
    try:
        first = deployment.start_worker(threads=8)
        submitted = deployment.cli("sync", "employees", "--integration", "demo", "--json")
        assert submitted.returncode == 0, submitted.stderr
        run_id = json.loads(submitted.stdout)["run_id"]
        await wait_for_records(store, run_id, finished=3, within=90)
        os.killpg(first.pid, signal.SIGKILL)
        await asyncio.to_thread(first.wait)

        deployment.start_worker(threads=8)
        outcomes = await wait_until_done(store, run_id, within=60)
        assert internal_failures(outcomes) == []
        assert await payroll_defects(sims) == []
    finally:
        deployment.stop_all()
        await deployment.remove_keys(redis)
        await redis.aclose()
