"""Identity across employee numbers and lost links (issue 13), end to end: real Redis, a real
Dramatiq worker, both simulators over HTTP."""

from __future__ import annotations

import pytest

from payroll_sync.runs.encoding import text
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.simulators.generator import generate_company
from tests.integration.conftest import StartSimulators
from tests.support.simulator_admin import (
    patch_simployer,
    payroll_requests,
    payroll_state,
    reset_payroll_requests,
    simployer_state,
)
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration

EMPLOYEES = 30


def _healthy_number() -> str:
    company = generate_company(EMPLOYEES, seed=1)
    return next(
        row.employee_number
        for row in company.dataset.employee
        if row.active and row.employee_number not in company.broken
    )


async def test_a_renumbered_employee_fails_instead_of_becoming_a_second_person(
    start_simulators: StartSimulators,
) -> None:
    sims = start_simulators(
        employees=EMPLOYEES, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    number = _healthy_number()
    renumbered = str(int(number) + 50_000)
    async with sync_stack(sims) as stack:
        _, (first,) = await stack.sync(SyncRequest(integration=INTEGRATION, employees=[number]))
        assert first.outcome == "created"
        hr = next(
            row for row in (await simployer_state(sims)).employee if row.employee_number == number
        )
        await patch_simployer(sims, "employee", hr.id, {"employeeNumber": renumbered})

        await reset_payroll_requests(sims)
        _, (outcome,) = await stack.sync(
            SyncRequest(integration=INTEGRATION, employees=[renumbered])
        )
        report = await payroll_requests(sims)

    assert outcome.outcome == "failed"
    assert outcome.reason == f"identity conflict: this person is employee {number} in 24SevenOffice"
    assert outcome.field == "ssn"
    assert hr.ssn
    assert hr.ssn not in outcome.reason
    assert report["writes"] == 0, report["by_route"]
    # The producer's bulk read, and the worker's one listing for its person index.
    assert report["by_route"].get("GET /employee/v2", 0) == 2
    state = await payroll_state(sims)
    assert [row.emp_id for row in state.employee if row.personnr == hr.ssn] == [number]


async def test_a_lost_link_and_a_new_start_date_update_the_one_open_employment(
    start_simulators: StartSimulators,
) -> None:
    sims = start_simulators(
        employees=EMPLOYEES, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    number = _healthy_number()
    async with sync_stack(sims) as stack:
        _, (first,) = await stack.sync(SyncRequest(integration=INTEGRATION, employees=[number]))
        assert first.outcome == "created"
        (before,) = [row for row in (await payroll_state(sims)).employment if row.emp_id == number]
        # The remembered link is lost (Redis restored without it, say) and the start date moves.
        assert await stack.redis.delete(stack.store.keys.links(INTEGRATION)) == 1
        hr = next(
            row for row in (await simployer_state(sims)).employee if row.employee_number == number
        )
        assert hr.employment_id is not None
        await patch_simployer(
            sims, "employment", hr.employment_id, {"startDate": "2019-03-01T12:00:00.000Z"}
        )

        _, (outcome,) = await stack.sync(SyncRequest(integration=INTEGRATION, employees=[number]))
        link = await stack.redis.hget(stack.store.keys.links(INTEGRATION), number)

    assert (outcome.outcome, outcome.changed) == ("updated", ["employment.startdate"])
    (after,) = [row for row in (await payroll_state(sims)).employment if row.emp_id == number]
    assert (after.employment_id, after.startdate) == (before.employment_id, "2019-03-01")
    assert link is not None
    assert text(link) == before.employment_id
