"""Personal data at rest: what a real worker run leaves in Redis with its outcomes.

The diff kept with each outcome (30 days) must hold only what the dashboard shows: masked
identifiers, no salary, no address (`schemas.masking.mask_diff`, called where the worker builds
the outcome).
"""

from __future__ import annotations

import pytest

from payroll_sync.schemas.masking import FIELD_KINDS, WITHHELD
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome
from tests.integration.conftest import StartSimulators
from tests.support.simulator_admin import payroll_state
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration


async def test_outcomes_in_redis_hold_no_identifier_account_or_salary_in_clear(
    start_simulators: StartSimulators,
) -> None:
    sims = start_simulators(
        employees=20, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    async with sync_stack(sims) as stack:
        run, outcomes = await stack.sync(
            SyncRequest(integration=INTEGRATION, kind="employees", trigger="manual")
        )
        raw = await stack.redis.hgetall(stack.store.keys.outcomes(run.id))
    assert any(outcome.diff for outcome in outcomes), "the run wrote nothing: no diff to check"
    written = await payroll_state(sims)
    secrets = {
        value
        for row in written.employee
        for value in (row.personnr, row.account, row.salary)
        if value and len(value) > 4
    }
    assert secrets, "the payroll simulator holds no identifiers: nothing was synced"
    stored = "".join(
        value.decode() if isinstance(value, bytes) else value for value in raw.values()
    )
    assert [secret for secret in sorted(secrets) if secret in stored] == []
    for outcome in outcomes:
        assert isinstance(outcome, RecordOutcome)
        for change in outcome.diff:
            if FIELD_KINDS.get(change.field) == "hidden":
                assert {change.old, change.new} <= {"", WITHHELD}, change.field
