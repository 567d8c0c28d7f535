"""Following a run that `payroll-sync worker` processes make, and checking what it left in
24SevenOffice: for the tests of stopping workers and of Redis outages."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.simulators.serve import RunningSimulators
from tests.support.simulator_admin import payroll_state


async def wait_for_records(store: RunStore, run_id: str, *, finished: int, within: float) -> int:
    """How many records of the run have finished, once at least `finished` have (or it is
    done); fails after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        run = await store.get_run(run_id)
        if run is not None and (run.finished >= finished or run.status == "done"):
            return run.finished
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id}: fewer than {finished} records after {within} s")


async def wait_until_done(store: RunStore, run_id: str, *, within: float) -> list[RecordOutcome]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        run = await store.get_run(run_id)
        if run is not None and run.status == "done":
            return await store.outcomes(run_id)
        await asyncio.sleep(0.2)
    run = await store.get_run(run_id)
    raise AssertionError(f"run {run_id} not done after {within} s: {run}")


def internal_failures(outcomes: list[RecordOutcome]) -> list[RecordOutcome]:
    return [item for item in outcomes if "internal error" in item.reason]


async def payroll_defects(sims: RunningSimulators) -> list[str]:
    """Employees without exactly one employment, and employees made twice."""
    state = await payroll_state(sims)
    employees = Counter(row.emp_id for row in state.employee)
    employments = Counter(row.emp_id for row in state.employment)
    defects = [f"{emp}: {count} employees" for emp, count in employees.items() if count != 1]
    for emp in employees:
        if employments[emp] != 1:
            defects.append(f"{emp}: {employments[emp]} employments")
    return defects
