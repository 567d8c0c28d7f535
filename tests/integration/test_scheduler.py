"""The scheduler as it runs: several OS processes on real Redis, and real runs from fired slots.

- Two scheduler processes (spawned, each with its own Redis connection) read one fake clock the
  test moves; their injected submit records each request in a Redis list, so the test counts
  what fired. Each pass a child makes is counted too, so "both have looked since" is a fact the
  test waits for, not a sleep.
- A slot fired through the real `Producer.submit` becomes a run that the in-process worker
  finishes against the simulators, with trigger `scheduled`.
- `payroll-sync scheduler` and `payroll-sync worker` as subprocesses, on the real clock: a slot
  missed half an hour ago fires on start-up and its run completes; SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import datetime
import multiprocessing
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any, Final

import msgspec
import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from payroll_sync.catalog import LiveCatalog
from payroll_sync.logs import configure_logging
from payroll_sync.producer.enrol import Expansion
from payroll_sync.runs.store import RunStore, delete_keys
from payroll_sync.scheduler.process import Scheduler
from payroll_sync.scheduler.slots import OSLO
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Settings
from payroll_sync.simulators.serve import RunningSimulators
from tests.support import settings, waiting
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.logs import json_events
from tests.support.settings import simulator_tokens
from tests.support.stack import isolated_stack

pytestmark = pytest.mark.integration

CLI: Final = [sys.executable, "-m", "payroll_sync.cli"]
SPAWN: Final = multiprocessing.get_context("spawn")
# Generous: waiting for something that must happen, never a claim about speed.
WITHIN: Final = 90.0
LONG_AGO: Final = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def oslo(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=OSLO)


def integration_toml(
    name: str,
    *,
    times: list[str],
    weekdays: list[str] | None = None,
    absences: bool = False,
    sims: RunningSimulators | None = None,
) -> str:
    """The integration's table with a schedule: offline, or against `sims` if given."""
    schedule = {
        "enabled": True,
        "weekdays": weekdays or ["mon", "tue", "wed", "thu", "fri"],
        "times": times,
        "absences": absences,
        "absence_days_back": 10,
        "absence_days_ahead": 20,
    }
    if sims is None:
        return settings.integration_toml(name, rate_limit_per_second=200, schedule=schedule)
    return settings.simulator_toml(name, sims, rate_limit_per_second=200, schedule=schedule)


def write(path: Path, text: str) -> None:
    path.write_text(text)


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    await waiting.wait_for(condition, what, within=WITHIN)


# ------------------------------------------------------------------ two scheduler processes


class ForgetfulState(ScheduleState):
    """Never moves "last checked": every pass sees every slot since the seeded time as due, so
    only the slot locks keep a slot from firing again (in this process or the other)."""

    async def set_checked(self, now: datetime.datetime) -> None:
        return None


def _child(
    index: int,
    config_path: str,
    prefix: str,
    now: Synchronized[float],
    passes: SynchronizedArray[int],
    stop: MpEvent,
    log_path: str,
    forgetful: bool,
) -> None:
    """One scheduler process; its clock is the shared `now`, its submit a Redis list."""
    with open(log_path, "a", buffering=1) as log_file:
        configure_logging(stream=log_file)
        asyncio.run(_child_main(index, config_path, prefix, now, passes, stop, forgetful))


async def _child_main(
    index: int,
    config_path: str,
    prefix: str,
    now: Synchronized[float],
    passes: SynchronizedArray[int],
    stop: MpEvent,
    forgetful: bool,
) -> None:
    redis = aioredis.Redis.from_url(REDIS_URL)
    state_type = ForgetfulState if forgetful else ScheduleState

    async def submit(request: SyncRequest, settings: Settings) -> Expansion:
        record = {"by": index, **msgspec.to_builtins(request)}
        count = await redis.rpush(f"{prefix}:test:submitted", msgspec.json.encode(record))
        return Expansion(run_id=f"run-{count}", joined=False, in_scope=1, enqueued=1)

    def clock() -> datetime.datetime:
        # Read once per pass: counting reads counts passes.
        passes[index] += 1
        return datetime.datetime.fromtimestamp(now.value, datetime.UTC)

    scheduler = Scheduler(
        catalog=LiveCatalog.from_file(config_path),
        state=state_type(redis, prefix=prefix),
        submit=submit,
        clock=clock,
        owner=f"child-{index}",
    )
    stopping = asyncio.Event()

    async def watch_stop() -> None:
        await asyncio.to_thread(stop.wait)
        stopping.set()

    watcher = asyncio.create_task(watch_stop())
    await scheduler.run(stopping, interval=0.02)
    await watcher
    await redis.aclose()


