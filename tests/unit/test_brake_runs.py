"""The brake's hold, approval and cancel on the run store (fakeredis, then the real Redis):
a braked request that trips sends nothing and holds its run; approve sends every pending
record once, however many operators click; cancel ends the run, and the next request starts
a new one; a request joining a held run leaves it held; recovery never requeues a held run."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator, Sequence
from typing import Final

import msgspec
import pytest
import structlog

from payroll_sync.errors import RequestRefused
from payroll_sync.producer.approval import approve_run, cancel_run
from payroll_sync.producer.brake import BrakeCount, braked
from payroll_sync.producer.enrol import Entry, Expansion, RunSpec, enrol_stream
from payroll_sync.rules.compare import comparable_values
from payroll_sync.rules.employee import map_employee
from payroll_sync.runs.recovery import LOST_AFTER_SECONDS, requeue_lost
from payroll_sync.runs.store import RunStore
from payroll_sync.runs.written import WrittenValues
from payroll_sync.schemas.brake import Brake
from payroll_sync.schemas.messages import EmployeeTask, Period, SyncRequest
from payroll_sync.schemas.settings import Integration, Limits
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from tests.support.recorders import Recorder
from tests.support.runs import INTEGRATION, NOW, enrol, new_run, outcome_of, record
from tests.unit.test_brake_rules import as_written
from tests.unit.test_mapping_employee import ACCOUNT, SSN, bundle, ended

EMPLOYEES: Final = 10
SPEC: Final = RunSpec(integration=INTEGRATION, kind="employees", trigger="scheduled")
REQUEST: Final = SyncRequest(integration=INTEGRATION, kind="employees", trigger="scheduled")


def _numbers() -> list[str]:
    return [str(2000 + i) for i in range(EMPLOYEES)]


def _entries(*, blanked: int) -> list[Entry]:
    """EMPLOYEES employees in 24SevenOffice, the first `blanked` without their bank account in
    Simployer One now."""
    entries: list[Entry] = []
    for i, number in enumerate(_numbers()):
        hr = bundle(employee_number=number)
        current = as_written(hr)
        if i < blanked:
            hr = bundle(employee_number=number, bank_account=None)
        task = EmployeeTask(
            run_id="",
            integration=INTEGRATION,
            employee_number=number,
            employee_id=f"id-{number}",
            first_attempt_at=NOW,
        )
        entries.append((task, EmployeeSnapshot(bundle=hr, payroll=current)))
    return entries


async def _chunks(entries: Sequence[Entry], size: int = 3) -> AsyncIterator[Sequence[Entry]]:
    for start in range(0, len(entries), size):
        yield entries[start : start + size]


def _count(store: RunStore, request: SyncRequest = REQUEST) -> BrakeCount:
    return BrakeCount(
        request=request,
        integration=_integration(),
        limits=Limits(),
        written=WrittenValues(store.redis, store.prefix),
    )


def _integration() -> Integration:
    return Integration(
        simployer_url="http://127.0.0.1:9/v1",
        simployer_token_env="X",
        payroll_url="http://127.0.0.1:9/api",
        payroll_token_env="Y",
    )


async def _expand(
    store: RunStore,
    queue: Recorder[EmployeeTask],
    *,
    blanked: int,
    spec: RunSpec = SPEC,
    request: SyncRequest = REQUEST,
) -> Expansion:
    return await enrol_stream(
        spec,
        _chunks(_entries(blanked=blanked)),
        store=store,
        enqueue=queue,
        now=NOW,
        brake=_count(store, request),
    )


async def test_a_tripped_count_holds_the_run_and_sends_nothing(store: RunStore) -> None:
    queue = Recorder(EmployeeTask)
    with structlog.testing.capture_logs() as events:
        expansion = await _expand(store, queue, blanked=EMPLOYEES)

    assert expansion.held
    assert queue.tasks == []
    run = await store.get_run(expansion.run_id)
    assert run is not None
    assert (run.status, run.total) == ("awaiting_approval", EMPLOYEES)
    assert await store.pending(expansion.run_id) == _numbers()
    summary = await store.brake_summary(expansion.run_id)
    assert summary is not None
    assert summary.decision == "held"
    assert [(field.field, field.count, field.total) for field in summary.tripped] == [
        ("account", EMPLOYEES, EMPLOYEES)
    ]
    # The event names the field and how many; no account, no person number, no name.
    [held] = [event for event in events if event["event"] == "run.held"]
    assert held["tripped"] == [
        {"field": "account", "count": EMPLOYEES, "percent": 100.0, "threshold": 20.0}
    ]
    text = repr(events)
    for secret in (ACCOUNT, ACCOUNT[-4:], SSN, "Nordmann"):
        assert secret not in text


async def test_below_the_thresholds_everything_is_sent_and_a_summary_kept(
    store: RunStore,
) -> None:
    queue = Recorder(EmployeeTask)
    expansion = await _expand(store, queue, blanked=2)  # 20 %: not more than 20 %
    assert not expansion.held
    assert queue.keys == sorted(_numbers())
    assert {task.run_id for task in queue.tasks} == {expansion.run_id}
    run = await store.get_run(expansion.run_id)
    assert run is not None
    assert run.status == "queued"
    summary = await store.brake_summary(expansion.run_id)
    assert summary is not None
    assert summary.decision == "released"
    assert {field.field: field.count for field in summary.fields}["account"] == 2


async def test_a_dry_run_is_counted_but_never_held(store: RunStore) -> None:
    queue = Recorder(EmployeeTask)
    dry = SyncRequest(integration=INTEGRATION, kind="employees", dry_run=True)
    spec = RunSpec(integration=INTEGRATION, kind="employees", trigger="manual", dry_run=True)
    expansion = await _expand(store, queue, blanked=EMPLOYEES, spec=spec, request=dry)
    assert not expansion.held
    assert len(queue.tasks) == EMPLOYEES
    summary = await store.brake_summary(expansion.run_id)
    assert summary is not None
    assert [field.field for field in summary.tripped] == ["account"]  # "this would hold"
    assert summary.decision == "released"


async def test_approve_sends_every_pending_record_once_however_many_click(
    store: RunStore,
) -> None:
    held = await _expand(store, Recorder(EmployeeTask), blanked=EMPLOYEES)
    queue = Recorder(EmployeeTask)

    results = await asyncio.gather(
        *(
            approve_run(held.run_id, by=f"api:caller{i}", store=store, enqueue=queue, now=NOW + 5)
            for i in range(3)
        ),
        return_exceptions=True,
    )

    approved = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, RequestRefused)]
    assert len(approved) == 1
    assert len(refused) == 2
    assert approved[0].decision == "approved"
    assert approved[0].decided_by.startswith("api:caller")
    assert queue.keys == sorted(_numbers())
    run = await store.get_run(held.run_id)
    assert run is not None
    assert run.status == "queued"
    for refusal in refused:
        assert str(refusal) == f"run {held.run_id} is queued, not awaiting approval"
    saved = await store.brake_summary(held.run_id)
    assert saved is not None
    assert (saved.decision, saved.decided_at) == ("approved", NOW + 5)


async def test_an_approved_run_goes_back_to_running_when_records_had_finished(
    store: RunStore,
) -> None:
    run_id = await new_run(store)
    assert await enrol(store, run_id, "1", "2") == ["1", "2"]
    assert await record(store, run_id, "1")  # started: running
    assert await store.hold(run_id, now=NOW) == ("running", True)
    assert await store.hold(run_id, now=NOW) == ("awaiting_approval", True)  # held already
    queue = Recorder(EmployeeTask)
    await approve_run(run_id, by="api:x", store=store, enqueue=queue, now=NOW)
    run = await store.get_run(run_id)
    assert run is not None
    assert run.status == "running"
    assert queue.keys == ["2"]  # only what is still pending
    assert await record(store, run_id, "2")
    assert await store.hold(run_id, now=NOW) == ("done", False)  # an end is never held


async def test_cancel_ends_the_run_and_the_next_request_starts_a_new_one(
    store: RunStore,
) -> None:
    held = await _expand(store, Recorder(EmployeeTask), blanked=EMPLOYEES)
    with structlog.testing.capture_logs() as events:
        summary = await cancel_run(held.run_id, by="dashboard:ops", store=store, now=NOW + 9)

    assert (summary.decision, summary.decided_by) == ("cancelled", "dashboard:ops")
    run = await store.get_run(held.run_id)
    assert run is not None
    assert (run.status, run.finished_at, run.finished) == ("cancelled", NOW + 9, 0)
    assert await store.active_run(INTEGRATION, "employees") is None
    assert not await store.redis.exists(store.keys.snapshots(held.run_id))
    assert [event["never_synced"] for event in events if event["event"] == "run.cancelled"] == [
        EMPLOYEES
    ]
    assert held.run_id not in [item.id for item in await store.unfinished_runs()]
    # Cancelled is an end: waiting for it returns at once.
    waited = await store.wait_done(held.run_id, poll_seconds=0.01, max_seconds=1)
    assert waited.status == "cancelled"

    with pytest.raises(RequestRefused, match=f"run {held.run_id} is cancelled, not awaiting"):
        await approve_run(held.run_id, by="api:x", store=store, enqueue=Recorder(), now=NOW)
    with pytest.raises(RequestRefused, match="no such run: nope"):
        await cancel_run("nope", by="api:x", store=store, now=NOW)

    queue = Recorder(EmployeeTask)
    again = await _expand(store, queue, blanked=EMPLOYEES)
    assert again.run_id != held.run_id
    assert not again.joined
    assert again.held
    assert queue.tasks == []


async def test_a_later_request_joining_a_held_run_leaves_it_held(store: RunStore) -> None:
    held = await _expand(store, Recorder(EmployeeTask), blanked=EMPLOYEES)
    queue = Recorder(EmployeeTask)
    # The data was repaired: this count trips nothing, yet the run stays held for a person.
    later = await _expand(store, queue, blanked=0)
    assert later.joined
    assert later.run_id == held.run_id
    assert later.held
    assert queue.tasks == []
    run = await store.get_run(held.run_id)
    assert run is not None
    assert run.status == "awaiting_approval"
    summary = await store.brake_summary(held.run_id)
    assert summary is not None
    assert summary.decision == "held"
    assert summary.tripped == []  # the newest count: what approval would write now


async def test_recovery_never_requeues_a_held_run(store: RunStore) -> None:
    held = await _expand(store, Recorder(EmployeeTask), blanked=EMPLOYEES)
    queue = Recorder()
    much_later = NOW + 100 * LOST_AFTER_SECONDS
    assert await requeue_lost(store, enqueue=queue, now=much_later) == []
    assert queue.tasks == []
    # Approved, it is an ordinary run again: a lost message is requeued as ever.
    await approve_run(held.run_id, by="api:x", store=store, enqueue=Recorder(), now=much_later)
    assert await requeue_lost(store, enqueue=queue, now=much_later + 60) == []  # just sent
    requeued = await requeue_lost(store, enqueue=queue, now=much_later + 2 * LOST_AFTER_SECONDS)
    assert [item.records for item in requeued] == [EMPLOYEES]


async def test_a_stale_record_held_is_sent_as_stale(store: RunStore) -> None:
    # The employee's latest outcome was recorded after the snapshot was read: stale.
    number = _numbers()[0]
    earlier = await enrol_stream(
        SPEC, _chunks(_entries(blanked=0)[:1]), store=store, enqueue=Recorder(), now=NOW
    )
    assert await store.record(
        earlier.run_id, INTEGRATION, "employees", outcome_of(number, at=NOW + 50)
    )
    held = await _expand(store, Recorder(EmployeeTask), blanked=EMPLOYEES)
    queue = Recorder(EmployeeTask)
    await approve_run(held.run_id, by="api:x", store=store, enqueue=queue, now=NOW)
    sent = {task.key: task for task in queue.tasks}
    assert sent[number].refetch
    assert not any(task.refetch for key, task in sent.items() if key != number)


def test_which_requests_are_braked() -> None:
    integration = _integration()
    assert braked(REQUEST, integration)
    period = Period(start=datetime.date(2025, 6, 1), end=datetime.date(2025, 6, 30))
    absences = SyncRequest(integration=INTEGRATION, kind="absences", period=period)
    assert braked(absences, integration)
    named = SyncRequest(integration=INTEGRATION, kind="employees", employees=["2000"])
    assert not braked(named, integration)
    retry = SyncRequest(integration=INTEGRATION, kind="employees", trigger="retry")
    assert not braked(retry, integration)
    off = msgspec.structs.replace(integration, brake=Brake(enabled=False))
    assert not braked(REQUEST, off)


# The mapping the tests rely on maps every employee number given.
def test_the_entries_map() -> None:
    for _, snapshot in _entries(blanked=EMPLOYEES):
        assert isinstance(snapshot, EmployeeSnapshot)
        assert map_employee(snapshot.bundle).employee.account == ""


async def test_a_message_of_a_held_or_cancelled_run_is_dropped_unrun(store: RunStore) -> None:
    """A message already on its way when the run was held (the pacer's, a retry's) writes
    nothing: the record stays pending, and approval sends it again."""
    run_id = await new_run(store)
    assert await enrol(store, run_id, "1", "2") == ["1", "2"]
    assert await store.hold(run_id, now=NOW) == ("queued", True)
    begun = await store.begin(run_id, "1", now=NOW, due=NOW + 60, snapshot=True)
    assert begun is not None
    assert begun.held
    assert begun.snapshot is None
    assert await store.pending(run_id) == ["1", "2"]
    queue = Recorder(EmployeeTask)
    await approve_run(run_id, by="api:x", store=store, enqueue=queue, now=NOW)
    assert queue.keys == ["1", "2"]
    taken = await store.begin(run_id, "1", now=NOW, due=NOW + 60, snapshot=True)
    assert taken is not None
    assert not taken.held
    assert taken.snapshot is not None
    # Cancelled: dropped too.
    other = await new_run(store)
    await enrol(store, other, "3")
    await store.hold(other, now=NOW)
    await cancel_run(other, by="api:x", store=store, now=NOW)
    dropped = await store.begin(other, "3", now=NOW, due=NOW + 60)
    assert dropped is not None
    assert dropped.held


async def test_endings_are_counted_against_what_the_worker_remembered_writing(
    store: RunStore,
) -> None:
    """As the worker remembers a write (runs/written.py, `comparable_values` of what it wrote),
    an employment end date new to it counts; one never written, or written already, does not."""
    written = WrittenValues(store.redis, store.prefix)
    numbers = _numbers()
    open_employment = map_employee(bundle(employee_number=numbers[0])).employment
    leaving = ended("0111101:2")
    end_written = comparable_values(map_employee(leaving).employment, prefix="employment.")
    # Written open: 0-4; written with the end date already: 5; never written: 6-9.
    for number in numbers[:5]:
        await written.remember(
            INTEGRATION, number, comparable_values(open_employment, prefix="employment.")
        )
    await written.remember(INTEGRATION, numbers[5], end_written)
    entries: list[Entry] = []
    for task, snapshot in _entries(blanked=0):
        assert isinstance(snapshot, EmployeeSnapshot)
        hr = msgspec.structs.replace(
            leaving, employee=msgspec.structs.replace(leaving.employee, employee_number=task.key)
        )
        entries.append((task, EmployeeSnapshot(bundle=hr, payroll=snapshot.payroll)))
    queue = Recorder(EmployeeTask)
    expansion = await enrol_stream(
        SPEC, _chunks(entries), store=store, enqueue=queue, now=NOW, brake=_count(store)
    )
    summary = await store.brake_summary(expansion.run_id)
    assert summary is not None
    endings = {field.field: field for field in summary.fields}["employment.enddate"]
    assert (endings.count, endings.total) == (5, EMPLOYEES)
    assert sorted(example.key for example in endings.examples) == numbers[:5]
    assert endings.tripped  # 50 % > 10 %
    assert expansion.held


async def test_an_approval_after_a_long_hold_gives_each_record_a_new_retry_window(
    store: RunStore,
) -> None:
    held = await _expand(store, Recorder(EmployeeTask), blanked=EMPLOYEES)
    two_days_later = NOW + 2 * 24 * 3600.0
    queue = Recorder(EmployeeTask)
    await approve_run(held.run_id, by="api:x", store=store, enqueue=queue, now=two_days_later)
    assert len(queue.tasks) == EMPLOYEES
    # Counted from the producer's read, the 3-hour window would be used up before the first
    # attempt: a 503 would fail every record at once instead of retrying it.
    assert {task.first_attempt_at for task in queue.tasks} == {two_days_later}
    assert {task.deferrals for task in queue.tasks} == {0}
