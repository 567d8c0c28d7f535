"""The employee sync end to end: real Redis, a real Dramatiq worker, both simulators over HTTP."""

from __future__ import annotations

import datetime
from collections import Counter

import msgspec
import pytest
import structlog

from payroll_sync.rules.compare import employee_changes, employment_changes
from payroll_sync.rules.employee import map_employee
from payroll_sync.rules.scope import in_scope
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.schemas.settings import Scope
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from payroll_sync.simulators import simployer as simployer_sim
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.generator import GeneratedCompany, generate_company
from tests.integration.conftest import StartSimulators
from tests.support.bundles import as_read, bundles_by_number
from tests.support.simulator_admin import (
    patch_simployer,
    payroll_requests,
    payroll_state,
    put_payroll_state,
    reset_payroll_requests,
    set_payroll_faults,
    simployer_state,
)
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration

EMPLOYEES = 200
# Which Simployer One field each kind of generated breakage must be blamed on.
BROKEN_FIELD = {
    "ssn_checksum": ("failed", "ssn"),
    "missing_first_name": ("skipped", "firstName"),
    "missing_last_name": ("skipped", "lastName"),
    "malformed_note": ("failed", "employment.note"),
    "unsupported_payout_period": ("failed", "compensation.payoutPeriod"),
    "account_checksum": ("failed", "bankAccount.number"),
    "end_date_without_reason": ("failed", "employment.note"),
}


def _company() -> GeneratedCompany:
    # The simulators generate the same company from the same arguments.
    return generate_company(EMPLOYEES, seed=1)


def _in_scope_numbers(data: published.Company) -> list[str]:
    today = datetime.date.today()
    chosen = in_scope(
        as_read(data.employee, simployer.Employee),
        Scope(),
        departments=as_read(data.department, simployer.Department),
        today=today,
    )
    return [employee.employee_number for employee in chosen]


def _by_number(outcomes: list[RecordOutcome]) -> dict[str, RecordOutcome]:
    return {item.employee_number: item for item in outcomes}


def _assert_payroll_matches(
    state: payroll.Dataset, bundles: dict[str, simployer.EmployeeBundle], numbers: list[str]
) -> None:
    """Each employee holds exactly the mapped values, with exactly one employment."""
    employees = {row.emp_id: row for row in state.employee}
    employments: dict[str, list[payroll.StoredEmployment]] = {}
    for row in state.employment:
        employments.setdefault(row.emp_id, []).append(row)
    for number in numbers:
        mapped = map_employee(bundles[number])
        stored = employees[str(mapped.emp_id)]
        assert employee_changes(mapped.employee, stored) == [], number
        assert stored.personnr == bundles[number].employee.ssn
        assert stored.vacation_days == "25"
        assert stored.international_id.type == "socialSecurityNumber"
        (employment,) = employments[str(mapped.emp_id)]
        assert employment_changes(mapped.employment, employment) == [], number
        assert employment.working_times == "ikkeSkift"
        assert employment.employment_type == "ordinaertArbeidsforhold"


