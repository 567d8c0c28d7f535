"""The shared rate limiter's Lua script against fakeredis (fast; the real Redis is tested in
tests/integration/test_ratelimit_redis.py).

Sleeping is replaced by recording the wait, so Redis time barely moves between calls and the
waits a sequence of calls gets show the algorithm directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest

from payroll_sync.connectors.ratelimit import RateLimit, SharedRateLimiter
from payroll_sync.errors import Deferred

# Real milliseconds pass between calls; waits are compared with this much slack.
SLACK = 0.03


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
async def redis() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    client = fakeredis.FakeAsyncRedis()
    yield client
    await client.aclose()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def limiter(
    redis: fakeredis.FakeAsyncRedis, sleeps: Sleeps, max_wait: float = 10.0
) -> SharedRateLimiter:
    return SharedRateLimiter(redis, key_prefix="t:rl", max_wait=max_wait, sleep=sleeps)


async def test_burst_goes_at_once_then_one_per_interval(
    redis: fakeredis.FakeAsyncRedis, sleeps: Sleeps
) -> None:
    rl = limiter(redis, sleeps)
    limit = RateLimit(per_second=10, burst=3)
    waits = [await rl.acquire("payroll", limit) for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.2, 0.3], abs=SLACK)
    assert sleeps.calls == waits[3:]  # slept exactly the reserved waits, nothing for the burst


async def test_deferred_when_the_wait_exceeds_max_wait_and_nothing_is_reserved(
    redis: fakeredis.FakeAsyncRedis, sleeps: Sleeps
) -> None:
    rl = limiter(redis, sleeps, max_wait=0.5)
    limit = RateLimit(per_second=1, burst=1)
    assert await rl.acquire("k", limit) == 0.0
    tat = await redis.hget(rl.key("k"), "tat")
    delays = []
    for _ in range(3):
        with pytest.raises(Deferred) as deferred:
            await rl.acquire("k", limit)
        delays.append(deferred.value.delay)
    # Each deferred caller was told about one interval: none of them moved the bucket on.
    assert delays == pytest.approx([1.0, 1.0, 1.0], abs=SLACK)
    assert await redis.hget(rl.key("k"), "tat") == tat
    assert sleeps.calls == []


async def test_penalise_holds_every_request_until_then_and_ends_the_burst(
    redis: fakeredis.FakeAsyncRedis, sleeps: Sleeps
) -> None:
    rl = limiter(redis, sleeps)
    limit = RateLimit(per_second=10, burst=3)
    await rl.penalise("k", 5.0)
    await rl.penalise("k", 1.0)  # a shorter Retry-After never shortens the hold
    waits = [await rl.acquire("k", limit) for _ in range(3)]
    assert waits == pytest.approx([5.0, 5.1, 5.2], abs=SLACK)
    assert await redis.hget(rl.key("k"), "until") is None  # folded into the bucket


async def test_penalise_keeps_the_key_alive_and_a_past_hold_is_ignored(
    redis: fakeredis.FakeAsyncRedis, sleeps: Sleeps
) -> None:
    rl = limiter(redis, sleeps)
    await rl.penalise("k", 3.0)
    assert 3000 <= await redis.pttl(rl.key("k")) <= 4000 + 50
    await rl.penalise("gone", 0.0)  # nothing to hold: writes nothing
    assert await redis.exists(rl.key("gone")) == 0


async def test_keys_are_prefixed_expire_when_the_bucket_is_full_and_are_independent(
    redis: fakeredis.FakeAsyncRedis, sleeps: Sleeps
) -> None:
    rl = limiter(redis, sleeps)
    limit = RateLimit(per_second=2, burst=1)
    assert await rl.acquire("a", limit) == 0.0
    assert await rl.acquire("b", limit) == 0.0  # another integration's bucket
    assert sorted(await redis.keys("*")) == [b"t:rl:a", b"t:rl:b"]
    # Full again 0.5 s from now; the key lives that long plus a second of margin.
    assert 1000 < await redis.pttl("t:rl:a") <= 1500


@pytest.mark.parametrize(("per_second", "burst"), [(0.0, 1), (-1.0, 5), (10.0, 0)])
async def test_a_nonsense_limit_is_refused(
    redis: fakeredis.FakeAsyncRedis, sleeps: Sleeps, per_second: float, burst: int
) -> None:
    with pytest.raises(ValueError, match="per_second"):
        await limiter(redis, sleeps).acquire("k", RateLimit(per_second=per_second, burst=burst))


async def test_a_fractional_rate(redis: fakeredis.FakeAsyncRedis, sleeps: Sleeps) -> None:
    rl = limiter(redis, sleeps)
    limit = RateLimit(per_second=0.4, burst=1)  # one every 2.5 s
    waits = [await rl.acquire("k", limit) for _ in range(3)]
    assert waits == pytest.approx([0.0, 2.5, 5.0], abs=SLACK)
