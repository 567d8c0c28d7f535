"""How many requests per second the simulators answer, so later benchmarks know they are not
measuring the simulators. Prints medians of several rounds; asserts nothing.

    .venv/bin/python bench/simulator_throughput.py [--employees 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp

from payroll_sync.simulators.generator import company_rows, generate_company
from payroll_sync.simulators.serve import RunningSimulators, SimulatorOptions, SimulatorThread
from payroll_sync.simulators.simployer import SimployerStore
from payroll_sync.simulators.simployer_query import parse_query, run_query

CONCURRENCY = 16


async def _timed(requests: list[Callable[[], Awaitable[int]]]) -> float:
    """Requests per second for `requests`, run CONCURRENCY at a time."""
    queue = list(reversed(requests))

    async def worker() -> None:
        while queue:
            status = await queue.pop()()
            assert status == 200, status

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return len(requests) / (time.perf_counter() - start)


async def _measure(sims: RunningSimulators, employees: int, rounds: int) -> dict[str, float]:
    figures: dict[str, list[float]] = {}
    async with aiohttp.ClientSession() as http:
        s_headers = {"Authorization": f"Bearer {sims.simployer_token}"}
        async with http.get(f"{sims.payroll_url}/auth", params={"token": sims.payroll_token}) as a:
            p_headers = {"Authorization": f"Bearer {(await a.json())['accessToken']}"}

        def get(url: str, headers: dict[str, str]) -> Callable[[], Awaitable[int]]:
            async def call() -> int:
                async with http.get(url, headers=headers) as answer:
                    await answer.read()
                    return answer.status

            return call

        def post(url: str, body: object) -> Callable[[], Awaitable[int]]:
            async def call() -> int:
                async with http.post(url, json=body, headers=p_headers) as answer:
                    await answer.read()
                    return answer.status

            return call

        pages = [
            get(f"{sims.simployer_url}/employee?limit=100&offset={o}", s_headers)
            for o in range(0, employees, 100)
        ]
        filtered = [
            get(f"{sims.simployer_url}/compensation?filters[employeeId][$eq]=x{i}", s_headers)
            for i in range(200)
        ]
        for round_number in range(rounds):
            base = 100_000 * (round_number + 1)
            creates = [
                post(
                    f"{sims.payroll_url}/employee/v2",
                    {"empId": base + i, "firstname": "A", "lastname": "B", "salary": 40000},
                )
                for i in range(500)
            ]
            updates = [
                post(f"{sims.payroll_url}/employee/v2/{base + i}", {"city": "Oslo"})
                for i in range(500)
            ]
            one = [get(f"{sims.payroll_url}/employee/v2/{base + i}", p_headers) for i in range(500)]
            for name, batch in [
                ("Simployer One: list page of 100 employees", pages),
                ("Simployer One: filtered compensation list", filtered),
                ("24SevenOffice: POST /employee/v2 (create)", creates),
                ("24SevenOffice: POST /employee/v2/{empId} (update)", updates),
                ("24SevenOffice: GET /employee/v2/{empId}", one),
            ]:
                figures.setdefault(name, []).append(await _timed(batch))
    return {name: statistics.median(values) for name, values in figures.items()}


def _index_effect(employees: int, rounds: int) -> tuple[float, float]:
    """Median microseconds of one `filters[employeeId][$eq]` compensation query, scan vs index."""
    store = SimployerStore(company_rows(generate_company(employees, seed=1)))
    ids = [str(row["id"]) for row in store.tables["employee"][:200]]
    queries = [parse_query("compensation", [("filters[employeeId]", i)]) for i in ids]
    timings: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for indexed in (False, True):  # side by side, alternating, in one run
            start = time.perf_counter()
            for query in queries:
                run_query("compensation", query, store.tables, store.index if indexed else None)
            timings[indexed].append((time.perf_counter() - start) / len(queries) * 1e6)
    return statistics.median(timings[False]), statistics.median(timings[True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    options = SimulatorOptions(
        employees=args.employees, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    with SimulatorThread(options) as sims:
        figures = asyncio.run(_measure(sims, args.employees, args.rounds))
    print(f"simulator throughput, {args.employees} employees, {CONCURRENCY} concurrent clients,")
    print(f"median of {args.rounds} rounds, client and simulators sharing this machine:")
    for name, per_second in figures.items():
        print(f"  {name:<52} {per_second:8.0f} requests/s")
    scan, indexed = _index_effect(args.employees, args.rounds)
    print(
        f"query engine, one compensation lookup by employeeId: scan {scan:.0f} µs, "
        f"index {indexed:.0f} µs ({scan / indexed:.0f}x)"
    )


if __name__ == "__main__":
    main()
