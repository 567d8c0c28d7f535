"""retry_failures on a RunStore over fakeredis (the store's Lua scripts run there too).

The end-to-end retry (real Redis, a real worker re-reading the simulators) is in
tests/integration/test_dashboard_api.py and tests/browser/.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import AsyncIterator, Sequence

import fakeredis
import msgspec
import pytest

from payroll_sync.producer.retry import parse_period, retry_failures
from payroll_sync.runs.failures import failure_id
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import AbsenceTask, EmployeeTask, Period, SyncKind, Task
from payroll_sync.schemas.outcomes import Outcome, RecordOutcome
from tests.support.recorders import Recorder


@pytest.fixture
async def store() -> AsyncIterator[RunStore]:
    redis = fakeredis.FakeAsyncRedis()
    yield RunStore(redis, prefix="test-retry")
    await redis.aclose()


def _employee(run_id: str, number: str, integration: str = "acme") -> EmployeeTask:
    return EmployeeTask(
        run_id=run_id,
        integration=integration,
        employee_number=number,
        employee_id=f"id-{number}",
        attempt=4,
        first_attempt_at=1.0,
        refetch=False,
        deferrals=3,
        new_in_payroll=True,
    )


async def _run_with(
    store: RunStore,
    tasks: Sequence[Task],
    outcomes: dict[str, Outcome],
    *,
    integration: str = "acme",
    kind: SyncKind = "employees",
    period: Period | None = None,
    codes: Sequence[str] = (),
) -> str:
    """A finished run whose records ended as `outcomes` says (key -> outcome)."""
    now = time.time()
    run_id = await store.create_run(
        integration=integration,
        kind=kind,
        trigger="manual",
        dry_run=False,
        now=now,
        period=period,
        codes=codes,
    )
    stamped = [(_stamp(task, run_id), None) for task in tasks]
    await store.enrol(run_id, stamped)
    for task, _ in stamped:
        key = task.key
        outcome = RecordOutcome(
            employee_number=task.employee_number,
            leave_id=key if task.kind == "absences" else "",
            outcome=outcomes[key],
            reason="ssn is not valid" if outcomes[key] == "failed" else "",
            attempt=task.attempt,
            finished_at=now,
        )
        await store.record(run_id, integration, kind, outcome)
    return run_id


def _stamp(task: Task, run_id: str) -> Task:
    return msgspec.structs.replace(task, run_id=run_id)


async def test_a_retried_failure_is_a_fresh_first_attempt_in_a_retry_run(store: RunStore) -> None:
    old = await _run_with(
        store,
        [_employee("", "1"), _employee("", "2")],
        {"1": "failed", "2": "created"},
    )
    enqueue = Recorder()
    results = await retry_failures(["acme:employees:1"], store=store, enqueue=enqueue, now=5000.0)
    (result,) = results
    assert result.status == "queued"
    assert result.run_id != old
    (task,) = enqueue.tasks
    assert isinstance(task, EmployeeTask)
    assert (task.attempt, task.refetch, task.deferrals, task.first_attempt_at, task.dry_run) == (
        1,
        True,
        0,
        5000.0,
        False,
    )
    assert (task.run_id, task.employee_number, task.employee_id) == (result.run_id, "1", "id-1")
    run = await store.get_run(result.run_id)
    assert run is not None
    assert (run.trigger, run.kind, run.integration, run.total) == ("retry", "employees", "acme", 1)
    # Still listed until the new outcome comes in ...
    assert [failure.id for failure in await store.failures.listing()] == ["acme:employees:1"]
    assert await store.pending(result.run_id) == ["1"]
    # ... and gone once it succeeds.
    await store.record(
        result.run_id,
        "acme",
        "employees",
        RecordOutcome(employee_number="1", outcome="updated", finished_at=time.time()),
    )
    assert await store.failures.listing() == []


async def test_unknown_succeeded_and_malformed_ids_are_reported_not_retried(
    store: RunStore,
) -> None:
    await _run_with(
        store, [_employee("", "1"), _employee("", "2")], {"1": "failed", "2": "created"}
    )
    enqueue = Recorder()
    ids = ["acme:employees:2", "nonsense", "acme:employees:1", "acme:employees:1", "x:absences:9"]
    results = await retry_failures(ids, store=store, enqueue=enqueue, now=1.0)
    assert [(item.id, item.status) for item in results] == [
        ("acme:employees:2", "not_failing"),
        ("nonsense", "not_failing"),
        ("acme:employees:1", "queued"),
        ("x:absences:9", "not_failing"),
    ]
    assert [task.employee_number for task in enqueue.tasks] == ["1"], "duplicates retried once"


async def test_a_failure_whose_task_is_gone_is_reported(store: RunStore) -> None:
    run_id = await _run_with(store, [_employee("", "1")], {"1": "failed"})
    # As when the run's task hash has expired while the failure is still indexed.
    await store.redis.delete(store.keys.tasks(run_id))
    enqueue = Recorder()
    (result,) = await retry_failures(["acme:employees:1"], store=store, enqueue=enqueue, now=1.0)
    assert (result.status, result.run_id) == ("task_gone", "")
    assert enqueue.calls == []
    assert await store.active_run("acme", "employees") is None, "no empty run started"


async def test_failures_are_grouped_into_one_run_per_integration_and_kind(
    store: RunStore,
) -> None:
    await _run_with(store, [_employee("", "1"), _employee("", "2")], {"1": "failed", "2": "failed"})
    await _run_with(store, [_employee("", "7", "other")], {"7": "failed"}, integration="other")
    enqueue = Recorder()
    ids = ["acme:employees:1", "other:employees:7", "acme:employees:2"]
    results = await retry_failures(ids, store=store, enqueue=enqueue, now=1.0)
    runs = {item.id: item.run_id for item in results}
    assert runs["acme:employees:1"] == runs["acme:employees:2"] != runs["other:employees:7"]
    assert sorted(len(call) for call in enqueue.calls) == [1, 2]
    for item in results:
        run = await store.get_run(item.run_id)
        assert run is not None
        assert run.integration == item.id.split(":")[0]


async def test_a_retry_joins_the_run_in_progress(store: RunStore) -> None:
    await _run_with(store, [_employee("", "1")], {"1": "failed"})
    active = await store.create_run(
        integration="acme", kind="employees", trigger="scheduled", dry_run=False, now=time.time()
    )
    await store.enrol(active, [(_stamp(_employee("", "50"), active), None)])
    enqueue = Recorder()
    (result,) = await retry_failures(["acme:employees:1"], store=store, enqueue=enqueue, now=1.0)
    assert result.run_id == active
    assert await store.pending(active) == ["1", "50"]


async def test_absence_retries_keep_the_period_and_codes_of_their_run(store: RunStore) -> None:
    period = Period(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 1, 31))
    leave = AbsenceTask(
        run_id="",
        integration="acme",
        employee_number="1",
        employee_id="id-1",
        leave_id="leave-9",
        codes=["01"],
        attempt=2,
    )
    await _run_with(
        store, [leave], {"leave-9": "failed"}, kind="absences", period=period, codes=["01"]
    )
    enqueue = Recorder()
    (result,) = await retry_failures(
        [failure_id("acme", "absences", "leave-9")], store=store, enqueue=enqueue, now=1.0
    )
    run = await store.get_run(result.run_id)
    assert run is not None
    assert (run.kind, run.period, run.codes, run.trigger) == (
        "absences",
        "2026-01-01..2026-01-31",
        ["01"],
        "retry",
    )
    (task,) = enqueue.tasks
    assert isinstance(task, AbsenceTask)
    assert (task.leave_id, task.codes, task.attempt, task.refetch) == ("leave-9", ["01"], 1, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01..2026-01-31", (datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))),
        ("", None),
        ("2026-01-01", None),
        ("2026-13-01..2026-01-31", None),
        ("2026-02-01..2026-01-01", None),  # 'from' after 'to' is no period
    ],
)
def test_parse_period(text: str, expected: tuple[datetime.date, datetime.date] | None) -> None:
    period = parse_period(text)
    assert (None if period is None else (period.start, period.end)) == expected
