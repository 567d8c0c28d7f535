"""Wrong operator tokens counted per client in Redis, so every dashboard process agrees.

A client (its address) that sends `max_failures` wrong tokens (login form and API bearer alike:
one secret, one count) within `window_seconds` of its first is locked out until that window
ends: while locked, even the right token is refused, so a guess that happens to be right
learns nothing. Each wrong token is also answered only after a delay (`Dashboard.login_delay`).

Keys: `P:flag:dashboard:failed:<client>`, a counter that expires with its window (under the
run store's prefix, so `Keys.everything` covers it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis

#: Defaults: 10 wrong tokens in 15 minutes lock a client out for the rest of those 15 minutes.
MAX_FAILURES: Final = 10
WINDOW_SECONDS: Final = 15 * 60

# One round trip, atomic: concurrent wrong guesses each count, and the window starts at the
# first of them (INCR alone would leave a counter without expiry if the client died between).
_FAIL: Final = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('PTTL', KEYS[1])}
"""


@dataclass(frozen=True)
class Lockout:
    """Whether a client is locked out, and for how many more seconds."""

    failures: int
    seconds_left: float
    max_failures: int

    @property
    def locked(self) -> bool:
        return self.failures >= self.max_failures


class FailedTokens:
    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str,
        *,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        if max_failures < 1 or window_seconds <= 0:
            raise ValueError("max_failures and window_seconds must be positive")
        self._redis = redis
        self._prefix = prefix
        self.max_failures = max_failures
        self._window_ms = max(1, int(window_seconds * 1000))
        self._fail = redis.register_script(_FAIL)

    def _key(self, client: str) -> str:
        return f"{self._prefix}:flag:dashboard:failed:{client}"

    async def failed(self, client: str) -> Lockout:
        """Count one wrong token from `client`."""
        count, ttl_ms = await self._fail(keys=[self._key(client)], args=[self._window_ms])
        return self._lockout(int(count), int(ttl_ms))

    async def check(self, client: str) -> Lockout:
        """Where `client` stands, without counting anything."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key(client))
            pipe.pttl(self._key(client))
            count, ttl_ms = await pipe.execute()
        return self._lockout(int(count or 0), int(ttl_ms))

    async def forget(self, client: str) -> None:
        """A successful login starts the count afresh."""
        await self._redis.delete(self._key(client))

    def _lockout(self, count: int, ttl_ms: int) -> Lockout:
        return Lockout(
            failures=count, seconds_left=max(0, ttl_ms) / 1000.0, max_failures=self.max_failures
        )


def client_of(remote: str | None) -> str:
    """The client's address as a key part (an unknown peer counts as one client)."""
    return remote or "unknown"
