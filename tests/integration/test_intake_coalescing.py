"""Two ways coalescing (`producer.enrol.enrol_and_enqueue`, SPEC: a request joins the run in
progress) could write the same change twice, reproduced deterministically: concurrent requests
each starting a run of their own (fixed by the enrol lock), and a snapshot read before another
run wrote the record being trusted (fixed by dropping snapshots older than the latest outcome).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import aiohttp
import pytest

from payroll_sync.config import credentials, integration
from payroll_sync.connectors.clients import integration_clients
from payroll_sync.connectors.payroll import PayrollClient
from payroll_sync.producer.enrol import RunSpec, enrol_and_enqueue
from payroll_sync.producer.expand import expand_employee_sync
from payroll_sync.producer.producer import oslo_today
from payroll_sync.queue.send import enqueue_tasks
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll
from payroll_sync.schemas.messages import EmployeeTask, SyncRequest, Task
from payroll_sync.simulators.serve import RunningSimulators
from tests.support.simulator_admin import (
    patch_simployer,
    payroll_requests,
    reset_payroll_requests,
    simployer_state,
)
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration


async def test_concurrent_requests_for_one_integration_start_one_run(store: RunStore) -> None:
    spec = RunSpec(integration=INTEGRATION, kind="employees", trigger="upstream")
    task = EmployeeTask(run_id="", integration=INTEGRATION, employee_number="12", employee_id="e12")
    enqueued: list[Task] = []

    async def enqueue(tasks: Sequence[Task]) -> None:
        enqueued.extend(tasks)

    expansions = await asyncio.gather(
        *(
            enrol_and_enqueue(spec, [(task, None)], store=store, enqueue=enqueue, now=time.time())
            for _ in range(5)
        )
    )
    runs = {expansion.run_id for expansion in expansions}
    assert len(runs) == 1, f"{len(runs)} runs started, employee 12 queued {len(enqueued)} times"
    assert len(enqueued) == 1


class ReadThenWait:
    """24SevenOffice's bulk read, held after reading until `release` is set: the producer's
    snapshot is taken now and enrolled later."""

    def __init__(self, inner: PayrollClient) -> None:
        self._inner = inner
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    async def employees_by_id(self) -> dict[str, payroll.Employee]:
        rows = {row.emp_id: row for row in await self._inner.list_employees()}
        self.read.set()
        await self.release.wait()
        return rows


async def test_a_snapshot_older_than_the_last_write_is_not_trusted(
    sims: RunningSimulators,
) -> None:
    async with sync_stack(sims) as stack:
        _, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        number = next(item.employee_number for item in outcomes if item.outcome == "created")
        employee = next(
            row for row in (await simployer_state(sims)).employee if row.employee_number == number
        )
        await patch_simployer(sims, "employee", employee.id, {"lastName": "Changed-once"})
        await reset_payroll_requests(sims)
        request = SyncRequest(integration=INTEGRATION, trigger="upstream", employees=[number])
        chosen = integration(stack.settings, INTEGRATION)
        tokens = credentials(chosen, stack.env)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            clients = integration_clients(session, chosen, tokens, timeout=timeout)
            gated = ReadThenWait(clients.payroll)
            # Request A reads both systems (the old last name in 24SevenOffice) ...
            late = asyncio.create_task(
                expand_employee_sync(
                    request,
                    integration=chosen,
                    hr=clients.simployer,
                    payroll_api=gated,
                    store=stack.store,
                    enqueue=enqueue_tasks,
                    today=oslo_today(time.time()),
                    now=time.time(),
                )
            )
            await gated.read.wait()
            # ... request B syncs the change meanwhile: one write ...
            run_b, _ = await stack.sync(request)
            assert run_b.counts["updated"] == 1
            # ... then A enrols its snapshot, in a run of its own (B's is done).
            gated.release.set()
            expansion = await late
        run_a = await stack.wait(expansion.run_id)
        report = await payroll_requests(sims)
    assert run_a.total == 1
    assert report["writes"] == 1, f"run A wrote again: {run_a.counts}"
