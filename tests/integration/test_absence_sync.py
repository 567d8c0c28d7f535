"""Absence sync end to end: real Redis, a real Dramatiq worker, both simulators over HTTP."""

from __future__ import annotations

import asyncio
import datetime
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import structlog

from payroll_sync.rules.absence import working_days
from payroll_sync.schemas import payroll
from payroll_sync.schemas.absence_codes import ABSENCE_CODES, KNOWN_CODES
from payroll_sync.schemas.messages import Period, SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.generator import day_of, generate_company
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.stack import Stack
from tests.integration.conftest import StartSimulators
from tests.support.simulator_admin import (
    patch_simployer,
    payroll_requests,
    payroll_state,
    put_simployer_state,
    reset_payroll_requests,
    set_payroll_faults,
    simployer_rows,
    simployer_state,
)
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration

YEAR = Period(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
CODE_BY_NAME = {row.leave_type.casefold(): row.code for row in ABSENCE_CODES}
EXPORTED = {"APPROVED", "CONFIRMED"}


def absences(**fields: Any) -> SyncRequest:
    fields.setdefault("period", YEAR)
    return SyncRequest(integration=INTEGRATION, kind="absences", **fields)


def _day(text: str) -> str:
    """YYYY-MM-DD of a Simployer One instant (the simulator's reader) or a payroll date."""
    return day_of(text).isoformat() if "T" in text else text[:10]


def _in_year(leave: published.Leave) -> bool:
    return _day(leave.start_date) <= str(YEAR.end) and _day(leave.end_date) >= str(YEAR.start)


def _expected_code(data: published.Company, type_id: str) -> str | None:
    """SPEC's precedence without overrides: the type's own 24SevenOffice code, else the table."""
    own = {row.leave_type_id: row.code for row in data.leave_type_code}.get(type_id)
    if own in KNOWN_CODES:
        return own
    name = next(row.name for row in data.leave_type if row.id == type_id)
    return CODE_BY_NAME.get(name.casefold())


def _by_leave(outcomes: list[RecordOutcome]) -> dict[str, RecordOutcome]:
    found = {item.leave_id: item for item in outcomes}
    assert len(found) == len(outcomes), "one outcome per leave"
    return found


def _exported(state: payroll.Dataset) -> dict[str, payroll.Absence]:
    rows = [row for row in state.absence if row.external_id]
    counts = Counter(row.external_id for row in rows)
    assert max(counts.values(), default=1) == 1, "never two absences for one leave"
    return {row.external_id: row for row in rows}


@pytest.fixture
async def synced(
    start_simulators: StartSimulators,
) -> AsyncIterator[tuple[RunningSimulators, Stack]]:
    """A company of 40 whose employees are already in 24SevenOffice; its leaves also carry the
    generator's `childId` and `gradePercentage` (beyond the published API: used when present)."""
    sims = start_simulators(
        employees=40, rate_limit_per_second=0, simployer_rate_limit_per_second=0, leave_facts=True
    )
    async with sync_stack(sims) as stack:
        run, _ = await stack.sync(SyncRequest(integration=INTEGRATION))
        assert run.counts["created"] > 30
        yield sims, stack


async def test_a_year_is_exported_with_the_right_codes_and_fields_and_again_writes_nothing(
    synced: tuple[RunningSimulators, Stack],
) -> None:
    sims, stack = synced
    hr = await simployer_state(sims)
    facts = generate_company(40).leave_facts  # what the simulator's leaves carry besides
    in_payroll = {row.emp_id for row in (await payroll_state(sims)).employee}
    number_of = {row.id: row.employee_number for row in hr.employee}
    types = {row.id: row for row in hr.leave_type}

    run, outcomes = await stack.sync(absences())

    found = _by_leave(outcomes)
    exported = _exported(await payroll_state(sims))
    expected_created = [
        leave
        for leave in hr.leave
        if _in_year(leave)
        and leave.status in EXPORTED
        and number_of[leave.employee_id] in in_payroll
        and _expected_code(hr, leave.type_id) is not None
    ]
    assert len(expected_created) > 20, "the generated year has leaves to export"
    assert run.counts["created"] == len(expected_created) == len(exported)
    for leave in expected_created:
        assert found[leave.id].outcome == "created"
        absence = exported[leave.id]
        code = _expected_code(hr, leave.type_id)
        assert absence.absence_type == code, types[leave.type_id].name
        assert absence.emp_id == number_of[leave.employee_id]
        assert _day(absence.start_date) == _day(leave.start_date)
        assert _day(absence.end_date) == _day(leave.end_date)
        grade = facts[leave.id].grade_percentage if leave.id in facts else None
        assert float(absence.percent) == (grade or 100.0)
        assert absence.approved == "1"
        assert absence.comment == (leave.description or "")
        if code == "04":
            days = working_days(
                datetime.date.fromisoformat(_day(leave.start_date)),
                datetime.date.fromisoformat(_day(leave.end_date)),
            )
            assert absence.number_of_days == str(days)
        else:
            assert absence.number_of_days == ""
        parental = code in ("06", "19")
        assert absence.startdate_parental == (_day(leave.start_date) if parental else "")
        assert bool(absence.child_id) == (code in ("02", "16"))
    # Pending leaves wait; a leave whose type has no 24SevenOffice code is reported, not guessed.
    for leave in hr.leave:
        if not _in_year(leave) or number_of[leave.employee_id] not in in_payroll:
            continue
        if leave.status == "PENDING":
            assert found[leave.id].outcome == "skipped"
            assert found[leave.id].reason == "awaiting approval in Simployer One"
        elif leave.status in EXPORTED and _expected_code(hr, leave.type_id) is None:
            assert found[leave.id].outcome == "skipped"
            assert types[leave.type_id].name in found[leave.id].reason
            assert leave.id not in exported
        elif leave.status not in EXPORTED:
            assert leave.id not in found, "a cancelled leave never exported has nothing to do"

    await reset_payroll_requests(sims)
    again, outcomes = await stack.sync(absences())
    assert (again.counts["created"], again.counts["updated"]) == (0, 0)
    assert again.counts["unchanged"] == len(expected_created)
    assert (await payroll_requests(sims))["writes"] == 0


async def test_an_edited_leave_updates_that_absence_only_and_a_cancelled_one_is_rejected(
    synced: tuple[RunningSimulators, Stack],
) -> None:
    sims, stack = synced
    _first, outcomes = await stack.sync(absences())
    created = [item.leave_id for item in outcomes if item.outcome == "created"]
    edited, cancelled = created[0], created[1]
    hr = {row.id: row for row in (await simployer_state(sims)).leave}
    start = datetime.date.fromisoformat(_day(hr[edited].start_date)) + datetime.timedelta(days=1)
    end = datetime.date.fromisoformat(_day(hr[edited].end_date)) + datetime.timedelta(days=2)
    await patch_simployer(
        sims,
        "leave",
        edited,
        {"startDate": f"{start}T00:00:00.000Z", "endDate": f"{end}T00:00:00.000Z"},
    )
    await patch_simployer(sims, "leave", cancelled, {"status": "CANCELLED"})
    before = _exported(await payroll_state(sims))
    await reset_payroll_requests(sims)

    _run, outcomes = await stack.sync(absences())

    found = _by_leave(outcomes)
    assert found[edited].outcome == "updated"
    assert set(found[edited].changed) >= {"startDate", "endDate"}
    assert found[cancelled].outcome == "withdrawn"
    assert Counter(item.outcome for item in outcomes)["unchanged"] == len(created) - 2
    assert (await payroll_requests(sims))["writes"] == 2
    after = _exported(await payroll_state(sims))
    assert set(after) == set(before), "updated in place, nothing created"
    assert (_day(after[edited].start_date), _day(after[edited].end_date)) == (str(start), str(end))
    assert after[edited].serial_no == before[edited].serial_no
    assert after[cancelled].approved == "2"
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {edited, cancelled}

    # Rejected once is done: the next export leaves it alone.
    await reset_payroll_requests(sims)
    _last, outcomes = await stack.sync(absences())
    assert cancelled not in _by_leave(outcomes)
    assert (await payroll_requests(sims))["writes"] == 0


async def test_narrowing_by_codes_and_employees_exports_only_those(
    synced: tuple[RunningSimulators, Stack],
) -> None:
    sims, stack = synced
    hr = await simployer_state(sims)
    in_payroll = {row.emp_id for row in (await payroll_state(sims)).employee}
    number_of = {row.id: row.employee_number for row in hr.employee}
    vacations = [
        leave
        for leave in hr.leave
        if _in_year(leave)
        and leave.status in EXPORTED
        and _expected_code(hr, leave.type_id) == "04"
        and number_of[leave.employee_id] in in_payroll
    ]
    chosen = sorted({number_of[leave.employee_id] for leave in vacations})[:3]
    assert chosen, "the generated company has vacations"

    run, outcomes = await stack.sync(absences(codes=["04"], employees=chosen))

    expected = {leave.id for leave in vacations if number_of[leave.employee_id] in chosen}
    assert {item.leave_id for item in outcomes} == expected
    assert {item.outcome for item in outcomes} == {"created"}
    assert set(_exported(await payroll_state(sims))) == expected
    assert run.codes == ["04"]
    assert run.period == str(YEAR)


async def test_a_sick_child_twice_for_the_same_child_creates_the_child_once(
    synced: tuple[RunningSimulators, Stack],
) -> None:
    sims, stack = synced
    hr = await simployer_state(sims)
    in_payroll = {row.emp_id for row in (await payroll_state(sims)).employee}
    parents = {row.id: row for row in hr.employee if row.employee_number in in_payroll}
    child = next(row for row in hr.child if row.employee_id in parents)
    sick_child = next(row for row in hr.leave_type if row.name == "Care of sick child")
    # Two new approved leaves for that child, a week apart (sent in one run, so two workers
    # may handle them at once); they name the child, beyond the published leave.
    new = [
        {
            "id": f"sickchild{i}",
            "employeeId": child.employee_id,
            "typeId": sick_child.id,
            "status": "APPROVED",
            "duration": "longer",
            "startDate": f"2026-0{3 + i}-02T00:00:00.000Z",
            "endDate": f"2026-0{3 + i}-03T00:00:00.000Z",
            "childId": child.id,
        }
        for i in range(2)
    ]
    tables = msgspec.json.decode(await simployer_rows(sims))
    tables["leave"] += new
    await put_simployer_state(sims, tables)
    number = parents[child.employee_id].employee_number

    _run, outcomes = await stack.sync(absences(employees=[number]))

    found = _by_leave(outcomes)
    assert [found[row["id"]].outcome for row in new] == ["created", "created"]
    state = await payroll_state(sims)
    first_name = child.name.split()[0]
    matching = [
        row
        for row in state.child
        if row.emp_id == number
        and row.firstname == first_name
        and row.birthdate[:10] == _day(child.birthdate)
    ]
    assert len(matching) == 1, "the child is created once"
    exported = _exported(state)
    assert {exported[row["id"]].child_id for row in new} == {matching[0].child_id}


async def test_with_faults_nothing_is_duplicated_or_lost(start_simulators: StartSimulators) -> None:
    sims = start_simulators(employees=40, simployer_rate_limit_per_second=0, leave_facts=True)
    async with sync_stack(sims, rate_limit_per_second=200) as stack:
        await stack.sync(SyncRequest(integration=INTEGRATION))
        clean_hr = await simployer_state(sims)
        # 20% of payroll calls answer 503; some writes are done but their answers are lost.
        await set_payroll_faults(
            sims,
            error_rate=0.2,
            error_statuses=[503],
            drop_rate=0.05,
            lost_after_handling_share=1.0,
        )
        run, outcomes = await stack.sync(absences(), max_seconds=240)
        await set_payroll_faults(sims, error_rate=0.0, drop_rate=0.0)
        report = await payroll_requests(sims)
        assert report["by_status"].get("503", 0) > 0, "faults were injected"
        assert run.finished == run.total == len(outcomes)
        assert run.counts["failed"] == sum(
            1 for item in outcomes if "not in 24SevenOffice" in item.reason
        ), Counter(item.reason for item in outcomes if item.outcome == "failed")
        assert any(item.attempt > 1 for item in outcomes), "some leaves needed a retry"
        exported = _exported(await payroll_state(sims))
        created = {item.leave_id for item in outcomes if item.outcome == "created"}
        assert set(exported) == created
        children = Counter(
            (row.emp_id, row.firstname, row.birthdate[:10])
            for row in (await payroll_state(sims)).child
        )
        assert max(children.values()) == 1, "no child twice"

        # Without faults, the next export finds everything in place.
        again, _ = await stack.sync(absences())
        assert (again.counts["created"], again.counts["updated"]) == (0, 0)
        assert clean_hr == await simployer_state(sims)


async def test_the_producer_retries_its_bulk_reads(
    synced: tuple[RunningSimulators, Stack],
) -> None:
    sims, stack = synced
    await set_payroll_faults(sims, error_rate=1.0, error_statuses=[503])
    submitted = asyncio.create_task(stack.submit(absences()))
    await asyncio.sleep(0.3)  # the first attempts meet 503s
    assert not submitted.done()
    await set_payroll_faults(sims, error_rate=0.0)
    expansion = await asyncio.wait_for(submitted, timeout=30)
    run = await stack.wait(expansion.run_id)
    assert run.counts["created"] > 0
    assert (await payroll_requests(sims))["by_status"].get("503", 0) > 0


async def test_no_personal_data_reaches_the_log_events(
    synced: tuple[RunningSimulators, Stack],
) -> None:
    sims, stack = synced
    hr = await simployer_state(sims)
    with structlog.testing.capture_logs() as events:
        run, _ = await stack.sync(absences())
    assert run.counts["created"] > 0
    synced_events = [event for event in events if event["event"] == "record.synced"]
    assert len(synced_events) == run.total, "one event per leave"
    text = repr(events)
    secrets = [row.description for row in hr.leave if row.description]
    secrets += [row.name for row in hr.child] + [_day(row.birthdate) for row in hr.child]
    secrets += [row.ssn for row in hr.employee if row.ssn]
    assert secrets
    leaked = [value for value in secrets if value in text]
    assert leaked == []


async def test_published_leaves_name_no_child_and_no_grade(
    start_simulators: StartSimulators,
) -> None:
    """Leaves as published: percent 100; a sick child is the employee's only child, and with
    none or several the leave fails naming childId (24SevenOffice requires the child), with
    SPEC's note on how many children there are."""
    sims = start_simulators(
        employees=60, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    async with sync_stack(sims) as stack:
        await stack.sync(SyncRequest(integration=INTEGRATION))
        hr = await simployer_state(sims)
        _run, outcomes = await stack.sync(absences())
    found = _by_leave(outcomes)
    state = await payroll_state(sims)
    exported = _exported(state)
    assert exported
    assert {row.percent for row in exported.values()} <= {"100", "100.00"}
    children = Counter(row.employee_id for row in hr.child)
    names = {row.employee_id: row.name.split()[0] for row in hr.child}
    number_of = {row.id: row.employee_number for row in hr.employee}
    payroll_children = {(row.emp_id, row.child_id): row.firstname for row in state.child}
    sick = [
        leave
        for leave in hr.leave
        if leave.id in found
        and _expected_code(hr, leave.type_id) in ("02", "16")
        and leave.status in EXPORTED
        and "not in 24SevenOffice" not in found[leave.id].reason
    ]
    assert sick, "the generated company has sick-child leaves"
    for leave in sick:
        outcome = found[leave.id]
        count = children[leave.employee_id]
        if count == 1:
            assert outcome.outcome == "created", outcome.reason
            absence = exported[leave.id]
            assert payroll_children[(absence.emp_id, absence.child_id)] == names[leave.employee_id]
            assert absence.emp_id == number_of[leave.employee_id]
        else:
            assert (outcome.outcome, outcome.field) == ("failed", "childId")
            assert outcome.reason.startswith(f"child not set: {count} children in Simployer One")
            assert leave.id not in exported


async def _absence_scenario(
    start_simulators: StartSimulators, *, post_answer: str, update_mode: str
) -> tuple[dict[str, tuple[str, list[str]]], dict[str, dict[str, Any]]]:
    """Export a year, then move one leave and cancel a vacation and a sick-child leave:
    the second export's outcomes and every exported absence (ids made comparable)."""
    sims = start_simulators(
        employees=40,
        rate_limit_per_second=0,
        simployer_rate_limit_per_second=0,
        payroll_post_answer=post_answer,
        payroll_update_mode=update_mode,
    )
    async with sync_stack(sims) as stack:
        await stack.sync(SyncRequest(integration=INTEGRATION))
        await stack.sync(absences())
        before = _exported(await payroll_state(sims))
        ordered = sorted(before.values(), key=lambda row: row.external_id)
        vacation = next(row for row in ordered if row.number_of_days)
        sick_child = next(row for row in ordered if row.child_id)
        moved = next(row for row in ordered if row.permisjon_id and not row.startdate_parental)
        for row in (vacation, sick_child):
            await patch_simployer(sims, "leave", row.external_id, {"status": "CANCELLED"})
        start = datetime.date.fromisoformat(_day(moved.start_date)) + datetime.timedelta(days=1)
        await patch_simployer(sims, "leave", moved.external_id, {"startDate": f"{start}"})

        _run, outcomes = await stack.sync(absences())

        state = await payroll_state(sims)
    after = _exported(state)
    for row in (vacation, sick_child):
        # Withdrawn: rejected, and every other field as it was, whatever the API does.
        assert after[row.external_id] == msgspec.structs.replace(
            row, approved="2", last_changed=after[row.external_id].last_changed
        )
    edited = after[moved.external_id]
    assert _day(edited.start_date) == str(start)
    kept = ("serial_no", "permisjon_id", "request_date", "comment", "percent", "approved")
    assert [getattr(edited, name) for name in kept] == [getattr(moved, name) for name in kept]
    found: dict[str, tuple[str, list[str]]] = {
        item.leave_id: (item.outcome, item.changed) for item in outcomes
    }
    written = {key for key, (outcome, _) in found.items() if outcome in ("updated", "withdrawn")}
    assert written == {vacation.external_id, sick_child.external_id, moved.external_id}
    assert "created" not in {outcome for outcome, _ in found.values()}
    # Serial numbers, permisjon and child ids follow the order workers created things in.
    children = {row.child_id: (row.firstname, row.birthdate) for row in state.child}
    comparable = {
        key: {
            **msgspec.to_builtins(row),
            "serialNo": "",
            "permisjonId": bool(row.permisjon_id),
            "childId": children.get(row.child_id),
            "requestDate": "",
            "lastChanged": "",
        }
        for key, row in after.items()
    }
    return found, comparable


async def test_empty_answers_and_replacing_updates_export_the_same(
    start_simulators: StartSimulators,
) -> None:
    found, exported = await _absence_scenario(
        start_simulators, post_answer="array", update_mode="merge"
    )
    strict = await _absence_scenario(start_simulators, post_answer="empty", update_mode="replace")
    assert strict == (found, exported)
    assert Counter(outcome for outcome, _ in found.values())["withdrawn"] == 2
