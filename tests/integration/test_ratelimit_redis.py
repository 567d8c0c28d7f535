"""The shared rate limiter against the real Redis, across separate OS processes.

Every key lives under a prefix unique to this test run (in DB 7) and only those keys are
deleted afterwards.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from payroll_sync.connectors.ratelimit import RateLimit, SharedRateLimiter
from payroll_sync.errors import Deferred
from tests.support.keys import unique_prefix

pytestmark = pytest.mark.integration

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 7
# Scheduling jitter between Redis granting a slot and the caller taking its timestamp.
JITTER = 0.05


@pytest.fixture
def prefix() -> str:
    return unique_prefix("ratelimit")


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    client = Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    yield client
    mine = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if mine:
        await client.delete(*mine)
    await client.aclose()


async def _send_from_one_process(
    prefix: str, limit: RateLimit, tasks: int, per_task: int, start_at: float
) -> list[float]:
    client = Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    limiter = SharedRateLimiter(client, key_prefix=prefix, max_wait=60.0)
    stamps: list[float] = []

    async def task() -> None:
        for _ in range(per_task):
            await limiter.acquire("shared", limit)
            stamps.append(time.time())

    await asyncio.sleep(max(0.0, start_at - time.time()))  # both processes start together
    await asyncio.gather(*(task() for _ in range(tasks)))
    await client.aclose()
    return stamps


def process_main(args: tuple[str, float, int, int, int, float]) -> list[float]:
    """Entry point of a child process: the send times of its requests."""
    prefix, per_second, burst, tasks, per_task, start_at = args
    limit = RateLimit(per_second=per_second, burst=burst)
    return asyncio.run(_send_from_one_process(prefix, limit, tasks, per_task, start_at))


def test_two_processes_sharing_a_key_stay_within_rate_times_time_plus_burst(prefix: str) -> None:
    per_second, burst = 20.0, 5
    start_at = time.time() + 2.0  # after both interpreters have started
    job = (prefix, per_second, burst, 3, 8, start_at)  # 3 concurrent tasks x 8 requests each
    # spawn, not fork: two fresh interpreters, as two worker processes would be.
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        per_process = pool.map(process_main, [job, job])
    try:
        stamps = sorted(t for one in per_process for t in one)
        assert [len(one) for one in per_process] == [24, 24]
        # The two processes really did send at the same time, not one after the other.
        first, second = per_process
        assert min(first) < max(second)
        assert min(second) < max(first)
        # In every window [t_i, t_j]: at most burst + rate * (t_j - t_i) requests.
        worst = max(
            (j - i + 1) - (burst + per_second * (stamps[j] - stamps[i] + JITTER))
            for i in range(len(stamps))
            for j in range(i, len(stamps))
        )
        assert worst <= 0, f"{worst:.2f} requests over the limit in some window"
        # So the whole lot took at least (48 - burst) / rate = 2.15 s.
        assert stamps[-1] - stamps[0] >= (len(stamps) - burst) / per_second - JITTER
    finally:
        asyncio.run(_delete(prefix))


async def _delete(prefix: str) -> None:
    client = Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    mine = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if mine:
        await client.delete(*mine)
    await client.aclose()


async def test_deferred_when_the_wait_exceeds_max_wait_reserves_nothing(
    redis: Redis, prefix: str
) -> None:
    limiter = SharedRateLimiter(redis, key_prefix=prefix, max_wait=0.3)
    limit = RateLimit(per_second=1.0, burst=2)
    assert [await limiter.acquire("k", limit) for _ in range(2)] == [0.0, 0.0]
    tat = await redis.hget(limiter.key("k"), "tat")
    for _ in range(3):
        with pytest.raises(Deferred) as deferred:
            await limiter.acquire("k", limit)
        # About one interval each time: a deferred caller did not push the next one back.
        assert 0.8 < deferred.value.delay <= 1.0
    assert await redis.hget(limiter.key("k"), "tat") == tat


async def test_a_short_wait_is_slept_without_blocking_the_loop(redis: Redis, prefix: str) -> None:
    limiter = SharedRateLimiter(redis, key_prefix=prefix, max_wait=2.0)
    limit = RateLimit(per_second=4.0, burst=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    background = asyncio.create_task(ticker())
    started = time.monotonic()
    waits = [await limiter.acquire("k", limit) for _ in range(3)]
    elapsed = time.monotonic() - started
    background.cancel()
    assert waits[0] == 0.0
    assert waits[1:] == pytest.approx([0.25, 0.25], abs=0.05)
    assert elapsed >= 0.45
    assert ticks >= 10  # the loop kept running while the limiter waited


async def test_penalise_from_one_client_holds_back_another(redis: Redis, prefix: str) -> None:
    other = Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    try:
        await SharedRateLimiter(other, key_prefix=prefix).penalise("k", 1.0)
        limiter = SharedRateLimiter(redis, key_prefix=prefix, max_wait=0.2)
        limit = RateLimit(per_second=10.0, burst=5)
        with pytest.raises(Deferred) as deferred:
            await limiter.acquire("k", limit)
        assert 0.8 < deferred.value.delay <= 1.0
        assert 900 < await redis.pttl(limiter.key("k")) <= 2000
    finally:
        await other.aclose()


async def test_an_idle_key_expires(redis: Redis, prefix: str) -> None:
    limiter = SharedRateLimiter(redis, key_prefix=prefix)
    await limiter.acquire("k", RateLimit(per_second=1000.0, burst=1))
    ttl = await redis.pttl(limiter.key("k"))
    assert 0 < ttl <= 1001  # bucket full again in 1 ms; one second of margin