async def test_first_sync_creates_then_second_writes_nothing_then_changes_update(
    start_simulators: StartSimulators,
) -> None:
    sims = start_simulators(
        employees=EMPLOYEES, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    company = _company()
    bundles = bundles_by_number(company.dataset)
    numbers = _in_scope_numbers(company.dataset)
    valid = [number for number in numbers if number not in company.broken]
    assert len(valid) > 150

    async with sync_stack(sims) as stack:
        run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        found = _by_number(outcomes)
        assert run.status == "done"
        assert sorted(found) == sorted(numbers), "one outcome per in-scope employee"
        assert {found[number].outcome for number in valid} == {"created"}
        for number, kind in company.broken.items():
            if number in found:
                outcome, field = BROKEN_FIELD[kind]
                assert (found[number].outcome, found[number].field) == (outcome, field), kind
                # The reason names the field, in its words or SPEC.md's.
                reason = found[number].reason
                assert field in reason or (field == "employment.note" and "note" in reason)
        assert run.counts["created"] == len(valid)
        # The bulk snapshot holds personal data: gone once the run is done.
        assert await stack.store.snapshot(run.id, valid[0], EmployeeSnapshot) is None
        _assert_payroll_matches(await payroll_state(sims), bundles, valid)

        # Second sync: nothing differs, so nothing is written.
        await reset_payroll_requests(sims)
        run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        report = await payroll_requests(sims)
        assert report["writes"] == 0, report["by_route"]
        assert {_by_number(outcomes)[number].outcome for number in valid} == {"unchanged"}
        # Bulk read once per run; one employments read per valid employee.
        assert report["by_route"].get("GET /employee/v2", 0) == 1
        assert report["by_route"].get("GET /employment/v2/{empId}", 0) == len(valid)

        # Ten employees change in Simployer One: exactly ten updates, of just those fields.
        before = await payroll_state(sims)
        data = await simployer_state(sims)
        by_number = {row.employee_number: row for row in data.employee}
        changed = valid[:10]
        expected: dict[str, list[str]] = {}
        for index, number in enumerate(changed):
            employee = by_number[number]
            if index % 3 == 0:
                await patch_simployer(sims, "employee", employee.id, {"lastName": f"Ny{index}"})
                expected[number] = ["lastname"]
            elif index % 3 == 1:
                await patch_simployer(
                    sims, "employee", employee.id, {"workEmail": f"ny{index}@example.no"}
                )
                expected[number] = ["email"]
            else:
                assert employee.employment_id is not None
                await patch_simployer(sims, "employment", employee.employment_id, {"rate": 42.5})
                expected[number] = ["employment.employment_rate"]
        await reset_payroll_requests(sims)
        run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        found = _by_number(outcomes)
        updated = {
            number: item.changed for number, item in found.items() if item.outcome == "updated"
        }
        assert updated == expected
        assert run.counts["updated"] == 10
        report = await payroll_requests(sims, log=True)
        writes = [entry for entry in report["log"] if entry["method"] == "POST"]
        assert len(writes) == 10
        # Each update is the whole record as read, only the changed field differing.
        read = _api_rows(before)
        for entry in writes:
            body = entry["body"]
            number = entry["path"].rsplit("/", 1)[1]
            if isinstance(body, list):
                (body,) = body
                held = read["employment", number]
                ours = {"employment_rate"}
            else:
                held = read["employee", number]
                ours = {"lastname", "email"}
            assert set(body) == set(held)
            assert _without(body, ours) == _without(held, ours)
        # One re-read per update: unchanged records cost no more.
        employee_updates = sum(1 for fields in expected.values() if "employment." not in fields[0])
        assert report["by_route"]["GET /employee/v2/{empId}"] == employee_updates
        assert (
            report["by_route"]["GET /employment/v2/{empId}"] == len(valid) + 10 - employee_updates
        )


def _api_rows(state: payroll.Dataset) -> dict[tuple[str, str], dict[str, object]]:
    """Each employee and (only) employment as `GET` serves it, by kind and empId."""
    rows: dict[tuple[str, str], dict[str, object]] = {}
    for employee in state.employee:
        rows["employee", employee.emp_id] = msgspec.to_builtins(employee)
    for employment in state.employment:
        served = msgspec.to_builtins(employment)
        del served["empId"]  # the state file's, not the API's
        rows["employment", employment.emp_id] = served
    return rows


def _without(row: dict[str, object], names: set[str]) -> dict[str, object]:
    return {key: value for key, value in row.items() if key not in names}


async def test_faults_and_tight_rate_limit_still_sync_everything_once(
    start_simulators: StartSimulators,
) -> None:
    sims = start_simulators(
        employees=EMPLOYEES,
        rate_limit_per_second=40,
        rate_limit_burst=10,
        simployer_rate_limit_per_second=0,
    )
    company = _company()
    numbers = _in_scope_numbers(company.dataset)
    valid = [number for number in numbers if number not in company.broken]
    # 20% of payroll calls answer 503; some calls are dropped after the write was done.
    await set_payroll_faults(
        sims, error_rate=0.2, error_statuses=[503], drop_rate=0.03, lost_after_handling_share=1.0
    )
    # Our limit is above the simulator's, so 429s happen too and must be absorbed.
    async with sync_stack(sims, rate_limit_per_second=60) as stack:
        run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION), max_seconds=240)
    found = _by_number(outcomes)
    assert sorted(found) == sorted(numbers)
    assert {found[number].outcome for number in valid} == {"created"}, Counter(
        found[number].reason for number in valid if found[number].outcome != "created"
    )
    assert run.counts["failed"] + run.counts["skipped"] == len(numbers) - len(valid)
    await set_payroll_faults(sims, error_rate=0.0, drop_rate=0.0)
    state = await payroll_state(sims)
    employee_ids = Counter(row.emp_id for row in state.employee)
    assert max(employee_ids.values()) == 1
    assert len(employee_ids) == len(valid)
    employments = Counter(row.emp_id for row in state.employment)
    assert set(employments.values()) == {1}, "never a second employment"
    report = await payroll_requests(sims)
    assert report["by_status"].get("503", 0) > 0, "faults were injected"
    assert any(item.attempt > 1 for item in outcomes), "some records needed a retry"


