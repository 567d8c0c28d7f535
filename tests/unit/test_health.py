"""The pure parts of the health checks: reasons (never an address or a password), the
`/readyz` answer, the service URLs, the status lines; and the routes on fakeredis."""

from __future__ import annotations

import asyncio
from typing import Final

import fakeredis
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from payroll_sync.cli.status import format_results
from payroll_sync.health import (
    POSTGRES,
    REDIS,
    CheckResult,
    add_health_routes,
    check_redis,
    readiness,
)
from payroll_sync.health.checks import failure_reason, timed
from payroll_sync.health.routes import Readiness
from payroll_sync.health.services import readyz_url, service_reason, shown

SECRET: Final = "hunter2-pw-5e1a"
URL: Final = f"postgresql://payroll:{SECRET}@db.internal:5432/payroll"


@pytest.mark.parametrize(
    ("name", "error", "reason"),
    [
        (
            REDIS,
            ConnectionRefusedError(111, f"Connect call failed {URL}"),
            "Redis: ConnectionRefusedError",
        ),
        (POSTGRES, OSError(f"could not reach {URL}"), "PostgreSQL: OSError"),
        (POSTGRES, TimeoutError(), "PostgreSQL: no answer within 1 s"),
        (REDIS, TimeoutError(), "Redis: no answer within 1 s"),
        ("search", ValueError(URL), "search: ValueError"),
    ],
)
def test_a_reason_names_the_service_and_the_fault_and_never_the_message(
    name: str, error: BaseException, reason: str
) -> None:
    said = failure_reason(name, error, 1.0)
    assert said == reason
    assert SECRET not in said
    assert "db.internal" not in said


async def test_a_probe_that_raises_fails_with_its_type_only() -> None:
    async def refuse() -> None:
        raise OSError(f"password authentication failed: {URL}")

    result = await timed(POSTGRES, refuse)
    assert not result.ok
    assert result.reason == "PostgreSQL: OSError"
    assert result.ms >= 0


async def test_a_probe_that_hangs_fails_as_no_answer() -> None:
    never = asyncio.Event()

    async def hang() -> None:
        await never.wait()

    result = await timed(REDIS, hang, within=0.05)
    assert (result.ok, result.reason) == (False, "Redis: no answer within 0.05 s")


async def test_a_probe_that_answers_passes() -> None:
    result = await check_redis(fakeredis.FakeAsyncRedis())
    assert result == CheckResult(name=REDIS, ok=True, ms=result.ms)


def test_ready_when_every_check_passed() -> None:
    status, body = readiness(
        [CheckResult(name=REDIS, ok=True, ms=1.5), CheckResult(name=POSTGRES, ok=True, ms=3.0)]
    )
    assert status == 200
    assert body == {
        "status": "ready",
        "checks": {"redis": {"ok": True, "ms": 1.5}, "postgres": {"ok": True, "ms": 3.0}},
    }


def test_not_ready_when_one_check_failed() -> None:
    status, body = readiness(
        [
            CheckResult(name=REDIS, ok=True, ms=1.5),
            CheckResult(name=POSTGRES, ok=False, ms=1000.2, reason="PostgreSQL: OSError"),
        ]
    )
    assert status == 503
    assert body["status"] == "not ready"
    assert body["checks"]["postgres"] == {
        "ok": False,
        "ms": 1000.2,
        "reason": "PostgreSQL: OSError",
    }
    assert body["checks"]["redis"]["ok"] is True


@pytest.mark.parametrize(
    ("given", "asked"),
    [
        ("http://127.0.0.1:8090", "http://127.0.0.1:8090/readyz"),
        ("http://127.0.0.1:8090/", "http://127.0.0.1:8090/readyz"),
        ("https://sync.example/intake/", "https://sync.example/intake/readyz"),
        ("http://127.0.0.1:8090/readyz", "http://127.0.0.1:8090/readyz"),
        ("http://127.0.0.1:8090/healthz?x=1", "http://127.0.0.1:8090/healthz/readyz"),
    ],
)
def test_a_service_is_asked_at_its_readyz(given: str, asked: str) -> None:
    assert readyz_url(given) == asked


