"""The absence sync against rate-limited, slow simulators: a year of leaves, three phases.

After an (unmeasured) employee sync: a first export into a payroll without absences, a second
with nothing changed, a third after 10% of the exported leaves got a new description in
Simployer One. Prints figures and checks outcome counts; asserts no timings.

    .venv/bin/python -m bench.absence_sync [--employees 1000] [--rate-limit 50] [--repeat 1]

The simulators run in a subprocess, so this process's CPU time is the producer's and worker's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
import time
from collections import Counter

import aiohttp
import msgspec

from bench.employee_sync import (
    INTEGRATION,
    Phase,
    Sims,
    admin,
    arguments,
    bench_settings,
    median_phase,
    payroll_counts,
    run_bench,
)
from payroll_sync.schemas.messages import Period, SyncRequest
from payroll_sync.simulators import simployer_published as published
from payroll_sync.stack import Stack, local_stack
from tests.support.keys import REDIS_URL, unique_prefix

CHANGED_SHARE = 0.10
PHASES = ("1 first export", "2 nothing changed", "3 10% changed")


async def measure(
    http: aiohttp.ClientSession, sims: Sims, stack: Stack, request: SyncRequest, changed: int
) -> Phase:
    await payroll_counts(http, sims)
    cpu, start = time.process_time(), time.perf_counter()
    _, outcomes = await stack.sync(request, max_seconds=3600)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    report = await payroll_counts(http, sims)
    return Phase(
        records=len(outcomes),
        wall=wall,
        cpu=cpu,
        requests=report.total,
        writes=report.writes,
        throttled=report.by_status.get("429", 0),
        changed=changed,
        counts=dict(Counter(item.outcome for item in outcomes)),
    )


async def describe(http: aiohttp.ClientSession, sims: Sims, texts: dict[str, str | None]) -> None:
    url = f"{sims.simployer_admin}/state/leave"
    await asyncio.gather(
        *(admin(http, "PATCH", f"{url}/{i}", {"description": t}) for i, t in texts.items())
    )


async def run_phases(
    http: aiohttp.ClientSession, sims: Sims, stack: Stack, request: SyncRequest
) -> list[Phase]:
    """Phases 1-3 from a payroll without absences; leaves both simulators as they were."""
    before = await admin(http, "GET", f"{sims.payroll_admin}/state")
    first = await measure(http, sims, stack, request, 0)
    second = await measure(http, sims, stack, request, 0)
    raw = await admin(http, "GET", f"{sims.simployer_admin}/state")
    leaves = {row.id: row for row in msgspec.json.decode(raw, type=published.Company).leave}
    now = msgspec.json.decode(
        await admin(http, "GET", f"{sims.payroll_admin}/state"), type=_Absences
    )
    exported = sorted(row.external_id for row in now.absence if row.external_id)
    chosen = exported[:: round(1 / CHANGED_SHARE)]
    await describe(http, sims, {i: f"{leaves[i].description or ''} (endret)" for i in chosen})
    third = await measure(http, sims, stack, request, len(chosen))
    await describe(http, sims, {i: leaves[i].description for i in chosen})
    await admin(http, "PUT", f"{sims.payroll_admin}/state", msgspec.json.decode(before))
    return [first, second, third]


class _Absence(msgspec.Struct):
    external_id: str = msgspec.field(name="externalId", default="")


class _Absences(msgspec.Struct):
    absence: list[_Absence] = msgspec.field(default_factory=list)


def phase_row(name: str, phase: Phase, rate: float) -> str:
    bound = phase.requests / rate
    synced = phase.counts.get("created", 0) + phase.counts.get("updated", 0)
    synced += phase.counts.get("unchanged", 0)
    per_leave = phase.requests / synced if synced else 0.0
    return (
        f"{name:<19} {phase.records:>6.0f} {phase.wall:>7.1f} {phase.records / phase.wall:>7.1f} "
        f"{phase.requests:>7.0f} {phase.writes:>6.0f} {per_leave:>9.2f} {phase.throttled:>5.0f} "
        f"{phase.wall / bound:>6.2f} {1000 * phase.cpu / max(phase.records, 1):>7.1f}"
    )


async def bench(args: argparse.Namespace, sims: Sims) -> None:
    settings, env = bench_settings(sims, args.rate_limit)
    year = datetime.date.today().year
    period = Period(start=datetime.date(year, 1, 1), end=datetime.date(year, 12, 31))
    request = SyncRequest(integration=INTEGRATION, kind="absences", period=period)
    runs: list[list[Phase]] = []
    async with (
        aiohttp.ClientSession() as http,
        local_stack(
            settings,
            env,
            redis_url=REDIS_URL,
            prefix=unique_prefix("bench"),
            worker_threads=args.threads,
        ) as stack,
    ):
        employees, _ = await stack.sync(SyncRequest(integration=INTEGRATION), max_seconds=3600)
        print(f"employee sync first: {employees.counts}")
        for _ in range(args.repeat):
            runs.append(await run_phases(http, sims, stack, request))
    medians = [median_phase([run[i] for run in runs]) for i in range(3)]
    repeats = f", median of {args.repeat} runs" if args.repeat > 1 else ""
    print(f"\nabsences of {period}: producer + Dramatiq worker, {args.threads} threads{repeats}")
    print(
        f"{'phase':<19} {'leaves':>6} {'wall s':>7} {'lv/s':>7} {'pay req':>7} {'writes':>6} "
        f"{'req/leave':>9} {'429s':>5} {'/bound':>6} {'CPU ms/lv':>7}"
    )
    for name, phase in zip(PHASES, medians, strict=True):
        print(phase_row(name, phase, args.rate_limit))
    for name, phase in zip(PHASES, medians, strict=True):
        print(f"  outcomes {name[0]}: {dict(sorted(phase.counts.items()))}")
    print(LEGEND)


LEGEND = """
leaves: records in the run; lv/s: leaves per second; pay req: 24SevenOffice requests (bulk reads,
absence types and token exchange included); req/leave: per leave created, updated or unchanged;
/bound: wall time / (pay req / rate limit); CPU ms/lv: this process's CPU per leave."""


def main() -> None:
    args = arguments(__doc__, employees=1000).parse_args()
    run_bench(args, ["python", "-m", "bench.absence_sync", *sys.argv[1:]], bench)


if __name__ == "__main__":
    main()
