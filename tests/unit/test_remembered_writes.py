"""`worker.written.RememberedWrites`: the worker's `WrittenPort` over `runs.written`."""

from __future__ import annotations

import redis.asyncio as aioredis

from payroll_sync.runs.store import RunStore
from payroll_sync.runs.written import WrittenValues
from payroll_sync.worker.written import RememberedWrites


async def test_a_count_read_with_the_record_answers_without_redis(
    redis: aioredis.Redis, store: RunStore
) -> None:
    written = WrittenValues(redis, store.prefix)
    # Nothing is stored, but the count read with the record says otherwise: it is believed.
    port = RememberedWrites(written, "acme", known={"1001": 3, "1002": 0})
    assert await port.anything(1001)
    assert not await port.anything(1002)


async def test_without_a_count_it_reads_redis(redis: aioredis.Redis, store: RunStore) -> None:
    written = WrittenValues(redis, store.prefix)
    port = RememberedWrites(written, "acme")
    assert not await port.anything(1001)
    await port.remember(1001, {"firstname": "Kari"})
    assert await port.anything(1001)
    assert await port.remembered(1001) == await written.digests({"firstname": "Kari"})
    # Another integration's memory is its own.
    assert not await RememberedWrites(written, "other").anything(1001)


async def test_remembering_forgets_the_count_read_before(
    redis: aioredis.Redis, store: RunStore
) -> None:
    written = WrittenValues(redis, store.prefix)
    port = RememberedWrites(written, "acme", known={"1001": 0})
    await port.remember(1001, {"firstname": "Kari"})
    assert await port.anything(1001)
