"""Listing failures (the dashboard's Failures page): batched reads versus one failure at a time.

    .venv/bin/python -m bench.failures_listing [--failures 100 1000] [--repeat 7]

Seeds failed runs on the real Redis under a prefix of its own (removed at the end), then times
`store.failures.listing()` (three round trips in all) against reading each listed failure with
`store.failures.get(id)` (three per failure), side by side. Prints medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import redis.asyncio as aioredis

from payroll_sync.runs.encoding import text
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.outcomes import FieldChange
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.runs import Seed, seed_run

INTEGRATION = "bench"


async def seed(store: RunStore, count: int) -> None:
    """One finished run of `count` failed employees, each with a change to show."""
    reason = "bankAccount.number is not a valid Norwegian account number"
    diff = [FieldChange(field="lastname", old="Hansen", new="Hansen-Berg")]
    seeds = [
        Seed(str(10_000 + i), reason=reason, field="bankAccount.number", diff=diff)
        for i in range(count)
    ]
    await seed_run(store, seeds, integration=INTEGRATION)


async def one_at_a_time(store: RunStore, redis: aioredis.Redis) -> int:
    ids = await redis.zrevrange(store.keys.failures(), 0, -1)
    found = [await store.failures.get(text(ident)) for ident in ids]
    return sum(1 for item in found if item is not None)


async def batched(store: RunStore, redis: aioredis.Redis) -> int:
    return len(await store.failures.listing())


async def main(args: argparse.Namespace) -> None:
    redis = aioredis.Redis.from_url(REDIS_URL)
    print(f"{'failures':>8} {'batched ms':>11} {'one by one ms':>14} {'ratio':>6}")
    try:
        for count in args.failures:
            store = RunStore(redis, prefix=unique_prefix("bench"))
            try:
                await seed(store, count)
                timings: dict[str, list[float]] = {"batched": [], "one": []}
                for _ in range(args.repeat):
                    for name, read in (("batched", batched), ("one", one_at_a_time)):
                        start = time.perf_counter()
                        assert await read(store, redis) == count
                        timings[name].append(1000 * (time.perf_counter() - start))
                fast = statistics.median(timings["batched"])
                slow = statistics.median(timings["one"])
                print(f"{count:>8} {fast:>11.1f} {slow:>14.1f} {slow / fast:>5.1f}x")
            finally:
                await store.delete_everything()
    finally:
        await redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--failures", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=7)
    asyncio.run(main(parser.parse_args()))
