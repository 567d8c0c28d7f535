"""`sync_employee` against in-memory ports: which writes it makes and which outcome it reports.

The fake 24SevenOffice keeps its state in the simulator's `PayrollStore`, so stored values are
the API's strings and its write rules (409 on a second create, employment ids) apply.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any, Final

import msgspec
import pytest

from payroll_sync.errors import Conflict, Permanent, Retryable
from payroll_sync.rules.compare import employee_changes, employment_changes
from payroll_sync.rules.employee import map_employee
from payroll_sync.rules.identity import person_index
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import EmployeeTask
from payroll_sync.schemas.outcomes import FieldChange
from payroll_sync.schemas.payroll import EmployeeWrite, EmploymentWrite
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from payroll_sync.simulators import payroll_store
from payroll_sync.simulators.generator import generate_company
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.sync_employee import EMPLOYMENT_PREFIX, sync_employee
from tests.support.bundles import bundles_by_number

TODAY: Final = datetime.date(2025, 6, 2)
COMPANY: Final = generate_company(30, seed=1, today=TODAY)
WRITES: Final = ("create_employee", "update_employee", "create_employment", "update_employment")
OTHER_SSN: Final = "15108695088"


BUNDLES: Final = bundles_by_number(COMPANY.dataset)
VALID: Final = [n for n, b in BUNDLES.items() if n not in COMPANY.broken and b.employee.active]
NUMBER: Final = VALID[0]
BROKEN_NUMBER: Final = {kind: number for number, kind in COMPANY.broken.items()}


# ------------------------------------------------------------------ fake ports


class FakeHr:
    def __init__(self, bundles: dict[str, simployer.EmployeeBundle]) -> None:
        self.bundles = {bundle.employee.id: bundle for bundle in bundles.values()}
        self.reads = 0

    async def employee_bundle(self, employee_id: str) -> simployer.EmployeeBundle | None:
        self.reads += 1
        return self.bundles.get(employee_id)

    def replace(self, number: str, bundle: simployer.EmployeeBundle) -> None:
        self.bundles[BUNDLES[number].employee.id] = bundle


class FakePayroll:
    """24SevenOffice in memory. `conflict_on_create` answers 409 whatever is stored; `lose`
    names calls whose write is applied but whose answer is lost (a Retryable, once each)."""

    def __init__(self, store: payroll_store.PayrollStore | None = None) -> None:
        self.store = store or payroll_store.PayrollStore()
        self.calls: list[tuple[str, Any]] = []
        self.conflict_on_create = False
        self.lose: set[str] = set()
        # Calls answered with a 400 (a Permanent naming the field).
        self.refuse: set[str] = set()

    def _answer_lost(self, name: str) -> None:
        if name in self.lose:
            self.lose.discard(name)
            raise Retryable(f"24SevenOffice: {name} timed out")

    async def get_employee(self, emp_id: int) -> payroll.Employee | None:
        self.calls.append(("get_employee", emp_id))
        return self.store.employees.get(emp_id)

    async def create_employee(self, body: EmployeeWrite) -> None:
        self.calls.append(("create_employee", body))
        if self.conflict_on_create:
            raise Conflict("24SevenOffice refused creating the employee: it already exists")
        try:
            created = self.store.create_employee(body)
        except payroll_store.Conflict:
            raise Conflict(
                "24SevenOffice refused creating the employee: it already exists"
            ) from None
        assert created.emp_id == str(body.emp_id)
        self._answer_lost("create_employee")

    async def update_employee(self, emp_id: int, changes: EmployeeWrite) -> None:
        # The real client overlays `changes` on the whole record; merging them is the same.
        self.calls.append(("update_employee", changes))
        if "update_employee" in self.refuse:
            raise Permanent("24SevenOffice refused the employee: salary is invalid", field="salary")
        self.store.update_employee(emp_id, changes)
        self._answer_lost("update_employee")

    async def list_employments(self, emp_id: int) -> list[payroll.Employment]:
        self.calls.append(("list_employments", emp_id))
        return list(self.store.employments_of(emp_id))

    async def create_employment(self, emp_id: int, item: EmploymentWrite) -> None:
        assert item.employment_id is None, "the API picks the id"
        self.calls.append(("create_employment", item))
        self.store.upsert_employments(emp_id, [item])
        self._answer_lost("create_employment")

    async def update_employment(self, emp_id: int, changes: EmploymentWrite) -> None:
        self.calls.append(("update_employment", changes))
        assert changes.employment_id in {e.employment_id for e in self.store.employments[emp_id]}
        self.store.upsert_employments(emp_id, [changes])
        self._answer_lost("update_employment")

    def writes(self) -> list[tuple[str, Any]]:
        return [call for call in self.calls if call[0] in WRITES]

    def counts(self) -> Counter[str]:
        return Counter(name for name, _ in self.calls)


class FakeLinks:
    def __init__(self) -> None:
        self.links: dict[int, str] = {}
        self.sets: list[tuple[int, str]] = []

    async def get(self, emp_id: int) -> str | None:
        return self.links.get(emp_id)

    async def set(self, emp_id: int, employment_id: str) -> None:
        self.sets.append((emp_id, employment_id))
        self.links[emp_id] = employment_id


class FakePersons:
    """The person index as worker/persons.py keeps it, built from the fake 24SevenOffice when a
    record needs one fresher than what it holds (`stale` keeps it from seeing later changes)."""

    def __init__(self, payroll_api: FakePayroll) -> None:
        self.payroll = payroll_api
        self.index: dict[str, int] | None = None
        self.builds = 0
        self.added: list[tuple[str, int]] = []

    async def holder(self, person: str, *, fresh_since: float) -> int | None:
        if self.index is None:
            self.builds += 1
            self.index = person_index(self.payroll.store.employees.values())
        return self.index.get(person)

    async def add(self, person: str, emp_id: int) -> None:
        self.added.append((person, emp_id))
        if self.index is not None:
            self.index[person] = emp_id

    async def forget(self, person: str, emp_id: int) -> None:
        if self.index is not None and self.index.get(person) == emp_id:
            del self.index[person]


class World:
    def __init__(self) -> None:
        self.hr = FakeHr(BUNDLES)
        self.payroll = FakePayroll()
        self.links = FakeLinks()
        self.persons = FakePersons(self.payroll)
        # The last result's diff; `sync` returns results without it, so the outcome tests
        # compare outcomes, and the diff tests look here.
        self.diff: list[FieldChange] = []

    async def sync(
        self, number: str = NUMBER, *, snapshot: EmployeeSnapshot | None = None, **task: Any
    ) -> SyncResult:
        result = await sync_employee(
            _task(number, **task),
            snapshot=snapshot,
            hr=self.hr,
            payroll_api=self.payroll,
            links=self.links,
            persons=self.persons,
        )
        self.diff = result.diff
        return msgspec.structs.replace(result, diff=[])

    async def synced(self, number: str = NUMBER) -> None:
        """The employee as a first sync leaves it; the call log starts afresh."""
        result = await self.sync(number, new_in_payroll=True)
        assert result.outcome == "created"
        self.payroll.calls.clear()
        self.links.sets.clear()


@pytest.fixture
def world() -> World:
    return World()


def _task(number: str, **fields: Any) -> EmployeeTask:
    return EmployeeTask(
        run_id="run-1",
        integration="acme",
        employee_number=number,
        employee_id=BUNDLES[number].employee.id,
        first_attempt_at=1.0,
        **fields,
    )


def _emp_id(number: str = NUMBER) -> int:
    return int(number)


def _all_fields(number: str = NUMBER) -> list[str]:
    mapped = map_employee(BUNDLES[number])
    employee = sorted(msgspec.to_builtins(mapped.employee))
    employment = sorted(msgspec.to_builtins(mapped.employment))
    return employee + [EMPLOYMENT_PREFIX + name for name in employment]


def _assert_payroll_holds_the_mapped_values(world: World, number: str = NUMBER) -> None:
    mapped = map_employee(BUNDLES[number])
    stored = world.payroll.store.employees[_emp_id(number)]
    assert employee_changes(mapped.employee, stored) == []
    (employment,) = world.payroll.store.employments[_emp_id(number)]
    assert employment_changes(mapped.employment, employment) == []
    assert world.links.links[_emp_id(number)] == employment.employment_id


def _with_employee(number: str, **fields: Any) -> simployer.EmployeeBundle:
    bundle = BUNDLES[number]
    return msgspec.structs.replace(
        bundle, employee=msgspec.structs.replace(bundle.employee, **fields)
    )


def _with_employment(number: str, **fields: Any) -> simployer.EmployeeBundle:
    bundle = BUNDLES[number]
    assert bundle.employment is not None
    return msgspec.structs.replace(
        bundle, employment=msgspec.structs.replace(bundle.employment, **fields)
    )


def _set_names(body: msgspec.Struct) -> set[str]:
    return set(msgspec.to_builtins(body))


def test_the_generated_company_has_what_these_tests_need() -> None:
    assert len(VALID) >= 10
    assert {"missing_first_name", "ssn_checksum"} <= set(BROKEN_NUMBER)


# ------------------------------------------------------------------ created / unchanged / updated


async def test_created_writes_employee_and_employment_and_links_them(world: World) -> None:
    result = await world.sync(new_in_payroll=True)

    assert result == SyncResult(outcome="created", changed=_all_fields())
    assert [name for name, _ in world.payroll.writes()] == ["create_employee", "create_employment"]
    # A brand-new employee has no employments: read only once, to learn the new one's id.
    assert world.payroll.counts()["list_employments"] == 1
    _assert_payroll_holds_the_mapped_values(world)
    assert len(world.links.sets) == 1


async def test_created_from_the_bulk_snapshot_reads_neither_system(world: World) -> None:
    snapshot = EmployeeSnapshot(bundle=BUNDLES[NUMBER], payroll=None, payroll_known=True)
    result = await world.sync(snapshot=snapshot, new_in_payroll=True)
    assert result.outcome == "created"
    assert world.hr.reads == 0
    assert world.payroll.counts()["get_employee"] == 0
    _assert_payroll_holds_the_mapped_values(world)


async def test_a_snapshot_without_payroll_knowledge_reads_payroll(world: World) -> None:
    snapshot = EmployeeSnapshot(bundle=BUNDLES[NUMBER], payroll=None, payroll_known=False)
    await world.synced()
    result = await world.sync(snapshot=snapshot)
    assert result.outcome == "unchanged"
    assert world.hr.reads == 1  # only the first sync read Simployer One
    assert world.payroll.counts()["get_employee"] == 1


@pytest.mark.parametrize("refetch", [False, True])
async def test_unchanged_writes_nothing(world: World, refetch: bool) -> None:
    await world.synced()
    current = world.payroll.store.employees[_emp_id()]
    snapshot = EmployeeSnapshot(bundle=BUNDLES[NUMBER], payroll=current)

    result = await world.sync(snapshot=snapshot, refetch=refetch)

    assert result == SyncResult(outcome="unchanged")
    assert world.payroll.writes() == []
    assert world.links.sets == []


async def test_updated_writes_only_the_changed_employee_fields(world: World) -> None:
    await world.synced()
    world.hr.replace(NUMBER, _with_employee(NUMBER, last_name="Ny-Etternavn"))

    result = await world.sync()

    assert result == SyncResult(outcome="updated", changed=["lastname"])
    old = _mapped_lastname(NUMBER)
    assert world.diff == [FieldChange(field="lastname", old=old, new="Ny-Etternavn")]
    ((name, body),) = world.payroll.writes()
    assert name == "update_employee"
    assert msgspec.to_builtins(body) == {"lastname": "Ny-Etternavn"}
    assert world.payroll.store.employees[_emp_id()].lastname == "Ny-Etternavn"


def _mapped_lastname(number: str) -> str:
    return map_employee(BUNDLES[number]).employee.lastname or ""


async def test_a_refused_update_keeps_what_we_tried_to_write(world: World) -> None:
    await world.synced()
    world.hr.replace(NUMBER, _with_employee(NUMBER, last_name="Ny-Etternavn"))
    world.payroll.refuse.add("update_employee")

    result = await world.sync()

    assert (result.outcome, result.field) == ("failed", "salary")
    old = _mapped_lastname(NUMBER)
    assert world.diff == [FieldChange(field="lastname", old=old, new="Ny-Etternavn")]


async def test_a_created_employee_shows_every_field_it_got(world: World) -> None:
    await world.sync(new_in_payroll=True)
    fields = [change.field for change in world.diff]
    assert fields == _all_fields()
    assert all(change.old == "" for change in world.diff)
    by_name = {change.field: change.new for change in world.diff}
    assert by_name["lastname"] == _mapped_lastname(NUMBER)


async def test_updated_employment_writes_only_its_changed_fields(world: World) -> None:
    await world.synced()
    (employment,) = world.payroll.store.employments[_emp_id()]
    bundle = BUNDLES[NUMBER]
    assert bundle.employment is not None
    new_rate = 50.0 if bundle.employment.rate != 50.0 else 60.0
    world.hr.replace(NUMBER, _with_employment(NUMBER, rate=new_rate))

    result = await world.sync()

    assert result == SyncResult(outcome="updated", changed=["employment.employment_rate"])
    ((name, item),) = world.payroll.writes()
    assert name == "update_employment"
    assert msgspec.to_builtins(item) == {
        "employment_id": employment.employment_id,
        "employment_rate": f"{new_rate:.2f}",
    }
    (stored,) = world.payroll.store.employments[_emp_id()]
    assert stored.employment_rate == f"{new_rate:.2f}"


# ------------------------------------------------------------------ 409 and identity


async def test_a_409_on_create_reads_and_updates_instead_of_duplicating(world: World) -> None:
    await world.synced()
    world.hr.replace(NUMBER, _with_employee(NUMBER, last_name="Etter409"))
    # The snapshot (taken before the first sync's write landed) says it is not there.
    snapshot = EmployeeSnapshot(bundle=world.hr.bundles[BUNDLES[NUMBER].employee.id], payroll=None)

    result = await world.sync(snapshot=snapshot)

    assert result == SyncResult(outcome="updated", changed=["lastname"])
    assert [name for name, _ in world.payroll.writes()] == ["create_employee", "update_employee"]
    assert _set_names(world.payroll.writes()[1][1]) == {"lastname"}
    assert list(world.payroll.store.employees) == [_emp_id()]
    assert len(world.payroll.store.employments[_emp_id()]) == 1


async def test_a_409_for_an_employee_payroll_cannot_show_is_retried(world: World) -> None:
    world.payroll.conflict_on_create = True
    with pytest.raises(Retryable, match="409"):
        await world.sync()
    assert world.payroll.store.employees == {}


def _held_by_someone_else(world: World) -> None:
    world.payroll.store.create_employee(
        EmployeeWrite(
            emp_id=str(_emp_id()), firstname="Other", lastname="Person", personnr=OTHER_SSN
        )
    )


@pytest.mark.parametrize("via_conflict", [False, True], ids=["found-by-read", "found-by-409"])
async def test_identity_conflict_fails_and_writes_nothing(world: World, via_conflict: bool) -> None:
    _held_by_someone_else(world)
    snapshot = EmployeeSnapshot(bundle=BUNDLES[NUMBER], payroll=None) if via_conflict else None

    result = await world.sync(snapshot=snapshot, new_in_payroll=via_conflict)

    assert result.outcome == "failed"
    assert result.reason.startswith("identity conflict")
    assert result.field == "employeeNumber"
    assert OTHER_SSN not in result.reason
    creates = [name for name, _ in world.payroll.writes()]
    assert creates == (["create_employee"] if via_conflict else [])
    assert world.payroll.store.employees[_emp_id()].personnr == OTHER_SSN
    assert world.payroll.store.employments[_emp_id()] == []
    assert world.links.sets == []


# ------------------------------------------------------------------ which employment


def _employee_without_employments(world: World) -> None:
    world.payroll.store.create_employee(map_employee(BUNDLES[NUMBER]).employee)


def _target() -> EmploymentWrite:
    return map_employee(BUNDLES[NUMBER]).employment


async def test_employment_matched_by_its_link(world: World) -> None:
    _employee_without_employments(world)
    world.payroll.store.upsert_employments(
        _emp_id(),
        [
            msgspec.structs.replace(_target(), startdate="2001-01-01"),
            msgspec.structs.replace(_target(), startdate="2002-02-02"),
        ],
    )
    linked = world.payroll.store.employments[_emp_id()][1].employment_id
    world.links.links[_emp_id()] = linked

    result = await world.sync()

    assert result == SyncResult(outcome="updated", changed=["employment.startdate"])
    ((name, item),) = world.payroll.writes()
    assert (name, item.employment_id, item.startdate) == (
        "update_employment",
        linked,
        _target().startdate,
    )
    assert world.links.sets == []  # already linked
    assert world.payroll.store.employments[_emp_id()][0].startdate == "2001-01-01"


async def test_employment_matched_by_start_date_and_then_linked(world: World) -> None:
    _employee_without_employments(world)
    world.payroll.store.upsert_employments(
        _emp_id(),
        [
            msgspec.structs.replace(_target(), startdate="2001-01-01"),
            msgspec.structs.replace(_target(), employment_rate="12.50"),
        ],
    )
    same_start = world.payroll.store.employments[_emp_id()][1]

    result = await world.sync()

    assert result == SyncResult(outcome="updated", changed=["employment.employment_rate"])
    ((name, item),) = world.payroll.writes()
    assert (name, item.employment_id) == ("update_employment", same_start.employment_id)
    assert len(world.payroll.store.employments[_emp_id()]) == 2
    assert world.links.sets == [(_emp_id(), same_start.employment_id)]


async def test_a_link_to_a_vanished_employment_falls_back_to_the_start_date(world: World) -> None:
    await world.synced()
    (employment,) = world.payroll.store.employments[_emp_id()]
    world.links.links[_emp_id()] = "gone-1"
    result = await world.sync()
    assert result == SyncResult(outcome="unchanged")
    assert world.payroll.writes() == []
    assert world.links.sets == [(_emp_id(), employment.employment_id)]


async def test_employment_created_when_nothing_matches(world: World) -> None:
    _employee_without_employments(world)
    ended = msgspec.structs.replace(
        _target(),
        startdate="2001-01-01",
        enddate="2001-12-31",
        enddate_reason="arbeidstakerHarSagtOppSelv",
    )
    world.payroll.store.upsert_employments(_emp_id(), [ended])

    result = await world.sync()

    employment_fields = [EMPLOYMENT_PREFIX + name for name in sorted(_set_names(_target()))]
    assert result == SyncResult(outcome="updated", changed=employment_fields)
    employments = world.payroll.store.employments[_emp_id()]
    assert [e.startdate for e in employments] == ["2001-01-01", _target().startdate]
    assert world.links.sets == [(_emp_id(), employments[1].employment_id)]


async def test_a_lost_link_and_a_new_start_date_update_the_open_employment(world: World) -> None:
    """Issue 13: with the link forgotten, a changed start date created a second open
    employment; the one open employment is the one we wrote."""
    await world.synced()
    (employment,) = world.payroll.store.employments[_emp_id()]
    world.links.links.clear()
    world.hr.replace(NUMBER, _with_employment(NUMBER, start_date="2019-03-01T00:00:00.000Z"))

    result = await world.sync(refetch=True)

    assert result == SyncResult(outcome="updated", changed=["employment.startdate"])
    (after,) = world.payroll.store.employments[_emp_id()]
    assert (after.employment_id, after.startdate) == (employment.employment_id, "2019-03-01")
    assert world.links.links[_emp_id()] == employment.employment_id


async def test_two_open_employments_none_matching_fail_without_a_third(world: World) -> None:
    _employee_without_employments(world)
    world.payroll.store.upsert_employments(
        _emp_id(),
        [
            msgspec.structs.replace(_target(), startdate="2001-01-01"),
            msgspec.structs.replace(_target(), startdate="2002-02-02"),
        ],
    )

    result = await world.sync()

    assert (result.outcome, result.field) == ("failed", "employment.startDate")
    assert "2 open employments" in result.reason
    assert [name for name, _ in world.payroll.writes()] == []
    assert len(world.payroll.store.employments[_emp_id()]) == 2


# ------------------------------------------------------------------ one person, two numbers


RENUMBERED: Final = "99999"


def _renumbered(number: str = NUMBER, to: str = RENUMBERED) -> simployer.EmployeeBundle:
    return _with_employee(number, employee_number=to)


@pytest.mark.parametrize("dry_run", [False, True])
async def test_a_renumbered_employee_is_not_created_twice(world: World, dry_run: bool) -> None:
    """Issue 13: employee 1024 renumbered 2024 in Simployer One was created a second time."""
    await world.synced()
    world.hr.replace(NUMBER, _renumbered())

    result = await world.sync(refetch=True, dry_run=dry_run)

    assert result.outcome == "failed"
    assert result.reason == f"identity conflict: this person is employee {NUMBER} in 24SevenOffice"
    assert result.field == "ssn"
    assert (BUNDLES[NUMBER].employee.ssn or "") not in result.reason
    assert world.payroll.writes() == []
    assert sorted(world.payroll.store.employees) == [_emp_id()]
    # The index's answer was confirmed with that employee's record before failing.
    assert ("get_employee", _emp_id()) in world.payroll.calls


async def test_a_person_created_earlier_in_the_run_is_found_without_a_new_listing(
    world: World,
) -> None:
    """Two records of one person in Simployer One: the second is not created; the index was
    built once and the first record's create added to it."""
    other = next(n for n in VALID if n != NUMBER)
    twin = _with_employee(other, ssn=BUNDLES[NUMBER].employee.ssn)
    world.hr.replace(other, twin)

    first = await world.sync(NUMBER, new_in_payroll=True)
    second = await world.sync(other, new_in_payroll=True)

    assert first.outcome == "created"
    assert (second.outcome, second.field) == ("failed", "ssn")
    assert f"employee {NUMBER} " in second.reason
    assert world.persons.builds == 1
    assert sorted(world.payroll.store.employees) == [_emp_id()]


