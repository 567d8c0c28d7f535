"""After logging in, Chromium stays on this site whatever `next` the login link carried.

The browser is the judge here: it is Chromium's own URL parsing (tabs and newlines dropped, a
backslash read as a slash) that turned `/\t/evil.com` into `//evil.com` (issue 13).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
import redis.asyncio as aioredis

from payroll_sync.producer.producer import Producer
from tests.support.dashboard import OPERATOR_TOKEN, served_dashboard
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.recorders import Recorder

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.integration


@pytest.fixture
async def base() -> AsyncIterator[str]:
    redis = aioredis.Redis.from_url(REDIS_URL)
    producer = Producer(redis, unique_prefix(), enqueue=Recorder())
    try:
        async with served_dashboard(producer) as url:
            yield url
    finally:
        await producer.store.delete_everything()
        await redis.aclose()


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "/%5C/evil.example", "/%0d%0a/evil.example"]
)
async def test_logging_in_never_leaves_the_site(base: str, page: Page, target: str) -> None:
    await page.goto(f"{base}/login?next={target}")
    await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state()
    assert page.url == f"{base}/runs"
