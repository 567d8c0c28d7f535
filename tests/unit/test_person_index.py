"""The worker's person index (worker/persons.py), on fakeredis and on the real Redis: one
listing per freshness need, shared by concurrent workers, no person number kept in clear."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll
from payroll_sync.worker.persons import PersonIndex

SSN = "15108695088"
OTHER = "01010150113"


class Listing:
    """`GET /employee/v2` of a company, counting the calls; `gate` holds each call open."""

    def __init__(self, *rows: tuple[str, str]) -> None:
        self.rows = [payroll.Employee(emp_id=e, personnr=p) for e, p in rows]
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.listing = asyncio.Event()

    async def list_employees(self) -> list[payroll.Employee]:
        self.calls += 1
        self.listing.set()
        if self.gate is not None:
            await self.gate.wait()
        return list(self.rows)


def _index(redis: aioredis.Redis, store: RunStore, listing: Listing, now: float) -> PersonIndex:
    return PersonIndex(redis, store.keys, "acme", listing, clock=lambda: now)


async def test_built_once_then_used_until_a_fresher_one_is_needed(
    redis: aioredis.Redis, store: RunStore
) -> None:
    listing = Listing(("1024", "151086 95088"), ("7", "160243"))
    index = _index(redis, store, listing, now=100.0)

    assert await index.holder(SSN, fresh_since=50.0) == 1024
    assert await index.holder(OTHER, fresh_since=50.0) is None
    assert await index.holder(SSN, fresh_since=100.0) == 1024
    assert listing.calls == 1, "fresh enough: no second listing"

    # A later run (its bulk read after the index was built) needs a new one.
    listing.rows = [payroll.Employee(emp_id="2024", personnr=SSN)]
    later = _index(redis, store, listing, now=200.0)
    assert await later.holder(SSN, fresh_since=150.0) == 2024
    assert listing.calls == 2


async def test_creates_are_added_and_stale_entries_forgotten(
    redis: aioredis.Redis, store: RunStore
) -> None:
    index = _index(redis, store, Listing(("1024", SSN)), now=100.0)
    await index.add(OTHER, 5)  # no index yet: nothing kept
    assert await redis.exists(store.keys.persons("acme")) == 0
    assert await index.holder(OTHER, fresh_since=0) is None
    await index.add(OTHER, 5)
    assert await index.holder(OTHER, fresh_since=0) == 5
    await index.forget(SSN, 999)  # held by another: left alone
    assert await index.holder(SSN, fresh_since=0) == 1024
    await index.forget(SSN, 1024)
    assert await index.holder(SSN, fresh_since=0) is None


async def test_concurrent_workers_share_one_listing(redis: aioredis.Redis, store: RunStore) -> None:
    listing = Listing(("1024", SSN))
    listing.gate = asyncio.Event()
    workers = [_index(redis, store, listing, now=100.0) for _ in range(5)]
    asks = [asyncio.create_task(w.holder(SSN, fresh_since=50.0)) for w in workers]
    await listing.listing.wait()
    listing.gate.set()
    assert await asyncio.gather(*asks) == [1024] * 5
    assert listing.calls == 1


async def test_no_person_number_in_clear_and_it_expires(
    redis: aioredis.Redis, store: RunStore
) -> None:
    index = _index(redis, store, Listing(("1024", SSN)), now=100.0)
    await index.holder(SSN, fresh_since=0)
    key = store.keys.persons("acme")
    held = await redis.hgetall(key)
    assert len(held) == 2  # the person and `built`
    assert not any(SSN.encode() in field or SSN.encode() in value for field, value in held.items())
    assert 0 < await redis.ttl(key) <= 6 * 3600
    assert await store.delete_everything() >= 1
    assert await redis.exists(key) == 0
