"""The 06:00 wave: many integrations, each with its own 24SevenOffice rate limit, asked to sync
at once, as the scheduler fires them (issue 14).

    .venv/bin/python bench/wave.py --mix 45x50@5,5x500@50 --processes 2 --threads 16
    .venv/bin/python bench/wave.py --integrations 10 --employees 488 --rate-limit 10 --unchanged

Starts its own redis-server on a free port (or uses REDIS_URL with --shared-redis, keys under a
prefix of their own, removed at the end), one process of simulated companies
(`payroll_sync.simulators.fleet`), and `payroll-sync worker --processes P --threads T`. This
process is the producer: it submits one employee sync per integration through
`Producer.submit`, at most `--submit-concurrency` at once as the scheduler does, then waits for
every run. Prints per integration and overall figures (see LEGEND); asserts no timings; exits
non-zero only when something it needs does not start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

import aiohttp
import msgspec
import redis.asyncio as aioredis

from bench.wave_procs import (
    OwnRedis,
    SetupFailed,
    count_events,
    fleet,
    log_size,
    own_redis,
    tree_cpu,
    worker,
)
from bench.wave_report import LEGEND, IntegrationFigures, WaveFigures, print_wave
from payroll_sync.config import load_settings
from payroll_sync.logs import configure_logging
from payroll_sync.producer.producer import Producer
from payroll_sync.queue import broker as broker_setup
from payroll_sync.runs.store import delete_keys
from payroll_sync.scheduler.process import DEFAULT_MAX_CONCURRENT
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import Run
from payroll_sync.schemas.settings import Settings
from payroll_sync.simulators.fleet import (
    CompanyGroup,
    CompanyRequests,
    FleetCompany,
    FleetManifest,
    parse_mix,
)

WORKER_EVENTS = ("record.deferred", "record.retrying", "record.already_finished", "record.crashed")
POLL_SECONDS = 1.0
PROGRESS_SECONDS = 15.0


# ------------------------------------------------------------------ options


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--integrations", type=positive, default=10, help="without --mix")
    parser.add_argument("--employees", type=positive, default=488, help="each, without --mix")
    parser.add_argument(
        "--rate-limit", type=float, default=10.0, help="24SevenOffice, per s, without --mix"
    )
    parser.add_argument(
        "--mix", help="COUNTxEMPLOYEES@RATE groups, e.g. 45x50@5,5x500@50 (wins over the three)"
    )
    parser.add_argument("--processes", type=positive, default=2, help="worker processes")
    parser.add_argument("--threads", type=positive, default=16, help="worker threads per process")
    parser.add_argument(
        "--submit-concurrency",
        type=positive,
        default=DEFAULT_MAX_CONCURRENT,
        help=f"submissions at once (the scheduler's default: {DEFAULT_MAX_CONCURRENT})",
    )
    parser.add_argument("--latency-ms", type=float, default=30.0, help="added to each API call")
    parser.add_argument(
        "--faults",
        default="",
        help="error=SHARE,drop=SHARE,timeout=SHARE on both APIs during the measured wave",
    )
    parser.add_argument(
        "--unchanged",
        action="store_true",
        help="seed the payroll with one wave first, then measure a second, unchanged one",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    parser.add_argument(
        "--shared-redis",
        action="store_true",
        help="use REDIS_URL (default redis://127.0.0.1:6379/0) instead of a redis-server of "
        "our own; its CPU figure is then the whole server's",
    )
    parser.add_argument("--timeout", type=float, help="give up waiting after this many s")
    parser.add_argument(
        "--quiet", action="store_true", help="no per-integration table, only the groups"
    )
    args = parser.parse_args(argv)
    try:
        args.groups = (
            parse_mix(args.mix)
            if args.mix
            else [
                CompanyGroup(
                    count=args.integrations,
                    employees=args.employees,
                    rate_limit_per_second=args.rate_limit,
                )
            ]
        )
        if not args.groups or min(g.rate_limit_per_second for g in args.groups) <= 0:
            raise ValueError("--rate-limit must be above 0")
        args.fault_rates = parse_faults(args.faults)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def parse_faults(text: str) -> dict[str, float]:
    """`error=0.02,drop=0.01` -> {"error_rate": 0.02, "drop_rate": 0.01}."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name not in ("error", "drop", "timeout"):
            raise ValueError(f"--faults: {name!r} is none of error, drop, timeout")
        try:
            rate = float(value)
        except ValueError:
            raise ValueError(f"--faults: {part!r} needs a number, e.g. {name}=0.02") from None
        if not 0 <= rate <= 1:
            raise ValueError(f"--faults: {name} must be between 0 and 1")
        rates[f"{name}_rate"] = rate
    return rates


