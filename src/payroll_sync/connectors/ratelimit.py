"""A request rate limit shared by every worker process of an integration, kept in Redis.

GCRA (the generic cell rate algorithm): each key holds a *theoretical arrival time* (TAT).
A request may go at `TAT + interval - burst * interval`; reserving it moves the TAT on by one
interval. So at most `burst` requests go at once after a quiet spell, then one per interval,
and in any window of t seconds at most `burst + rate * t` requests go.

The decision is one Lua script, so it is atomic across processes, and uses Redis `TIME`, so
every process agrees on the clock. A caller whose slot is near sleeps until then (asyncio only);
one whose slot is further off than `max_wait` reserves nothing and gets `Deferred`, so a worker
puts the record back instead of holding a Dramatiq thread.

After a 429, `penalise` records "nothing before T" in the same key; the next reservation moves
the TAT so that the first request after T goes alone and the rest follow at the rate.
Keys expire once the bucket is full again, so idle integrations leave nothing behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
from redis.asyncio import Redis

from payroll_sync.errors import Deferred


class RateLimit(msgspec.Struct, frozen=True):
    per_second: float
    burst: int


#: Times are whole microseconds: exact in a Lua double (< 2^53) and formatted with %.0f so
#: Redis does not store them in exponent notation.
#: ARGV: interval µs, burst, max_wait µs. Returns {reserved 0|1, wait µs as text}.
_ACQUIRE: Final = """
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', key, 'tat', 'until')
local tat = tonumber(state[1]) or now
local hold = tonumber(state[2])
if hold and hold > now then
  -- after a 429: the first request at `hold`, the rest at the rate, not a burst
  tat = math.max(tat, hold + (burst - 1) * interval)
end
tat = math.max(tat, now)
local new_tat = tat + interval
local wait = math.max(0, new_tat - burst * interval - now)
if wait > max_wait then
  return {0, string.format('%.0f', wait)}
end
redis.call('HSET', key, 'tat', string.format('%.0f', new_tat))
if hold then
  redis.call('HDEL', key, 'until')
end
redis.call('PEXPIRE', key, math.ceil((new_tat - now) / 1000) + 1000)
return {1, string.format('%.0f', wait)}
"""

#: ARGV: seconds µs. Pushes `until` out (never in) and keeps the key alive at least that long.
_PENALISE: Final = """
local key = KEYS[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local hold = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', key, 'until'))
if not current or current < hold then
  redis.call('HSET', key, 'until', string.format('%.0f', hold))
end
local need = math.ceil((hold - now) / 1000) + 1000
if redis.call('PTTL', key) < need then
  redis.call('PEXPIRE', key, need)
end
return 1
"""

Sleep = Callable[[float], Awaitable[None]]


def deployment_key_prefix(prefix: str) -> str:
    """Where the limits of the deployment under `prefix` live (the pacer reads them too)."""
    return f"{prefix}:ratelimit"


class SharedRateLimiter:
    """`acquire` before each request to a limited API; `penalise` after it answered 429."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_prefix: str,
        max_wait: float = 2.0,
        sleep: Sleep = asyncio.sleep,  # replaceable so unit tests need not wait
    ) -> None:
        self._prefix = key_prefix
        self.max_wait = max_wait
        self._sleep = sleep
        self._acquire = redis.register_script(_ACQUIRE)
        self._penalise = redis.register_script(_PENALISE)

    @classmethod
    def for_deployment(cls, redis: Redis, prefix: str, *, max_wait: float) -> SharedRateLimiter:
        """The limiter every process of the deployment under `prefix` shares."""
        return cls(redis, key_prefix=deployment_key_prefix(prefix), max_wait=max_wait)

    def key(self, key: str) -> str:
        """The Redis key of a limit named `key`."""
        return f"{self._prefix}:{key}"

    async def acquire(self, key: str, limit: RateLimit) -> float:
        """Reserve the next slot and sleep until it; the seconds slept.

        Raises `Deferred` (reserving nothing) when the slot is more than `max_wait` away.
        """
        if limit.per_second <= 0 or limit.burst < 1:
            raise ValueError("a rate limit needs per_second > 0 and burst >= 1")
        interval_us = 1_000_000.0 / limit.per_second
        reserved, wait_us = await self._acquire(
            keys=[self.key(key)],
            args=[repr(interval_us), limit.burst, repr(self.max_wait * 1_000_000.0)],
        )
        wait = float(wait_us) / 1_000_000.0
        if not int(reserved):
            raise Deferred(wait)
        if wait > 0:
            await self._sleep(wait)
        return wait

    async def penalise(self, key: str, seconds: float) -> None:
        """No request under `key` may go before `seconds` from now (the server's Retry-After)."""
        if seconds <= 0:
            return
        await self._penalise(keys=[self.key(key)], args=[repr(seconds * 1_000_000.0)])
