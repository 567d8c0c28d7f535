"""The worker's employment links (worker/links.py), on fakeredis and on the real Redis."""

from __future__ import annotations

import redis.asyncio as aioredis

from payroll_sync.runs.store import RunStore
from payroll_sync.worker.links import EmploymentLinks


async def test_employment_links_per_integration(redis: aioredis.Redis, store: RunStore) -> None:
    acme = EmploymentLinks(redis, store.keys, "acme")
    other = EmploymentLinks(redis, store.keys, "other")
    assert await acme.get(1001) is None
    await acme.set(1001, "1001-1")
    await other.set(1001, "1001-9")
    assert await acme.get(1001) == "1001-1"
    assert await other.get(1001) == "1001-9"
    await acme.set(1001, "1001-2")
    assert await acme.get(1001) == "1001-2"
    assert await acme.get(1002) is None


async def test_links_live_under_the_prefix(redis: aioredis.Redis, store: RunStore) -> None:
    links = EmploymentLinks(redis, store.keys, "acme")
    await links.set(1001, "1001-1")
    assert await store.delete_everything() == 1
    assert await links.get(1001) is None