# ------------------------------------------------------------------ settings for the fleet


def env_name(company: str, system: str) -> str:
    return f"WAVE_{company.upper()}_{system}_TOKEN"


def settings_toml(companies: list[FleetCompany]) -> str:
    lines: list[str] = []
    for c in companies:
        lines += [
            f"[integrations.{c.name}]",
            f'simployer_url = "{c.simployer_url}"',
            f'simployer_token_env = "{env_name(c.name, "SIMPLOYER")}"',
            f'payroll_url = "{c.payroll_url}"',
            f'payroll_token_env = "{env_name(c.name, "PAYROLL")}"',
            f"rate_limit_per_second = {c.rate_limit_per_second}",
            "",
        ]
    return "\n".join(lines)


def token_env(companies: list[FleetCompany]) -> dict[str, str]:
    env: dict[str, str] = {}
    for c in companies:
        env[env_name(c.name, "SIMPLOYER")] = c.simployer_token
        env[env_name(c.name, "PAYROLL")] = c.payroll_token
    return env


# ------------------------------------------------------------------ one wave


class Parts:
    """Where CPU is spent: the worker's, Redis's and the fleet's processes (and this one)."""

    def __init__(
        self,
        worker: subprocess.Popen[bytes],
        redis_pid: int | None,
        fleet_pid: int,
        redis: aioredis.Redis,
    ) -> None:
        self.worker, self.redis_pid, self.fleet_pid = worker, redis_pid, fleet_pid
        self.redis = redis

    def check_worker(self) -> None:
        """A worker that has exited will finish no run: stop rather than wait for nothing."""
        if self.worker.poll() is not None:
            raise SetupFailed(f"the worker exited with status {self.worker.returncode}")

    async def cpu(self) -> dict[str, float]:
        if self.redis_pid is not None:
            redis_cpu = tree_cpu(self.redis_pid)
        else:
            info = await self.redis.info("cpu")
            redis_cpu = float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
        return {
            "worker": tree_cpu(self.worker.pid),
            "redis": redis_cpu,
            "simulators": tree_cpu(self.fleet_pid),
        }


async def fleet_requests(http: aiohttp.ClientSession, admin: str) -> dict[str, CompanyRequests]:
    async with http.get(f"{admin}/fleet/requests") as answer:
        answer.raise_for_status()
        items = msgspec.json.decode(await answer.read(), type=list[CompanyRequests])
    return {item.name: item for item in items}


async def fleet_call(http: aiohttp.ClientSession, method: str, url: str, body: object) -> None:
    async with http.request(method, url, json=body) as answer:
        answer.raise_for_status()