async def test_a_stale_index_entry_does_not_block_a_create(world: World) -> None:
    await world.synced()
    # Payroll staff gave employee NUMBER another person number after the index was built.
    world.hr.replace(NUMBER, _renumbered())
    await world.persons.holder("x", fresh_since=0)  # built now, before the edit
    world.payroll.store.update_employee(_emp_id(), EmployeeWrite(personnr=OTHER_SSN))

    result = await world.sync(refetch=True)

    assert result.outcome == "created"
    assert sorted(world.payroll.store.employees) == [_emp_id(), int(RENUMBERED)]
    assert world.persons.index is not None
    assert world.persons.index[BUNDLES[NUMBER].employee.ssn or ""] == int(RENUMBERED)


async def test_an_existing_employee_is_never_looked_up(world: World) -> None:
    await world.synced()
    world.persons.index = None
    result = await world.sync()
    assert result.outcome == "unchanged"
    assert world.persons.index is None, "only creates consult the index"


# ------------------------------------------------------------------ a retry after a partial write


@pytest.mark.parametrize("lost", ["create_employee", "create_employment"])
async def test_a_retry_after_a_partial_write_ends_created_without_duplicates(
    world: World, lost: str
) -> None:
    world.payroll.lose.add(lost)
    with pytest.raises(Retryable):
        await world.sync(new_in_payroll=True)

    result = await world.sync(new_in_payroll=True, attempt=2, refetch=True)

    assert result == SyncResult(outcome="created", changed=_all_fields())
    _assert_payroll_holds_the_mapped_values(world)
    assert world.payroll.counts()["create_employee"] == 1