@pytest.mark.parametrize("given", ["127.0.0.1:8090", "ftp://host/", f"redis://u:{SECRET}@h/"])
def test_a_service_url_must_be_http(given: str) -> None:
    with pytest.raises(ValueError, match="not an http") as refused:
        readyz_url(given)
    assert SECRET not in str(refused.value)


def test_a_service_is_shown_without_its_password() -> None:
    assert shown(f"http://ops:{SECRET}@10.0.0.5:8080/") == "http://10.0.0.5:8080/"
    assert shown("http://10.0.0.5:8080") == "http://10.0.0.5:8080"


def test_a_service_not_ready_is_explained_by_its_failed_checks() -> None:
    body = {
        "status": "not ready",
        "checks": {
            "redis": {"ok": False, "ms": 2.0, "reason": "Redis: ConnectionError"},
            "postgres": {"ok": True, "ms": 4.0},
        },
    }
    assert service_reason(503, body) == "not ready (HTTP 503): Redis: ConnectionError"
    assert service_reason(502, "<html>Bad gateway</html>") == "not ready (HTTP 502)"
    assert (
        service_reason(503, {"checks": {"redis": {"ok": False}}}) == "not ready (HTTP 503): redis"
    )


def test_status_prints_one_line_per_check() -> None:
    text = format_results(
        [
            CheckResult(name=REDIS, ok=True, ms=0.8),
            CheckResult(
                name=POSTGRES, ok=False, ms=1001.0, reason="PostgreSQL: no answer within 1 s"
            ),
        ]
    )
    assert text.splitlines() == [
        "redis     OK          0.8 ms",
        "postgres  FAILED   1001.0 ms  PostgreSQL: no answer within 1 s",
    ]


async def test_probes_at_the_same_time_share_one_check() -> None:
    checks = Readiness(redis=fakeredis.FakeAsyncRedis())
    first, second = await asyncio.gather(checks.check(), checks.check())
    assert first is second
    third = await checks.check()
    assert third is not first
    assert third == [CheckResult(name=REDIS, ok=True, ms=third[0].ms)]


async def test_a_change_of_state_is_logged_once() -> None:
    class Flaky(fakeredis.FakeAsyncRedis):
        down = False

        async def ping(self, **kwargs: object) -> bool:
            if self.down:
                raise ConnectionError(f"no route to {URL}")
            return True

    client = Flaky()
    checks = Readiness(redis=client)
    with capture_logs() as events:
        await checks.check()
        client.down = True
        await checks.check()
        await checks.check()
        client.down = False
        await checks.check()
    changes = [event for event in events if event["event"] == "health.changed"]
    assert [(event["check"], event["ok"]) for event in changes] == [
        ("redis", False),
        ("redis", True),
    ]
    assert changes[0]["reason"] == "Redis: ConnectionError"
    assert SECRET not in repr(events)


def test_readiness_needs_a_redis() -> None:
    with pytest.raises(TypeError):
        Readiness()


async def test_the_routes_answer_uncached_json() -> None:
    app = web.Application()
    add_health_routes(app, redis=fakeredis.FakeAsyncRedis())
    async with TestClient(TestServer(app)) as client:
        alive = await client.get("/healthz")
        assert alive.status == 200
        assert await alive.json() == {"status": "alive"}
        assert alive.headers["Cache-Control"] == "no-store"
        ready = await client.get("/readyz")
        assert ready.status == 200
        body = await ready.json()
        assert body["status"] == "ready"
        assert list(body["checks"]) == ["redis"]
        assert ready.headers["Cache-Control"] == "no-store"
        assert (await client.head("/readyz")).status == 200
