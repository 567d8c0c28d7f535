"""The employee sync against rate-limited, slow simulators: queued (producer, Redis, Dramatiq
worker threads) versus a plain sequential loop, as a cron script would run it.

Three phases: a first sync into an empty payroll, a second with nothing changed, a third after
10% of the employees changed in Simployer One. Prints figures and checks outcome counts; asserts
no timings.

    .venv/bin/python bench/employee_sync.py [--employees 2000] [--rate-limit 50] [--repeat 1]

The simulators run in a subprocess, so this process's CPU time is the producer's and worker's
alone. Worker logs go, at INFO as in production, to /dev/null: their cost is part of the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from payroll_sync.connectors.payroll import PayrollAuth, PayrollClient
from payroll_sync.connectors.simployer import SimployerClient
from payroll_sync.errors import Deferred, Retryable
from payroll_sync.logs import configure_logging
from payroll_sync.producer.producer import oslo_today
from payroll_sync.rules.identity import person_index
from payroll_sync.rules.scope import in_scope
from payroll_sync.schemas.messages import EmployeeTask, SyncRequest
from payroll_sync.schemas.settings import Integration, Settings
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from payroll_sync.simulators import payroll as payroll_sim
from payroll_sync.simulators import simployer as simployer_sim
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.serve import SimulatorOptions
from payroll_sync.stack import (
    PAYROLL_TOKEN_ENV,
    SIMPLOYER_TOKEN_ENV,
    Stack,
    local_stack,
    redis_answers,
)
from payroll_sync.worker.sync_employee import sync_employee

INTEGRATION = "bench"
CHANGED_SHARE = 0.10
SYNCED = ("created", "updated", "unchanged")
PHASES = ("1 first sync, empty payroll", "2 nothing changed", "3 10% changed")
TOKENS = SimulatorOptions()  # the `simulate` command's default tokens


@dataclass(frozen=True)
class Sims:
    simployer_url: str
    payroll_url: str

    @property
    def simployer_admin(self) -> str:
        return self.simployer_url.removesuffix(simployer_sim.API_PREFIX) + "/_admin"

    @property
    def payroll_admin(self) -> str:
        return self.payroll_url.removesuffix(payroll_sim.API_PREFIX) + "/_admin"


@dataclass(frozen=True)
class Phase:
    """One phase's figures; `counts` are its outcomes (for the checks)."""

    records: float
    wall: float
    cpu: float
    requests: float
    writes: float
    throttled: float
    changed: float = 0.0
    # Reads of one employee (`GET /employee/v2/{empId}`): the re-read before each update.
    rereads: float = 0.0
    counts: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def synced(self) -> int:
        return sum(self.counts.get(name, 0) for name in SYNCED)


def median_phase(runs: list[Phase]) -> Phase:
    """Each figure's median over the repeats (the outcome counts of the last)."""
    numbers = {
        f.name: statistics.median(getattr(run, f.name) for run in runs)
        for f in fields(Phase)
        if f.name != "counts"
    }
    return replace(runs[-1], **numbers)