@dataclass
class Schedulers:
    """Two scheduler processes on one fake clock, and what they submitted."""

    redis: aioredis.Redis
    prefix: str
    state: ScheduleState
    config: Path
    logs: list[Path]
    now: Synchronized[float]
    passes: SynchronizedArray[int]
    stop: MpEvent
    processes: list[multiprocessing.process.BaseProcess]

    def set_clock(self, moment: datetime.datetime) -> None:
        self.now.value = moment.timestamp()

    def start(self, *, forgetful: bool = False) -> None:
        for index in range(2):
            process = SPAWN.Process(
                target=_child,
                args=(
                    index,
                    str(self.config),
                    self.prefix,
                    self.now,
                    self.passes,
                    self.stop,
                    str(self.logs[index]),
                    forgetful,
                ),
                daemon=True,
            )
            process.start()
            self.processes.append(process)

    async def both_look_again(self) -> None:
        """Wait until each process has finished a pass that began after this call."""
        marks = [self.passes[i] for i in range(2)]

        async def looked() -> bool:
            assert all(process.is_alive() for process in self.processes), self.events()
            return all(self.passes[i] >= marks[i] + 2 for i in range(2))

        await wait_for(looked, "both schedulers pass twice")

    async def submitted(self) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(f"{self.prefix}:test:submitted", 0, -1)
        return [msgspec.json.decode(item) for item in raw]

    async def settle(self, count: int) -> list[dict[str, Any]]:
        """Wait for `count` submissions in all, then for both to look again; return them all."""

        async def reached() -> bool:
            return len(await self.submitted()) >= count

        await wait_for(reached, f"{count} submissions")
        await self.both_look_again()
        return await self.submitted()

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = []
        for path in self.logs:
            if path.exists():
                found += [
                    event
                    for event in json_events(path.read_text())
                    if name is None or event.get("event") == name
                ]
        return found


@pytest.fixture
async def schedulers(tmp_path: Path) -> AsyncIterator[Schedulers]:
    redis = aioredis.Redis.from_url(REDIS_URL)
    prefix = unique_prefix()
    group = Schedulers(
        redis=redis,
        prefix=prefix,
        state=ScheduleState(redis, prefix=prefix),
        config=tmp_path / "integrations.toml",
        logs=[tmp_path / "scheduler-0.log", tmp_path / "scheduler-1.log"],
        now=SPAWN.Value("d", 0.0),
        passes=SPAWN.Array("i", 2),
        stop=SPAWN.Event(),
        processes=[],
    )
    try:
        yield group
    finally:
        group.stop.set()
        for process in group.processes:
            process.join(timeout=20)
            if process.is_alive():
                process.kill()
                process.join()
        await delete_keys(redis, f"{prefix}:*")
        await redis.aclose()


def fired(submissions: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["integration"], item["kind"]) for item in submissions]