async def run_wave(
    label: str,
    *,
    manifest: FleetManifest,
    settings: Settings,
    producer: Producer,
    parts: Parts,
    http: aiohttp.ClientSession,
    worker_log: Path,
    args: argparse.Namespace,
) -> WaveFigures:
    redis = parts.redis
    await fleet_call(http, "DELETE", f"{manifest.admin_url}/fleet/requests", None)
    log_start = log_size(worker_log)
    used_before = int((await redis.info("memory"))["used_memory"])
    cpu_before = await parts.cpu()
    figures = {
        c.name: IntegrationFigures(name=c.name, rate_limit_per_second=c.rate_limit_per_second)
        for c in manifest.companies
    }
    gate = asyncio.Semaphore(args.submit_concurrency)
    run_ids: dict[str, str] = {}
    start = time.time()
    producer_cpu = time.process_time()

    async def submit(name: str) -> None:
        async with gate:
            try:
                request = SyncRequest(integration=name, kind="employees", trigger="scheduled")
                expansion = await producer.submit(request, settings)
                run_ids[name] = expansion.run_id
            except Exception as exc:  # one failed submission is a figure, not the end
                figures[name].error = f"{type(exc).__name__}: {exc}"[:200]
            figures[name].submitted_s = time.time() - start

    await asyncio.gather(*(submit(c.name) for c in manifest.companies))
    submit_s = time.time() - start
    producer_cpu = time.process_time() - producer_cpu

    # Wait for every run, sampling Redis's memory (its own peak counter cannot be reset).
    max_seconds = args.timeout or 300 + 10 * max(
        g.employees / g.rate_limit_per_second for g in args.groups
    )
    peak, deadline = used_before, time.monotonic() + max_seconds
    open_runs = dict(run_ids)
    said = time.monotonic()
    while open_runs and time.monotonic() < deadline:
        parts.check_worker()
        if time.monotonic() - said >= PROGRESS_SECONDS:
            said = time.monotonic()
            async with redis.pipeline(transaction=False) as pipe:
                for run_id in run_ids.values():
                    pipe.hlen(producer.store.keys.outcomes(run_id))
                finished = sum(await pipe.execute())
            print(
                f"  ... {time.time() - start:.0f} s: {len(run_ids) - len(open_runs)} of "
                f"{len(run_ids)} runs done, {finished} records",
                file=sys.stderr,
                flush=True,
            )
        peak = max(peak, int((await redis.info("memory"))["used_memory"]))
        async with redis.pipeline(transaction=False) as pipe:
            for run_id in open_runs.values():
                pipe.hget(producer.store.keys.run(run_id), "status")
            statuses = await pipe.execute()
        for name, status in zip(list(open_runs), statuses, strict=True):
            if status in (b"done", "done"):
                del open_runs[name]
        if open_runs:
            await asyncio.sleep(POLL_SECONDS)
    cpu_after = await parts.cpu()
    memory = await redis.info("memory")
    counts, _ = count_events(worker_log, log_start, WORKER_EVENTS)
    requests = await fleet_requests(http, manifest.admin_url)

    wave = WaveFigures(label=label, integrations=list(figures.values()))
    wave.submit_s = submit_s
    wave.cpu_s = {part: cpu_after[part] - cpu_before[part] for part in cpu_after}
    wave.cpu_s["producer"] = producer_cpu
    wave.events = counts
    wave.redis_used_before = used_before
    wave.redis_used_peak_sampled = max(peak, int(memory["used_memory"]))
    wave.redis_peak_since_start = int(memory["used_memory_peak"]) if parts.redis_pid else 0
    wave.unfinished = sorted(open_runs)
    totals: Counter[str] = Counter()
    last_outcome = start
    for name, run_id in run_ids.items():
        run = await producer.store.get_run(run_id)
        outcomes = await producer.store.outcomes(run_id)
        fill_integration(figures[name], run, [o.finished_at for o in outcomes], start)
        totals.update(figures[name].outcomes)
        last_outcome = max([last_outcome, *(o.finished_at for o in outcomes)])
    for name, item in requests.items():
        fill_requests(figures[name], item)
        wave.payroll_requests += item.payroll
        wave.simployer_requests += item.simployer
        wave.throttled += item.payroll_by_status.get("429", 0)
    wave.outcomes = dict(totals)
    wave.records = sum(f.records for f in figures.values())
    wave.wall_s = last_outcome - start
    return wave


def fill_integration(
    figures: IntegrationFigures, run: Run | None, finished: list[float], start: float
) -> None:
    if run is None:
        figures.error = figures.error or "run not found"
        return
    figures.records = run.total
    figures.outcomes = {k: v for k, v in run.counts.items() if v}
    if finished:
        figures.first_outcome_s = min(finished) - start
        figures.last_outcome_s = max(finished) - start


def fill_requests(figures: IntegrationFigures, item: CompanyRequests) -> None:
    figures.payroll_requests = item.payroll
    figures.throttled = item.payroll_by_status.get("429", 0)
    span = item.payroll_last_at - item.payroll_first_at
    if item.payroll > 1 and span > 0:
        figures.payroll_per_second = (item.payroll - 1) / span


