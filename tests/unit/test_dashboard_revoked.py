"""Logged-out dashboard sessions (dashboard/revoked.py), on fakeredis and on the real Redis."""

from __future__ import annotations

import redis.asyncio as aioredis

from payroll_sync.dashboard.revoked import RevokedSessions
from payroll_sync.runs.keys import Keys
from payroll_sync.runs.store import RunStore


async def test_a_revoked_session_is_refused_until_it_expires(
    redis: aioredis.Redis, store: RunStore
) -> None:
    revoked = RevokedSessions(redis, store.keys)
    assert not await revoked.contains("sid-1")
    await revoked.add("sid-1", seconds=30.5)
    assert await revoked.contains("sid-1")
    assert not await revoked.contains("sid-2")
    assert 0 < await redis.ttl(store.keys.revoked_session("sid-1")) <= 30
    # Another deployment's dashboard does not share it.
    assert not await RevokedSessions(redis, Keys(f"{store.prefix}-other")).contains("sid-1")


async def test_a_session_about_to_expire_is_still_kept_a_second(
    redis: aioredis.Redis, store: RunStore
) -> None:
    revoked = RevokedSessions(redis, store.keys)
    await revoked.add("sid-1", seconds=0.2)
    assert await redis.ttl(store.keys.revoked_session("sid-1")) == 1
    assert await store.delete_everything() == 1