@pytest.mark.parametrize(
    "forgetful",
    [
        pytest.param(False, id="as in production"),
        pytest.param(True, id="every pass sees every slot since 05:00 as due"),
    ],
)
async def test_two_scheduler_processes_fire_each_slot_exactly_once(
    schedulers: Schedulers, forgetful: bool
) -> None:
    write(
        schedulers.config,
        integration_toml("acme", times=["06:00", "14:30"], absences=True)
        + integration_toml("beta", times=["06:00"]),
    )
    # acme's schedule has been on for long; beta's is seen for the first time when they start.
    await schedulers.state.mark_enabled("acme", LONG_AGO)
    tuesday_5am = oslo("2026-11-24T05:00:00")
    await schedulers.state.set_checked(tuesday_5am)
    schedulers.set_clock(tuesday_5am)
    schedulers.start(forgetful=forgetful)
    await schedulers.both_look_again()
    assert await schedulers.submitted() == []
    assert set(await schedulers.state.enabled_since()) == {"acme", "beta"}

    schedulers.set_clock(oslo("2026-11-24T06:00:30"))
    submissions = await schedulers.settle(2)
    assert fired(submissions) == [("acme", "employees"), ("acme", "absences")]
    assert all(item["trigger"] == "scheduled" for item in submissions)
    assert submissions[1]["period"] == {"from": "2026-11-14", "to": "2026-12-14"}
    assert len({item["by"] for item in submissions}) == 1, "one process fired the slot"

    schedulers.set_clock(oslo("2026-11-24T14:31:00"))
    assert len(await schedulers.settle(4)) == 4

    # The settings file changes: acme now runs at 16:00 only. Both pick it up before 16:00.
    write(
        schedulers.config,
        integration_toml("acme", times=["16:00"], absences=True)
        + integration_toml("beta", times=["06:00"]),
    )
    await schedulers.both_look_again()
    assert len(schedulers.events("schedule.reloaded")) == 2
    schedulers.set_clock(oslo("2026-11-24T16:00:10"))
    assert fired((await schedulers.settle(6))[4:]) == [("acme", "employees"), ("acme", "absences")]

    # Wednesday: acme's old 06:00 is gone; beta's first run (06:05, the day after it was switched
    # on) fires, and its own 06:00 before that does not.
    schedulers.set_clock(oslo("2026-11-25T06:06:00"))
    submissions = await schedulers.settle(7)
    assert fired(submissions[6:]) == [("beta", "employees")]
    schedulers.set_clock(oslo("2026-11-25T10:00:00"))
    await schedulers.both_look_again()

    assert len(await schedulers.submitted()) == 7, "nothing fired twice"
    events = schedulers.events("schedule.fired")
    assert sorted((e["integration"], e["slot"], e["kind"]) for e in events) == [
        ("acme", "2026-11-24T06:00", "absences"),
        ("acme", "2026-11-24T06:00", "employees"),
        ("acme", "2026-11-24T14:30", "absences"),
        ("acme", "2026-11-24T14:30", "employees"),
        ("acme", "2026-11-24T16:00", "absences"),
        ("acme", "2026-11-24T16:00", "employees"),
        ("beta", "2026-11-25T06:05", "employees"),
    ]
    assert [e["first_run"] for e in events if e["integration"] == "beta"] == [True]


async def test_missed_slots_on_start_up_fire_once_if_less_than_six_hours_late(
    schedulers: Schedulers,
) -> None:
    write(schedulers.config, integration_toml("acme", times=["05:59", "06:00"]))
    await schedulers.state.mark_enabled("acme", LONG_AGO)
    # Every scheduler was down from 05:00 until 11:59: 06:00 is 5 h 59 min late, 05:59 six hours.
    await schedulers.state.set_checked(oslo("2026-11-24T05:00:00"))
    schedulers.set_clock(oslo("2026-11-24T11:59:00"))
    schedulers.start()
    submissions = await schedulers.settle(1)
    await schedulers.both_look_again()
    assert fired(await schedulers.submitted()) == [("acme", "employees")]
    assert submissions[0]["trigger"] == "scheduled"
    [fired_event] = schedulers.events("schedule.fired")
    assert fired_event["slot"] == "2026-11-24T06:00"
    assert fired_event["late_seconds"] == 5 * 3600 + 59 * 60
    [skipped] = schedulers.events("schedule.skipped")
    assert skipped["slot"] == "2026-11-24T05:59"
    assert skipped["late_seconds"] == 6 * 3600
    assert skipped["level"] == "warning"


# ------------------------------------------------------------------ a fired slot makes a real run


