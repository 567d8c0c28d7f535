"""Requeueing records whose message was lost (runs/recovery.py), on fakeredis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

import fakeredis
import pytest

from payroll_sync.runs.recovery import LOST_AFTER_SECONDS, requeue_lost
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import EmployeeTask
from payroll_sync.schemas.outcomes import RecordOutcome
from tests.support.recorders import Recorder

T0: Final = 1_790_000_000.0
LATER: Final = T0 + LOST_AFTER_SECONDS + 1


@pytest.fixture
async def store() -> AsyncIterator[RunStore]:
    client = fakeredis.FakeAsyncRedis()
    yield RunStore(client, prefix="test-recovery")
    await client.aclose()


async def _run(store: RunStore, *numbers: str, now: float = T0) -> str:
    run_id = await store.create_run(
        integration="acme", kind="employees", trigger="manual", dry_run=False, now=now
    )
    tasks = [
        EmployeeTask(
            run_id=run_id,
            integration="acme",
            employee_number=n,
            employee_id=f"e{n}",
            first_attempt_at=now,
        )
        for n in numbers
    ]
    # Enrolled as of T0 (the store notes "now" from the clock; pin it for the test).
    enrolled = await store.enrol(run_id, [(task, None) for task in tasks], read_at=now)
    assert enrolled is not None
    for number in numbers:
        await store.expect(run_id, number, due=now)
    return run_id


async def test_a_quiet_run_gets_its_pending_records_queued_again_once(store: RunStore) -> None:
    run_id = await _run(store, "1", "2", "3")
    assert await store.record(
        run_id,
        "acme",
        "employees",
        RecordOutcome(employee_number="2", outcome="updated", finished_at=T0),
    )
    queue = Recorder()

    requeued = await requeue_lost(store, enqueue=queue, now=LATER)

    assert [(r.run_id, r.records) for r in requeued] == [(run_id, 2)]
    assert sorted(t.employee_number for t in queue.tasks) == ["1", "3"]
    assert all(isinstance(t, EmployeeTask) and t.refetch for t in queue.tasks)
    assert {t.first_attempt_at for t in queue.tasks} == {LATER}, "a fresh retry window"
    # The next look, a minute on, sends no second copy.
    assert await requeue_lost(store, enqueue=queue, now=LATER + 60) == []
    assert len(queue.tasks) == 2


async def test_a_run_heard_of_lately_is_left_alone(store: RunStore) -> None:
    run_id = await _run(store, "1", "2")
    assert await store.begin(run_id, "2", now=LATER - 60, due=LATER + 600)
    queue = Recorder()
    assert await requeue_lost(store, enqueue=queue, now=LATER) == []
    assert queue.tasks == []


async def test_a_record_waiting_for_its_retry_is_not_lost(store: RunStore) -> None:
    run_id = await _run(store, "1", "2")
    # "2" went back on the queue with a long delay; "1" was never heard of.
    await store.expect(run_id, "2", due=LATER + 300)
    queue = Recorder()
    await requeue_lost(store, enqueue=queue, now=LATER)
    assert [t.employee_number for t in queue.tasks] == ["1"]


async def test_finished_and_young_runs_are_not_touched(store: RunStore) -> None:
    done = await _run(store, "1")
    await store.record(
        done, "acme", "employees", RecordOutcome(employee_number="1", outcome="created")
    )
    await _run(store, "7", now=LATER - 5)
    queue = Recorder()
    assert await requeue_lost(store, enqueue=queue, now=LATER) == []
