"""One scheduler pass when nothing is due, for 10, 100 and 1,000 scheduled integrations.

    .venv/bin/python -m bench.scheduler_pass [--integrations 10 100 1000] [--passes 20]

Writes a settings file with that many integrations (schedules of three times a day), runs a
`Scheduler` against the real Redis under a prefix of its own (removed at the end) with a clock
fixed between slots, and prints the median time of one `tick()`. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

from payroll_sync.catalog import LiveCatalog
from payroll_sync.logs import configure_logging
from payroll_sync.producer.enrol import Expansion
from payroll_sync.runs.store import delete_keys
from payroll_sync.scheduler.process import Scheduler
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Settings
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.settings import integration_toml

# A Tuesday, 10:00 Oslo time: between the 06:00, 12:00 and 18:00 slots.
NOW = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)


def settings_text(count: int) -> str:
    schedule = {"enabled": True, "times": ["06:00", "12:00", "18:00"]}
    return "".join(
        integration_toml(
            f"company-{index}",
            token_envs=(f"SIMPLOYER_TOKEN_{index}", f"PAYROLL_TOKEN_{index}"),
            schedule=schedule,
        )
        for index in range(count)
    )


async def never(request: SyncRequest, settings: Settings) -> Expansion:
    raise AssertionError("nothing is due between slots")


async def measure(redis: aioredis.Redis, count: int, passes: int, folder: Path) -> float:
    path = folder / f"integrations-{count}.toml"
    path.write_text(settings_text(count))
    prefix = unique_prefix("bench")
    scheduler = Scheduler(
        catalog=LiveCatalog.from_file(str(path)),
        state=ScheduleState(redis, prefix=prefix),
        submit=never,
        clock=lambda: NOW,
    )
    try:
        await scheduler.tick()  # the first pass records every schedule as seen on
        timings = []
        for _ in range(passes):
            start = time.perf_counter()
            await scheduler.tick()
            timings.append(1000 * (time.perf_counter() - start))
        return statistics.median(timings)
    finally:
        await delete_keys(redis, f"{prefix}:*")


async def main(args: argparse.Namespace) -> None:
    redis = aioredis.Redis.from_url(REDIS_URL)
    print(f"{'integrations':>12} {'ms per pass':>12}")
    try:
        with tempfile.TemporaryDirectory() as folder:
            for count in args.integrations:
                median = await measure(redis, count, args.passes, Path(folder))
                print(f"{count:>12} {median:>12.1f}")
    finally:
        await redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--integrations", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--passes", type=int, default=20)
    with open(os.devnull, "w") as devnull:
        # One `schedule.enabled` event per integration on the first pass: not the figure.
        configure_logging(stream=devnull, level=logging.INFO)
        asyncio.run(main(parser.parse_args()))