async def test_without_new_in_payroll_the_retry_reports_what_it_wrote(world: World) -> None:
    world.payroll.lose.add("create_employee")
    with pytest.raises(Retryable):
        await world.sync()
    result = await world.sync(attempt=2, refetch=True)
    employment_fields = [EMPLOYMENT_PREFIX + name for name in sorted(_set_names(_target()))]
    assert result == SyncResult(outcome="updated", changed=employment_fields)


# ------------------------------------------------------------------ dry runs


async def test_dry_run_of_a_new_employee_writes_nothing_but_reports_created(world: World) -> None:
    result = await world.sync(dry_run=True, new_in_payroll=True)
    assert result == SyncResult(outcome="created", changed=_all_fields(), reason="dry run")
    assert world.payroll.writes() == []
    assert world.links.sets == []
    assert world.payroll.store.employees == {}


async def test_dry_run_of_a_changed_employee_writes_nothing_but_reports_updated(
    world: World,
) -> None:
    await world.synced()
    world.hr.replace(NUMBER, _with_employee(NUMBER, first_name="Annerledes"))
    result = await world.sync(dry_run=True)
    assert result == SyncResult(outcome="updated", changed=["firstname"], reason="dry run")
    assert world.payroll.writes() == []
    assert world.links.sets == []
    assert world.payroll.store.employees[_emp_id()].firstname != "Annerledes"


