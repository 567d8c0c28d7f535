"""With faults on both APIs the outcome is the clean run's: issue 13's "faults never fail a
request".

Two copies of one generated company (same seed), each behind simulators of its own: one synced
cleanly, one with 20% errors, 5% dropped answers and 2% timeouts on Simployer One and
24SevenOffice alike, during the producer's bulk reads and the workers' calls. The request must
succeed, every record must end as it did in the clean run, and 24SevenOffice must hold the same
people and employments.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
import pytest

from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.schemas.settings import Worker
from payroll_sync.simulators.serve import RunningSimulators
from tests.integration.conftest import StartSimulators
from tests.support.simulator_admin import patch_settings, payroll_requests, payroll_state
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration

EMPLOYEES: Final = 2_000
FAULTS: Final = {"error_rate": 0.2, "drop_rate": 0.05, "timeout_rate": 0.02, "hang_seconds": 3.0}
#: Short enough that a hanging request gives up well within the test; long enough for a busy
#: machine's honest answers.
POLICY: Final = Worker(
    first_retry_seconds=0.2, max_retry_delay_seconds=2.0, request_timeout_seconds=2.0
)
#: Fields 24SevenOffice makes up itself (ids, serial numbers): they differ between two
#: companies even when what was written is the same.
GENERATED: Final = {"id", "employmentId", "serialNo", "childId"}


def _unlimited(start_simulators: StartSimulators) -> RunningSimulators:
    return start_simulators(
        employees=EMPLOYEES, seed=11, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )


def _written(rows: list[Any]) -> list[dict[str, Any]]:
    """What was written, without what the payroll system generated, in a stable order."""
    plain = [
        {key: value for key, value in msgspec.to_builtins(row).items() if key not in GENERATED}
        for row in rows
    ]
    return sorted(plain, key=lambda row: msgspec.json.encode(row))


def _by_record(outcomes: list[RecordOutcome]) -> dict[str, tuple[str, str, str]]:
    return {item.employee_number: (item.outcome, item.field, item.reason) for item in outcomes}


async def _sync(sims: RunningSimulators) -> tuple[Any, list[RecordOutcome]]:
    async with sync_stack(sims, rate_limit_per_second=400, worker=POLICY) as stack:
        return await stack.sync(SyncRequest(integration=INTEGRATION), max_seconds=600)


async def test_faults_on_both_apis_end_as_the_clean_run(start_simulators: StartSimulators) -> None:
    clean_sims = _unlimited(start_simulators)
    faulty_sims = _unlimited(start_simulators)
    for admin in (faulty_sims.simployer_admin, faulty_sims.payroll_admin):
        await patch_settings(admin, **FAULTS)

    clean_run, clean = await _sync(clean_sims)
    faulty_run, faulty = await _sync(faulty_sims)

    report = await payroll_requests(faulty_sims)
    assert sum(n for status, n in report["by_status"].items() if status.startswith("5")) > 0
    assert faulty_run.status == clean_run.status == "done"
    assert faulty_run.total == clean_run.total
    assert _by_record(faulty) == _by_record(clean)
    for patch in (faulty_sims.simployer_admin, faulty_sims.payroll_admin):
        await patch_settings(patch, error_rate=0.0, drop_rate=0.0, timeout_rate=0.0)
    clean_payroll = await payroll_state(clean_sims)
    faulty_payroll = await payroll_state(faulty_sims)
    assert _written(faulty_payroll.employee) == _written(clean_payroll.employee)
    assert _written(faulty_payroll.employment) == _written(clean_payroll.employment)
