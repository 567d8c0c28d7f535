"""A producer killed between enrolling a run and sending its messages loses no record."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from payroll_sync.producer.enrol import RunSpec, enrol_and_enqueue
from payroll_sync.queue.send import enqueue_tasks
from payroll_sync.runs.recovery import LOST_AFTER_SECONDS, requeue_lost
from payroll_sync.schemas.messages import EmployeeTask, SyncRequest, Task
from payroll_sync.simulators.serve import RunningSimulators
from tests.support.simulator_admin import payroll_state, simployer_state
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration


async def test_records_whose_messages_were_lost_are_queued_again_and_finish(
    sims: RunningSimulators,
) -> None:
    hr = await simployer_state(sims)
    active = [row for row in hr.employee if row.active][:5]
    async with sync_stack(sims) as stack:
        entries: list[tuple[Task, None]] = [
            (
                EmployeeTask(
                    run_id="",
                    integration=INTEGRATION,
                    employee_number=row.employee_number,
                    employee_id=row.id,
                    first_attempt_at=time.time(),
                ),
                None,
            )
            for row in active
        ]

        async def producer_dies(tasks: Sequence[Task]) -> None:
            """The run is in Redis; its messages never reach the broker."""

        spec = RunSpec(integration=INTEGRATION, kind="employees", trigger="manual")
        lost = await enrol_and_enqueue(
            spec, entries, store=stack.store, enqueue=producer_dies, now=time.time()
        )
        # A later request joins the stuck run and, its records being pending, queues nothing.
        joined = await stack.submit(
            SyncRequest(integration=INTEGRATION, employees=[active[0].employee_number])
        )
        assert (joined.run_id, joined.enqueued) == (lost.run_id, 0)
        run = await stack.store.get_run(lost.run_id)
        assert run is not None
        assert (run.status, run.finished) == ("queued", 0)

        requeued = await requeue_lost(
            stack.store, enqueue=enqueue_tasks, now=time.time() + LOST_AFTER_SECONDS + 1
        )

        assert [(item.run_id, item.records) for item in requeued] == [(lost.run_id, 5)]
        run = await stack.wait(lost.run_id, max_seconds=60)
        assert run.finished == run.total == 5
        numbers = {row.employee_number for row in active}
        outcomes = await stack.store.outcomes(lost.run_id)
        assert {item.employee_number for item in outcomes} == numbers
        in_payroll = {row.emp_id for row in (await payroll_state(sims)).employee}
        created = {item.employee_number for item in outcomes if item.outcome == "created"}
        assert created <= in_payroll
        assert created, "the requeued records were synced"