# ------------------------------------------------------------------ the whole


@contextlib.contextmanager
def chosen_redis(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[str, int | None]]:
    if args.shared_redis:
        yield os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), None
        return
    with own_redis(workdir) as server:
        assert isinstance(server, OwnRedis)
        yield server.url, server.pid


def fleet_args(args: argparse.Namespace) -> list[str]:
    mix = ",".join(f"{g.count}x{g.employees}@{g.rate_limit_per_second:g}" for g in args.groups)
    return ["--mix", mix, "--latency-ms", str(args.latency_ms)]


async def bench(
    args: argparse.Namespace,
    manifest: FleetManifest,
    fleet_pid: int,
    redis_url: str,
    redis_pid: int | None,
    workdir: Path,
) -> list[WaveFigures]:
    prefix = f"payroll-sync-wave-{secrets.token_hex(4)}"
    config = workdir / "integrations.toml"
    config.write_text(settings_toml(manifest.companies))
    settings = load_settings(config)
    tokens = token_env(manifest.companies)
    env: Mapping[str, str] = {
        **os.environ,
        **tokens,
        "PAYROLL_SYNC_CONFIG": str(config),
        "REDIS_URL": redis_url,
        "PAYROLL_SYNC_PREFIX": prefix,
    }
    broker_setup.install(
        broker_setup.redis_broker(redis_url, prefix=prefix, policy=settings.worker)
    )
    redis = aioredis.Redis.from_url(redis_url)
    worker_log = workdir / "worker.log"
    waves: list[WaveFigures] = []
    try:
        with worker(args.processes, args.threads, env, worker_log) as process:
            producer = Producer(redis, prefix, env=tokens)
            parts = Parts(process, redis_pid, fleet_pid, redis)
            async with aiohttp.ClientSession() as http:

                async def wave(label: str) -> WaveFigures:
                    figures = await run_wave(
                        label,
                        manifest=manifest,
                        settings=settings,
                        producer=producer,
                        parts=parts,
                        http=http,
                        worker_log=worker_log,
                        args=args,
                    )
                    print_wave(figures, per_integration=not args.quiet)
                    return figures

                if args.unchanged:
                    waves.append(await wave("seeding wave (first sync, empty payroll)"))
                if args.fault_rates:
                    await fleet_call(
                        http, "PATCH", f"{manifest.admin_url}/fleet/settings", args.fault_rates
                    )
                label = "measured wave" + (" (unchanged records)" if args.unchanged else "")
                waves.append(await wave(label))
    finally:
        if redis_pid is None:  # the shared Redis: remove what we wrote
            await delete_keys(redis, f"{prefix}*")
        await redis.aclose()
    return waves


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    print("$ " + shlex.join(["python", "-m", "bench.wave", *sys.argv[1:]]))
    n = sum(g.count for g in args.groups)
    mix = ", ".join(
        f"{g.count} x {g.employees} employees at {g.rate_limit_per_second:g}/s" for g in args.groups
    )
    print(
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {n} integrations ({mix}); "
        f"worker {args.processes} processes x {args.threads} threads; "
        f"latency {args.latency_ms:g} ms; submissions {args.submit_concurrency} at once"
        + (f"; faults {args.faults}" if args.fault_rates else "")
    )
    configure_logging(stream=open(os.devnull, "w"), level=logging.INFO)  # noqa: SIM115
    # SIGTERM as Ctrl-C: the processes this one started are stopped on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with tempfile.TemporaryDirectory(prefix="wave-") as tmp:
            workdir = Path(tmp)
            with (
                chosen_redis(args, workdir) as (redis_url, redis_pid),
                fleet(fleet_args(args), workdir) as (manifest, fleet_pid),
            ):
                print(f"Redis {redis_url}{' (shared)' if redis_pid is None else ' (our own)'}")
                print("\n" + LEGEND, flush=True)
                waves = asyncio.run(bench(args, manifest, fleet_pid, redis_url, redis_pid, workdir))
    except SetupFailed as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json is not None:
        args.json.write_bytes(
            msgspec.json.format(msgspec.json.encode([w.summary() for w in waves]))
        )
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
