"""`expand_employee_sync`: a request becomes a run and one task per in-scope employee, and a
request during a run in progress joins it instead of doubling the work."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any, Final

import fakeredis
import msgspec
import pytest

from payroll_sync.connectors.simployer_rows import Bundles, Unreadable
from payroll_sync.errors import RequestRefused
from payroll_sync.producer.enrol import Expansion
from payroll_sync.producer.expand import expand_employee_sync
from payroll_sync.rules.scope import in_scope
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import EmployeeTask, SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.schemas.settings import Integration, Scope
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.generator import generate_company
from tests.support.bundles import as_read, bundles_by_number
from tests.support.keys import unique_prefix
from tests.support.recorders import Recorder
from tests.support.settings import offline_integration

TODAY: Final = datetime.date(2025, 6, 2)
NOW: Final = 1_748_850_000.0
INTEGRATION_ID: Final = "acme"
COMPANY: Final = generate_company(30, seed=1, today=TODAY)
INTEGRATION: Final = offline_integration()
EMPLOYEES: Final = as_read(COMPANY.dataset.employee, simployer.Employee)
DEPARTMENTS: Final = as_read(COMPANY.dataset.department, simployer.Department)
IN_SCOPE: Final = [
    e.employee_number for e in in_scope(EMPLOYEES, Scope(), departments=DEPARTMENTS, today=TODAY)
]
OUT_OF_SCOPE: Final = [
    e.employee_number for e in COMPANY.dataset.employee if e.employee_number not in IN_SCOPE
]
# Already in 24SevenOffice when the run begins: every third in-scope employee.
IN_PAYROLL: Final = frozenset(IN_SCOPE[::3])


def _bundles(data: published.Company) -> list[simployer.EmployeeBundle]:
    return list(bundles_by_number(data).values())


class FakeHr:
    def __init__(self) -> None:
        self.bundles = _bundles(COMPANY.dataset)
        self.department_list = list(DEPARTMENTS)
        self.unreadable: list[Unreadable] = []

    async def employee_bundle_pages(self) -> AsyncIterator[Bundles]:
        yield Bundles(list(self.bundles), list(self.unreadable))

    async def departments(self) -> list[simployer.Department]:
        return list(self.department_list)


class FakePayroll:
    def __init__(self, numbers: frozenset[str] = IN_PAYROLL) -> None:
        self.employees = [
            payroll.Employee(emp_id=str(int(number)), lastname=f"L{number}") for number in numbers
        ]

    async def employees_by_id(self) -> dict[str, payroll.Employee]:
        return {row.emp_id: row for row in self.employees}


class Producer:
    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.hr = FakeHr()
        self.payroll = FakePayroll()
        self.queue = Recorder(EmployeeTask)

    async def expand(
        self, integration: Integration = INTEGRATION, now: float = NOW, **request: Any
    ) -> Expansion:
        return await expand_employee_sync(
            SyncRequest(integration=INTEGRATION_ID, **request),
            integration=integration,
            hr=self.hr,
            payroll_api=self.payroll,
            store=self.store,
            enqueue=self.queue,
            today=TODAY,
            now=now,
        )

    async def finish(self, run_id: str, number: str) -> None:
        outcome = RecordOutcome(employee_number=number, outcome="unchanged", finished_at=NOW + 1)
        assert await self.store.record(run_id, INTEGRATION_ID, "employees", outcome)


@pytest.fixture
async def producer() -> AsyncIterator[Producer]:
    redis = fakeredis.FakeAsyncRedis()
    yield Producer(RunStore(redis, prefix=unique_prefix()))
    await redis.aclose()


def test_the_generated_company_has_what_these_tests_need() -> None:
    assert len(IN_SCOPE) >= 20
    assert OUT_OF_SCOPE, "some employee must be out of scope (inactive)"
    assert 0 < len(IN_PAYROLL) < len(IN_SCOPE)


# ------------------------------------------------------------------ one task per employee


async def test_one_task_per_in_scope_employee(producer: Producer) -> None:
    expansion = await producer.expand()

    run_id = expansion.run_id
    assert expansion == Expansion(
        run_id=run_id, joined=False, in_scope=len(IN_SCOPE), enqueued=len(IN_SCOPE)
    )
    (batch,) = producer.queue.calls
    assert [task.employee_number for task in batch] == IN_SCOPE
    by_number = {bundle.employee.employee_number: bundle for bundle in producer.hr.bundles}
    for task in batch:
        assert task == EmployeeTask(
            run_id=run_id,
            integration=INTEGRATION_ID,
            employee_number=task.employee_number,
            employee_id=by_number[task.employee_number].employee.id,
            first_attempt_at=NOW,
            new_in_payroll=task.employee_number not in IN_PAYROLL,
        )
    run = await producer.store.get_run(run_id)
    assert run is not None
    assert (run.status, run.total, run.dry_run, run.trigger) == (
        "queued",
        len(IN_SCOPE),
        False,
        "manual",
    )
    assert await producer.store.active_run(INTEGRATION_ID, "employees") == run_id
    assert sorted(await producer.store.pending(run_id)) == sorted(IN_SCOPE)


async def test_an_employee_the_client_cannot_read_is_in_the_run_without_a_snapshot(
    producer: Producer,
) -> None:
    """A broken row fails where a person sees it (the worker reads it and names the field),
    never vanishes; the scope's number rules still apply to it."""
    broken = producer.hr.bundles.pop(0).employee
    producer.hr.unreadable = [
        Unreadable(
            resource="employee",
            row_id=broken.id,
            field="bankAccount",
            reason=f"Simployer One employee {broken.id}: field bankAccount is missing or invalid",
            employee_id=broken.id,
            employee_number=broken.employee_number,
            department_id=broken.department_id or "",
        ),
        # Its employee number is what is missing: keyed by its id instead.
        Unreadable(
            resource="employee",
            row_id="row-without-number",
            field="employeeNumber",
            reason="",
            employee_id="row-without-number",
        ),
    ]
    expansion = await producer.expand()
    numbers = [task.employee_number for task in producer.queue.tasks]
    assert broken.employee_number in numbers
    assert "(id row-without-number)" in numbers
    for number in (broken.employee_number, "(id row-without-number)"):
        assert await producer.store.snapshot(expansion.run_id, number, EmployeeSnapshot) is None
    healthy = next(n for n in IN_SCOPE if n != broken.employee_number)
    assert await producer.store.snapshot(expansion.run_id, healthy, EmployeeSnapshot) is not None

    excluded = msgspec.structs.replace(INTEGRATION, scope=Scope(exclude=[broken.employee_number]))
    later = Producer(producer.store)
    later.hr.bundles, later.hr.unreadable = producer.hr.bundles, producer.hr.unreadable
    await later.expand(integration=excluded, dry_run=True)
    assert broken.employee_number not in [task.employee_number for task in later.queue.tasks]


