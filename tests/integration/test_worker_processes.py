"""The service as it runs in production: `payroll-sync worker` processes and the CLI, on Redis.

Covers what an in-process worker cannot: a worker killed with SIGKILL mid-run loses nothing once
another picks the run up, and the CLI's output and exit codes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from payroll_sync.runs.store import RunStore
from payroll_sync.simulators.generator import generate_company
from payroll_sync.simulators.serve import RunningSimulators
from tests.integration.conftest import StartSimulators
from tests.support import processes
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL
from tests.support.settings import simulator_tokens, simulator_toml, toml_table
from tests.support.simulator_admin import payroll_state

pytestmark = pytest.mark.integration


class StoredDeployment(Deployment):
    """A deployment and its run store, to follow the runs its processes make."""

    def __init__(self, config: Path, secrets: dict[str, str], redis: aioredis.Redis) -> None:
        super().__init__(config, secrets)
        self.store = RunStore(redis, prefix=self.prefix)


def _config(sims: RunningSimulators, *, rate_limit: float) -> str:
    return simulator_toml("demo", sims, rate_limit_per_second=rate_limit) + toml_table(
        "worker",
        {
            "first_retry_seconds": 0.2,
            "max_retry_delay_seconds": 2,
            "dead_worker_after_seconds": 2,
            "broker_maintenance_chance": 200000,
        },
    )


Deploy = Callable[..., StoredDeployment]


@pytest.fixture
async def deploy(tmp_path: Path) -> AsyncIterator[Deploy]:
    redis = aioredis.Redis.from_url(REDIS_URL)
    deployments: list[StoredDeployment] = []

    def make(sims: RunningSimulators, *, rate_limit: float = 200.0) -> StoredDeployment:
        config = tmp_path / "integrations.toml"
        config.write_text(_config(sims, rate_limit=rate_limit))
        deployment = StoredDeployment(config, simulator_tokens(sims), redis)
        deployments.append(deployment)
        return deployment

    yield make
    for deployment in deployments:
        deployment.stop_all()
        await deployment.remove_keys(redis)
    await redis.aclose()


async def _wait_until(store: RunStore, run_id: str, *, finished: int, within: float) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        run = await store.get_run(run_id)
        if run is not None and (run.finished >= finished or run.status == "done"):
            return run.finished
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id}: fewer than {finished} records after {within} s")


def _valid_in_scope(employees: int) -> tuple[list[str], dict[str, str]]:
    company = generate_company(employees, seed=1)
    active = [row.employee_number for row in company.dataset.employee if row.active]
    return [number for number in active if number not in company.broken], company.broken


async def test_a_worker_killed_mid_run_loses_nothing(
    start_simulators: StartSimulators, deploy: Deploy
) -> None:
    sims = start_simulators(
        employees=120, latency_ms=20, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    deployment = deploy(sims, rate_limit=25.0)
    first = deployment.start_worker()
    submitted = deployment.cli("sync", "employees", "--integration", "demo", "--json")
    assert submitted.returncode == 0, submitted.stderr
    run_id = json.loads(submitted.stdout)["run_id"]
    done_before_kill = await _wait_until(deployment.store, run_id, finished=25, within=60)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    run = await deployment.store.get_run(run_id)
    assert run is not None
    assert run.status != "done", "the kill must land mid-run"

    deployment.start_worker()
    await _wait_until(deployment.store, run_id, finished=run.total, within=120)
    run = await deployment.store.get_run(run_id)
    assert run is not None
    assert run.status == "done"
    assert run.finished == run.total > done_before_kill
    outcomes = {item.employee_number: item for item in await deployment.store.outcomes(run_id)}
    state = await payroll_state(sims)
    employees = Counter(row.emp_id for row in state.employee)
    employments = Counter(row.emp_id for row in state.employment)
    assert set(employees.values()) == {1}, "no duplicate employee"
    assert set(employments.values()) == {1}, "no duplicate employment"
    for number in sorted(employees):
        assert outcomes[number].outcome == "created", (number, outcomes[number])


async def test_cli_sync_wait_json_and_exit_codes(
    start_simulators: StartSimulators, deploy: Deploy
) -> None:
    sims = start_simulators(
        employees=40, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    deployment = deploy(sims)
    deployment.start_worker()
    valid, broken = _valid_in_scope(40)

    dry = deployment.cli(
        "sync", "employees", "--integration", "demo", "--employees", ",".join(valid[:3]),
        "--dry-run", "--wait", "--json",
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    body = json.loads(dry.stdout)
    assert {"run_id", "status", "counts", "records", "kind", "integration"} <= set(body)
    assert body["counts"]["created"] == 3
    assert [record["employee_number"] for record in body["records"]] == valid[:3]
    assert (await payroll_state(sims)).employee == [], "a dry run writes nothing"

    full = deployment.cli("sync", "employees", "--integration", "demo", "--wait", "--json")
    assert full.returncode == 1, "broken records failed, so the exit code says so"
    body = json.loads(full.stdout)
    assert body["status"] == "done"
    failed = {r["employee_number"]: r for r in body["records"] if r["outcome"] == "failed"}
    assert failed
    assert set(failed) <= set(broken)
    assert all(record["reason"] for record in failed.values())

    table = deployment.cli("sync", "employees", "--integration", "demo", "--wait")
    assert table.returncode == 1
    assert "unchanged" in table.stdout
    assert "employee  outcome  field" in table.stdout

    unknown = deployment.cli("sync", "employees", "--integration", "nope", "--wait")
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr
    missing = deployment.cli("sync", "employees", "--integration", "demo", "--employees", "99999")
    assert missing.returncode == 2
    assert "99999" in missing.stderr


async def test_check_config_says_which_side_fails(
    start_simulators: StartSimulators, deploy: Deploy
) -> None:
    sims = start_simulators(employees=5, rate_limit_per_second=0, simployer_rate_limit_per_second=0)
    deployment = deploy(sims)
    good = deployment.cli("check-config")
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("ok") == 2

    deployment.env["DEMO_PAYROLL_TOKEN"] = "wrong-token-123"
    bad = deployment.cli("check-config")
    assert bad.returncode == 1
    (row,) = [line for line in bad.stdout.splitlines() if line.startswith("demo")]
    simployer_cell, payroll_cell = row.split("  ", 1)[1].strip().split("  ", 1)
    assert simployer_cell.strip() == "ok"
    assert "FAILED" in payroll_cell
    assert "wrong-token-123" not in bad.stdout + bad.stderr

    del deployment.env["DEMO_SIMPLOYER_TOKEN"]
    missing = deployment.cli("check-config")
    assert missing.returncode == 1
    assert "DEMO_SIMPLOYER_TOKEN" in missing.stdout


def test_worker_refuses_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "integrations.toml"
    config.write_text("[integrations.demo]\nsimployer_url = 5\n")
    result = processes.run(
        [*processes.CLI, "worker"], env={**os.environ, "PAYROLL_SYNC_CONFIG": str(config)}
    )
    assert result.returncode == 2
    assert "integrations.demo" in result.stderr


async def test_the_absence_commands_outputs_and_refusals(
    start_simulators: StartSimulators, deploy: Deploy
) -> None:
    sims = start_simulators(
        employees=30, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    deployment = deploy(sims)
    deployment.start_worker()
    assert deployment.cli("sync", "employees", "--integration", "demo", "--wait").returncode == 1
    year = ("--from", "2026-01-01", "--to", "2026-12-31")

    done = deployment.cli("sync", "absences", "--integration", "demo", *year, "--wait", "--json")
    body = json.loads(done.stdout)
    assert (body["kind"], body["status"], body["period"]) == (
        "absences",
        "done",
        "2026-01-01..2026-12-31",
    )
    assert body["counts"]["created"] > 10
    # Leaves of employees the employee sync could not create fail, so the exit code says so.
    assert done.returncode == (1 if body["counts"]["failed"] else 0)
    for record in body["records"]:
        assert {"employee_number", "leave_id", "outcome", "changed", "reason"} <= set(record)
    exported = {row.external_id for row in (await payroll_state(sims)).absence}
    created = {r["leave_id"] for r in body["records"] if r["outcome"] == "created"}
    assert created == exported

    table = deployment.cli("sync", "absences", "--integration", "demo", *year, "--codes", "04")
    assert table.returncode == 0, table.stderr
    assert "leaves queued" in table.stdout

    refusals = {
        "after": (("--from", "2026-02-01", "--to", "2026-01-01"), "'from' 2026-02-01 is after"),
        "malformed": (("--from", "2026-13-01", "--to", "2026-12-31"), "--from"),
        "code": ((*year, "--codes", "01,08"), "unknown absence code '08'"),
    }
    for name, (args, message) in refusals.items():
        refused = deployment.cli("sync", "absences", "--integration", "demo", *args)
        assert refused.returncode == 2, name
        assert message in refused.stderr, (name, refused.stderr)