async def test_a_fired_slot_runs_a_real_employee_and_absence_sync(
    sims: RunningSimulators, tmp_path: Path
) -> None:
    today = datetime.datetime.now(OSLO).date()
    config = tmp_path / "integrations.toml"
    write(
        config,
        integration_toml(
            "demo",
            times=["06:00"],
            weekdays=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            absences=True,
            sims=sims,
        ),
    )
    catalog = LiveCatalog.from_file(str(config))
    env = simulator_tokens(sims)
    async with isolated_stack(catalog.settings, env) as stack:
        redis = aioredis.Redis.from_url(REDIS_URL)
        try:
            state = ScheduleState(redis, prefix=stack.prefix)
            await state.mark_enabled("demo", LONG_AGO)
            slot = datetime.datetime.combine(today, datetime.time(6, 0), tzinfo=OSLO)
            await state.set_checked(slot - datetime.timedelta(minutes=5))
            scheduler = Scheduler(
                catalog=catalog,
                state=state,
                submit=stack.producer.submit,
                clock=lambda: slot + datetime.timedelta(seconds=20),
            )
            with capture_logs() as logs:
                done = await scheduler.tick()
                await scheduler.drain()
        finally:
            await redis.aclose()
        assert done.fired == [("demo", f"{today.isoformat()}T06:00")]
        assert [e for e in logs if e["event"] == "schedule.failed"] == []
        fired_events = {e["kind"]: e for e in logs if e["event"] == "schedule.fired"}
        assert set(fired_events) == {"employees", "absences"}

        employees = await stack.wait(fired_events["employees"]["run_id"])
        absences = await stack.wait(fired_events["absences"]["run_id"])
    for run in (employees, absences):
        assert (run.integration, run.trigger, run.status) == ("demo", "scheduled", "done")
    assert employees.total > 0
    assert employees.counts.get("created", 0) > 0
    first = today - datetime.timedelta(days=10)
    last = today + datetime.timedelta(days=20)
    assert absences.period == f"{first}..{last}"


# ------------------------------------------------------------------ the commands, as processes


@pytest.fixture
def deployment(sims: RunningSimulators, tmp_path: Path) -> Iterator[Deployment]:
    """Its settings file is written by the test."""
    deployed = Deployment(tmp_path / "integrations.toml", simulator_tokens(sims))
    yield deployed
    deployed.stop_all()

    async def clean() -> None:
        redis = aioredis.Redis.from_url(REDIS_URL)
        await deployed.remove_keys(redis)
        await redis.aclose()

    asyncio.run(clean())


def test_the_scheduler_command_fires_a_missed_slot_and_stops_on_sigterm(
    sims: RunningSimulators, deployment: Deployment, tmp_path: Path
) -> None:
    # A slot half an hour ago on the real clock, missed while the scheduler was down.
    now = datetime.datetime.now(OSLO)
    missed = (now - datetime.timedelta(minutes=30)).strftime("%H:%M")
    write(
        Path(deployment.env["PAYROLL_SYNC_CONFIG"]),
        integration_toml(
            "demo",
            times=[missed],
            weekdays=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            sims=sims,
        ),
    )

    async def seed() -> None:
        redis = aioredis.Redis.from_url(REDIS_URL)
        state = ScheduleState(redis, prefix=deployment.prefix)
        await state.mark_enabled("demo", LONG_AGO)
        await state.set_checked(now - datetime.timedelta(hours=1))
        await redis.aclose()

    asyncio.run(seed())
    deployment.start_logged(
        "worker", "--processes", "1", "--threads", "4", log=tmp_path / "worker.log"
    )
    log = tmp_path / "scheduler.log"
    scheduler = deployment.start_logged("scheduler", "--interval", "0.2", "--port", "0", log=log)

    async def run_done() -> list[Any]:
        redis = aioredis.Redis.from_url(REDIS_URL)
        store = RunStore(redis, prefix=deployment.prefix)
        try:

            async def finished() -> bool:
                assert scheduler.poll() is None, log.read_text()
                runs = await store.list_runs()
                return bool(runs) and all(run.status == "done" for run in runs)

            await wait_for(finished, "the scheduled run to finish")
            return await store.list_runs()
        finally:
            await redis.aclose()

    runs = asyncio.run(run_done())
    assert [(run.kind, run.trigger, run.status) for run in runs] == [
        ("employees", "scheduled", "done")
    ]
    assert runs[0].total > 0

    os.killpg(scheduler.pid, signal.SIGTERM)
    assert scheduler.wait(timeout=30) == 0
    events = json_events(log.read_text())
    names = [event["event"] for event in events]
    assert names[0] == "scheduler.started"
    assert names[-1] == "scheduler.stopped"
    [fired_event] = [event for event in events if event["event"] == "schedule.fired"]
    assert fired_event["run_id"] == runs[0].id
    assert sims.simployer_token not in log.read_text()
    assert sims.payroll_token not in log.read_text()
