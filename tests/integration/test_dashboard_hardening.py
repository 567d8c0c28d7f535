"""The dashboard against what is not an operator at work: redirects to other hosts, guessed
tokens, Redis down, a client hanging up. The real app served as `payroll-sync dashboard` serves
it, real Redis under a prefix of its own (or a redis-server of the test's own, to stop)."""

from __future__ import annotations

import asyncio
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

from payroll_sync.dashboard.app import create_app
from payroll_sync.producer.producer import Producer
from tests.support.auth import bearer
from tests.support.dashboard import OPERATOR_TOKEN, csrf_of
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.own_redis import own_redis
from tests.support.recorders import Recorder
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LOCKOUT_AFTER: Final = 3


@asynccontextmanager
async def dashboard(
    redis_url: str = REDIS_URL,
    *,
    prefix: str | None = None,
    middleware: Any = None,
) -> AsyncIterator[str]:
    """A dashboard process's app on a loopback port (as `payroll-sync dashboard` serves it:
    aiohttp's TestServer would cancel a handler whose client hangs up); its base URL."""
    client = aioredis.Redis.from_url(redis_url)
    producer = Producer(client, prefix or unique_prefix(), enqueue=Recorder())
    app = create_app(
        producer=producer,
        operator_token=OPERATOR_TOKEN,
        login_delay=0,
        lockout_failures=LOCKOUT_AFTER,
    )
    if middleware is not None:
        app.middlewares.insert(1, middleware)  # inside answer_trouble, before the guard
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
        if prefix is None:
            with suppress(aioredis.RedisError):  # a stopped server of the test's own
                await producer.store.delete_everything()
        await client.aclose()


def browser() -> aiohttp.ClientSession:
    # unsafe: keep cookies of an IP address host (127.0.0.1), as a browser does.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def log_in(http: aiohttp.ClientSession, base: str, token: str = OPERATOR_TOKEN) -> int:
    """Send the login form with `token`; the status of the answer (303 when logged in)."""
    async with http.get(f"{base}/login") as page:
        csrf = csrf_of(await page.text())
    form = {"csrf": csrf, "token": token, "next": "/failures"}
    async with http.post(f"{base}/login", data=form, allow_redirects=False) as answer:
        return answer.status


# ------------------------------------------------------------------ redirects


@pytest.mark.parametrize(
    "target", ["/%09/evil.com", "/%0a/evil.com", "/%5C/evil.com", "%2F%2Fevil.com", "/\\evil.com"]
)
async def test_after_login_the_browser_stays_on_this_site(target: str) -> None:
    async with dashboard() as base, browser() as http:
        assert await log_in(http, base) == 303
        # Logged in, /login sends the operator on to `next` at once (issue 13: to //evil.com).
        url = f"{base}/login?next={target}"
        async with http.get(url, allow_redirects=False) as answer:
            assert answer.status == 302
            assert answer.headers["Location"] == "/runs"
        # The form's `next` field too.
        await http.post(f"{base}/logout", data={"csrf": await _csrf(http, base)})
        async with http.get(f"{base}/login") as page:
            csrf = csrf_of(await page.text())
        form = {"csrf": csrf, "token": OPERATOR_TOKEN, "next": "/\t/evil.com"}
        async with http.post(f"{base}/login", data=form, allow_redirects=False) as answer:
            assert answer.status == 303
            assert answer.headers["Location"] == "/runs"


