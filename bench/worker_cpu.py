"""CPU of a `payroll-sync worker` process per unchanged employee, for one or more checkouts side
by side: each `--variant NAME=SRC` runs its own worker process (`python -m dramatiq
payroll_sync.worker.actors`, one process, `--threads` threads) with `PYTHONPATH=SRC` under a
Redis prefix of its own, against the same simulators. Prints figures; asserts no timings.

    PYTHONPATH=src .venv/bin/python -m bench.worker_cpu --employees 1000 --repeat 5 \\
        --variant old=/tmp/old/src --variant new=src

After one sync creates every employee in the payroll simulator, each variant syncs once
unmeasured (its employment links written, its process warm); then the variants take turns, one
"nothing changed" sync each per round. Measured: user + system CPU of the worker's process tree
(from /proc, the Dramatiq parent and its worker process) from the request to the run's last
outcome, divided by the records. The producer runs in this process with this checkout's code
(the messages and run store layout are the same for every variant measured so far); the
simulators run in a subprocess. Worker logs (INFO, JSON, as in production) go to /dev/null.

`--metrics NAME` runs variant NAME's worker with its Prometheus metrics on, as `payroll-sync
worker` starts it (multiprocess files in a directory of the variant's own, Dramatiq's queue
middleware; nothing served, so no scrape is counted): name the same SRC twice to see what the
metrics cost, e.g. `--variant plain=src --variant metrics=src --metrics metrics`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import redis.asyncio as aioredis

from bench.employee_sync import INTEGRATION, TOKENS, Sims, arguments, run_bench
from payroll_sync.metrics import worker as worker_metrics
from payroll_sync.producer.producer import Producer
from payroll_sync.queue import broker as broker_setup
from payroll_sync.runs.store import RunStore, delete_keys
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Integration, Settings, Worker
from payroll_sync.stack import PAYROLL_TOKEN_ENV, SIMPLOYER_TOKEN_ENV

TOKENS_ENV = {SIMPLOYER_TOKEN_ENV: "", PAYROLL_TOKEN_ENV: ""}
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Variant:
    name: str
    src: str
    prefix: str
    metrics: bool = False
    process: subprocess.Popen[bytes] | None = None


def process_tree_cpu(session: int) -> tuple[float, float]:
    """User and system CPU seconds of the live processes in session `session` (from /proc)."""
    user = system = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # After the command: state, ppid, pgrp, session, ..., utime (12th), stime (13th).
        if int(fields[3]) == session:
            user += int(fields[11])
            system += int(fields[12])
    return user / TICKS, system / TICKS


def settings_toml(sims: Sims, rate_limit: float) -> str:
    return (
        f"[integrations.{INTEGRATION}]\n"
        f'simployer_url = "{sims.simployer_url}"\n'
        f'simployer_token_env = "{SIMPLOYER_TOKEN_ENV}"\n'
        f'payroll_url = "{sims.payroll_url}"\n'
        f'payroll_token_env = "{PAYROLL_TOKEN_ENV}"\n'
        f"rate_limit_per_second = {rate_limit}\n"
    )


@contextmanager
def worker_process(
    variant: Variant, *, config: str, redis_url: str, tokens: dict[str, str], threads: int
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        **tokens,
        "PYTHONPATH": variant.src,
        "PAYROLL_SYNC_CONFIG": config,
        "REDIS_URL": redis_url,
        "PAYROLL_SYNC_PREFIX": variant.prefix,
    }
    metrics_dir = (
        tempfile.mkdtemp(prefix="payroll-sync-cpubench-metrics-") if variant.metrics else ""
    )
    if metrics_dir:
        worker_metrics.worker_environment(env, host="127.0.0.1", port=0, directory=metrics_dir)
    command = [sys.executable, "-m", "dramatiq", "payroll_sync.worker.actors"]
    command += ["--processes", "1", "--threads", str(threads)]
    process = subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


async def sync_once(
    variant: Variant,
    redis: aioredis.Redis,
    settings: Settings,
    tokens: dict[str, str],
    redis_url: str,
    max_seconds: float,
) -> tuple[int, tuple[float, float], Counter[str]]:
    """One sync by `variant`'s worker: (records, its (user, system) CPU seconds, outcomes)."""
    broker_setup.install(
        broker_setup.redis_broker(redis_url, prefix=variant.prefix, policy=settings.worker)
    )
    producer = Producer(redis, variant.prefix, env=tokens)
    assert variant.process is not None
    before = process_tree_cpu(variant.process.pid)
    expansion = await producer.submit(SyncRequest(integration=INTEGRATION), settings)
    store = RunStore(redis, prefix=variant.prefix)
    await store.wait_done(expansion.run_id, poll_seconds=0.05, max_seconds=max_seconds)
    after = process_tree_cpu(variant.process.pid)
    cpu = (after[0] - before[0], after[1] - before[1])
    outcomes = await store.outcomes(expansion.run_id)
    return len(outcomes), cpu, Counter(item.outcome for item in outcomes)


