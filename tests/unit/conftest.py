"""A Redis client for tests of Redis-shaped code: fakeredis (fast), then the real Redis.

Tests that use it run twice; the real-Redis run is marked `integration` and skips when nothing
answers at 127.0.0.1:6379. Each test picks its own key prefix and removes only its keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

import fakeredis
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

REAL_REDIS_URL: Final = "redis://127.0.0.1:6379/0"


@pytest.fixture(
    params=[pytest.param("fakeredis"), pytest.param("redis", marks=pytest.mark.integration)]
)
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[aioredis.Redis]:
    if request.param == "fakeredis":
        client: aioredis.Redis = fakeredis.FakeAsyncRedis()
    else:
        client = aioredis.Redis.from_url(REAL_REDIS_URL)
        try:
            await client.ping()
        except (RedisConnectionError, OSError):
            await client.aclose()
            pytest.skip(f"no Redis at {REAL_REDIS_URL}")
    yield client
    await client.aclose()
