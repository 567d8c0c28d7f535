"""Integrations as data, without a restart (issue 15's "done when"): real PostgreSQL, real
Redis, `payroll-sync worker` and `payroll-sync intake` processes and a scheduler process, all
started once with an empty registry; then 1,000 integrations are added through the intake's
`PUT /api/v1/integrations/{id}`, one changed and one removed through the same API.

- the intake accepts a sync request for one of the new ones, and the worker syncs its records
  against the simulators;
- a scheduler process (its clock the test's, its submit a Redis list, as in
  tests/integration/test_scheduler.py, its catalog the registry) fires the new schedules, fires
  a changed one at its new time only, and never fires a removed one again;
- a removed integration's records still waiting in the pacer end at once "integration removed"
  (never retried, never "internal error"), and the intake refuses it.

The tokens are never in the processes' logs.
"""

from __future__ import annotations

import asyncio
import datetime
import multiprocessing
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import msgspec
import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from payroll_sync.catalog import LiveCatalog
from payroll_sync.config import Environment
from payroll_sync.errors import ConfigError
from payroll_sync.logs import configure_logging
from payroll_sync.producer.enrol import Expansion
from payroll_sync.registry.records import TokensUpdate
from payroll_sync.registry.store import Registry
from payroll_sync.runs.store import RunStore, delete_keys
from payroll_sync.scheduler.process import Scheduler
from payroll_sync.scheduler.slots import OSLO, Slot
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.schemas.settings import Integration, Settings
from payroll_sync.simulators.serve import RunningSimulators
from tests.support import processes
from tests.support.auth import bearer
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL
from tests.support.postgres import SERVER_URL, fresh_database
from tests.support.settings import (
    OFFLINE_PAYROLL_URL,
    OFFLINE_SIMPLOYER_URL,
    integration_toml,
    toml_table,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

SPAWN: Final = multiprocessing.get_context("spawn")
COUNT: Final = 1_000
CALLER_TOKEN: Final = "live-registry-intake-token-5c1d"
# Generous: waiting for something that must happen, never a claim about speed.
WITHIN: Final = 120.0
MOVED: Final = "co-0001"  # scheduled at 06:00, then moved to 07:00
REMOVED: Final = "co-0002"  # scheduled at 06:00, slow, then removed with records waiting
SYNCED: Final = "co-0777"  # synced over the intake


def oslo(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=OSLO)


def slot(text: str) -> Slot:
    """The slot whose lock key names this Oslo wall-clock time."""
    wall = datetime.datetime.fromisoformat(text)
    return Slot(at=wall.replace(tzinfo=OSLO).astimezone(datetime.UTC), wall=wall)


def name_of(index: int) -> str:
    return f"co-{index:04d}"


def body(
    sims: RunningSimulators, name: str, *, times: list[str] | None = None, tokens: bool = True
) -> dict[str, object]:
    """The wizard API's PUT body: settings, and the tokens unless left out (a replace)."""
    found: dict[str, object] = {
        "simployer_url": sims.simployer_url,
        "payroll_url": sims.payroll_url,
        "rate_limit_per_second": 200.0,
        "schedule": {"enabled": times is not None, "times": times or ["06:00"]},
    }
    if name == REMOVED:
        # It goes slowly, so that its records are still waiting in the pacer when removed.
        found.update(rate_limit_per_second=0.2, rate_limit_burst=1)
    if tokens:
        found.update(simployer_token=sims.simployer_token, payroll_token=sims.payroll_token)
    return found


# ------------------------------------------------------------------ the scheduler process


def _scheduler_child(
    env: Environment,
    secret_keys: str,
    now: Synchronized[float],
    passes: SynchronizedArray[int],
    stop: MpEvent,
    log_path: str,
) -> None:
    with open(log_path, "a", buffering=1) as log_file:
        configure_logging(stream=log_file)
        asyncio.run(_scheduler_main(env, secret_keys, now, passes, stop))


async def _scheduler_main(
    env: Environment,
    secret_keys: str,
    now: Synchronized[float],
    passes: SynchronizedArray[int],
    stop: MpEvent,
) -> None:
    redis = aioredis.Redis.from_url(REDIS_URL)
    catalog = await LiveCatalog.open(env, environ={"PAYROLL_SYNC_SECRET_KEY": secret_keys})

    async def submit(request: SyncRequest, settings: Settings) -> Expansion:
        record = {"at": now.value, **msgspec.to_builtins(request)}
        await redis.rpush(f"{env.prefix}:test:submitted", msgspec.json.encode(record))
        return Expansion(run_id="recorded", joined=False, in_scope=0, enqueued=0)

    def clock() -> datetime.datetime:
        passes[0] += 1  # read once per pass: counting reads counts passes
        return datetime.datetime.fromtimestamp(now.value, datetime.UTC)

    scheduler = Scheduler(
        catalog=catalog, state=ScheduleState(redis, prefix=env.prefix), submit=submit, clock=clock
    )
    stopping = asyncio.Event()
    watcher = asyncio.create_task(asyncio.to_thread(stop.wait))
    watcher.add_done_callback(lambda _: stopping.set())
    await scheduler.run(stopping, interval=0.05)
    await catalog.close()
    await redis.aclose()


@dataclass
class SchedulerProcess:
    redis: aioredis.Redis
    prefix: str
    now: Synchronized[float]
    passes: SynchronizedArray[int]
    stop: MpEvent
    process: multiprocessing.process.BaseProcess

    def set_clock(self, moment: datetime.datetime) -> None:
        self.now.value = moment.timestamp()

    async def look_again(self) -> None:
        """Wait for a pass that began after this call to end."""
        mark = self.passes[0]

        async def looked() -> bool:
            assert self.process.is_alive()
            return self.passes[0] >= mark + 2

        await wait_for(looked, "the scheduler passes twice", within=WITHIN)

    async def fired(self) -> list[str]:
        raw = await self.redis.lrange(f"{self.prefix}:test:submitted", 0, -1)
        return [msgspec.json.decode(item)["integration"] for item in raw]

    async def claimed(self, name: str, at: str) -> bool:
        state = ScheduleState(self.redis, prefix=self.prefix)
        return bool(await self.redis.exists(state.slot_key(name, slot(at))))

    async def enabled(self) -> set[str]:
        return set(await ScheduleState(self.redis, prefix=self.prefix).enabled_since())


# ------------------------------------------------------------------ the deployment


@dataclass
class Live:
    deployment: Deployment
    registry: Registry
    scheduler: SchedulerProcess
    intake_url: str
    store: RunStore
    logs: list[Path]


@pytest.fixture
async def live(
    sims: RunningSimulators, tmp_path: Path, redis: aioredis.Redis, secret_keys: str
) -> AsyncIterator[Live]:
    config = tmp_path / "integrations.toml"
    config.write_text(toml_table("intake.callers", {"upstream": "INTAKE_TOKEN_UPSTREAM"}))
    async with fresh_database() as database_url:
        deployment = Deployment(
            config,
            {
                "DATABASE_URL": database_url,
                "PAYROLL_SYNC_SECRET_KEY": secret_keys,
                "INTAKE_TOKEN_UPSTREAM": CALLER_TOKEN,
            },
        )
        env = Environment(
            config_path=str(config),
            redis_url=REDIS_URL,
            prefix=deployment.prefix,
            database_url=database_url,
        )
        registry = await Registry.connect(database_url, secret_keys=secret_keys)
        logs = [tmp_path / name for name in ("worker.log", "intake.log", "scheduler.log")]
        now = SPAWN.Value("d", oslo("2026-11-23T05:00:00").timestamp())  # a Monday
        passes = SPAWN.Array("i", 1)
        stop = SPAWN.Event()
        child = SPAWN.Process(
            target=_scheduler_child,
            args=(env, secret_keys, now, passes, stop, str(logs[2])),
            daemon=True,
        )
        try:
            deployment.start_logged("worker", "--processes", "1", "--threads", "4", log=logs[0])
            with logs[1].open("wb") as intake_log:
                intake = deployment.start(
                    "intake", "--port", "0", stdout=subprocess.PIPE, stderr=intake_log
                )
            line = await processes.first_line(intake)
            assert line.startswith("intake listening on http://"), line
            child.start()
            scheduler = SchedulerProcess(redis, deployment.prefix, now, passes, stop, child)
            await scheduler.look_again()
            yield Live(
                deployment=deployment,
                registry=registry,
                scheduler=scheduler,
                intake_url=line.split()[3],
                store=RunStore(redis, prefix=deployment.prefix),
                logs=logs,
            )
        finally:
            stop.set()
            child.join(20)
            if child.is_alive():
                child.kill()
            deployment.stop_all()
            await registry.close()
            await deployment.remove_keys(redis)
            await delete_keys(redis, f"{deployment.prefix}:*")


async def test_a_thousand_integrations_added_while_running_are_used_without_a_restart(
    live: Live, sims: RunningSimulators, http: aiohttp.ClientSession
) -> None:
    scheduled = {MOVED: ["06:00"], REMOVED: ["06:00"]}
    for index in range(1, COUNT + 1):
        name = name_of(index)
        status = await _put(live, http, name, body(sims, name, times=scheduled.get(name)))
        assert status == 201
    assert len(await live.registry.list()) == COUNT

    # The scheduler sees the new schedules switched on: their first run is tomorrow at 06:05.
    async def both_scheduled() -> bool:
        return await live.scheduler.enabled() == {MOVED, REMOVED}

    await wait_for(both_scheduled, "the scheduler follows the registry", within=WITHIN)

    # The intake and the worker: one of the new integrations, synced over HTTP.
    run = await _sync_over_intake(live, http, SYNCED)
    done = await live.store.wait_done(run, poll_seconds=0.1, max_seconds=WITHIN)
    outcomes = await live.store.outcomes(done.id)
    assert done.integration == SYNCED
    assert done.total == len(outcomes) > 0
    assert "created" in {item.outcome for item in outcomes}
    assert not _troubled(outcomes)

    # Tuesday 06:05: both new schedules fire their first run.
    live.scheduler.set_clock(oslo("2026-11-24T06:05:10"))
    await live.scheduler.look_again()
    assert sorted(await live.scheduler.fired()) == [MOVED, REMOVED]

    # REMOVED's records wait in the pacer (a request every 5 s); MOVED moves to 07:00.
    slow = await _sync_over_intake(live, http, REMOVED)
    pending = await live.store.get_run(slow)
    assert pending is not None
    assert pending.finished < pending.total, "records of REMOVED still waiting"
    assert await _put(live, http, MOVED, body(sims, MOVED, times=["07:00"], tokens=False)) == 200
    async with http.delete(
        f"{live.intake_url}/api/v1/integrations/{REMOVED}", headers=bearer(CALLER_TOKEN)
    ) as answer:
        assert answer.status == 204, await answer.text()

    # Its waiting records end at once, "integration removed", and the intake refuses it.
    ended = await live.store.wait_done(slow, poll_seconds=0.1, max_seconds=WITHIN)
    records = await live.store.outcomes(ended.id)
    removed = [item for item in records if item.reason.startswith("integration removed")]
    assert removed, [item.reason for item in records]
    assert all(item.outcome == "failed" and item.attempt == 1 for item in removed)
    assert not _troubled(records)
    async with http.post(
        f"{live.intake_url}/api/v1/sync-requests",
        json={"integration": REMOVED, "kind": "employees"},
        headers=bearer(CALLER_TOKEN),
    ) as answer:
        assert answer.status == 404
        assert "integration removed" in (await answer.json())["error"]

    # The scheduler forgets REMOVED; MOVED fires at 07:00, not at 06:00; REMOVED never again.
    async def forgotten() -> bool:
        return await live.scheduler.enabled() == {MOVED}

    await wait_for(forgotten, "the scheduler forgets the removed one", within=WITHIN)
    for moment in ("2026-11-24T06:30:10", "2026-11-24T07:00:10", "2026-11-25T06:00:10"):
        live.scheduler.set_clock(oslo(moment))
        await live.scheduler.look_again()
    assert sorted(await live.scheduler.fired()) == [MOVED, MOVED, REMOVED]
    assert await live.scheduler.claimed(MOVED, "2026-11-24T07:00")
    assert not await live.scheduler.claimed(MOVED, "2026-11-25T06:00")
    assert not await live.scheduler.claimed(REMOVED, "2026-11-25T06:00")

    # No token in any process's log.
    for path in live.logs:
        text = path.read_text(errors="replace")
        for secret in (sims.simployer_token, sims.payroll_token, CALLER_TOKEN):
            assert secret not in text, path.name


def _troubled(outcomes: list[RecordOutcome]) -> list[str]:
    """Reasons that would mean the catalog failed a record: unknown to the worker, a crash."""
    return [
        item.reason
        for item in outcomes
        if "unknown integration" in item.reason or "internal error" in item.reason
    ]


async def _put(live: Live, http: aiohttp.ClientSession, name: str, data: object) -> int:
    async with http.put(
        f"{live.intake_url}/api/v1/integrations/{name}", json=data, headers=bearer(CALLER_TOKEN)
    ) as answer:
        assert answer.status in {200, 201}, await answer.text()
        return answer.status


async def _sync_over_intake(live: Live, http: aiohttp.ClientSession, name: str) -> str:
    async with http.post(
        f"{live.intake_url}/api/v1/sync-requests",
        json={"integration": name, "kind": "employees"},
        headers=bearer(CALLER_TOKEN),
    ) as answer:
        assert answer.status == 202, await answer.text()
        accepted = await answer.json()
    run_id: str = accepted["run_id"]
    return run_id


# ------------------------------------------------------------------ the registry source alone


async def _allow_connections(database_url: str, allowed: bool) -> None:
    """Let the database take connections again, or refuse them and end those it has (what a
    database that went away looks like to its clients)."""
    name = urlsplit(database_url).path.lstrip("/")
    server = await asyncpg.connect(SERVER_URL)
    try:
        # The name is the fixture's own [a-z0-9_]: safe in DDL, which takes no parameters.
        await server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await server.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
    finally:
        await server.close()


async def test_the_registry_source_follows_changes_and_keeps_its_snapshot_through_an_outage(
    database_url: str, secret_keys: str, tmp_path: Path
) -> None:
    config = tmp_path / "integrations.toml"
    config.write_text(integration_toml("filed") + toml_table("limits", {"max_hourly_salary": 900}))
    env = Environment(config_path=str(config), redis_url=REDIS_URL, database_url=database_url)
    environ = {"PAYROLL_SYNC_SECRET_KEY": secret_keys}
    offline = Integration(simployer_url=OFFLINE_SIMPLOYER_URL, payroll_url=OFFLINE_PAYROLL_URL)
    writer = await Registry.connect(database_url, secret_keys=secret_keys)
    await writer.put("acme", offline, TokensUpdate(simployer_token="s-1", payroll_token="p-1"))
    await writer.put("gone", offline, TokensUpdate(simployer_token="s-2", payroll_token="p-2"))
    await writer.delete("gone")
    await writer.close()

    with capture_logs() as logs:
        catalog = await LiveCatalog.open(env, environ=environ)
        try:
            # The file's [limits] and the registry's integrations; the file's own ignored.
            assert sorted(catalog.settings.integrations) == ["acme"]
            assert catalog.settings.limits.max_hourly_salary == 900
            assert catalog.credentials("acme").payroll_token == "p-1"
            with pytest.raises(ConfigError, match="integration removed: 'gone'"):
                catalog.credentials("gone")
            assert await catalog.refresh() is False

            # New tokens for one side only: the other is kept.
            writer = await Registry.connect(database_url, secret_keys=secret_keys)
            await writer.put("acme", offline, TokensUpdate(payroll_token="p-3"))
            await writer.close()
            assert await catalog.refresh() is True
            tokens = catalog.credentials("acme")
            assert (tokens.simployer_token, tokens.payroll_token) == ("s-1", "p-3")

            # The database goes away: the snapshot stays, said once.
            before = catalog.current
            await _allow_connections(database_url, False)
            try:
                assert await catalog.refresh() is False
                assert await catalog.refresh() is False
                assert catalog.current is before
            finally:
                await _allow_connections(database_url, True)

            # Back: changes made meanwhile arrive.
            writer = await Registry.connect(database_url, secret_keys=secret_keys)
            await writer.put("beta", offline, TokensUpdate(simployer_token="s", payroll_token="p"))
            await writer.close()

            async def beta_arrived() -> bool:
                await catalog.refresh()
                return "beta" in catalog.settings.integrations

            await wait_for(beta_arrived, "the catalog recovers", within=WITHIN, every=0.2)
        finally:
            await catalog.close()
    names = [event["event"] for event in logs]
    assert names.count("catalog.file_integrations_ignored") == 1
    [ignored] = [event for event in logs if event["event"] == "catalog.file_integrations_ignored"]
    assert "payroll-sync integrations import" in ignored["reason"]
    assert names.count("catalog.registry_unavailable") == 1
    assert names.count("catalog.registry_recovered") == 1
    for secret in ("s-1", "p-1", "p-3"):
        assert all(secret not in repr(event) for event in logs)


def test_a_process_does_not_start_while_the_registry_does_not_answer(
    tmp_path: Path, secret_keys: str
) -> None:
    config = tmp_path / "integrations.toml"
    config.write_text(toml_table("limits", {"max_hourly_salary": 900}))
    nowhere = "postgresql://postgres:hunter2@127.0.0.1:9/registry"
    deployment = Deployment(
        config, {"DATABASE_URL": nowhere, "PAYROLL_SYNC_SECRET_KEY": secret_keys}
    )
    done = deployment.cli("schedule", "--integration", "acme")
    assert done.returncode == 75, done.stderr
    assert "the integration registry (DATABASE_URL) is not answering" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
