"""The intake's answers to what is not a sync request: a caller asking for an integration it
may not, a caller hanging up mid-request, Redis down. Real app on a loopback port, real Redis
(a prefix of its own, or a redis-server of the test's own to stop)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from structlog.testing import capture_logs

from payroll_sync.intake import make_app
from payroll_sync.producer.enrol import Expansion
from payroll_sync.producer.producer import Producer
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Intake, Settings
from tests.support.auth import bearer
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.own_redis import own_redis
from tests.support.settings import offline_integration
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

TOKEN: Final = "intake-hardening-token-0123456789"
EVENTS_TOKEN: Final = "intake-hardening-events-token-987"
PATH: Final = "/api/v1/sync-requests"
SETTINGS: Final = Settings(
    integrations={"acme": offline_integration(), "beta": offline_integration()},
    intake=Intake(
        callers={"simployer-one": "INTAKE_A", "hr-events": "INTAKE_B"},
        allow={"hr-events": ["acme"]},
    ),
)


class RunOnlyProducer(Producer):
    """Creates the run a submit would (real Redis), without reading any source."""

    async def submit(self, request: SyncRequest, settings: Settings) -> Expansion:
        run_id = await self.store.create_run(
            integration=request.integration,
            kind=request.kind,
            trigger=request.trigger,
            dry_run=request.dry_run,
            now=1_750_000_000.0,
        )
        return Expansion(run_id=run_id, joined=False, in_scope=0, enqueued=0)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Requests that reached `busy_until_the_caller_is_gone`.
ARRIVED: list[str] = []


@web.middleware
async def busy_until_the_caller_is_gone(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Holds a request until its connection is closed, as a request waiting for its lane or
    for Redis is when its caller hangs up; then lets the handler read the body."""
    ARRIVED.append(request.path)

    async def gone() -> bool:
        return request.transport is None or request.transport.is_closing()

    await wait_for(gone, "the caller hung up", within=20, every=0.01)
    return await handler(request)


@asynccontextmanager
async def intake(
    redis_url: str = REDIS_URL, *, slow: bool = False
) -> AsyncIterator[tuple[str, Producer]]:
    client = aioredis.Redis.from_url(redis_url)
    producer = RunOnlyProducer(client, unique_prefix())
    app = make_app(
        settings=SETTINGS,
        producer=producer,
        tokens={TOKEN: "simployer-one", EVENTS_TOKEN: "hr-events"},
    )
    if slow:
        app.middlewares.append(busy_until_the_caller_is_gone)
    # Served as `payroll-sync intake` serves it (aiohttp's TestServer cancels a handler whose
    # client hangs up; the real server lets it run on).
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}", producer
    finally:
        await runner.cleanup()
        with suppress(aioredis.RedisError):  # a stopped server of the test's own: nothing left
            await producer.store.delete_everything()
        await client.aclose()


async def _ask(
    http: aiohttp.ClientSession, base: str, integration: str, token: str
) -> tuple[int, dict[str, Any]]:
    body = {"integration": integration, "kind": "employees"}
    async with http.post(base + PATH, json=body, headers=bearer(token)) as answer:
        return answer.status, await answer.json()


async def test_a_caller_may_ask_only_for_its_allowed_integrations() -> None:
    async with intake() as (base, _), aiohttp.ClientSession() as http:
        status, refused = await _ask(http, base, "beta", EVENTS_TOKEN)
        assert status == 403
        assert refused == {
            "error": "caller 'hr-events' may not ask for integration 'beta' (allowed: acme)"
        }
        status, accepted = await _ask(http, base, "acme", EVENTS_TOKEN)
        assert status == 202
        acme_run = accepted["run_id"]
        # A caller not named in [intake.allow] may ask for any integration.
        status, other = await _ask(http, base, "beta", TOKEN)
        assert status == 202
        beta_run = other["run_id"]

        async def run_status(run_id: str, token: str) -> int:
            async with http.get(f"{base}/api/v1/runs/{run_id}", headers=bearer(token)) as answer:
                return answer.status

        assert await run_status(acme_run, EVENTS_TOKEN) == 200
        # Another integration's run is as unknown to it as a run that never was.
        assert await run_status(beta_run, EVENTS_TOKEN) == 404
        assert await run_status(beta_run, TOKEN) == 200


def hang_up(writer: asyncio.StreamWriter) -> None:
    """Close at once (a reset), as a client killed mid-request does."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


async def test_a_caller_hanging_up_is_no_crash_and_no_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with intake(slow=True) as (base, _):
        host, port = base.removeprefix("http://").split(":")
        with capture_logs() as events:
            _reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                (
                    f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
                    "Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
                    '{"integration": "acme", '
                ).encode()
            )
            await writer.drain()

            async def arrived() -> bool:
                return PATH in ARRIVED

            await wait_for(arrived, "the request reached the intake", within=20)
            hang_up(writer)

            async def noticed() -> bool:
                return any(
                    event["event"] in ("intake.client_gone", "intake.crashed") for event in events
                )

            await wait_for(noticed, "the intake noticed the caller hung up", within=20)
    names = [event["event"] for event in events]
    assert "intake.crashed" not in names, events
    (gone,) = [event for event in events if event["event"] == "intake.client_gone"]
    assert gone["caller"] == "simployer-one"
    assert gone["route"] == PATH
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], [
        record.getMessage() for record in caplog.records
    ]
    assert "Error handling request" not in caplog.text


async def test_redis_down_is_a_503_saying_so_and_it_recovers_by_itself(tmp_path: Path) -> None:
    with own_redis(tmp_path) as server:
        async with intake(server.url) as (base, producer), aiohttp.ClientSession() as http:
            status, accepted = await _ask(http, base, "acme", TOKEN)
            assert status == 202
            url = f"{base}/api/v1/runs/{accepted['run_id']}"

            server.stop()
            async with http.get(url, headers=bearer(TOKEN)) as answer:
                assert answer.status == 503
                assert answer.headers["Retry-After"].isdigit()
                body = await answer.json()
            assert body["error"].startswith("Redis is not answering")
            status, refused = await _ask(http, base, "acme", TOKEN)
            assert status == 503
            assert refused["error"].startswith("Redis is not answering")

            server.start()  # empty: the run is gone, but the intake answers again
            async with http.get(url, headers=bearer(TOKEN)) as answer:
                assert answer.status == 404
                assert json.loads(await answer.text()) == {"error": "unknown run (or expired)"}
            status, _ = await _ask(http, base, "acme", TOKEN)
            assert status == 202
            del producer