async def bench(args: argparse.Namespace, sims: Sims) -> None:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    tag = secrets.token_hex(3)
    variants = []
    for name, src in args.variants:
        prefix = f"payroll-sync-cpubench-{tag}-{name}"
        variants.append(Variant(name, src, prefix, metrics=name in (args.metrics or [])))
    tokens = {SIMPLOYER_TOKEN_ENV: TOKENS.simployer_token, PAYROLL_TOKEN_ENV: TOKENS.payroll_token}
    integration = Integration(
        simployer_url=sims.simployer_url,
        simployer_token_env=SIMPLOYER_TOKEN_ENV,
        payroll_url=sims.payroll_url,
        payroll_token_env=PAYROLL_TOKEN_ENV,
        rate_limit_per_second=args.rate_limit,
    )
    settings = Settings(integrations={INTEGRATION: integration}, worker=Worker())
    max_seconds = 120 + 10 * args.employees / args.rate_limit
    redis = aioredis.Redis.from_url(redis_url)
    cpu: dict[str, list[tuple[float, float]]] = {variant.name: [] for variant in variants}
    try:
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as processes:
            config = os.path.join(tmp, "integrations.toml")
            with open(config, "w") as file:  # noqa: ASYNC230 (once, before anything runs)
                file.write(settings_toml(sims, args.rate_limit))
            for variant in variants:
                variant.process = processes.enter_context(
                    worker_process(
                        variant,
                        config=config,
                        redis_url=redis_url,
                        tokens=tokens,
                        threads=args.threads,
                    )
                )
            # The first variant creates everyone; then each syncs once unmeasured (links, warm).
            records, _, counts = await sync_once(
                variants[0], redis, settings, tokens, redis_url, max_seconds
            )
            print(f"first sync ({variants[0].name}): {records} records, {dict(counts)}")
            expected: dict[str, Counter[str]] = {}
            for variant in variants:
                records, _, counts = await sync_once(
                    variant, redis, settings, tokens, redis_url, max_seconds
                )
                expected[variant.name] = counts
                print(f"warm-up ({variant.name}): {dict(counts)}")
            for round_ in range(args.repeat):
                line = []
                for variant in variants:
                    records, seconds, counts = await sync_once(
                        variant, redis, settings, tokens, redis_url, max_seconds
                    )
                    if counts != expected[variant.name]:
                        line.append(f"{variant.name} UNEXPECTED {dict(counts)}")
                    user, system = (value / records * 1000 for value in seconds)
                    cpu[variant.name].append((user, system))
                    line.append(f"{variant.name} {user + system:.2f} ms ({system:.2f} sys)")
                print(f"round {round_ + 1}: " + ", ".join(line), flush=True)
    finally:
        # Only once the workers have stopped: a running worker writes its heartbeat again.
        for variant in variants:
            await delete_keys(redis, f"{variant.prefix}:*")
            await delete_keys(redis, f"{broker_setup.broker_namespace(variant.prefix)}:*")
        await redis.aclose()
    print(f"\nworker CPU per unchanged record, {args.repeat} rounds ({args.threads} threads):")
    for name, values in cpu.items():
        totals = [user + system for user, system in values]
        print(
            f"  {name:<8} median {statistics.median(totals):.2f} ms "
            f"(min {min(totals):.2f}, max {max(totals):.2f}; "
            f"user {statistics.median(u for u, _ in values):.2f}, "
            f"system {statistics.median(s for _, s in values):.2f})"
        )


def main() -> None:
    parser = arguments(__doc__, employees=1000)
    parser.add_argument(
        "--variant", action="append", help="NAME=SRC: a checkout's src directory (repeatable)"
    )
    parser.add_argument(
        "--metrics", action="append", help="NAME: that variant's worker exports metrics"
    )
    args = parser.parse_args()
    specs = args.variant or [f"this={os.path.dirname(__file__)}/../src"]
    args.variants = [
        (name, os.path.abspath(src)) for name, _, src in (s.partition("=") for s in specs)
    ]
    run_bench(args, ["python", *sys.argv], bench)


if __name__ == "__main__":
    main()
