"""The producer alone on a large company: wall and CPU time, peak memory, the longest Redis
command and the requests it made, at two sizes (to show the work grows linearly), and a run
with faults on Simployer One that must still succeed.

    .venv/bin/python bench/producer_large.py [--employees 20000 100000] [--fault-employees 20000]
        [--filled-employees 100000]

The run over a filled 24SevenOffice (every employee there, every account, fødselsnummer and
salary different) is measured twice side by side: with the mass-change brake off (records sent
page by page, as before the brake) and with it counting every employee but never holding
(thresholds at 100%): the difference is what the brake's count costs. With the default
thresholds that run would hold (nothing sent), which is the brake's job, not a figure.

The simulators run in one subprocess and each producer in another (`--child`), so the figures
are the producer's alone: CPU from `resource.getrusage(RUSAGE_SELF)`, peak RSS from VmHWM.
Its tasks go to the pacer's lists (one pipeline per chunk) under a key prefix of their own, removed
after. The longest Redis command is timed two ways: client-side around each call of
scripts/enrol.lua and each chunk handed to the pacer (round trip included), and server-side from
`SLOWLOG GET` entries that name the bench's prefix (only commands over the server's
`slowlog-log-slower-than` are kept: "none" means all were faster). Prints figures; asserts
only that every run succeeded with every in-scope employee queued.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import redis.asyncio as aioredis

REDIS_URL = "redis://127.0.0.1:6379/0"
INTEGRATION = "bench"
SIMPLOYER_TOKEN = "bench-simployer-token"
PAYROLL_TOKEN = "bench-payroll-token"
FAULTS = {"error_rate": 0.20, "drop_rate": 0.05, "timeout_rate": 0.02, "hang_seconds": 3.0}


# ------------------------------------------------------------------ the producer, in a child


async def child(args: argparse.Namespace) -> dict[str, Any]:
    from payroll_sync.producer.producer import Producer
    from payroll_sync.queue import broker as broker_setup
    from payroll_sync.queue.send import enqueue_tasks
    from payroll_sync.runs.store import delete_keys
    from payroll_sync.schemas.brake import Brake
    from payroll_sync.schemas.messages import SyncRequest, Task
    from payroll_sync.schemas.settings import Integration, Settings, Worker

    brakes = {
        "default": Brake(),
        "off": Brake(enabled=False),
        # Counts every employee, never holds: what the count costs.
        "counting": Brake(
            salary_percent=100.0,
            account_percent=100.0,
            personnr_percent=100.0,
            employments_ending_percent=100.0,
        ),
    }

    prefix = f"bench-producer-{secrets.token_hex(4)}"
    broker_setup.install(broker_setup.redis_broker(REDIS_URL, prefix=prefix, policy=Worker()))
    integration = Integration(
        simployer_url=args.simployer_url,
        simployer_token_env="BENCH_SIMPLOYER_TOKEN",
        payroll_url=args.payroll_url,
        payroll_token_env="BENCH_PAYROLL_TOKEN",
        simployer_rate_limit_per_second=args.simployer_rate,
        brake=brakes[args.brake],
    )
    # Quick retries and a short timeout: the fault run's hung requests are given up on soon.
    worker = Worker(first_retry_seconds=0.1, max_retry_delay_seconds=2.0, request_timeout_seconds=2)
    settings = Settings(integrations={INTEGRATION: integration}, worker=worker)
    env = {"BENCH_SIMPLOYER_TOKEN": SIMPLOYER_TOKEN, "BENCH_PAYROLL_TOKEN": PAYROLL_TOKEN}

    longest = {"enrol": 0.0, "enqueue": 0.0}
    chunks = {"enrol": 0, "enqueue": 0}

    def timed(name: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*a: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            try:
                return await call(*a, **kw)
            finally:
                longest[name] = max(longest[name], time.perf_counter() - start)
                chunks[name] += 1

        return wrapper

    async def enqueue(tasks: Sequence[Task]) -> None:
        await enqueue_tasks(tasks)

    redis = aioredis.Redis.from_url(REDIS_URL)
    slowlog_from = await _slowlog_newest(redis)
    producer = Producer(redis, prefix, env=env, enqueue=timed("enqueue", enqueue))
    producer.store._enrol = timed("enrol", producer.store._enrol)  # type: ignore[assignment]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    expansion = await producer.submit(SyncRequest(integration=INTEGRATION), settings)
    wall = time.perf_counter() - start
    run = await producer.store.get_run(expansion.run_id)
    status = run.status if run is not None else "gone"
    usage = resource.getrusage(resource.RUSAGE_SELF)
    slow = await _slowlog_since(redis, slowlog_from, prefix)
    await delete_keys(redis, f"{prefix}:*")
    await delete_keys(redis, f"{prefix}-dramatiq*")
    await redis.aclose()
    return {
        "brake": args.brake,
        "status": status,
        "in_scope": expansion.in_scope,
        "enqueued": expansion.enqueued,
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
        "peak_rss_mb": peak_rss_mb(),
        "enrol_calls": chunks["enrol"],
        "longest_enrol_ms": round(longest["enrol"] * 1000, 1),
        "enqueue_calls": chunks["enqueue"],
        "longest_enqueue_ms": round(longest["enqueue"] * 1000, 1),
        "slowlog_longest": slow,
    }


def peak_rss_mb() -> int:
    """This process's peak resident set (VmHWM). Not `ru_maxrss`: Linux carries that over
    from the parent across fork and exec, so a child of a big parent reports the parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


