"""What following the registry costs, for 100, 1,000 and 10,000 integrations.

    .venv/bin/python -m bench.registry_scale [--integrations 100 1000 10000] [--polls 50]

For each size, on a fresh PostgreSQL database of its own (dropped at the end), on the server the
tests use (tests/support/postgres.py): stores that many integrations with `Registry.put`, then
measures what a process pays to follow them, as every worker, scheduler, intake and dashboard
process does:

- put: one create (encrypting two tokens, one transaction under the write lock);
- first load: `LiveCatalog.open` (reading every row and decrypting every token), and the
  catalog's memory (tracemalloc);
- idle poll: one `refresh()` when nothing changed (what each process does every 2 s);
- one change: a replace, then the `refresh()` that picks it up.

Times are medians of wall seconds; CPU is this process's and the PostgreSQL backends' serving
it (from /proc), so the database's share is counted too. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from payroll_sync.catalog import LiveCatalog
from payroll_sync.config import Environment
from payroll_sync.logs import configure_logging
from payroll_sync.registry.crypto import new_key
from payroll_sync.registry.records import TokensUpdate
from payroll_sync.registry.store import Registry
from payroll_sync.schemas.settings import Integration, Schedule, Scope
from tests.support.keys import REDIS_URL
from tests.support.postgres import fresh_database

TICKS = os.sysconf("SC_CLK_TCK")


def settings_of(index: int) -> Integration:
    return Integration(
        simployer_url=f"https://simployer.example/{index}",
        payroll_url=f"https://payroll.example/{index}",
        rate_limit_per_second=10.0,
        scope=Scope(departments=[f"d-{index}"], exclude=[str(index)]),
        schedule=Schedule(enabled=True, times=["06:00", "12:00"]),
    )


def tokens_of(index: int) -> TokensUpdate:
    return TokensUpdate(
        simployer_token=f"simployer-{index:06d}-" + "s" * 40,
        payroll_token=f"payroll-{index:06d}-" + "p" * 40,
    )


async def backend_cpu(database_url: str, database: str) -> float:
    """CPU seconds of every PostgreSQL backend connected to `database` (same machine)."""
    conn = await asyncpg.connect(database_url)
    try:
        pids = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()
    return sum(_cpu_of(row["pid"]) for row in pids)


def _cpu_of(pid: int) -> float:
    """CPU seconds of one process so far (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


async def measured(
    action: Callable[[], Awaitable[object]], database_url: str, database: str, repeat: int
) -> tuple[float, float, float]:
    """(median wall ms, our CPU ms per call, database CPU ms per call) over `repeat` calls."""
    walls: list[float] = []
    cpu_before, db_before = time.process_time(), await backend_cpu(database_url, database)
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        walls.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu_before
    database_cpu = await backend_cpu(database_url, database) - db_before
    return (
        statistics.median(walls) * 1000,
        cpu / repeat * 1000,
        database_cpu / repeat * 1000,
    )


async def one_size(count: int, polls: int, config: Path) -> dict[str, str]:
    keys = new_key()
    async with fresh_database() as url:
        database = url.rsplit("/", 1)[1]
        registry = await Registry.connect(url, secret_keys=keys)
        try:
            index = 0

            async def put() -> None:
                nonlocal index
                index += 1
                await registry.put(f"co-{index:06d}", settings_of(index), tokens_of(index))

            put_ms = await measured(put, url, database, count)
            env = Environment(
                config_path=str(config), redis_url=REDIS_URL, prefix="bench", database_url=url
            )
            environ = {"PAYROLL_SYNC_SECRET_KEY": keys}
            gc.collect()
            tracemalloc.start()
            started, cpu_before = time.perf_counter(), time.process_time()
            catalog = await LiveCatalog.open(env, environ=environ)
            open_s = time.perf_counter() - started
            open_cpu = time.process_time() - cpu_before
            held, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert len(catalog.settings.integrations) == count
            try:
                idle = await measured(catalog.refresh, url, database, polls)

                async def change_and_refresh() -> None:
                    await registry.put("co-000001", settings_of(count + 1), None)
                    assert await catalog.refresh()

                change = await measured(change_and_refresh, url, database, polls)
            finally:
                await catalog.close()
        finally:
            await registry.close()
    return {
        "integrations": f"{count:,}",
        "put ms (wall / cpu / db cpu)": "{:.2f} / {:.2f} / {:.2f}".format(*put_ms),
        "first load s (wall / cpu)": f"{open_s:.3f} / {open_cpu:.3f}",
        "catalog MiB": f"{held / 2**20:.1f}",
        "idle poll ms (wall / cpu / db cpu)": "{:.2f} / {:.2f} / {:.2f}".format(*idle),
        "change + poll ms (wall / cpu / db cpu)": "{:.2f} / {:.2f} / {:.2f}".format(*change),
    }


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "integrations.toml"
        config.write_text("")
        rows = [await one_size(count, args.polls, config) for count in args.integrations]
    headers = list(rows[0])
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(row[h] for h in headers) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--integrations", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--polls", type=int, default=50)
    with open(os.devnull, "w") as devnull:
        # The catalog's events (one per change) would drown the table; they cost what they cost.
        configure_logging(stream=devnull, level=logging.INFO)
        asyncio.run(main(parser.parse_args()))
