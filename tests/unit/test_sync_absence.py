"""One leave through `sync_absence`, against the simulator's 24SevenOffice store (no HTTP)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import msgspec
import pytest

from payroll_sync.errors import Retryable
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import AbsenceTask
from payroll_sync.schemas.payroll import AbsenceWrite, ChildWrite, EmployeeWrite
from payroll_sync.schemas.snapshots import AbsenceSnapshot
from payroll_sync.simulators import payroll_store
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.sync_absence import DRY_RUN_CHILD, AbsenceRules, sync_absence

NUMBER: Final = "1042"
EMPLOYEE_ID: Final = "emp-1"
WRITES: Final = ("create_absence", "update_absence", "create_child")

TYPES: Final = {
    "t-vacation": simployer.LeaveType(id="t-vacation", name="Vacation"),
    "t-sick": simployer.LeaveType(id="t-sick", name="Sick leave (medical certificate)"),
    "t-child": simployer.LeaveType(id="t-child", name="Care of sick child"),
    "t-palliative": simployer.LeaveType(id="t-palliative", name="Palliative care benefit"),
    "t-sabbatical": simployer.LeaveType(id="t-sabbatical", name="Sabbatical"),
}
CHILD: Final = simployer.Child(
    id="c-1", employee_id=EMPLOYEE_ID, name="Ada Nordmann", birthdate="2019-04-02T00:00:00.000Z"
)


def _leave(leave_id: str = "leave-1", **fields: Any) -> simployer.Leave:
    values: dict[str, Any] = {
        "id": leave_id,
        "employee_id": EMPLOYEE_ID,
        "type_id": "t-vacation",
        "status": "APPROVED",
        "start_date": "2026-07-06T00:00:00.000Z",
        "end_date": "2026-07-17T00:00:00.000Z",
        "description": "Sommerferie",
    }
    values.update(fields)
    return simployer.Leave(**values)


class FakeHr:
    def __init__(self) -> None:
        self.leaves: dict[str, simployer.Leave] = {}
        self.children = {CHILD.id: CHILD}
        self.reads: list[str] = []

    async def leave(self, leave_id: str) -> simployer.Leave | None:
        self.reads.append("leave")
        return self.leaves.get(leave_id)

    async def leave_type(self, type_id: str) -> simployer.LeaveTypeWithCode | None:
        self.reads.append("leave_type")
        found = TYPES.get(type_id)
        return None if found is None else simployer.LeaveTypeWithCode(type=found)

    async def children_of(self, employee_id: str) -> list[simployer.Child]:
        self.reads.append("children")
        return [child for child in self.children.values() if child.employee_id == employee_id]


class FakePayroll:
    """The simulator's store behind the worker's port; `lose` loses one answer of a call."""

    def __init__(self) -> None:
        self.store = payroll_store.PayrollStore()
        self.store.create_employee(EmployeeWrite(emp_id=NUMBER, firstname="Kari", lastname="N"))
        self.calls: list[tuple[str, Any]] = []
        self.lose: set[str] = set()
        self.rename_created_children = False

    def _lost(self, name: str) -> None:
        if name in self.lose:
            self.lose.discard(name)
            raise Retryable(f"24SevenOffice: {name} timed out")

    async def list_absences(self, emp_id: int) -> list[payroll.Absence] | None:
        self.calls.append(("list_absences", emp_id))
        if emp_id not in self.store.employees:
            return None
        return self.store.list_absences(emp_id, None, None, None)

    async def create_absence(self, body: AbsenceWrite) -> None:
        assert body.serial_no is None
        self.calls.append(("create_absence", body))
        self.store.post_absence(body)
        self._lost("create_absence")

    async def update_absence(self, changes: AbsenceWrite) -> None:
        # The real client overlays `changes` on the whole absence; merging them is the same.
        assert changes.serial_no is not None
        self.calls.append(("update_absence", changes))
        self.store.post_absence(changes)
        self._lost("update_absence")

    async def list_children(self, emp_id: int) -> list[payroll.Child]:
        self.calls.append(("list_children", emp_id))
        await asyncio.sleep(0)  # let a concurrent task interleave, as over HTTP
        return list(self.store.children_of(emp_id))

    async def create_child(self, body: ChildWrite) -> None:
        self.calls.append(("create_child", body))
        await asyncio.sleep(0)
        stored = self.store.post_child(body)
        if self.rename_created_children:  # payroll stores another spelling than we sent
            stored.firstname = "X" + stored.firstname

    def writes(self) -> list[tuple[str, Any]]:
        return [call for call in self.calls if call[0] in WRITES]

    def absences(self) -> list[payroll.Absence]:
        return list(self.store.absences.values())


class World:
    def __init__(self) -> None:
        self.hr = FakeHr()
        self.payroll = FakePayroll()
        self.lock = asyncio.Lock()
        self.locked = 0

    @asynccontextmanager
    async def child_lock(self, emp_id: int) -> AsyncIterator[None]:
        async with self.lock:
            self.locked += 1
            yield

    def rules(self, codes: tuple[str, ...] = (), **overrides: str) -> AbsenceRules:
        return AbsenceRules(
            overrides=dict(overrides),
            codes=codes,
            absence_types=dict(self.payroll.store.absence_types),
        )

    async def sync(
        self,
        leave: simployer.Leave,
        *,
        fresh: bool = False,
        rules: AbsenceRules | None = None,
        existing: payroll.Absence | None = None,
        in_payroll: bool = True,
        **task: Any,
    ) -> SyncResult:
        """Sync with a snapshot taken now (as the producer would), or read afresh."""
        self.hr.leaves[leave.id] = leave
        leave_type = TYPES.get(leave.type_id)
        snapshot = AbsenceSnapshot(
            leave=leave,
            leave_type=None if leave_type is None else simployer.LeaveTypeWithCode(type=leave_type),
            children=[c for c in self.hr.children.values() if c.employee_id == leave.employee_id],
            existing=existing if existing is not None else self.exported(leave.id),
            in_payroll=in_payroll,
        )
        return await sync_absence(
            _task(leave.id, refetch=fresh, **task),
            snapshot=snapshot,
            rules=rules or self.rules(),
            hr=self.hr,
            payroll_api=self.payroll,
            child_lock=self.child_lock,
        )

    def exported(self, leave_id: str) -> payroll.Absence | None:
        return next((row for row in self.payroll.absences() if row.external_id == leave_id), None)


def _task(leave_id: str, **fields: Any) -> AbsenceTask:
    fields.setdefault("employee_number", NUMBER)
    return AbsenceTask(
        run_id="run-1",
        integration="acme",
        employee_id=EMPLOYEE_ID,
        leave_id=leave_id,
        **fields,
    )


@pytest.fixture
def world() -> World:
    return World()


async def test_an_approved_leave_is_created_with_its_fields(world: World) -> None:
    result = await world.sync(_leave())

    assert result.outcome == "created"
    ((name, body),) = world.payroll.writes()
    assert name == "create_absence"
    assert body.serial_no is None
    stored = world.exported("leave-1")
    assert stored is not None
    assert (stored.absence_type, stored.start_date[:10], stored.end_date[:10]) == (
        "04",
        "2026-07-06",
        "2026-07-17",
    )
    assert stored.number_of_days == "10"  # two working weeks, no holidays
    by_field = {change.field: change for change in result.diff}
    assert by_field["numberOfDays"].new == "10"
    assert all(change.old == "" for change in result.diff)
    assert "externalId" not in by_field
    assert "empId" not in by_field


async def test_an_unchanged_leave_writes_nothing(world: World) -> None:
    await world.sync(_leave())
    world.payroll.calls.clear()

    result = await world.sync(_leave())

    assert result == SyncResult(outcome="unchanged")
    assert world.payroll.writes() == []


async def test_moved_dates_update_the_same_absence(world: World) -> None:
    await world.sync(_leave())
    before = world.exported("leave-1")
    assert before is not None
    world.payroll.calls.clear()

    result = await world.sync(_leave(end_date="2026-07-20T00:00:00.000Z"))

    assert result.outcome == "updated"
    assert set(result.changed) == {"endDate", "numberOfDays"}
    ((name, body),) = world.payroll.writes()
    assert (name, body.serial_no) == ("update_absence", before.serial_no)
    assert len(world.payroll.absences()) == 1
    after = world.exported("leave-1")
    assert after is not None
    assert (after.end_date[:10], after.number_of_days) == ("2026-07-20", "11")


async def test_a_pending_leave_is_skipped(world: World) -> None:
    result = await world.sync(_leave(status="PENDING"))
    assert (result.outcome, result.reason) == ("skipped", "awaiting approval in Simployer One")
    assert world.payroll.writes() == []


@pytest.mark.parametrize("status", ["CANCELLED", "DENIED"])
async def test_a_cancelled_exported_leave_is_rejected_once(world: World, status: str) -> None:
    await world.sync(_leave())
    world.payroll.calls.clear()

    result = await world.sync(_leave(status=status))

    assert result.outcome == "withdrawn"
    stored = world.exported("leave-1")
    assert stored is not None
    assert stored.approved == "2"
    assert stored.absence_type == "04", "the rest of the absence stays as it was"
    ((name, body),) = world.payroll.writes()
    # Only the keys and the rejection: the client sends them over the whole absence as read.
    assert name == "update_absence"
    assert msgspec.to_builtins(body) == {
        "empId": NUMBER,
        "serialNo": stored.serial_no,
        "approved": "2",
    }
    again = await world.sync(_leave(status=status))
    assert again.outcome == "unchanged"
    assert len(world.payroll.writes()) == 1


async def test_a_cancelled_leave_never_exported_is_skipped(world: World) -> None:
    result = await world.sync(_leave(status="CANCELLED"))
    assert result.outcome == "skipped"
    assert world.payroll.writes() == []


async def test_a_leave_type_without_a_code_is_reported_not_guessed(world: World) -> None:
    result = await world.sync(_leave(type_id="t-sabbatical"))
    assert result.outcome == "skipped"
    assert result.reason == "no 24SevenOffice code for leave type Sabbatical"
    assert world.payroll.writes() == []


async def test_an_override_gives_a_type_its_code(world: World) -> None:
    result = await world.sync(_leave(type_id="t-sabbatical"), rules=world.rules(Sabbatical="13"))
    assert result.outcome == "created"
    stored = world.exported("leave-1")
    assert stored is not None
    assert stored.absence_type == "13"


async def test_a_code_the_run_does_not_export_is_skipped(world: World) -> None:
    result = await world.sync(_leave(), rules=world.rules(codes=("01",)))
    assert result.outcome == "skipped"
    assert "04" in result.reason
    assert world.payroll.writes() == []


async def test_a_code_the_company_lacks_fails_naming_it(world: World) -> None:
    del world.payroll.store.absence_types["14"]
    result = await world.sync(_leave(type_id="t-palliative"))
    assert (result.outcome, result.reason) == (
        "failed",
        "absence type 14 is not set up in 24SevenOffice",
    )


@pytest.mark.parametrize("number", ["A-17", "0017"])
async def test_a_non_numeric_employee_number_fails(world: World, number: str) -> None:
    result = await world.sync(_leave(), employee_number=number)
    assert (result.outcome, result.field) == ("failed", "employeeNumber")
    assert result.reason.startswith("employeeNumber must")
    assert world.payroll.calls == []


@pytest.mark.parametrize("fresh", [False, True], ids=["snapshot", "refetch"])
async def test_an_employee_missing_in_payroll_fails_with_what_to_do(
    world: World, fresh: bool
) -> None:
    result = await world.sync(_leave(), fresh=fresh, in_payroll=False, employee_number="77")
    assert result.outcome == "failed"
    assert result.reason == "the employee is not in 24SevenOffice yet; sync employees first"


async def test_a_refetch_reads_both_systems_and_a_deleted_leave_is_skipped(world: World) -> None:
    await world.sync(_leave())
    world.hr.leaves.clear()
    task = _task("leave-1", refetch=True)
    result = await sync_absence(
        task,
        snapshot=None,
        rules=world.rules(),
        hr=world.hr,
        payroll_api=world.payroll,
        child_lock=world.child_lock,
    )
    assert result.outcome == "skipped"
    assert "no longer exists" in result.reason


async def test_a_lost_answer_is_retried_without_a_second_absence(world: World) -> None:
    world.payroll.lose.add("create_absence")
    with pytest.raises(Retryable):
        await world.sync(_leave(), new_in_payroll=True)

    # The retry reads afresh and finds the absence the first attempt wrote.
    result = await world.sync(_leave(), fresh=True, new_in_payroll=True, attempt=2)

    assert result.outcome == "created"
    assert len(world.payroll.absences()) == 1
    assert [name for name, _ in world.payroll.writes()] == ["create_absence"]


async def test_a_dry_run_writes_nothing(world: World) -> None:
    result = await world.sync(_leave(type_id="t-child", child_id=CHILD.id), dry_run=True)
    assert (result.outcome, result.reason) == ("created", "dry run")
    assert {change.field: change.new for change in result.diff}["childId"] == DRY_RUN_CHILD
    assert world.payroll.writes() == []


# ------------------------------------------------------------------ children


async def test_a_sick_child_leave_finds_or_creates_the_child_once(world: World) -> None:
    first = _leave("leave-1", type_id="t-child", child_id=CHILD.id)
    second = _leave(
        "leave-2",
        type_id="t-child",
        child_id=CHILD.id,
        start_date="2026-09-01T00:00:00.000Z",
        end_date="2026-09-01T00:00:00.000Z",
    )

    results = await asyncio.gather(world.sync(first), world.sync(second))

    assert [result.outcome for result in results] == ["created", "created"]
    children = world.payroll.store.children_of(int(NUMBER))
    assert [(child.firstname, child.birthdate) for child in children] == [("Ada", "2019-04-02")]
    ids = {row.child_id for row in world.payroll.absences()}
    assert ids == {children[0].child_id}
    assert Counter(name for name, _ in world.payroll.writes())["create_child"] == 1
    assert world.locked == 2


async def test_an_existing_child_is_used(world: World) -> None:
    world.payroll.store.post_child(
        ChildWrite(emp_id=NUMBER, firstname="ada", lastname="Other", birthdate="2019-04-02")
    )
    await world.sync(_leave(type_id="t-child", child_id=CHILD.id))
    assert [name for name, _ in world.payroll.writes()] == ["create_absence"]


async def test_a_new_childs_id_is_read_back_after_creating_it(world: World) -> None:
    await world.sync(_leave(type_id="t-child", child_id=CHILD.id))
    names = [name for name, _ in world.payroll.calls]
    assert names == ["list_children", "create_child", "list_children", "create_absence"]
    (child,) = world.payroll.store.children_of(int(NUMBER))
    assert world.payroll.absences()[0].child_id == child.child_id


async def test_a_created_child_not_found_again_fails_without_a_second_one(world: World) -> None:
    world.payroll.rename_created_children = True
    result = await world.sync(_leave(type_id="t-child", child_id=CHILD.id))
    assert (result.outcome, result.field) == ("failed", "childId")
    assert "not found again" in result.reason
    assert [name for name, _ in world.payroll.writes()] == ["create_child"]


async def test_a_sick_child_leave_is_for_the_only_child(world: World) -> None:
    """The published leave names no child: the employee's only child is the one."""
    result = await world.sync(_leave(type_id="t-child"))
    assert (result.outcome, result.reason) == ("created", "")
    (child,) = world.payroll.store.children_of(int(NUMBER))
    assert [row.child_id for row in world.payroll.absences()] == [child.child_id]