async def _slowlog_newest(redis: aioredis.Redis) -> int:
    entries = await redis.slowlog_get(1)
    return int(entries[0]["id"]) if entries else -1


async def _slowlog_since(redis: aioredis.Redis, after: int, prefix: str) -> str | None:
    """The longest command over the slowlog threshold, since `after`, naming `prefix`: its
    milliseconds and its first words (the command and its first key)."""
    longest: tuple[float, str] | None = None
    for entry in await redis.slowlog_get(1024):
        command = entry.get("command", b"")
        text = command.decode("utf-8", "replace") if isinstance(command, bytes) else str(command)
        if int(entry["id"]) > after and prefix in text:
            words = " ".join(text.replace(prefix, "P").split()[:4])
            if longest is None or entry["duration"] / 1000 > longest[0]:
                longest = (entry["duration"] / 1000, words[:80])
    return None if longest is None else f"{longest[0]:.1f} ms: {longest[1]}"


# ------------------------------------------------------------------ simulators, in a subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def filled_payroll(employees: int, path: Path) -> None:
    """A 24SevenOffice company already holding every employee (the generator numbers them
    1001, 1002, ...), each with every field a synced one has: the second sync of a company."""
    from payroll_sync.schemas import payroll

    rows = [
        payroll.Employee(
            emp_id=str(1001 + n),
            email=f"firstname.lastname{n}@example.no",
            firstname="Kari Anne",
            lastname=f"Nordmann-Hansen {n}",
            postaddress=f"Storgata {n % 200 + 1}",
            zipcode="0155",
            city="Oslo",
            country_code="NO",
            account=f"{12345678901 + n}",
            employee_date="2020-01-01",
            telefon="+4791234567",
            personnr=f"{10000000000 + n}",
            salary_type="monthly",
            salary="612000",
            salary_valid_from="2024-01-01",
            taxtable="7100",
            employment_rate="100",
            employment_rate_valid_from="2020-01-01",
            hours_per_week="37.5",
            vacation_percent="12",
            vacation_days="25",
        )
        for n in range(employees)
    ]
    path.write_bytes(msgspec.json.encode(payroll.Dataset(employee=rows)))


