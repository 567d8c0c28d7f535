"""A Redis client for tests of Redis-shaped code: fakeredis (fast), then the real Redis.

Tests that use it run twice; the real-Redis run is marked `integration` and skips when nothing
answers at REDIS_URL (default 127.0.0.1:6379). Each test picks its own key prefix and removes
only its keys (the `store` here does so for the run store's tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from payroll_sync.runs.store import RunStore
from tests.support.keys import REDIS_URL, unique_prefix


@pytest.fixture(
    params=[pytest.param("fakeredis"), pytest.param("redis", marks=pytest.mark.integration)]
)
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[aioredis.Redis]:
    if request.param == "fakeredis":
        client: aioredis.Redis = fakeredis.FakeAsyncRedis()
    else:
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            await client.ping()
        except (RedisConnectionError, OSError):
            await client.aclose()
            pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return unique_prefix("unit-runstore")


@pytest.fixture
async def store(redis: aioredis.Redis, prefix: str) -> AsyncIterator[RunStore]:
    """A run store under a prefix of this test's own; afterwards none of its keys is left."""
    store = RunStore(redis, prefix=prefix)
    yield store
    await store.delete_everything()
    assert await redis.keys(f"{prefix}:*") == []
