"""What one Prometheus scrape costs at 100, 1,000 and 10,000 integrations. Prints figures;
asserts nothing.

    .venv/bin/python -m bench.metrics_scrape [--integrations 100 1000 10000] [--scrapes 20]

Two endpoints, each with the series a deployment of that many companies has:

- **an HTTP service's `/metrics`** (intake, dashboard, scheduler): a real aiohttp server on
  loopback, its process holding per integration the producer's Simployer One requests and the
  scheduler's slots, and the pacer in the real Redis holding `--waiting` records for every
  integration (under a prefix of its own, removed after), read by the scrape's one Lua call.
  Measured: the GET's wall time and the server process's CPU per scrape (client in the same
  process, so an upper bound), the body's size.
- **the workers' `/metrics`**: `--processes` worker-like processes write their series per
  integration (records by outcome, requests by answer class, rate-limit waits, deferrals) to a
  multiprocess directory, as `payroll-sync worker` runs them; measured: summing the files and
  rendering them (`metrics/worker.py` serves exactly this), CPU per scrape, the body's size.
  Twice side by side: "before", the wait histogram per integration and API as it first
  shipped (26 series per integration), and "now", the histogram by API with a counter of the
  seconds waited per integration and API.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from payroll_sync.queue.broker import broker_namespace
from payroll_sync.queue.pacing import PaceKeys, pending_entry, waiting_refresh
from payroll_sync.runs.store import delete_keys
from tests.support.keys import REDIS_URL, unique_prefix

OUTCOMES = ("created", "updated", "unchanged", "failed")


def names(count: int) -> list[str]:
    return [f"company-{index:05d}" for index in range(count)]


def write_worker_series(count: int, shape: str) -> None:
    """In a child with PROMETHEUS_MULTIPROC_DIR set: one worker process's series. `shape`
    "before": the rate-limit wait histogram per integration and API, as it first shipped."""
    from prometheus_client import Histogram

    from payroll_sync.metrics import definitions as m

    by_integration = Histogram(
        "bench_rate_limit_wait_by_integration_seconds",
        "The wait histogram as it first shipped: by integration and API.",
        ["integration", "api"],
        buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
    )
    for name in names(count):
        for outcome in OUTCOMES:
            m.RECORDS.labels(name, "employees", outcome, "false").inc(7)
        m.RECORDS.labels(name, "absences", "created", "false").inc(3)
        for answer in ("2xx", "4xx", "429"):
            m.API_REQUESTS.labels(name, "payroll", answer).inc(5)
        m.API_REQUESTS.labels(name, "simployer", "2xx").inc(5)
        if shape == "before":
            by_integration.labels(name, "payroll").observe(0.02)
            by_integration.labels(name, "simployer").observe(0.0)
        else:
            m.RATE_LIMIT_WAIT.labels("payroll").observe(0.02)
            m.RATE_LIMIT_WAIT.labels("simployer").observe(0.0)
            m.RATE_LIMIT_WAITED.labels(name, "payroll").inc(0.02)
            m.RATE_LIMIT_WAITED.labels(name, "simployer").inc(0.0)
        m.DEFERRALS.labels(name, "429").inc()


def add_service_series(count: int) -> None:
    """In this process: what an intake or scheduler process counts per integration."""
    from payroll_sync.metrics import definitions as m

    for name in names(count):
        m.API_REQUESTS.labels(name, "simployer", "2xx").inc(1000)
        m.SCHEDULE_SLOTS.labels(name, "fired").inc()


async def fill_pacer(redis: aioredis.Redis, keys: PaceKeys, count: int, waiting: int) -> None:
    stamp = int(time.time() * 1000) - 60_000
    body = f'{{"queue_name":"employees","message_timestamp":{stamp},"args":["x"]}}'
    pipe = redis.pipeline(transaction=False)
    for name in names(count):
        entries = [pending_entry("employees", f"m{index}", body) for index in range(waiting)]
        pipe.rpush(keys.pending(name), *entries)
        pipe.zadd(keys.due, {name: time.time()})
    await pipe.execute()


async def service_scrapes(count: int, scrapes: int, waiting: int) -> tuple[float, float, int]:
    """(median ms per GET, CPU ms per scrape, body bytes) of an HTTP service's /metrics."""
    from payroll_sync.metrics.exposition import add_metrics_route

    add_service_series(count)
    redis = aioredis.Redis.from_url(REDIS_URL)
    prefix = unique_prefix("bench-scrape")
    keys = PaceKeys(broker_namespace(prefix))
    known = names(count)
    runner: web.AppRunner | None = None
    try:
        await fill_pacer(redis, keys, count, waiting)
        app = web.Application()
        add_metrics_route(app, refresh=[waiting_refresh(redis, prefix, lambda: known)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/metrics"
        walls: list[float] = []
        size = 0
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as answer:  # warm: the first one creates the gauges
                await answer.read()
            cpu_before = time.process_time()
            for _ in range(scrapes):
                start = time.perf_counter()
                async with http.get(url) as answer:
                    body = await answer.read()
                walls.append(1000 * (time.perf_counter() - start))
                size = len(body)
            cpu = 1000 * (time.process_time() - cpu_before) / scrapes
        assert f'payroll_sync_records_waiting{{integration="{known[-1]}"}} {waiting}.0' in (
            body.decode()
        ), "the pacer's gauge is not in the scrape"
        return statistics.median(walls), cpu, size
    finally:
        if runner is not None:
            await runner.cleanup()
        await delete_keys(redis, f"{broker_namespace(prefix)}:*")
        await delete_keys(redis, f"{prefix}:*")
        await redis.aclose()


def worker_scrapes(
    count: int, scrapes: int, processes: int, shape: str
) -> tuple[float, float, int]:
    """(median ms, CPU ms per scrape, body bytes) of the workers' summed /metrics."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    with tempfile.TemporaryDirectory(prefix="bench-scrape-") as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.metrics_scrape", "--child", str(count), shape],
                env=env,
            )
            for _ in range(processes)
        ]
        for child in children:
            if child.wait() != 0:
                raise SystemExit("a worker-like child failed")
        walls: list[float] = []
        cpu_before = time.process_time()
        for _ in range(scrapes):
            start = time.perf_counter()
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
            body = generate_latest(registry)
            walls.append(1000 * (time.perf_counter() - start))
        cpu = 1000 * (time.process_time() - cpu_before) / scrapes
        return statistics.median(walls), cpu, len(body)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--integrations", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=50, help="records waiting per company")
    parser.add_argument("--processes", type=int, default=2, help="worker processes")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        write_worker_series(int(args.child[0]), args.child[1])
        return
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        raise SystemExit("unset PROMETHEUS_MULTIPROC_DIR: this process is an HTTP service")
    print(f"$ python -m bench.metrics_scrape {' '.join(sys.argv[1:])}")
    print(f"{os.cpu_count()} CPUs; {args.scrapes} scrapes each, medians")
    header = f"{'integrations':>12} | {'endpoint':<28} | {'ms':>7} | {'CPU ms':>7} | {'KiB':>7}"
    print(header)
    for count in args.integrations:
        wall, cpu, size = asyncio.run(service_scrapes(count, args.scrapes, args.waiting))
        print(
            f"{count:>12} | {'HTTP service (intake…)':<28} | {wall:7.1f} | {cpu:7.1f} | "
            f"{size / 1024:7.0f}"
        )
        for shape in ("before", "now"):
            wall, cpu, size = worker_scrapes(count, args.scrapes, args.processes, shape)
            label = f"workers ({args.processes} proc.), {shape}"
            print(
                f"{count:>12} | {label:<28} | {wall:7.1f} | {cpu:7.1f} | {size / 1024:7.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