async def test_dry_run_reports_without_writing(start_simulators: StartSimulators) -> None:
    sims = start_simulators(
        employees=40, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    async with sync_stack(sims) as stack:
        await reset_payroll_requests(sims)
        run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION, dry_run=True))
        report = await payroll_requests(sims)
    assert report["writes"] == 0
    assert run.dry_run
    assert run.counts["created"] > 0
    assert all(item.reason == "dry run" for item in outcomes if item.outcome == "created")


async def test_identity_conflict_is_not_overwritten(
    start_simulators: StartSimulators,
) -> None:
    sims = start_simulators(
        employees=30, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    company = generate_company(30, seed=1)
    number = next(
        row.employee_number
        for row in company.dataset.employee
        if row.active and row.employee_number not in company.broken
    )
    async with sync_stack(sims) as stack:
        await stack.sync(SyncRequest(integration=INTEGRATION, employees=[number]))
        # Payroll staff typed another person's number onto this employee.
        state = await payroll_state(sims)
        employee = next(row for row in state.employee if row.emp_id == number)
        other = "01010150113" if employee.personnr != "01010150113" else "02020250057"
        edited = msgspec.structs.replace(employee, personnr=other, lastname="Keep")
        state = msgspec.structs.replace(
            state, employee=[edited if row.emp_id == number else row for row in state.employee]
        )
        await put_payroll_state(sims, state)
        _, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION, employees=[number]))
    (outcome,) = outcomes
    assert outcome.outcome == "failed"
    assert "identity conflict" in outcome.reason
    after = next(row for row in (await payroll_state(sims)).employee if row.emp_id == number)
    assert (after.personnr, after.lastname) == (other, "Keep"), "nothing overwritten"