async def test_the_snapshot_holds_what_the_bulk_reads_saw(producer: Producer) -> None:
    expansion = await producer.expand()
    known = sorted(IN_PAYROLL)[0]
    absent = next(number for number in IN_SCOPE if number not in IN_PAYROLL)

    snapshot = await producer.store.snapshot(expansion.run_id, known, EmployeeSnapshot)
    assert snapshot is not None
    assert snapshot.bundle.employee.employee_number == known
    assert snapshot.payroll == payroll.Employee(emp_id=str(int(known)), lastname=f"L{known}")
    assert snapshot.payroll_known is True

    snapshot = await producer.store.snapshot(expansion.run_id, absent, EmployeeSnapshot)
    assert snapshot is not None
    assert (snapshot.payroll, snapshot.payroll_known) == (None, True)


async def test_a_non_numeric_employee_number_is_not_new_in_payroll(producer: Producer) -> None:
    first = producer.hr.bundles[0]
    assert first.employee.employee_number in IN_SCOPE
    producer.hr.bundles[0] = msgspec.structs.replace(
        first, employee=msgspec.structs.replace(first.employee, employee_number="A-17")
    )

    expansion = await producer.expand()

    task = next(t for t in producer.queue.tasks if t.employee_number == "A-17")
    assert task.new_in_payroll is False
    snapshot = await producer.store.snapshot(expansion.run_id, "A-17", EmployeeSnapshot)
    assert snapshot is not None
    assert (snapshot.payroll, snapshot.payroll_known) == (None, False)


async def test_a_zero_padded_employee_number_matches_its_payroll_id(producer: Producer) -> None:
    number = sorted(IN_PAYROLL)[0]
    index = next(
        i for i, b in enumerate(producer.hr.bundles) if b.employee.employee_number == number
    )
    bundle = producer.hr.bundles[index]
    producer.hr.bundles[index] = msgspec.structs.replace(
        bundle, employee=msgspec.structs.replace(bundle.employee, employee_number="0" + number)
    )
    await producer.expand()
    task = next(t for t in producer.queue.tasks if t.employee_number == "0" + number)
    assert task.new_in_payroll is False


async def test_a_dry_run_request_marks_its_tasks_and_run(producer: Producer) -> None:
    expansion = await producer.expand(dry_run=True, trigger="scheduled")
    assert {task.dry_run for task in producer.queue.tasks} == {True}
    run = await producer.store.get_run(expansion.run_id)
    assert run is not None
    assert (run.dry_run, run.trigger) == (True, "scheduled")
    assert await producer.store.active_run(INTEGRATION_ID, "employees") is None


# ------------------------------------------------------------------ narrowing and refusing


async def test_employees_narrow_the_scope(producer: Producer) -> None:
    wanted = [IN_SCOPE[4], IN_SCOPE[1]]
    expansion = await producer.expand(employees=wanted)
    assert (expansion.in_scope, expansion.enqueued) == (2, 2)
    # In the source's order, not the request's.
    assert [task.employee_number for task in producer.queue.tasks] == [IN_SCOPE[1], IN_SCOPE[4]]


