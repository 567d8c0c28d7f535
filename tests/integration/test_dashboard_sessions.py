"""Two dashboard processes on one Redis share logins and logouts; a new token ends them."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from payroll_sync.dashboard.app import create_app
from payroll_sync.dashboard.session import COOKIE_NAME
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.store import RunStore
from tests.support.dashboard import OPERATOR_TOKEN, csrf_of
from tests.support.recorders import Recorder

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]


@pytest.fixture
def producer(redis: aioredis.Redis, store: RunStore) -> Producer:
    return Producer(redis, store.prefix, enqueue=Recorder())


async def _client(producer: Producer, token: str = OPERATOR_TOKEN) -> Client:
    app = create_app(producer=producer, operator_token=token, login_delay=0)
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def _log_in(client: Client) -> str:
    async with client.get("/login") as page:
        csrf = csrf_of(await page.text())
    form = {"csrf": csrf, "token": OPERATOR_TOKEN, "next": "/runs"}
    async with client.post("/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    assert cookie
    return cookie


async def _status(client: Client, cookie: str) -> int:
    async with client.get("/runs", cookies={COOKIE_NAME: cookie}, allow_redirects=False) as answer:
        return answer.status


async def test_a_login_on_one_process_works_on_another_and_a_logout_ends_it_on_both(
    producer: Producer,
) -> None:
    first, second = await _client(producer), await _client(producer)
    try:
        cookie = await _log_in(first)
        assert await _status(second, cookie) == 200
        async with first.get("/runs") as page:
            csrf = csrf_of(await page.text())
        async with first.post("/logout", data={"csrf": csrf}, allow_redirects=False) as out:
            assert out.status == 303
        assert await _status(second, cookie) == 302, "the copied cookie stops working"
        assert await _status(first, cookie) == 302
    finally:
        await first.close()
        await second.close()


async def test_a_new_operator_token_ends_every_session(producer: Producer) -> None:
    old = await _client(producer)
    rotated = await _client(producer, token="a-new-operator-token-3c9d")
    try:
        cookie = await _log_in(old)
        assert await _status(old, cookie) == 200
        assert await _status(rotated, cookie) == 302
    finally:
        await old.close()
        await rotated.close()
