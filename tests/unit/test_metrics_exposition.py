"""`/metrics` as the intake, the dashboard and the scheduler serve it (aiohttp's test server,
fakeredis): Prometheus' text format, refreshed gauges, a failing refresh, no login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

import fakeredis
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from payroll_sync.dashboard.app import create_app
from payroll_sync.intake import make_app as make_intake_app
from payroll_sync.metrics.definitions import RECORDS_WAITING
from payroll_sync.metrics.exposition import add_metrics_route
from payroll_sync.metrics.waiting import Waiting, show_waiting
from payroll_sync.producer.producer import Producer
from payroll_sync.queue.broker import broker_namespace
from payroll_sync.queue.pacing import PaceKeys
from payroll_sync.scheduler.http import make_app as make_scheduler_app
from tests.support.settings import offline_settings

PREFIX: Final = "metrics-unit"


def samples(text: str, name: str) -> dict[str, float]:
    """integration -> value of `name`'s samples."""
    return {
        sample.labels.get("integration", ""): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def scraped(app: web.Application, **headers: str) -> tuple[int, str, str]:
    async with (
        TestClient(TestServer(app)) as client,
        client.get("/metrics", headers=headers, allow_redirects=False) as answer,
    ):
        return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


@pytest.fixture
async def redis() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    client = fakeredis.FakeAsyncRedis()
    yield client
    await client.aclose()


async def test_the_route_refreshes_then_renders() -> None:
    calls: list[str] = []

    async def refresh() -> None:
        calls.append("refresh")
        show_waiting({"acme": Waiting(3, 12.5), "beta": Waiting(0, 0.0)})

    app = web.Application()
    add_metrics_route(app, refresh=[refresh])
    status, kind, text = await scraped(app)
    assert status == 200
    assert kind.startswith("text/plain")
    assert calls == ["refresh"]
    assert samples(text, "payroll_sync_records_waiting") == {"acme": 3.0, "beta": 0.0}
    assert samples(text, "payroll_sync_oldest_waiting_record_age_seconds") == {
        "acme": 12.5,
        "beta": 0.0,
    }


def test_showing_waiting_records_replaces_what_was_shown() -> None:
    show_waiting({"gone": Waiting(5, 1.0)})
    show_waiting({"kept": Waiting(1, 2.0)})
    shown = {
        sample.labels["integration"]
        for metric in RECORDS_WAITING.collect()
        for sample in metric.samples
    }
    assert shown == {"kept"}


async def test_a_failing_refresh_is_logged_by_type_and_the_rest_is_served() -> None:
    async def broken() -> None:
        raise ConnectionError("redis://:secret-password@redis.internal:6379 refused")

    app = web.Application()
    add_metrics_route(app, refresh=[broken])
    with capture_logs() as events:
        status, _, text = await scraped(app)
    assert status == 200
    assert "# HELP payroll_sync_records_total " in text
    [event] = [e for e in events if e["event"] == "metrics.refresh_failed"]
    assert event["error_type"] == "ConnectionError"
    assert "secret-password" not in repr(events)


async def _pend(redis: fakeredis.FakeAsyncRedis, integration: str, count: int) -> None:
    keys = PaceKeys(broker_namespace(PREFIX))
    now_ms = int((await redis.time())[0]) * 1000
    entries = [
        f'employees\tm{n}\t{{"queue_name":"employees","message_timestamp":{now_ms - 60_000}}}'
        for n in range(count)
    ]
    await redis.rpush(keys.pending(integration), *entries)
    await redis.zadd(keys.due, {integration: 0})


async def test_the_intake_serves_metrics_without_a_token_with_the_pacers_gauges(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    await _pend(redis, "acme", 4)
    app = make_intake_app(
        settings=offline_settings("acme"), producer=Producer(redis, PREFIX), tokens={"t": "c"}
    )
    status, _, text = await scraped(app)
    assert status == 200
    assert samples(text, "payroll_sync_records_waiting") == {"acme": 4.0}
    # Queued a minute ago by the Redis clock (whole seconds: up to one more).
    [age] = samples(text, "payroll_sync_oldest_waiting_record_age_seconds").values()
    assert 60.0 <= age < 62.0


async def test_the_dashboard_serves_metrics_without_a_login(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    await _pend(redis, "acme", 2)
    app = create_app(producer=Producer(redis, PREFIX), operator_token="operator-token-unit")
    status, _, text = await scraped(app)
    assert status == 200
    assert samples(text, "payroll_sync_records_waiting") == {"acme": 2.0}
    # Every other page still wants the login.
    async with (
        TestClient(TestServer(app)) as client,
        client.get("/", allow_redirects=False) as page,
    ):
        assert page.status == 302


async def test_the_schedulers_app_takes_extra_routes() -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = make_scheduler_app(routes=[lambda app: app.router.add_get("/healthz", healthz)])
    status, _, text = await scraped(app)
    assert status == 200
    assert "payroll_sync_schedule_slots" in text
    async with TestClient(TestServer(app)) as client, client.get("/healthz") as answer:
        assert await answer.text() == "ok"
