"""Redis stopped mid-run for 10 s and started again (a Redis of the test's own, persisting to
an AOF): the `payroll-sync worker` rides it out. The run completes within a minute of Redis
returning, no message is dead-lettered, no record fails for an internal reason and 24SevenOffice
ends as a clean run leaves it: every valid employee once, with one employment."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from payroll_sync.cli.exit_codes import EXIT_TRY_LATER
from payroll_sync.queue.broker import broker_namespace
from payroll_sync.runs.store import RunStore
from payroll_sync.simulators.generator import generate_company
from tests.integration.conftest import StartSimulators
from tests.support.deployment import Deployment
from tests.support.own_redis import OwnRedis, free_port
from tests.support.settings import simulator_tokens, simulator_toml, toml_table
from tests.support.simulator_admin import payroll_state
from tests.support.worker_runs import (
    internal_failures,
    payroll_defects,
    wait_for_records,
    wait_until_done,
)

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 10.0
EMPLOYEES = 40


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis", appendonly=True)
    server.directory.mkdir()
    server.start()
    yield server
    server.stop()


async def _dead_letters(redis: aioredis.Redis, namespace: str) -> int:
    keys = [key async for key in redis.scan_iter(match=f"{namespace}:*.XQ")]
    return sum([await redis.zcard(key) for key in keys])


def _broken_employees() -> set[str]:
    """The generated company's employees with data the sync refuses (they fail alone)."""
    return set(generate_company(EMPLOYEES, seed=1).broken)


async def test_a_redis_outage_mid_run_is_ridden_out(
    start_simulators: StartSimulators, own_redis: OwnRedis, tmp_path: Path
) -> None:
    sims = start_simulators(
        employees=EMPLOYEES, latency_ms=100, rate_limit_per_second=0,
        simployer_rate_limit_per_second=0,
    )  # fmt: skip
    config = tmp_path / "integrations.toml"
    worker = {"first_retry_seconds": 0.2, "max_retry_delay_seconds": 2}
    config.write_text(
        simulator_toml("demo", sims, rate_limit_per_second=200.0) + toml_table("worker", worker)
    )
    deployment = Deployment(config, simulator_tokens(sims))
    deployment.env["REDIS_URL"] = own_redis.url
    redis = aioredis.Redis.from_url(own_redis.url)
    store = RunStore(redis, prefix=deployment.prefix)
    try:
        deployment.start_logged(
            "worker", "--processes", "1", "--threads", "8", log=tmp_path / "worker.log"
        )
        submitted = deployment.cli("sync", "employees", "--integration", "demo", "--json")
        assert submitted.returncode == 0, submitted.stderr
        run_id = json.loads(submitted.stdout)["run_id"]
        await wait_for_records(store, run_id, finished=5, within=90)

        await asyncio.to_thread(own_redis.stop)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(own_redis.start)
        await redis.connection_pool.disconnect()
        run = await store.get_run(run_id)
        assert run is not None
        assert run.status != "done", "the outage must land mid-run"

        outcomes = await wait_until_done(store, run_id, within=60)
        assert internal_failures(outcomes) == []
        assert await _dead_letters(redis, broker_namespace(deployment.prefix)) == 0
        assert await payroll_defects(sims) == []
        failed = {item.employee_number for item in outcomes if item.outcome == "failed"}
        assert failed <= _broken_employees(), "only records with bad data fail"
        created = {item.employee_number for item in outcomes if item.outcome == "created"}
        assert {row.emp_id for row in (await payroll_state(sims)).employee} == created
    finally:
        deployment.stop_all()
        await redis.aclose()


def test_the_worker_command_says_when_redis_is_not_answering(tmp_path: Path) -> None:
    config = tmp_path / "integrations.toml"
    config.write_text("")
    deployment = Deployment(config, {})
    deployment.env["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    finished = deployment.cli("worker", "--processes", "1")
    assert finished.returncode == EXIT_TRY_LATER == os.EX_TEMPFAIL
    assert "Redis is not answering" in finished.stderr
    assert "127.0.0.1" not in finished.stderr, "no address (a URL may carry a password)"