async def test_dry_run_of_an_unchanged_employee_says_so(world: World) -> None:
    await world.synced()
    assert await world.sync(dry_run=True) == SyncResult(outcome="unchanged")
    assert world.payroll.writes() == []


async def test_dry_run_does_not_create_a_missing_employment(world: World) -> None:
    _employee_without_employments(world)
    result = await world.sync(dry_run=True)
    assert result.outcome == "updated"
    assert result.reason == "dry run"
    assert world.payroll.writes() == []
    assert world.payroll.store.employments[_emp_id()] == []


# ------------------------------------------------------------------ records that cannot be mapped


@pytest.mark.parametrize(
    ("kind", "outcome", "field"),
    [
        ("missing_first_name", "skipped", "firstName"),
        ("missing_last_name", "skipped", "lastName"),
        ("ssn_checksum", "failed", "ssn"),
        ("account_checksum", "failed", "bankAccount.number"),
        ("unsupported_payout_period", "failed", "compensation.payoutPeriod"),
    ],
)
async def test_records_that_cannot_be_mapped_name_the_field(
    world: World, kind: str, outcome: str, field: str
) -> None:
    number = BROKEN_NUMBER[kind]
    result = await world.sync(number)
    assert (result.outcome, result.field) == (outcome, field)
    assert field in result.reason
    assert world.payroll.calls == []


async def test_employee_gone_from_simployer_is_skipped(world: World) -> None:
    world.hr.bundles.clear()
    result = await world.sync()
    assert result.outcome == "skipped"
    assert "no longer exists" in result.reason
    assert world.payroll.calls == []