@pytest.mark.parametrize("fresh", [False, True])
async def test_without_a_single_child_nothing_is_guessed(world: World, fresh: bool) -> None:
    """The published leave names no child and the employee has two: a new absence cannot be
    written (24SevenOffice makes childId mandatory for sick child), so the record fails with
    SPEC's note; an absence that already has a child (picked in payroll) keeps it."""
    twin = simployer.Child(
        id="c-2", employee_id=EMPLOYEE_ID, name="Bo Nordmann", birthdate="2019-04-02"
    )
    world.hr.children[twin.id] = twin
    leave = _leave(type_id="t-child")
    result = await world.sync(leave, fresh=fresh)
    assert (result.outcome, result.field) == ("failed", "childId")
    assert result.reason.startswith("child not set: 2 children in Simployer One")
    assert world.payroll.writes() == []
    assert ("children" in world.hr.reads) is fresh

    del world.hr.children[twin.id]
    assert (await world.sync(leave, fresh=fresh)).outcome == "created"
    world.hr.children[twin.id] = twin
    edited = msgspec.structs.replace(leave, description="Omgangssyke")
    again = await world.sync(edited, fresh=fresh)
    assert (again.outcome, again.changed) == ("updated", ["comment"])
    (absence,) = world.payroll.absences()
    assert absence.child_id == world.payroll.store.children_of(int(NUMBER))[0].child_id


def test_the_diff_of_a_created_absence_never_lists_empty_fields() -> None:
    # A vacation sends childId "" to clear it; that is not a change worth showing.
    world = World()
    result = asyncio.run(world.sync(_leave()))
    assert "childId" not in {change.field for change in result.diff}
    assert msgspec.json.encode(result.diff)