@contextlib.contextmanager
def simulators(
    employees: int, simployer_rate: float, payroll_data: Path | None = None
) -> Iterator[tuple[str, str, int]]:
    s_port, p_port = free_port(), free_port()
    command = [str(Path(sys.executable).with_name("payroll-sync")), "simulate"]
    command += ["--employees", str(employees), "--rate-limit", "0"]
    if payroll_data is not None:
        command += ["--payroll-data", str(payroll_data)]
    command += ["--simployer-rate-limit", str(simployer_rate)]
    command += ["--simployer-token", SIMPLOYER_TOKEN, "--payroll-token", PAYROLL_TOKEN]
    command += ["--simployer-port", str(s_port), "--payroll-port", str(p_port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while not all(_listening(port) for port in (s_port, p_port)):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"simulators did not start: {shlex.join(command)}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{s_port}/v1", f"http://127.0.0.1:{p_port}/api", process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


async def admin(method: str, url: str, body: object = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(method, url, json=body) as answer:
        answer.raise_for_status()
        raw = await answer.read()
        return msgspec.json.decode(raw) if raw else None


def admin_url(api_url: str) -> str:
    return api_url.rsplit("/", 1)[0] + "/_admin"


def run_child(simployer_url: str, payroll_url: str, rate: float, brake: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--simployer-rate", str(rate)]
    command += ["--brake", brake]
    command += ["--simployer-url", simployer_url, "--payroll-url", payroll_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"producer failed ({done.returncode}): {done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


async def one_size(
    employees: int, rate: float, faults: bool, filled: bool, brake: str
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        payroll_data = None
        if filled:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            payroll_data = folder / "payroll.json"
            filled_payroll(employees, payroll_data)
        return await _measure(
            stack.enter_context(simulators(employees, 0, payroll_data)),
            rate,
            faults,
            filled,
            brake,
        )


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(
    sims: tuple[str, str, int], rate: float, faults: bool, filled: bool, brake: str
) -> dict[str, Any]:
    simployer_url, payroll_url, pid = sims
    s_admin = admin_url(simployer_url)
    if faults:
        await admin("PATCH", f"{s_admin}/settings", FAULTS)
    await admin("DELETE", f"{s_admin}/requests")
    before = cpu_seconds(pid)
    figures = await asyncio.to_thread(run_child, simployer_url, payroll_url, rate, brake)
    # The simulators' share of the wall time: they answer every request in one process.
    figures["simulators_cpu_s"] = round(cpu_seconds(pid) - before, 1)
    report = await admin("GET", f"{s_admin}/requests")
    figures["simployer_requests"] = report["total"]
    figures["simployer_by_status"] = report["by_status"]
    p_report = await admin("GET", f"{admin_url(payroll_url)}/requests")
    figures["payroll_requests"] = p_report["total"]
    assert figures["enqueued"] == figures["in_scope"] > 0, figures
    return {"faults": faults, "payroll_filled": filled, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--fault-employees", type=int, default=20_000, help="0: no fault run")
    parser.add_argument(
        "--filled-employees",
        type=int,
        default=100_000,
        help="a run with 24SevenOffice already holding every employee (0: none)",
    )
    parser.add_argument(
        "--simployer-rate", type=float, default=1000.0, help="our Simployer One limit, per s"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--brake", default="default", help=argparse.SUPPRESS)
    parser.add_argument("--simployer-url", help=argparse.SUPPRESS)
    parser.add_argument("--payroll-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from payroll_sync.logs import configure_logging

        configure_logging()
        print(json.dumps(asyncio.run(child(args))))
        return
    runs = [(size, False, False, "default") for size in args.employees]
    if args.filled_employees:
        runs.append((args.filled_employees, False, True, "off"))
        runs.append((args.filled_employees, False, True, "counting"))
    if args.fault_employees:
        runs.append((args.fault_employees, True, False, "default"))
    for size, faults, filled, brake in runs:
        figures = asyncio.run(one_size(size, args.simployer_rate, faults, filled, brake))
        print(json.dumps({"employees": size, **figures}), flush=True)


if __name__ == "__main__":
    main()
