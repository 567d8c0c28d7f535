"""The absence producer: which leaves make a run, what each task and snapshot carry."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any, Final

import fakeredis
import msgspec
import pytest

from payroll_sync.connectors.simployer_rows import Unreadable
from payroll_sync.errors import RequestRefused
from payroll_sync.producer.expand_absences import expand_absence_sync
from payroll_sync.rules.absence_scope import belongs_in_run
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import AbsenceTask, Period, SyncRequest
from payroll_sync.schemas.settings import Absences
from payroll_sync.schemas.snapshots import AbsenceSnapshot
from payroll_sync.simulators.payroll_store import default_absence_types
from tests.support.recorders import Recorder
from tests.support.settings import offline_integration

TODAY: Final = datetime.date(2026, 6, 1)
NOW: Final = 1_780_000_000.0
PERIOD: Final = Period(start=datetime.date(2026, 6, 1), end=datetime.date(2026, 6, 30))
INTEGRATION: Final = offline_integration()
VACATION: Final = simployer.LeaveTypeWithCode(type=simployer.LeaveType(id="t-vac", name="Vacation"))
SICK: Final = simployer.LeaveTypeWithCode(
    type=simployer.LeaveType(id="t-sick", name="Self-certified sick leave")
)
SABBATICAL: Final = simployer.LeaveTypeWithCode(
    type=simployer.LeaveType(id="t-sab", name="Sabbatical")
)


def _employee(number: str, **fields: Any) -> simployer.Employee:
    values: dict[str, Any] = {
        "id": f"e{number}",
        "active": True,
        "employee_number": number,
    }
    values.update(fields)
    return simployer.Employee(**values)


def _leave(leave_id: str, number: str, start: str, end: str, **fields: Any) -> simployer.Leave:
    values: dict[str, Any] = {
        "id": leave_id,
        "employee_id": f"e{number}",
        "type_id": "t-vac",
        "status": "APPROVED",
        "start_date": f"{start}T00:00:00.000Z",
        "end_date": f"{end}T00:00:00.000Z",
    }
    values.update(fields)
    return simployer.Leave(**values)


def _absence(leave_id: str, number: str, approved: str = "1") -> payroll.Absence:
    return payroll.Absence(
        emp_id=number, serial_no="7", external_id=leave_id, approved=approved, absence_type="04"
    )


LEAVES: Final = [
    _leave("in-june", "1", "2026-06-10", "2026-06-12"),
    _leave("across-start", "1", "2026-05-28", "2026-06-01"),
    _leave("may-only", "1", "2026-05-01", "2026-05-31"),
    _leave("pending", "2", "2026-06-03", "2026-06-03", status="PENDING"),
    _leave("cancelled-never-sent", "2", "2026-06-04", "2026-06-04", status="CANCELLED"),
    _leave("cancelled-sent", "2", "2026-06-05", "2026-06-05", status="CANCELLED"),
    _leave("denied-rejected", "2", "2026-06-06", "2026-06-06", status="DENIED"),
    _leave("sick", "3", "2026-06-08", "2026-06-08", type_id="t-sick"),
    _leave("sabbatical", "3", "2026-06-15", "2026-06-30", type_id="t-sab"),
    _leave("inactive-person", "9", "2026-06-15", "2026-06-16"),
]


class FakeHr:
    def __init__(self) -> None:
        self.employee_list = [
            _employee("1"),
            _employee("2"),
            _employee("3"),
            _employee("9", active=False, end_date="2020-01-01"),
        ]
        self.leave_calls: list[tuple[datetime.date, datetime.date]] = []
        self.child_list: list[simployer.Child] = []
        # Rows the client could not read, by resource.
        self.unreadable: dict[str, list[Unreadable]] = {}

    def _bad(self, resource: str) -> list[Unreadable]:
        return list(self.unreadable.get(resource, []))

    async def employees(self) -> tuple[list[simployer.Employee], list[Unreadable]]:
        return list(self.employee_list), self._bad("employee")

    async def departments(self) -> list[simployer.Department]:
        return []

    async def leaves(
        self, start: datetime.date, end: datetime.date
    ) -> tuple[list[simployer.Leave], list[Unreadable]]:
        self.leave_calls.append((start, end))
        return list(LEAVES), self._bad("leave")

    async def leave_types(self) -> tuple[list[simployer.LeaveTypeWithCode], list[Unreadable]]:
        return [VACATION, SICK, SABBATICAL], self._bad("leave-type")

    async def children(self) -> tuple[list[simployer.Child], list[Unreadable]]:
        return list(self.child_list), self._bad("child")


class FakePayroll:
    def __init__(self) -> None:
        self.type_reads = 0

    async def employees_by_id(self) -> dict[str, payroll.Employee]:
        return {number: payroll.Employee(emp_id=number) for number in ("1", "2")}

    async def list_all_absences(self) -> list[payroll.Absence]:
        return [
            _absence("in-june", "1"),
            _absence("cancelled-sent", "2"),
            _absence("denied-rejected", "2", approved="2"),
            payroll.Absence(emp_id="1", serial_no="8", external_id=""),  # not ours
        ]

    async def absence_types(self) -> list[payroll.AbsenceType]:
        self.type_reads += 1
        return default_absence_types()


@pytest.fixture
async def store() -> AsyncIterator[RunStore]:
    client = fakeredis.FakeAsyncRedis()
    yield RunStore(client, prefix="test-expand-absences")
    await client.aclose()


async def _expand(
    store: RunStore,
    queue: Recorder[AbsenceTask],
    payroll_api: FakePayroll | None = None,
    hr: FakeHr | None = None,
    **request: Any,
) -> str:
    request.setdefault("period", PERIOD)
    integration = request.pop("integration", INTEGRATION)
    expansion = await expand_absence_sync(
        SyncRequest(integration="acme", kind="absences", **request),
        integration=integration,
        hr=hr or FakeHr(),
        payroll_api=payroll_api or FakePayroll(),
        store=store,
        enqueue=queue,
        today=TODAY,
        now=NOW,
    )
    return expansion.run_id


async def test_the_run_holds_the_leaves_with_something_to_do(store: RunStore) -> None:
    queue, payroll_api = Recorder(AbsenceTask), FakePayroll()
    run_id = await _expand(store, queue, payroll_api)

    assert [task.leave_id for task in queue.tasks] == [
        "across-start",
        "pending",
        "cancelled-sent",
        "sick",
        "in-june",
        "sabbatical",
    ]
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.kind, run.total, run.period, run.codes) == ("absences", 6, str(PERIOD), [])
    # The company's absence types are read once and kept with the run.
    assert payroll_api.type_reads == 1
    types = await store.absence_types(run_id)
    assert types is not None
    assert {row.code for row in types} >= {"01", "04", "21"}


async def test_tasks_carry_ids_and_snapshots_what_was_read(store: RunStore) -> None:
    queue = Recorder(AbsenceTask)
    run_id = await _expand(store, queue)
    by_leave = {task.leave_id: task for task in queue.tasks}

    assert by_leave["in-june"].new_in_payroll is False
    assert by_leave["sick"].new_in_payroll is True
    assert (by_leave["in-june"].employee_number, by_leave["in-june"].employee_id) == ("1", "e1")
    snapshot = await store.snapshot(run_id, "in-june", AbsenceSnapshot)
    assert snapshot is not None
    assert snapshot.existing is not None
    assert snapshot.existing.serial_no == "7"
    assert snapshot.leave_type == VACATION
    sick = await store.snapshot(run_id, "sick", AbsenceSnapshot)
    assert sick is not None
    assert (sick.existing, sick.in_payroll) == (None, False)
    # Messages carry ids only: no leave text, no dates.
    assert "2026-0" not in msgspec.json.encode(queue.tasks[0]).decode()


async def test_codes_narrow_the_run(store: RunStore) -> None:
    queue = Recorder(AbsenceTask)
    run_id = await _expand(store, queue, codes=["03"])
    assert [task.leave_id for task in queue.tasks] == ["sick"]
    assert queue.tasks[0].codes == ["03"]
    run = await store.get_run(run_id)
    assert run is not None
    assert run.codes == ["03"]


async def test_the_integration_setting_chooses_codes_when_the_request_does_not(
    store: RunStore,
) -> None:
    queue = Recorder(AbsenceTask)
    integration = msgspec.structs.replace(INTEGRATION, absences=Absences(codes=["04"]))
    await _expand(store, queue, integration=integration)
    assert {task.leave_id for task in queue.tasks} == {
        "in-june",
        "across-start",
        "pending",
        "cancelled-sent",
    }


async def test_an_override_brings_an_uncoded_type_into_a_narrowed_run(store: RunStore) -> None:
    queue = Recorder(AbsenceTask)
    integration = msgspec.structs.replace(
        INTEGRATION, absences=Absences(codes=["13"], overrides={"sabbatical": "13"})
    )
    await _expand(store, queue, integration=integration)
    assert [task.leave_id for task in queue.tasks] == ["sabbatical"]


async def test_employees_narrow_the_run_and_unknown_ones_are_refused(store: RunStore) -> None:
    queue = Recorder(AbsenceTask)
    await _expand(store, queue, employees=["3"])
    assert [task.leave_id for task in queue.tasks] == ["sick", "sabbatical"]
    with pytest.raises(RequestRefused, match="not found in Simployer One: 404"):
        await _expand(store, Recorder(AbsenceTask), employees=["404"])
    with pytest.raises(RequestRefused, match="scope"):
        await _expand(store, Recorder(AbsenceTask), employees=["9"])


async def test_a_second_request_joins_the_run_in_progress(store: RunStore) -> None:
    first_queue, second_queue = Recorder(AbsenceTask), Recorder(AbsenceTask)
    first = await _expand(store, first_queue)
    second = await _expand(store, second_queue)
    assert second == first
    assert second_queue.tasks == [], "pending leaves are not queued twice"
    run = await store.get_run(first)
    assert run is not None
    assert run.total == 6


@pytest.mark.parametrize(
    ("leave", "exported", "expected"),
    [
        (_leave("x", "1", "2026-06-30", "2026-07-02"), None, True),
        (_leave("x", "1", "2026-07-01", "2026-07-02"), None, False),
        (_leave("x", "1", "2026-05-01", "2026-06-01"), None, True),
        (_leave("x", "1", "2026-05-01", "2026-05-31"), None, False),
        # An end before the start is the worker's to report; the start decides.
        (_leave("x", "1", "2026-06-05", "2026-06-01"), None, True),
        (_leave("x", "1", "2026-06-05", "2026-06-05", status="CANCELLED"), None, False),
        (
            _leave("x", "1", "2026-06-05", "2026-06-05", status="CANCELLED"),
            _absence("x", "1"),
            True,
        ),
        (
            _leave("x", "1", "2026-06-05", "2026-06-05", status="DENIED"),
            _absence("x", "1", approved="2"),
            False,
        ),
        (_leave("x", "1", "2026-06-05", "2026-06-05", status="PENDING"), None, True),
    ],
)
def test_belongs_in_run(
    leave: simployer.Leave, exported: payroll.Absence | None, expected: bool
) -> None:
    assert (
        belongs_in_run(
            leave, period=PERIOD, leave_type=VACATION, overrides={}, codes=(), exported=exported
        )
        is expected
    )


async def test_rows_that_cannot_be_read_get_a_task_that_reads_them_afresh(store: RunStore) -> None:
    """A malformed leave, a leave of an unreadable type, and an unreadable employee's leave are
    each in the run without a snapshot: the worker reads them itself and fails the one record,
    naming the field; the rest of the run is as it would be."""
    hr = FakeHr()
    hr.employee_list = hr.employee_list[1:]  # employee 1's row is the broken one
    hr.unreadable = {
        "employee": [
            Unreadable(
                resource="employee",
                row_id="e1",
                field="bankAccount",
                reason="Simployer One employee e1: field bankAccount is missing or invalid",
                employee_id="e1",
                employee_number="1",
            )
        ],
        "leave": [
            Unreadable(
                resource="leave",
                row_id="broken-leave",
                field="startDate",
                reason="Simployer One leave broken-leave: field startDate is missing or invalid",
                employee_id="e2",
            ),
            # An employee outside the scope: not this run's.
            Unreadable(resource="leave", row_id="x", field="status", reason="", employee_id="e9"),
        ],
        "leave-type": [Unreadable(resource="leave-type", row_id="t-sab", field="name", reason="")],
    }
    queue = Recorder(AbsenceTask)
    run_id = await _expand(store, queue, hr=hr)

    tasks = {task.leave_id: task for task in queue.tasks}
    assert "broken-leave" in tasks
    assert "x" not in tasks
    assert tasks["broken-leave"].employee_number == "2"
    assert "sabbatical" in tasks  # of the unreadable type
    assert {"in-june", "across-start"} <= set(tasks)  # employee 1's leaves: a stand-in
    for leave_id in ("broken-leave", "sabbatical"):
        assert await store.snapshot(run_id, leave_id, AbsenceSnapshot) is None
    assert await store.snapshot(run_id, "in-june", AbsenceSnapshot) is not None


async def test_the_snapshot_holds_the_employees_children(store: RunStore) -> None:
    hr = FakeHr()
    child = simployer.Child(id="k1", employee_id="e3", name="Ola", birthdate="2020-01-01")
    hr.child_list = [child]
    queue = Recorder(AbsenceTask)
    run_id = await _expand(store, queue, hr=hr)
    snapshot = await store.snapshot(run_id, "sick", AbsenceSnapshot)
    assert snapshot is not None
    assert snapshot.children == [child]
    other = await store.snapshot(run_id, "in-june", AbsenceSnapshot)
    assert other is not None
    assert other.children == []
    # A child row of employee 3 that cannot be read: their leaves read children afresh.
    hr.unreadable = {
        "child": [
            Unreadable(resource="child", row_id="k2", field="name", reason="", employee_id="e3")
        ]
    }
    again = await _expand(store, Recorder(AbsenceTask), hr=hr, dry_run=True)
    snapshot = await store.snapshot(again, "sick", AbsenceSnapshot)
    assert snapshot is not None
    assert snapshot.children is None