# ------------------------------------------------------------------ simulators in a subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def simulators(args: argparse.Namespace) -> Iterator[Sims]:
    s_port, p_port = free_port(), free_port()
    command = [str(Path(sys.executable).with_name("payroll-sync")), "simulate"]
    command += ["--employees", str(args.employees), "--latency-ms", str(args.latency_ms)]
    command += ["--rate-limit", str(args.rate_limit), "--simployer-rate-limit", "0"]
    command += ["--simployer-port", str(s_port), "--payroll-port", str(p_port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    sims = Sims(f"http://127.0.0.1:{s_port}/v1", f"http://127.0.0.1:{p_port}/api")
    try:
        deadline = time.monotonic() + 60
        while not all(_listening(port) for port in (s_port, p_port)):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"simulators did not start: {shlex.join(command)}")
            time.sleep(0.1)
        yield sims
    finally:
        process.terminate()
        process.wait(timeout=30)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


async def admin(http: aiohttp.ClientSession, method: str, url: str, body: object = None) -> bytes:
    async with http.request(method, url, json=body) as answer:
        answer.raise_for_status()
        return await answer.read()


class Requests(msgspec.Struct):
    """The part of the simulator's `GET /_admin/requests` we print."""

    total: int
    writes: int
    by_status: dict[str, int]
    by_route: dict[str, int]


async def payroll_counts(http: aiohttp.ClientSession, sims: Sims) -> Requests:
    """The payroll simulator's request counts since the last call (it forgets them here)."""
    report = await admin(http, "GET", f"{sims.payroll_admin}/requests")
    await admin(http, "DELETE", f"{sims.payroll_admin}/requests")
    return msgspec.json.decode(report, type=Requests)


def bench_settings(sims: Sims, rate_limit: float) -> tuple[Settings, dict[str, str]]:
    """The one integration against the simulators, and the environment holding its tokens."""
    integration = Integration(
        simployer_url=sims.simployer_url,
        simployer_token_env=SIMPLOYER_TOKEN_ENV,
        payroll_url=sims.payroll_url,
        payroll_token_env=PAYROLL_TOKEN_ENV,
        rate_limit_per_second=rate_limit,
    )
    env = {SIMPLOYER_TOKEN_ENV: TOKENS.simployer_token, PAYROLL_TOKEN_ENV: TOKENS.payroll_token}
    return Settings(integrations={INTEGRATION: integration}), env


# ------------------------------------------------------------------ one phase, either way

Sync = Callable[[], Awaitable[dict[str, int]]]


async def measure(http: aiohttp.ClientSession, sims: Sims, sync: Sync, changed: int) -> Phase:
    await payroll_counts(http, sims)
    cpu, start = time.process_time(), time.perf_counter()
    counts = await sync()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    report = await payroll_counts(http, sims)
    return Phase(
        records=sum(counts.values()),
        wall=wall,
        cpu=cpu,
        requests=report.total,
        writes=report.writes,
        throttled=report.by_status.get("429", 0),
        changed=changed,
        rereads=report.by_route.get("GET /employee/v2/{empId}", 0),
        counts=counts,
    )


async def run_phases(
    http: aiohttp.ClientSession, sims: Sims, sync: Sync, changes: dict[str, str]
) -> list[Phase]:
    """Phases 1-3 from an empty payroll; leaves both simulators as they were."""
    empty = await admin(http, "GET", f"{sims.payroll_admin}/state")
    first = await measure(http, sims, sync, 0)
    second = await measure(http, sims, sync, 0)
    await change_last_names(http, sims, {i: name + " Ny" for i, name in changes.items()})
    third = await measure(http, sims, sync, len(changes))
    await change_last_names(http, sims, changes)
    await admin(http, "PUT", f"{sims.payroll_admin}/state", msgspec.json.decode(empty))
    return [first, second, third]


async def change_last_names(
    http: aiohttp.ClientSession, sims: Sims, last_names: dict[str, str]
) -> None:
    url = f"{sims.simployer_admin}/state/employee"
    await asyncio.gather(
        *(admin(http, "PATCH", f"{url}/{i}", {"lastName": n}) for i, n in last_names.items())
    )


def queued_sync(stack: Stack, max_seconds: float) -> Sync:
    async def sync() -> dict[str, int]:
        _, outcomes = await stack.sync(
            SyncRequest(integration=INTEGRATION), max_seconds=max_seconds
        )
        return dict(Counter(item.outcome for item in outcomes))

    return sync


class LocalRateLimit:
    """The same GCRA as `SharedRateLimiter`, in memory: a cron script has no Redis."""

    def __init__(self, per_second: float, burst: int) -> None:
        self._interval, self._burst, self._tat = 1.0 / per_second, burst, 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        self._tat = max(self._tat, now) + self._interval
        if (delay := self._tat - self._burst * self._interval - now) > 0:
            await asyncio.sleep(delay)


class DictLinks:
    def __init__(self) -> None:
        self.links: dict[int, str] = {}

    async def get(self, emp_id: int) -> str | None:
        return self.links.get(emp_id)

    async def set(self, emp_id: int, employment_id: str) -> None:
        self.links[emp_id] = employment_id


class DictPersons:
    """The person index from the run's own bulk listing (a cron script has it in hand)."""

    def __init__(self, index: dict[str, int]) -> None:
        self.index = index

    async def holder(self, person: str, *, fresh_since: float) -> int | None:
        return self.index.get(person)

    async def add(self, person: str, emp_id: int) -> None:
        self.index[person] = emp_id

    async def forget(self, person: str, emp_id: int) -> None:
        if self.index.get(person) == emp_id:
            del self.index[person]


def sequential_sync(sims: Sims, integration: Integration) -> Sync:
    """Bulk reads as the producer does, then `sync_employee` for one employee after another."""
    links = DictLinks()  # kept between runs, as the run store keeps them

    async def sync() -> dict[str, int]:
        limit = LocalRateLimit(integration.rate_limit_per_second, integration.burst)
        async with aiohttp.ClientSession() as session:
            hr = SimployerClient(session, sims.simployer_url, TOKENS.simployer_token)
            auth = PayrollAuth(
                session, sims.payroll_url, TOKENS.payroll_token, before_request=limit.wait
            )
            payroll_api = PayrollClient(session, sims.payroll_url, auth, before_request=limit.wait)
            bundles, _ = await hr.employee_bundles()
            selected = in_scope(
                [bundle.employee for bundle in bundles],
                integration.scope,
                departments=await hr.departments(),
                today=oslo_today(time.time()),
            )
            listed = await payroll_api.list_employees()
            current = {row.emp_id: row for row in listed}
            persons = DictPersons(person_index(listed))
            by_id = {bundle.employee.id: bundle for bundle in bundles}
            counts: Counter[str] = Counter()
            for employee in selected:
                number = employee.employee_number.strip()
                key = str(int(number)) if number.isdigit() else None
                task = EmployeeTask(
                    run_id="sequential",
                    integration=INTEGRATION,
                    employee_number=employee.employee_number,
                    employee_id=employee.id,
                )
                snapshot = EmployeeSnapshot(
                    bundle=by_id[employee.id],
                    payroll=current.get(key or ""),
                    payroll_known=key is not None,
                )
                try:
                    result = await sync_employee(
                        task,
                        snapshot=snapshot,
                        hr=hr,
                        payroll_api=payroll_api,
                        links=links,
                        persons=persons,
                    )
                    counts[result.outcome] += 1
                except (Retryable, Deferred):
                    counts["error"] += 1  # a cron script would try again next run
        return dict(counts)

    return sync


# ------------------------------------------------------------------ printing


def phase_row(name: str, phase: Phase, rate: float) -> str:
    synced = max(1, phase.synced)
    if phase.changed:
        # Every employee reads its employments; only the changed ones re-read and write.
        reads = (phase.requests - phase.writes - phase.rereads) / synced
        extra = (phase.writes + phase.rereads) / phase.changed
        per_employee = f"{reads:.2f} / {reads + extra:.2f}"
    else:
        per_employee = f"{phase.requests / synced:.2f}"
    bound = phase.requests / rate
    return (
        f"  {name:<27} {phase.wall:7.1f} {phase.records / phase.wall:6.1f} "
        f"{phase.requests:7.0f} {per_employee:>13} {phase.throttled:5.0f} "
        f"{phase.wall / bound:6.2f} {phase.cpu / phase.records * 1000:7.2f}"
    )


HEADER = (
    f"  {'phase':<27} {'wall s':>7} {'emp/s':>6} {'pay req':>7} {'req/employee':>13} "
    f"{'429s':>5} {'/bound':>6} {'CPU s/k':>7}"
)


def outcome_check(phase: Phase, expected: dict[str, int]) -> str:
    """The outcome counts, and whether those `expected` hold."""
    counts = ", ".join(f"{name} {n}" for name, n in sorted(phase.counts.items()))
    ok = all(phase.counts.get(name, 0) == n for name, n in expected.items())
    wanted = ", ".join(f"{name} {n}" for name, n in expected.items())
    return f"{counts}  [{'as expected' if ok else 'UNEXPECTED, wanted'}: {wanted}]"


def print_table(title: str, phases: list[Phase], rate: float, valid: int) -> None:
    print(f"\n{title}")
    print(HEADER)
    for name, phase in zip(PHASES, phases, strict=True):
        print(phase_row(name, phase, rate))
    changed = int(phases[2].changed)
    expected = [
        {"created": valid},
        {"unchanged": valid},
        {"updated": changed, "unchanged": valid - changed},
    ]
    for name, phase, wanted in zip(PHASES, phases, expected, strict=True):
        print(f"  outcomes {name[0]}: {outcome_check(phase, wanted)}")


# ------------------------------------------------------------------ main


async def bench(args: argparse.Namespace, sims: Sims) -> None:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if await redis_answers(redis_url):
        print(f"Redis: {redis_url} (keys under a prefix of their own, removed at the end)")
        chosen: str | None = redis_url
    else:
        print(f"Redis: none at {redis_url}; fakeredis and the StubBroker, in this process")
        chosen = None
    settings, env = bench_settings(sims, args.rate_limit)
    integration = settings.integrations[INTEGRATION]
    # Our burst (one second's worth) under the simulator's (2x rate): 429s rare, but counted.
    print(f"our limit {args.rate_limit:g}/s, burst {integration.burst}; the simulator's burst 2x")
    max_seconds = 120 + 10 * args.employees / args.rate_limit

    async with aiohttp.ClientSession() as http:
        raw = await admin(http, "GET", f"{sims.simployer_admin}/state")
        last_names = {
            row.id: row.last_name or ""
            for row in msgspec.json.decode(raw, type=published.Company).employee
        }
        queued: list[list[Phase]] = []
        sequential: list[list[Phase]] = []
        prefix = f"payroll-sync-bench-{secrets.token_hex(4)}"
        async with local_stack(
            settings, env, redis_url=chosen, prefix=prefix, worker_threads=args.threads
        ) as stack:
            # A dry run writes nothing: it warms the worker up and says who phase 1 will create.
            _, outcomes = await stack.sync(
                SyncRequest(integration=INTEGRATION, dry_run=True), max_seconds=max_seconds
            )
            valid = sorted(item.employee_id for item in outcomes if item.outcome == "created")
            changes = {i: last_names[i] for i in valid[:: round(1 / CHANGED_SHARE)]}
            sync = queued_sync(stack, max_seconds)
            for _ in range(args.repeat):
                queued.append(await run_phases(http, sims, sync, changes))
        for _ in range(0 if args.skip_sequential else args.repeat):
            sync = sequential_sync(sims, integration)
            sequential.append(await run_phases(http, sims, sync, changes))

    print(LEGEND)
    repeats = f", median of {args.repeat} runs" if args.repeat > 1 else ""
    queued_median = [median_phase([run[i] for run in queued]) for i in range(3)]
    title = f"queued: producer + Dramatiq worker, {args.threads} threads{repeats}"
    print_table(title, queued_median, args.rate_limit, len(valid))
    if sequential:
        seq_median = [median_phase([run[i] for run in sequential]) for i in range(3)]
        title = f"sequential: one coroutine, one employee after another{repeats}"
        print_table(title, seq_median, args.rate_limit, len(valid))
        print("\nsequential / queued wall time")
        for name, seq, que in zip(PHASES, seq_median, queued_median, strict=True):
            print(f"  {name:<27} {seq.wall / que.wall:5.2f}x")


LEGEND = """
wall s: from the request to the run's last outcome; emp/s: in-scope employees per second;
pay req: 24SevenOffice requests (token exchange and bulk read included); req/employee: per
employee synced (created/updated/unchanged), in phase 3 unchanged / changed; 429s: answered
429; /bound: wall time / (pay req / rate limit); CPU s/k: this process's CPU seconds (producer,
worker, Redis client; not the simulators) per 1,000 in-scope employees."""


def arguments(description: str | None, *, employees: int) -> argparse.ArgumentParser:
    """The options both sync benchmarks take."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--employees", type=int, default=employees)
    parser.add_argument("--rate-limit", type=float, default=50.0, help="24SevenOffice, per s")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="added to each call")
    parser.add_argument("--threads", type=int, default=16, help="Dramatiq worker threads")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each phase (medians)")
    return parser


def run_bench(
    args: argparse.Namespace,
    command: list[str],
    bench: Callable[[argparse.Namespace, Sims], Coroutine[Any, Any, None]],
) -> None:
    """Print how it was run and on what, then run `bench` against simulators in a subprocess."""
    print("$ " + shlex.join(command))
    print(
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {args.employees} employees, "
        f"latency {args.latency_ms:g} ms, 24SevenOffice limit {args.rate_limit:g}/s"
    )
    with open(os.devnull, "w") as devnull, simulators(args) as sims:
        configure_logging(stream=devnull, level=logging.INFO)
        asyncio.run(bench(args, sims))


def main() -> None:
    parser = arguments(__doc__, employees=2000)
    parser.add_argument("--skip-sequential", action="store_true")
    run_bench(parser.parse_args(), ["python", *sys.argv], bench)


if __name__ == "__main__":
    main()