async def test_a_listed_employee_out_of_scope_is_left_out(producer: Producer) -> None:
    expansion = await producer.expand(employees=[IN_SCOPE[0], OUT_OF_SCOPE[0]])
    assert expansion.enqueued == 1
    assert [task.employee_number for task in producer.queue.tasks] == [IN_SCOPE[0]]


async def test_only_out_of_scope_employees_are_refused(producer: Producer) -> None:
    with pytest.raises(RequestRefused, match="none of the listed employees"):
        await producer.expand(employees=OUT_OF_SCOPE[:1])
    assert producer.queue.calls == []
    assert await producer.store.list_runs() == []


async def test_unknown_employee_numbers_are_refused_by_name(producer: Producer) -> None:
    with pytest.raises(RequestRefused) as refused:
        await producer.expand(employees=[IN_SCOPE[0], "99999", "77777", "99999"])
    message = str(refused.value)
    assert "77777" in message
    assert "99999" in message
    assert IN_SCOPE[0] not in message
    assert producer.queue.calls == []
    assert await producer.store.list_runs() == []


async def test_an_empty_scope_makes_a_finished_run(producer: Producer) -> None:
    nobody = msgspec.structs.replace(INTEGRATION, scope=Scope(employees=["99999"]))
    expansion = await producer.expand(integration=nobody)
    assert (expansion.joined, expansion.in_scope, expansion.enqueued) == (False, 0, 0)
    assert producer.queue.calls == []  # nothing to send: `enqueue` is not called
    run = await producer.store.get_run(expansion.run_id)
    assert run is not None
    assert (run.status, run.total) == ("done", 0)
    assert await producer.store.active_run(INTEGRATION_ID, "employees") is None


# ------------------------------------------------------------------ joining a run in progress


async def test_a_second_request_joins_the_run_in_progress(producer: Producer) -> None:
    first = await producer.expand()
    second = await producer.expand(now=NOW + 30, trigger="scheduled")

    assert second == Expansion(run_id=first.run_id, joined=True, in_scope=len(IN_SCOPE), enqueued=0)
    assert len(producer.queue.tasks) == len(IN_SCOPE)  # nothing enqueued twice
    assert len(await producer.store.list_runs()) == 1
    run = await producer.store.get_run(first.run_id)
    assert run is not None
    assert run.total == len(IN_SCOPE)


async def test_joining_takes_back_finished_employees_and_adds_new_ones(
    producer: Producer,
) -> None:
    first = await producer.expand(employees=IN_SCOPE[:3])
    await producer.finish(first.run_id, IN_SCOPE[0])

    second = await producer.expand(employees=IN_SCOPE[:5], now=NOW + 30)

    assert (second.run_id, second.joined, second.enqueued) == (first.run_id, True, 3)
    enqueued = [task.employee_number for task in producer.queue.calls[1]]
    assert enqueued == [IN_SCOPE[0], IN_SCOPE[3], IN_SCOPE[4]]
    assert {task.run_id for task in producer.queue.calls[1]} == {first.run_id}
    run = await producer.store.get_run(first.run_id)
    assert run is not None
    assert (run.total, run.finished) == (5, 0)


async def test_a_request_after_the_run_finished_starts_a_new_run(producer: Producer) -> None:
    first = await producer.expand(employees=IN_SCOPE[:2])
    for number in IN_SCOPE[:2]:
        await producer.finish(first.run_id, number)

    second = await producer.expand(employees=IN_SCOPE[:2], now=NOW + 60)

    assert second.run_id != first.run_id
    assert (second.joined, second.enqueued) == (False, 2)
    assert await producer.store.active_run(INTEGRATION_ID, "employees") == second.run_id


async def test_dry_runs_never_join(producer: Producer) -> None:
    real = await producer.expand()
    dry = await producer.expand(dry_run=True, now=NOW + 1)
    dry_again = await producer.expand(dry_run=True, now=NOW + 2)

    assert len({real.run_id, dry.run_id, dry_again.run_id}) == 3
    assert (dry.joined, dry.enqueued) == (False, len(IN_SCOPE))
    assert (dry_again.joined, dry_again.enqueued) == (False, len(IN_SCOPE))
    assert await producer.store.active_run(INTEGRATION_ID, "employees") == real.run_id
    assert [task.dry_run for task in producer.queue.calls[1]] == [True] * len(IN_SCOPE)


async def test_a_real_request_does_not_join_a_dry_run(producer: Producer) -> None:
    dry = await producer.expand(dry_run=True)
    real = await producer.expand(now=NOW + 1)
    assert real.run_id != dry.run_id
    assert (real.joined, real.enqueued) == (False, len(IN_SCOPE))
    assert {task.dry_run for task in producer.queue.calls[1]} == {False}


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry"])
async def test_an_empty_request_leaves_the_run_in_progress_joinable(
    producer: Producer, dry_run: bool
) -> None:
    running = await producer.expand()
    nobody = msgspec.structs.replace(INTEGRATION, scope=Scope(employees=["99999"]))
    await producer.expand(integration=nobody, dry_run=dry_run, now=NOW + 1)

    later = await producer.expand(now=NOW + 2)

    assert (later.run_id, later.joined, later.enqueued) == (running.run_id, True, 0)
