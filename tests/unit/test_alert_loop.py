"""The alerts' loop over runs in Redis, the clock driven by the test, calls going to a local
receiver over HTTP: stale schedules, a webhook down then up, evaluators at once.

On fakeredis and on the real Redis (conftest.py); each test under its own prefix, removing its
keys. Runs are written as the run store writes them (the end-to-end test makes real ones).
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from typing import Final

import aiohttp
import pytest
import redis.asyncio as aioredis

from payroll_sync.alerts.loop import AlertLoop
from payroll_sync.alerts.metrics import ALERT_OPEN, WEBHOOK_DELIVERIES
from payroll_sync.catalog import LiveCatalog
from payroll_sync.runs.store import RunStore, delete_keys
from payroll_sync.scheduler.slots import next_slot_at
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.settings import Alerts, Integration, Schedule, Settings
from tests.support.keys import unique_prefix
from tests.support.webhook_receiver import Receiver, webhook_receiver

ENV: Final = "TEST_ALERT_HOOK"
# Monday 2026-11-30 10:00 Oslo: the schedule is switched on.
MONDAY_10: Final = datetime.datetime.fromisoformat("2026-11-30T10:00:00+01:00")
DAILY: Final = Schedule(
    enabled=True, weekdays=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], times=["06:00"]
)


class Clock:
    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def at(self, text: str) -> None:
        self.now = datetime.datetime.fromisoformat(text)


def settings(schedule: Schedule = DAILY) -> Settings:
    integration = Integration(
        simployer_url="http://127.0.0.1:9/simployer",
        payroll_url="http://127.0.0.1:9/payroll",
        schedule=schedule,
    )
    return Settings(
        integrations={"acme": integration},
        alerts=Alerts(webhook_url_env=ENV, dashboard_url="https://dash.example.com"),
    )


@pytest.fixture
async def prefix(redis: aioredis.Redis) -> AsyncIterator[str]:
    prefix = unique_prefix("unit-alertloop")
    yield prefix
    await delete_keys(redis, f"{prefix}:*")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def loop_of(
    redis: aioredis.Redis, prefix: str, clock: Clock, receiver: Receiver, config: Settings
) -> AlertLoop:
    return AlertLoop(
        catalog=LiveCatalog.fixed(config),
        redis=redis,
        prefix=prefix,
        next_slot=next_slot_at,
        enabled_since=ScheduleState(redis, prefix=prefix).enabled_since,
        environ={ENV: receiver.url},
        clock=clock,
    )


async def finished_run(
    store: RunStore, *, trigger: str, at: datetime.datetime, failed: int = 0, ok: int = 5
) -> str:
    run_id = await store.create_run(
        integration="acme",
        kind="employees",
        trigger=trigger,  # type: ignore[arg-type]
        dry_run=False,
        now=at.timestamp() - 60,
    )
    await store.redis.hset(
        store.keys.run(run_id),
        mapping={
            "status": "done",
            "total": failed + ok,
            "failed": failed,
            "updated": ok,
            "started_at": at.timestamp() - 60,
            "finished_at": at.timestamp(),
        },
    )
    return run_id


async def test_a_stale_schedule_opens_one_incident_and_a_finished_scheduled_run_resolves_it(
    redis: aioredis.Redis, prefix: str, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = Clock(MONDAY_10)
    await ScheduleState(redis, prefix=prefix).mark_enabled("acme", MONDAY_10)
    alerts = loop_of(redis, prefix, clock, receiver, settings())
    # The first run is Tuesday 06:05; nothing finishes. Not stale within a day of it.
    for now in ("2026-11-30T10:00:00+01:00", "2026-12-01T07:00:00+01:00"):
        clock.at(now)
        await alerts.tick(session)
    clock.at("2026-12-02T06:04:00+01:00")
    await alerts.tick(session)
    assert receiver.calls == 0
    clock.at("2026-12-02T06:06:00+01:00")
    await alerts.tick(session)
    [opened] = receiver.bodies
    assert "acme: scheduled sync stale" in opened["text"]
    assert "no scheduled run finished since 2026-12-01 06:05 Europe/Oslo" in opened["text"]
    assert "<https://dash.example.com/integrations/acme|" in opened["text"]
    assert ALERT_OPEN.labels("acme", "stale")._value.get() == 1
    assert ALERT_OPEN.labels("acme", "failing")._value.get() == 0
    # Still stale: no more calls.
    for now in ("2026-12-02T12:00:00+01:00", "2026-12-03T07:00:00+01:00"):
        clock.at(now)
        await alerts.tick(session)
    assert receiver.calls == 1
    # A manual run does not count; a scheduled one does.
    store = RunStore(redis, prefix=prefix)
    await finished_run(store, trigger="manual", at=clock.now)
    await alerts.tick(session)
    assert receiver.calls == 1
    await finished_run(store, trigger="scheduled", at=clock.now)
    clock.at("2026-12-03T07:01:00+01:00")
    await alerts.tick(session)
    await alerts.tick(session)
    assert len(receiver.recovered()) == 1
    assert receiver.calls == 2
    assert "acme: scheduled sync stale: recovered" in receiver.bodies[1]["text"]
    assert ALERT_OPEN.labels("acme", "stale")._value.get() == 0
    assert [i.condition for i in await alerts.store.recently_resolved(since=0)] == ["stale"]


async def test_a_webhook_down_then_up_loses_no_call_and_doubles_none(
    redis: aioredis.Redis, prefix: str, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = Clock(MONDAY_10)
    config = settings(Schedule(enabled=False))
    alerts = loop_of(redis, prefix, clock, receiver, config)
    store = RunStore(redis, prefix=prefix)
    await finished_run(store, trigger="manual", at=MONDAY_10, failed=5, ok=0)
    failed_before = WEBHOOK_DELIVERIES.labels("failed")._value.get()

    receiver.status = 503
    await alerts.tick(session)
    await alerts.tick(session)
    assert (receiver.calls, receiver.bodies) == (2, [])
    assert WEBHOOK_DELIVERIES.labels("failed")._value.get() == failed_before + 2
    # It recovers while the webhook is still down: both calls wait, in order.
    await finished_run(store, trigger="manual", at=MONDAY_10 + datetime.timedelta(minutes=5), ok=20)
    clock.now = MONDAY_10 + datetime.timedelta(minutes=6)
    await alerts.tick(session)
    assert receiver.bodies == []

    receiver.status = 200
    await alerts.tick(session)
    assert len(receiver.opened()) == 1
    assert len(receiver.recovered()) == 1
    assert receiver.texts()[0].startswith(":rotating_light: payroll-sync: acme: records failing")
    assert "5 of 5 records failed in the last run" in receiver.texts()[0]
    assert "5 of 25 records failed in the last 2 runs" in receiver.texts()[1]
    for _ in range(3):
        await alerts.tick(session)
    assert len(receiver.bodies) == 2


async def test_a_webhook_that_does_not_answer_at_all_is_tried_again(
    redis: aioredis.Redis, prefix: str, session: aiohttp.ClientSession
) -> None:
    clock = Clock(MONDAY_10)
    async with webhook_receiver() as gone:
        url = gone.url
    # Nothing listens at `url` now: connection refused.
    config = settings(Schedule(enabled=False))
    alerts = AlertLoop(
        catalog=LiveCatalog.fixed(config),
        redis=redis,
        prefix=prefix,
        next_slot=next_slot_at,
        enabled_since=ScheduleState(redis, prefix=prefix).enabled_since,
        environ={ENV: url},
        clock=clock,
    )
    await finished_run(RunStore(redis, prefix=prefix), trigger="manual", at=MONDAY_10, failed=3)
    done = await alerts.tick(session)
    assert (len(done.opened), done.sent, done.failed) == (1, 0, 1)
    assert len(await alerts.store.pending()) == 1


async def test_two_evaluators_at_once_send_one_call(
    redis: aioredis.Redis, prefix: str, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = Clock(MONDAY_10)
    config = settings(Schedule(enabled=False))
    loops = [loop_of(redis, prefix, clock, receiver, config) for _ in range(4)]
    await finished_run(RunStore(redis, prefix=prefix), trigger="manual", at=MONDAY_10, failed=4)
    for _ in range(3):
        await asyncio.gather(*(alerts.tick(session) for alerts in loops))
    assert receiver.calls == 1
    assert len(receiver.opened()) == 1


async def test_no_webhook_configured_keeps_incidents_and_sends_nothing(
    redis: aioredis.Redis, prefix: str, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = Clock(MONDAY_10)
    alerts = loop_of(redis, prefix, clock, receiver, settings(Schedule(enabled=False)))
    alerts._environ = {}
    await finished_run(RunStore(redis, prefix=prefix), trigger="manual", at=MONDAY_10, failed=4)
    await alerts.tick(session)
    assert [i.condition for i in await alerts.store.open_incidents()] == ["failing"]
    assert await alerts.store.pending() == []
    assert receiver.calls == 0