async def test_logs_hold_no_personal_data_or_tokens(start_simulators: StartSimulators) -> None:
    sims = start_simulators(
        employees=60, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    company = generate_company(60, seed=1)
    # Make some records fail on the payroll side too: 400s and 503s go through the logs.
    await set_payroll_faults(sims, error_rate=0.1, error_statuses=[503])
    with structlog.testing.capture_logs() as events:
        async with sync_stack(sims) as stack:
            _, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
    synced = [event for event in events if event["event"] == "record.synced"]
    assert len(synced) == len(outcomes)
    assert {"integration", "run_id", "employee_number", "outcome", "changed", "attempt"} <= set(
        synced[0]
    )
    text = msgspec.json.encode([{k: str(v) for k, v in event.items()} for event in events])
    secrets = {sims.simployer_token, sims.payroll_token}
    for row in company.dataset.employee:
        secrets |= {row.ssn or "", (row.bank_account.number or "") if row.bank_account else ""}
        secrets |= {(row.bank_account.iban or "") if row.bank_account else ""}
        secrets |= {(row.home_address.street or "") if row.home_address else ""}
    for pay in company.dataset.compensation:
        secrets.add(f"{pay.amount:.2f}")
    for secret in sorted(secret for secret in secrets if len(secret) >= 5):
        assert secret.encode() not in text, "personal data or a token in the logs"


async def test_a_row_that_cannot_be_read_fails_alone_naming_the_field(
    start_simulators: StartSimulators,
) -> None:
    """One employee's row holds a malformed `bankAccount`, another's current employment has no
    `startDate`: those two records fail with the field to fix (never a value), every other
    employee is synced as usual, and a retry after the fix goes through."""
    sims = start_simulators(
        employees=40, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    company = generate_company(40, seed=1)
    numbers = _in_scope_numbers(company.dataset)
    healthy = [n for n in numbers if n not in company.broken]
    by_number = {row.employee_number: row for row in company.dataset.employee}
    bad_bank, bad_employment = by_number[healthy[0]], by_number[healthy[1]]
    # Behind the simulator's own checks, as an API that changed its types would answer.
    store = simployer_sim.store_of(sims.simployer_app)
    store.by_id["employee"][bad_bank.id]["bankAccount"] = 5
    del store.by_id["employment"][bad_employment.employment_id or ""]["startDate"]

    async with sync_stack(sims) as stack:
        run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        found = _by_number(outcomes)
        assert sorted(found) == sorted(numbers), "nobody vanished from the run"
        first, second = found[bad_bank.employee_number], found[bad_employment.employee_number]
        assert (first.outcome, first.field) == ("failed", "bankAccount")
        assert (second.outcome, second.field) == ("failed", "employment.startDate")
        assert "bankAccount" in first.reason
        assert "startDate" in second.reason
        assert all(n in found and found[n].outcome == "created" for n in healthy[2:])
        assert run.counts["created"] == len(healthy) - 2

        # Fixed in Simployer One: the next sync creates both.
        await patch_simployer(sims, "employee", bad_bank.id, {"bankAccount": None})
        await patch_simployer(
            sims,
            "employment",
            bad_employment.employment_id or "",
            {"startDate": "2020-01-01T00:00:00.000+00:00"},
        )
        _run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        found = _by_number(outcomes)
        assert found[bad_bank.employee_number].outcome == "created"
        assert found[bad_employment.employee_number].outcome == "created"


async def _employee_scenario(
    start_simulators: StartSimulators, *, post_answer: str, update_mode: str
) -> tuple[dict[str, tuple[str, list[str]]], payroll.Dataset, list[str]]:
    """Create, let payroll staff add their own fields, change three employees in Simployer One
    and sync again: the outcomes of the last sync, the final state, the three changed."""
    sims = start_simulators(
        employees=30,
        rate_limit_per_second=0,
        simployer_rate_limit_per_second=0,
        payroll_post_answer=post_answer,
        payroll_update_mode=update_mode,
    )
    company = generate_company(30, seed=1)
    valid = [n for n in _in_scope_numbers(company.dataset) if n not in company.broken]
    changed = valid[:3]
    async with sync_stack(sims) as stack:
        run, _ = await stack.sync(SyncRequest(integration=INTEGRATION))
        assert run.counts["created"] == len(valid)
        # Fields payroll owns, set by hand in 24SevenOffice on the employees we will change.
        state = await payroll_state(sims)
        own = payroll.Accounting(
            percentage="100.00", dimensions=[payroll.AccountingDimension(dimid="1", value="10")]
        )
        state.employee = [
            msgspec.structs.replace(row, telefon="99887766", taxtable="7100", accounting=[own])
            if row.emp_id in changed
            else row
            for row in state.employee
        ]
        await put_payroll_state(sims, state)
        hr = {row.employee_number: row for row in (await simployer_state(sims)).employee}
        await patch_simployer(sims, "employee", hr[changed[0]].id, {"lastName": "Ny"})
        await patch_simployer(sims, "employee", hr[changed[1]].id, {"workEmail": "ny@x.no"})
        employment_id = hr[changed[2]].employment_id
        assert employment_id is not None
        await patch_simployer(sims, "employment", employment_id, {"rate": 42.5})
        _, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        # The links to the employments (read back after creating them) hold: nothing new.
        again, _ = await stack.sync(SyncRequest(integration=INTEGRATION))
        assert again.counts["unchanged"] == len(valid)
    found: dict[str, tuple[str, list[str]]] = {
        item.employee_number: (item.outcome, item.changed) for item in outcomes
    }
    final = await payroll_state(sims)
    # Workers create in any order: compare the rows, not their order.
    final.employee.sort(key=lambda row: row.emp_id)
    final.employment.sort(key=lambda row: (row.emp_id, row.employment_id))
    return found, final, changed


async def test_empty_answers_and_replacing_updates_end_in_the_same_state(
    start_simulators: StartSimulators,
) -> None:
    """The same syncs against an API that answers POSTs with arrays and merges updates, and
    one that answers with nothing and replaces records: same outcomes, same payroll data."""
    found, state, changed = await _employee_scenario(
        start_simulators, post_answer="array", update_mode="merge"
    )
    strict = await _employee_scenario(start_simulators, post_answer="empty", update_mode="replace")
    assert strict == (found, state, changed)

    assert found[changed[0]] == ("updated", ["lastname"])
    assert found[changed[1]] == ("updated", ["email"])
    assert found[changed[2]] == ("updated", ["employment.employment_rate"])
    employees = {row.emp_id: row for row in state.employee}
    for number in changed:
        # What payroll owns survived the update, whether the API merged or replaced.
        employee = employees[number]
        assert (employee.telefon, employee.taxtable) == ("99887766", "7100")
        assert employee.accounting[0].dimensions[0].value == "10"
        assert employee.firstname
        assert employee.personnr
    (employment,) = [row for row in state.employment if row.emp_id == changed[2]]
    assert (employment.employment_rate, employment.primary_employment) == ("42.50", "1")
    assert employment.startdate
    assert employment.employment_form
