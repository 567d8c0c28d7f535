"""The scheduler's passes: once-only slots, switching on, missed slots, reloads and failures.

On fakeredis (fast) and on the real Redis at 127.0.0.1:6379 (each test under its own prefix,
removing only its keys). The clock is a value the test moves; submissions are recorded, not sent.
Several `Scheduler` objects on one Redis stand in for several processes here; the integration
test runs real processes.
"""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import AsyncIterator, MutableMapping, Sequence
from pathlib import Path
from typing import Any, Final

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from payroll_sync.catalog import LiveCatalog
from payroll_sync.errors import ConfigError, RequestRefused, Retryable
from payroll_sync.producer.enrol import Expansion
from payroll_sync.runs.store import delete_keys
from payroll_sync.scheduler.process import Scheduler
from payroll_sync.scheduler.slots import Slot
from payroll_sync.scheduler.state import LOCK_SECONDS, ScheduleState
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Settings
from tests.support.keys import unique_prefix
from tests.support.settings import integration_toml

TOKEN: Final = "tok-9f3a-very-secret"
# Tuesday 2026-11-24, winter time (+01:00).
TUESDAY_5AM: Final = datetime.datetime.fromisoformat("2026-11-24T05:00:00+01:00")


def oslo(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def settings_text(
    *,
    enabled: bool = True,
    times: Sequence[str] = ("06:00",),
    weekdays: Sequence[str] = ("mon", "tue", "wed", "thu", "fri"),
    absences: bool = False,
) -> str:
    schedule = {
        "enabled": enabled,
        "weekdays": list(weekdays),
        "times": list(times),
        "absences": absences,
        "absence_days_back": 2,
        "absence_days_ahead": 3,
    }
    return integration_toml("acme", schedule=schedule)


def write_settings(path: Path, **schedule: Any) -> None:
    path.write_text(settings_text(**schedule))


class Clock:
    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now


class Recorder:
    """The injected submit: records what a slot asked for and answers with a run id."""

    def __init__(self) -> None:
        self.requests: list[SyncRequest] = []
        self.fail: dict[str, Exception] = {}

    async def __call__(self, request: SyncRequest, settings: Settings) -> Expansion:
        assert request.integration in settings.integrations
        self.requests.append(request)
        if request.kind in self.fail:
            raise self.fail[request.kind]
        return Expansion(run_id=f"run-{len(self.requests)}", joined=False, in_scope=1, enqueued=1)

    def kinds(self) -> list[str]:
        return [request.kind for request in self.requests]


@pytest.fixture
async def state(redis: aioredis.Redis) -> AsyncIterator[ScheduleState]:
    prefix = unique_prefix("unit-scheduler")
    yield ScheduleState(redis, prefix=prefix)
    await delete_keys(redis, f"{prefix}:*")
    assert await redis.keys(f"{prefix}:*") == []


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrations.toml"
    write_settings(path)
    return path


def scheduler(
    config_file: Path, state: ScheduleState, clock: Clock, submit: Recorder, owner: str = "one"
) -> Scheduler:
    return Scheduler(
        catalog=LiveCatalog.from_file(str(config_file)),
        state=state,
        submit=submit,
        clock=clock,
        owner=owner,
    )


async def seen_on_long_ago(state: ScheduleState, integration: str = "acme") -> None:
    """The schedule has been on for a long time: regular slots fire (no switch-on rule)."""
    await state.mark_enabled(integration, TUESDAY_5AM - datetime.timedelta(days=30))


async def tick_all(*schedulers: Scheduler) -> None:
    for each in schedulers:
        await each.tick()
    for each in schedulers:
        await each.drain()


def events(logs: Sequence[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


# ------------------------------------------------------------------ once only


async def test_each_slot_fires_once_among_several_schedulers(
    config_file: Path, state: ScheduleState, redis: aioredis.Redis
) -> None:
    write_settings(config_file, times=["06:00", "14:30"], absences=True)
    await seen_on_long_ago(state)
    clock, submit = Clock(TUESDAY_5AM), Recorder()
    schedulers = [scheduler(config_file, state, clock, submit, owner=f"p{i}") for i in range(3)]
    await tick_all(*schedulers)
    assert submit.requests == [], "nothing is due at 05:00"

    with capture_logs() as logs:
        for now in ("2026-11-24T06:00:00+01:00", "2026-11-24T06:00:03+01:00"):
            clock.now = oslo(now)
            await tick_all(*schedulers)
    assert submit.kinds() == ["employees", "absences"]
    assert all(request.trigger == "scheduled" for request in submit.requests)
    period = submit.requests[1].period
    assert period is not None
    assert (str(period.start), str(period.end)) == ("2026-11-22", "2026-11-27")
    fired = events(logs, "schedule.fired")
    assert [(e["integration"], e["slot"], e["kind"], e["run_id"]) for e in fired] == [
        ("acme", "2026-11-24T06:00", "employees", "run-1"),
        ("acme", "2026-11-24T06:00", "absences", "run-2"),
    ]

    clock.now = oslo("2026-11-24T14:30:01+01:00")
    await tick_all(*reversed(schedulers))
    assert submit.kinds() == ["employees", "absences"] * 2

    lock = state.slot_key("acme", Slot(at=clock.now, wall=datetime.datetime(2026, 11, 24, 14, 30)))
    assert 0 < await redis.ttl(lock) <= LOCK_SECONDS


# ------------------------------------------------------------------ switching on


async def test_a_schedule_switched_on_first_runs_shortly_after_six_the_next_day(
    config_file: Path, state: ScheduleState
) -> None:
    write_settings(config_file, enabled=False)
    clock, submit = Clock(oslo("2026-11-24T10:00:00+01:00")), Recorder()
    one = scheduler(config_file, state, clock, submit)
    await tick_all(one)
    assert await state.enabled_since() == {}

    write_settings(config_file, enabled=True, times=["06:00", "12:00"])
    with capture_logs() as logs:
        await tick_all(one)
    [enabled] = events(logs, "schedule.enabled")
    assert enabled["first_run"] == "2026-11-25T06:05:00+01:00"
    assert "acme" in await state.enabled_since()

    # Today's 12:00 and tomorrow's 06:00 come before the first run: they do not fire.
    for now in ("2026-11-24T12:00:30", "2026-11-25T06:00:30", "2026-11-25T06:04:59"):
        clock.now = oslo(now + "+01:00")
        await tick_all(one)
    assert submit.requests == []
    with capture_logs() as logs:
        clock.now = oslo("2026-11-25T06:05:00+01:00")
        await tick_all(one)
    assert [(e["slot"], e["first_run"]) for e in events(logs, "schedule.fired")] == [
        ("2026-11-25T06:05", True)
    ]
    clock.now = oslo("2026-11-25T12:00:00+01:00")
    await tick_all(one)
    assert submit.kinds() == ["employees", "employees"]


async def test_switching_off_and_on_again_waits_for_the_next_morning_again(
    config_file: Path, state: ScheduleState
) -> None:
    await seen_on_long_ago(state)
    clock, submit = Clock(TUESDAY_5AM), Recorder()
    one = scheduler(config_file, state, clock, submit)
    await tick_all(one)
    write_settings(config_file, enabled=False)
    clock.now = oslo("2026-11-24T05:30:00+01:00")
    await tick_all(one)
    assert await state.enabled_since() == {}, "seen off: the record goes"

    write_settings(config_file, enabled=True)
    clock.now = oslo("2026-11-24T05:40:00+01:00")
    await tick_all(one)
    clock.now = oslo("2026-11-24T06:00:10+01:00")
    await tick_all(one)
    assert submit.requests == [], "06:00 today is before the first run (tomorrow 06:05)"


async def test_a_schedule_with_no_record_in_redis_counts_as_switched_on(
    config_file: Path, state: ScheduleState
) -> None:
    clock, submit = Clock(TUESDAY_5AM), Recorder()
    with capture_logs() as logs:
        await tick_all(scheduler(config_file, state, clock, submit))
    assert len(events(logs, "schedule.enabled")) == 1
    clock.now = oslo("2026-11-24T06:00:10+01:00")
    await tick_all(scheduler(config_file, state, clock, submit, owner="two"))
    assert submit.requests == []


async def test_an_integration_gone_from_the_settings_loses_its_record(
    config_file: Path, state: ScheduleState
) -> None:
    await seen_on_long_ago(state)
    await seen_on_long_ago(state, "removed")
    clock, submit = Clock(TUESDAY_5AM), Recorder()
    await tick_all(scheduler(config_file, state, clock, submit))
    assert set(await state.enabled_since()) == {"acme"}


# ------------------------------------------------------------------ missed slots


async def test_missed_slots_on_start_up_fire_if_less_than_six_hours_late(
    config_file: Path, state: ScheduleState
) -> None:
    write_settings(config_file, times=["05:59", "06:00"])
    await seen_on_long_ago(state)
    # Every scheduler was down from 05:00 to 11:59.
    await state.set_checked(TUESDAY_5AM)
    clock, submit = Clock(oslo("2026-11-24T11:59:00+01:00")), Recorder()
    starting = [scheduler(config_file, state, clock, submit, owner=f"p{i}") for i in range(2)]
    with capture_logs() as logs:
        await tick_all(*starting)
        await tick_all(*starting)
    [fired] = events(logs, "schedule.fired")
    assert (fired["slot"], fired["late_seconds"]) == ("2026-11-24T06:00", 5 * 3600 + 59 * 60)
    [skipped] = events(logs, "schedule.skipped")
    assert (skipped["slot"], skipped["late_seconds"]) == ("2026-11-24T05:59", 6 * 3600)
    assert skipped["due_at"] == "2026-11-24T05:59:00+01:00"
    assert skipped["reason"] == "6 h 00 min late (the limit is 6 h 00 min)"
    assert submit.kinds() == ["employees"]


async def test_the_first_start_ever_fires_nothing_from_the_past(
    config_file: Path, state: ScheduleState
) -> None:
    await seen_on_long_ago(state)
    clock, submit = Clock(oslo("2026-11-24T07:00:00+01:00")), Recorder()
    with capture_logs() as logs:
        await tick_all(scheduler(config_file, state, clock, submit))
    assert submit.requests == []
    assert events(logs, "schedule.skipped") == []
    assert await state.last_checked() == clock.now


# ------------------------------------------------------------------ the settings file


async def test_a_changed_settings_file_is_picked_up_and_a_broken_one_ignored(
    config_file: Path, state: ScheduleState
) -> None:
    await seen_on_long_ago(state)
    clock, submit = Clock(TUESDAY_5AM), Recorder()
    one = scheduler(config_file, state, clock, submit)
    await tick_all(one)

    write_settings(config_file, times=["07:00"])
    with capture_logs() as logs:
        await tick_all(one)
    [reloaded] = events(logs, "schedule.reloaded")
    assert reloaded["scheduled"] == ["acme"]

    write_settings(config_file, times=["7 o clock"])
    with capture_logs() as logs:
        await tick_all(one)
        await tick_all(one)
    [broken] = events(logs, "catalog.reload_failed")
    assert "integrations.acme.schedule.times" in broken["reason"]
    assert events(logs, "schedule.reloaded") == []

    for now in ("2026-11-24T06:00:10+01:00", "2026-11-24T07:00:10+01:00"):
        clock.now = oslo(now)
        await tick_all(one)
    assert len(submit.requests) == 1, "07:00 fired from the settings in force; 06:00 is gone"

    write_settings(config_file, times=["08:00"])
    os.utime(config_file, ns=(1, 1))  # a file put back with an old timestamp still counts
    clock.now = oslo("2026-11-24T08:00:10+01:00")
    await tick_all(one)
    assert len(submit.requests) == 2


def test_a_broken_settings_file_at_start_up_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "integrations.toml"
    path.write_text(settings_text(weekdays=["monday"]))
    with pytest.raises(ConfigError, match="weekdays"):
        LiveCatalog.from_file(str(path))


# ------------------------------------------------------------------ failures


async def test_a_failed_submission_is_logged_with_its_reason_and_never_a_token(
    config_file: Path, state: ScheduleState
) -> None:
    write_settings(config_file, absences=True)
    await seen_on_long_ago(state)
    clock, submit = Clock(TUESDAY_5AM), Recorder()
    one = scheduler(config_file, state, clock, submit)
    await tick_all(one)
    submit.fail = {
        "employees": Retryable("Simployer One answered 503"),
        "absences": RequestRefused("kind 'absences': this expands employee syncs only"),
    }
    clock.now = oslo("2026-11-24T06:00:01+01:00")
    with capture_logs() as logs:
        await tick_all(one)
    failed = events(logs, "schedule.failed")
    assert [(e["kind"], e["reason"]) for e in failed] == [
        ("employees", "Simployer One answered 503"),
        ("absences", "kind 'absences': this expands employee syncs only"),
    ]

    # An unexpected error may carry a URL with a token in its text: only its type is logged.
    submit.fail = {"employees": RuntimeError(f"GET /auth?token={TOKEN} failed")}
    clock.now = oslo("2026-11-25T06:00:01+01:00")
    with capture_logs() as logs:
        await tick_all(one)
    assert [e["reason"] for e in events(logs, "schedule.failed")] == ["RuntimeError"]
    assert TOKEN not in repr(logs)
    assert [e["kind"] for e in events(logs, "schedule.fired")] == ["absences"]

    # A failed slot is not fired again.
    submit.fail = {}
    before = len(submit.requests)
    clock.now = oslo("2026-11-25T06:00:30+01:00")
    await tick_all(one)
    assert len(submit.requests) == before


async def test_the_loop_survives_redis_going_away_and_stops_when_asked(
    config_file: Path, state: ScheduleState
) -> None:
    """`run` keeps passing after a Redis error (last checked not moved, so nothing is lost)."""
    await seen_on_long_ago(state)
    await state.set_checked(TUESDAY_5AM)
    stop = asyncio.Event()
    passes = 0

    class Flaky(Clock):
        def __call__(self) -> datetime.datetime:
            nonlocal passes
            passes += 1
            if passes == 2:
                raise RedisConnectionError("connection refused")
            if passes >= 4:
                stop.set()
            return self.now

    submit = Recorder()
    one = Scheduler(
        catalog=LiveCatalog.from_file(str(config_file)),
        state=state,
        submit=submit,
        clock=Flaky(oslo("2026-11-24T06:00:05+01:00")),
    )
    with capture_logs() as logs:
        await asyncio.wait_for(one.run(stop, interval=0.01), timeout=30)
    assert [e["reason"] for e in events(logs, "scheduler.pass_failed")] == ["ConnectionError"]
    assert submit.kinds() == ["employees"]
    assert [e["event"] for e in logs][-1] == "scheduler.stopped"


async def test_a_naive_clock_is_refused(config_file: Path, state: ScheduleState) -> None:
    one = scheduler(config_file, state, Clock(datetime.datetime(2026, 11, 24, 6)), Recorder())
    with pytest.raises(ValueError, match="aware"):
        await one.tick()