async def _csrf(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(f"{base}/runs") as page:
        return csrf_of(await page.text())


# ------------------------------------------------------------------ guessed tokens


async def test_wrong_login_tokens_lock_the_client_out_in_every_dashboard_process() -> None:
    prefix = unique_prefix()
    try:
        async with (
            dashboard(prefix=prefix) as first,
            dashboard(prefix=prefix) as second,
            browser() as http,
        ):
            # A right token starts the count afresh.
            assert await log_in(http, first, "wrong-1") == 401
            assert await log_in(http, first) == 303
            http.cookie_jar.clear()
            statuses = [
                await log_in(http, first, "wrong-2"),
                await log_in(http, second, "wrong-3"),
                await log_in(http, first, "wrong-4"),
            ]
            assert statuses == [401, 401, 429]
            # Locked out, even the right token is refused: in both processes, and the API.
            async with http.get(f"{first}/login") as page:
                csrf = csrf_of(await page.text())
            form = {"csrf": csrf, "token": OPERATOR_TOKEN}
            async with http.post(f"{second}/login", data=form, allow_redirects=False) as answer:
                assert answer.status == 429
                assert 0 < int(answer.headers["Retry-After"]) <= 15 * 60
                page_text = await answer.text()
                assert "Too many wrong operator tokens from this address" in page_text
            async with http.get(f"{second}/api/v1/runs", headers=bearer(OPERATOR_TOKEN)) as api:
                assert api.status == 429
    finally:
        redis = aioredis.Redis.from_url(REDIS_URL)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_wrong_bearer_tokens_lock_the_client_out_of_the_api() -> None:
    async with dashboard() as base, aiohttp.ClientSession() as http:

        async def runs(token: str) -> tuple[int, dict[str, Any]]:
            async with http.get(f"{base}/api/v1/runs", headers=bearer(token)) as answer:
                return answer.status, await answer.json()

        assert (await runs(OPERATOR_TOKEN))[0] == 200
        answers = [await runs(f"guess-{n}") for n in range(LOCKOUT_AFTER)]
        assert [status for status, _ in answers] == [401] * (LOCKOUT_AFTER - 1) + [429]
        status, body = await runs(OPERATOR_TOKEN)
        assert status == 429
        assert body["error"] == "Too Many Requests"
        assert body["message"].startswith("too many wrong operator tokens")
        assert OPERATOR_TOKEN not in str(body)
        # No token at all is no guess: it is told what to send, and counts for nothing.
        async with http.get(f"{base}/api/v1/runs") as answer:
            assert answer.status == 401


# ------------------------------------------------------------------ Redis down


async def test_redis_down_is_a_503_page_and_json_and_it_recovers_by_itself(
    tmp_path: Path,
) -> None:
    with own_redis(tmp_path) as server:
        async with dashboard(server.url) as base, browser() as http:
            assert await log_in(http, base) == 303
            server.stop()
            async with http.get(f"{base}/runs") as page:
                assert page.status == 503
                assert page.headers["Retry-After"].isdigit()
                html = await page.text()
            assert "<h1>Redis is not answering</h1>" in html
            assert '<meta http-equiv="refresh"' in html  # it reloads itself
            async with http.get(f"{base}/api/v1/failures", headers=bearer(OPERATOR_TOKEN)) as api:
                assert api.status == 503
                body = await api.json()
            assert body["error"] == "Service Unavailable"
            assert body["message"].startswith("Redis is not answering")
            async with http.get(f"{base}/api/v1/runs", headers=bearer("a guess")) as api:
                assert api.status == 503  # cannot count the guess: refused all the same

            server.start()
            async with http.get(f"{base}/runs") as page:
                assert page.status == 200
            async with http.get(f"{base}/api/v1/runs", headers=bearer(OPERATOR_TOKEN)) as api:
                assert api.status == 200


# ------------------------------------------------------------------ a client hanging up

ARRIVED: list[str] = []


@web.middleware
async def busy_until_the_client_is_gone(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Holds a request until its client has hung up (as one waiting for Redis is), then lets
    the guard read its form."""
    ARRIVED.append(request.path)

    async def gone() -> bool:
        return request.transport is None or request.transport.is_closing()

    await wait_for(gone, "the client hung up", within=20, every=0.01)
    return await handler(request)


async def test_a_client_hanging_up_is_no_crash_and_no_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with dashboard(middleware=busy_until_the_client_is_gone) as base:
        host, port = base.removeprefix("http://").split(":")
        with capture_logs() as events:
            _reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                (
                    f"POST /login HTTP/1.1\r\nHost: {host}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: 400\r\n\r\ncsrf=abc&token="
                ).encode()
            )
            await writer.drain()

            async def arrived() -> bool:
                return "/login" in ARRIVED

            await wait_for(arrived, "the request reached the dashboard", within=20)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()  # a reset, as a browser tab closed mid-upload sends

            async def handled() -> bool:
                return any(event["event"] == "dashboard.client_gone" for event in events) or any(
                    "Error handling request" in record.getMessage() for record in caplog.records
                )

            await wait_for(handled, "the dashboard noticed the client hung up", within=20)
    assert "Error handling request" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    (gone,) = [event for event in events if event["event"] == "dashboard.client_gone"]
    assert gone["route"] == "/login"
