"""`sync_employee` and what we wrote (`WrittenPort`): it remembers after writes, and a dry run
tells drift (a field someone changed in 24SevenOffice since our last write) from a change we
make, against in-memory ports (the fake 24SevenOffice of test_sync_employee.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec
import pytest

from payroll_sync.rules.compare import comparable_values
from payroll_sync.rules.employee import map_employee
from payroll_sync.runs.written import digest
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.sync_employee import EMPLOYMENT_PREFIX, sync_employee
from tests.unit.test_sync_employee import (
    BUNDLES,
    NUMBER,
    VALID,
    FakeHr,
    FakeLinks,
    FakePayroll,
    FakePersons,
    _task,
    _with_employee,
)

SALT: Final = b"0123456789abcdef"


class FakeWritten:
    """Digests by empId, in memory, as `runs.written.WrittenValues` keys them."""

    def __init__(self) -> None:
        self.digests_of: dict[int, dict[str, str]] = {}
        self.remembered_calls: list[int] = []

    async def anything(self, emp_id: int) -> bool:
        return bool(self.digests_of.get(emp_id))

    async def remembered(self, emp_id: int) -> Mapping[str, str]:
        return self.digests_of.get(emp_id, {})

    async def digests(self, values: Mapping[str, str]) -> dict[str, str]:
        return {field: digest(SALT, value) for field, value in values.items()}

    async def remember(self, emp_id: int, values: Mapping[str, str]) -> None:
        self.remembered_calls.append(emp_id)
        self.digests_of.setdefault(emp_id, {}).update(await self.digests(values))


class World:
    def __init__(self) -> None:
        self.hr = FakeHr(BUNDLES)
        self.payroll = FakePayroll()
        self.links = FakeLinks()
        self.persons = FakePersons(self.payroll)
        self.written = FakeWritten()

    async def sync(self, number: str = NUMBER, **task: Any) -> SyncResult:
        return await sync_employee(
            _task(number, **task),
            snapshot=None,
            hr=self.hr,
            payroll_api=self.payroll,
            links=self.links,
            persons=self.persons,
            written=self.written,
        )

    def edit_payroll(self, number: str, **fields: Any) -> None:
        """Someone changes the employee in 24SevenOffice."""
        emp_id = int(number)
        stored = self.payroll.store.employees[emp_id]
        self.payroll.store.employees[emp_id] = msgspec.structs.replace(stored, **fields)

    def edit_payroll_employment(self, number: str, **fields: Any) -> None:
        emp_id = int(number)
        (stored,) = self.payroll.store.employments[emp_id]
        self.payroll.store.employments[emp_id] = [msgspec.structs.replace(stored, **fields)]


@pytest.fixture
def world() -> World:
    return World()


def _expected(number: str, salt: bytes = SALT) -> dict[str, str]:
    mapped = map_employee(BUNDLES[number])
    values = comparable_values(mapped.employee) | comparable_values(
        mapped.employment, prefix=EMPLOYMENT_PREFIX
    )
    return {field: digest(salt, value) for field, value in values.items()}


async def test_a_sync_that_creates_remembers_what_payroll_now_holds(world: World) -> None:
    assert (await world.sync()).outcome == "created"
    assert world.written.digests_of[int(NUMBER)] == _expected(NUMBER)


async def test_a_dry_run_remembers_nothing(world: World) -> None:
    result = await world.sync(dry_run=True)
    assert result.outcome == "created"
    assert world.written.digests_of == {}
    assert result.drift == []
    assert result.unknown == []


async def test_an_unchanged_sync_remembers_only_when_nothing_is_remembered(world: World) -> None:
    await world.sync()
    world.written.remembered_calls.clear()
    assert (await world.sync()).outcome == "unchanged"
    assert world.written.remembered_calls == []
    # Digests lost (or written before they were kept): an unchanged sync fills them in.
    del world.written.digests_of[int(NUMBER)]
    assert (await world.sync()).outcome == "unchanged"
    assert world.written.digests_of[int(NUMBER)] == _expected(NUMBER)


async def test_an_update_remembers_the_new_values(world: World) -> None:
    await world.sync()
    world.hr.replace(NUMBER, _with_employee(NUMBER, first_name="Kari-Anne"))
    world.written.remembered_calls.clear()
    result = await world.sync()
    assert result.outcome == "updated"
    assert world.written.remembered_calls == [int(NUMBER)]
    remembered = world.written.digests_of[int(NUMBER)]
    assert remembered["firstname"] == digest(SALT, "Kari-Anne")


async def test_a_dry_run_tells_payroll_edits_from_hr_changes(world: World) -> None:
    first, second = VALID[0], VALID[1]
    await world.sync(first)
    await world.sync(second)
    # Someone edits two fields of the first employee in 24SevenOffice...
    world.edit_payroll(first, firstname="Edited", account="12345678903")
    # ...and HR changes the second's name in Simployer One: a change, not drift.
    world.hr.replace(second, _with_employee(second, last_name="Changed-In-HR"))

    edited = await world.sync(first, dry_run=True)
    assert edited.outcome == "updated"
    assert edited.changed == ["account", "firstname"]
    assert edited.drift == ["account", "firstname"]
    assert edited.unknown == []

    changed = await world.sync(second, dry_run=True)
    assert changed.changed == ["lastname"]
    assert changed.drift == []
    assert changed.unknown == []
    # Dry runs write nothing, to payroll or to what is remembered.
    assert world.payroll.store.employees[int(first)].firstname == "Edited"


async def test_a_payroll_value_only_formatted_otherwise_is_no_drift(world: World) -> None:
    await world.sync()
    stored = world.payroll.store.employees[int(NUMBER)]
    # Same account, spelled with dots; and an HR change of the name, so there is a diff.
    account = stored.account
    spaced = f"{account[:4]}.{account[4:6]}.{account[6:]}" if len(account) == 11 else account
    world.edit_payroll(NUMBER, account=spaced)
    world.hr.replace(NUMBER, _with_employee(NUMBER, first_name="Kari-Anne"))
    result = await world.sync(dry_run=True)
    assert result.changed == ["firstname"]
    assert result.drift == []


async def test_an_employment_field_edited_in_payroll_is_drift(world: World) -> None:
    await world.sync()
    world.edit_payroll_employment(NUMBER, enddate="2031-12-31")
    result = await world.sync(dry_run=True)
    assert "employment.enddate" in result.changed
    assert result.drift == ["employment.enddate"]


async def test_fields_never_written_by_us_are_unknown_not_drift(world: World) -> None:
    await world.sync()
    world.edit_payroll(NUMBER, firstname="Edited")
    world.written.digests_of.clear()
    result = await world.sync(dry_run=True)
    assert result.changed == ["firstname"]
    assert result.drift == []
    assert result.unknown == ["firstname"]


async def test_a_failed_sync_remembers_nothing(world: World) -> None:
    await world.sync()
    world.written.digests_of.clear()
    world.written.remembered_calls.clear()
    world.hr.replace(NUMBER, _with_employee(NUMBER, first_name="Kari-Anne"))
    world.payroll.refuse.add("update_employee")
    result = await world.sync()
    assert result.outcome == "failed"
    assert world.written.remembered_calls == []
