"""`payroll-sync demo`: the real employee sync against the simulators, twice, then absences.

Starts both simulators with a generated company, a Dramatiq worker in this process and an
employee sync; prints the outcomes; changes a few employees in Simployer One and syncs again to
show `updated` next to `unchanged`; then exports this year's absences. Uses Redis at REDIS_URL
when it answers, else runs everything in this process (Dramatiq's StubBroker, fakeredis).
"""

from __future__ import annotations

import datetime
import logging

import aiohttp

from payroll_sync import config
from payroll_sync.logs import configure_logging
from payroll_sync.runs.summary import run_summary
from payroll_sync.schemas.messages import Period, SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.simulators.serve import RunningSimulators, SimulatorOptions, start_simulators
from payroll_sync.stack import (
    Stack,
    import_fakeredis,
    local_stack,
    redis_answers,
    simulator_settings,
)

# The simulator's 24SevenOffice rate limit, and ours a little under it.
SIMULATED_RATE_LIMIT = 50.0
OUR_RATE_LIMIT = 40.0
CHANGED_EMPLOYEES = 5


async def run_demo(employees: int = 200) -> int:
    # One `record.synced` event per record would bury the tables; show warnings only.
    configure_logging(level=logging.WARNING)
    redis_url = config.environment().redis_url
    if await redis_answers(redis_url):
        print(
            f"payroll-sync demo: Redis at {redis_url} answers; using it (keys removed at the end)"
        )
        chosen: str | None = redis_url
    else:
        import_fakeredis()  # installed? Else say what to install before anything starts.
        print(
            f"payroll-sync demo: no Redis at {redis_url}; running everything in this process "
            "(Dramatiq StubBroker, fakeredis)"
        )
        chosen = None
    sims = await start_simulators(
        SimulatorOptions(
            employees=employees,
            rate_limit_per_second=SIMULATED_RATE_LIMIT,
            rate_limit_burst=int(SIMULATED_RATE_LIMIT),
        )
    )
    print(f"Simulators: Simployer One {sims.simployer_url}, 24SevenOffice {sims.payroll_url}")
    settings, env = simulator_settings(sims, rate_limit_per_second=OUR_RATE_LIMIT)
    try:
        async with local_stack(settings, env, redis_url=chosen) as stack:
            print(f"\n1. First sync of {employees} generated employees into an empty payroll")
            first = await _sync_and_show(stack)
            created = [item for item in first if item.outcome == "created"]
            changed = created[:CHANGED_EMPLOYEES]
            await _change_in_simployer(sims, changed)
            numbers = ", ".join(item.employee_number for item in changed)
            print(f"\n2. Changed {len(changed)} employees in Simployer One ({numbers}); sync again")
            second = await _sync_and_show(stack)
            for item in second:
                if item.outcome == "updated":
                    print(f"   {item.employee_number}: updated {', '.join(item.changed)}")
            year = datetime.date.today().year
            period = Period(start=datetime.date(year, 1, 1), end=datetime.date(year, 12, 31))
            print(f"\n3. Export the absences of {period} (leaves of failed employees fail too)")
            run, outcomes = await stack.sync(
                SyncRequest(integration="demo", kind="absences", period=period)
            )
            print(run_summary(run, outcomes))
    finally:
        await sims.close()
    return 0


async def _sync_and_show(stack: Stack) -> list[RecordOutcome]:
    run, outcomes = await stack.sync(SyncRequest(integration="demo"))
    print(run_summary(run, outcomes))
    return outcomes


async def _change_in_simployer(sims: RunningSimulators, records: list[RecordOutcome]) -> None:
    """Give some a new surname, some a new work e-mail, as an HR administrator would."""
    async with aiohttp.ClientSession() as session:
        for index, record in enumerate(records):
            if index % 2 == 0:
                change: dict[str, object] = {"lastName": f"Demo-Endret{index}"}
            else:
                change = {"workEmail": f"demo.changed{index}@example.no"}
            url = f"{sims.simployer_admin}/state/employee/{record.employee_id}"
            async with session.patch(url, json=change) as answer:
                answer.raise_for_status()
