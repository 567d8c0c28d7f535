"""Logged-out dashboard sessions, refused by every dashboard process until their cookies expire.

A session lives in a signed cookie, which stays valid until it expires whatever the server
does: logging out remembers the session's id in Redis until then.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from payroll_sync.runs.keys import Keys


class RevokedSessions:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def add(self, sid: str, *, seconds: float) -> None:
        """Refuse session `sid` for `seconds` (at least one)."""
        await self._redis.set(self._keys.revoked_session(sid), "1", ex=max(1, int(seconds)))

    async def contains(self, sid: str) -> bool:
        return bool(await self._redis.exists(self._keys.revoked_session(sid)))
