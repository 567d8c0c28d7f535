"""Several integrations on one worker pool, and requests that arrive while a run is going."""

from __future__ import annotations

import msgspec
import pytest
import structlog

from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Settings, Worker
from payroll_sync.stack import simulator_settings
from tests.integration.conftest import StartSimulators
from tests.support.simulator_admin import payroll_state
from tests.support.stack import isolated_stack

pytestmark = pytest.mark.integration


async def test_an_integration_waiting_on_its_rate_limit_does_not_hold_the_others(
    start_simulators: StartSimulators,
) -> None:
    unlimited = {"rate_limit_per_second": 0, "simployer_rate_limit_per_second": 0}
    slow_sims = start_simulators(employees=30, **unlimited)
    fast_sims = start_simulators(employees=60, **unlimited)
    policy = Worker(max_rate_wait_seconds=0.3, first_retry_seconds=0.2)
    slow, env = simulator_settings(
        slow_sims, integration="slow", rate_limit_per_second=4, rate_limit_burst=1, worker=policy
    )
    fast, _ = simulator_settings(fast_sims, integration="fast", rate_limit_per_second=500)
    # Both simulator pairs use the same demo tokens, so one environment serves both.
    settings = msgspec.structs.replace(
        slow, integrations={**slow.integrations, **fast.integrations}
    )
    assert isinstance(settings, Settings)
    with structlog.testing.capture_logs() as events:
        async with isolated_stack(settings, env, worker_threads=4) as stack:
            slow_run = await stack.submit(SyncRequest(integration="slow"))
            fast_run = await stack.submit(SyncRequest(integration="fast"))
            fast_done = await stack.wait(fast_run.run_id, max_seconds=120)
            slow_then = await stack.store.get_run(slow_run.run_id)
            slow_done = await stack.wait(slow_run.run_id, max_seconds=180)
    assert slow_then is not None
    # The fast integration's records were sent after all of the slow one's, yet it finished
    # first: the slow records waited in the pacer (queue/pacing.py), not in the four threads.
    assert slow_then.status != "done", "the fast run finished while the slow one still ran"
    assert fast_done.finished == fast_done.total
    assert slow_done.finished == slow_done.total
    synced = [e for e in events if e["event"] == "record.synced" and e["integration"] == "slow"]
    assert len(synced) == slow_done.total
    assert slow_done.counts["failed"] == fast_done.counts["failed"], "waiting is not failing"


async def test_a_request_during_a_run_joins_it(start_simulators: StartSimulators) -> None:
    sims = start_simulators(
        employees=40, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    settings, env = simulator_settings(sims, rate_limit_per_second=8, rate_limit_burst=1)
    async with isolated_stack(settings, env, worker_threads=4) as stack:
        first = await stack.submit(SyncRequest(integration="demo"))
        again = await stack.submit(SyncRequest(integration="demo", trigger="upstream"))
        assert again.run_id == first.run_id
        assert again.joined
        assert again.enqueued < first.enqueued, "employees still pending are not queued twice"
        run = await stack.wait(first.run_id, max_seconds=180)
        outcomes = await stack.store.outcomes(first.run_id)
        # A dry run never joins: it must not change what the real run writes.
        dry = await stack.submit(SyncRequest(integration="demo", dry_run=True))
        assert dry.run_id != first.run_id
        await stack.wait(dry.run_id, max_seconds=60)
    assert run.total == first.in_scope
    assert len(outcomes) == run.total == run.finished
    employees = [row.emp_id for row in (await payroll_state(sims)).employee]
    assert len(employees) == len(set(employees)) == run.counts["created"]
