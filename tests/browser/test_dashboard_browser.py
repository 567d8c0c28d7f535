"""The dashboard in Chromium: a generated company of 200 synced by a real worker, its broken
employees under Failures, fixed in the Simployer One simulator and retried from the page.

Every test saves a screenshot of each page it visits to build/screenshots/.
"""

from __future__ import annotations

import asyncio
import datetime
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlsplit

import msgspec
import pytest
from stdnum.no import fodselsnummer

from payroll_sync.rules.absence_scope import EXPORTED_STATUSES as EXPORTED
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome, Run
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.stack import Stack
from tests.browser.conftest import Screenshots
from tests.integration.conftest import StartSimulators
from tests.support.dashboard import OPERATOR_TOKEN, repaired, served_dashboard
from tests.support.simulator_admin import patch_simployer, simployer_state
from tests.support.stack import INTEGRATION, sync_stack

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.integration

EMPLOYEES = 200
#: How long a retried record may take to come back (a few requests to the simulators).
SETTLE_SECONDS = 60.0


@dataclass
class World:
    sims: RunningSimulators
    stack: Stack
    base: str
    run: Run
    outcomes: list[RecordOutcome]

    @property
    def store(self) -> RunStore:
        return self.stack.store

    def failed(self) -> dict[str, RecordOutcome]:
        """Failure id -> outcome, for the records of the first run that failed."""
        return {
            f"{INTEGRATION}:employees:{item.employee_number}": item
            for item in self.outcomes
            if item.outcome == "failed"
        }


@pytest.fixture
async def world(start_simulators: StartSimulators) -> AsyncIterator[World]:
    """The demo's company synced once, and the dashboard serving its runs."""
    sims = start_simulators(
        employees=EMPLOYEES, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    async with sync_stack(sims) as stack:
        run, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        assert run.counts["failed"] > 0, "the generated company has broken employees"
        async with served_dashboard(stack.producer) as base:
            yield World(sims=sims, stack=stack, base=base, run=run, outcomes=outcomes)


async def log_in(page: Page, world: World, shots: Screenshots, path: str = "/failures") -> None:
    await page.goto(world.base + path)
    assert page.url.startswith(world.base + "/login?next=")
    await shots.take(page, "login")
    await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(world.base + path)


def row_of(page: Page, ident: str) -> str:
    return f'tr[data-failure-id="{ident}"]'


async def listed(page: Page) -> set[str]:
    ids = await page.locator("tr[data-failure-id]").evaluate_all(
        "rows => rows.map(row => row.dataset.failureId)"
    )
    return set(ids)


async def wait_until_gone(page: Page, world: World, ident: str, shots: Screenshots) -> None:
    """Reload the Failures page until the failure has left it (the worker is asynchronous)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while ident in await listed(page):
        assert time.monotonic() < deadline, f"{ident} still listed after {SETTLE_SECONDS} s"
        await asyncio.sleep(0.3)
        await page.goto(world.base + "/failures")
    await shots.take(page, "after-retry")


async def test_broken_records_show_under_failures_with_their_reasons(
    world: World, page: Page, shots: Screenshots
) -> None:
    failed = world.failed()
    await log_in(page, world, shots)
    await shots.take(page, "failures")
    assert await listed(page) == set(failed)
    for ident, outcome in failed.items():
        row = page.locator(row_of(page, ident))
        section = page.locator("section", has=row)
        heading = await section.locator("h3").inner_text()
        assert heading.startswith(outcome.reason), (heading, outcome.reason)
        assert outcome.field in await row.inner_text()
    skipped = [item.employee_number for item in world.outcomes if item.outcome == "skipped"]
    assert skipped, "skipped records exist but are not failures"
    assert not await listed(page) & {f"{INTEGRATION}:employees:{n}" for n in skipped}

    # Runs: the run with its counters, then its failed records.
    await page.get_by_role("link", name="Runs").click()
    await shots.take(page, "runs")
    run_row = page.locator("tr", has=page.get_by_role("link", name=world.run.id))
    cells = await run_row.locator("td").all_inner_texts()
    assert cells[1:4] == [INTEGRATION, "employees", "manual"]
    assert str(world.run.counts["created"]) in cells
    failed_link = run_row.locator('a[href$="?outcome=failed"]')
    assert await failed_link.inner_text() == str(world.run.counts["failed"])
    await failed_link.click()
    await page.wait_for_url(re.compile(r"outcome=failed"))
    await shots.take(page, "run-failed-records")
    numbers = (
        await page.locator("main table").nth(1).locator("tbody tr td:first-child").all_inner_texts()
    )
    assert sorted(numbers) == sorted(item.employee_number for item in failed.values())


async def test_fixing_the_data_and_pressing_retry_makes_the_record_succeed(
    world: World, page: Page, shots: Screenshots
) -> None:
    failed = world.failed()
    ident, bad = next((i, o) for i, o in failed.items() if o.field == "ssn")
    await log_in(page, world, shots)
    data = await simployer_state(world.sims)
    row = next(e for e in data.employee if e.employee_number == bad.employee_number)
    assert row.ssn is not None
    await patch_simployer(
        world.sims, "employee", row.id, {"ssn": repaired(row.ssn, fodselsnummer.is_valid)}
    )

    await page.locator(row_of(page, ident)).get_by_role("button", name="Retry").click()
    await page.wait_for_url(re.compile(r"retried=1"))
    assert "1 queued for retry" in await page.get_by_role("status").inner_text()
    await shots.take(page, "retry-queued")
    await wait_until_gone(page, world, ident, shots)
    assert await listed(page) == set(failed) - {ident}, "only the fixed one left the list"
    # The others still point to the first run.
    run_id = (await world.store.failures.listing())[0].run_id
    assert run_id == world.run.id
    latest = await world.store.list_runs(1)
    assert (latest[0].trigger, latest[0].counts["created"]) == ("retry", 1)
    created = await world.store.outcome(latest[0].id, bad.employee_number)
    assert created is not None
    assert created.outcome == "created"


async def test_retry_all_matching_retries_exactly_the_filtered_set(
    world: World, page: Page, shots: Screenshots
) -> None:
    failed = world.failed()
    chosen = {ident for ident, item in failed.items() if "note" in item.reason}
    assert 0 < len(chosen) < len(failed), "the filter picks some failures, not all"
    await log_in(page, world, shots)
    await page.get_by_label("Reason contains").fill("note")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url(re.compile(r"reason=note"))
    await shots.take(page, "filtered")
    assert await listed(page) == chosen

    await page.get_by_role("link", name=f"Retry all {len(chosen)} matching").click()
    await page.wait_for_url(re.compile(r"/failures/retry-all\?"))
    await shots.take(page, "confirm")
    assert (
        f"This puts {len(chosen)} failed records into a run again"
        in await page.locator("main").inner_text()
    )
    await page.get_by_role("button", name=f"Retry {len(chosen)}").click()
    await page.wait_for_url(re.compile(rf"retried={len(chosen)}"))
    await shots.take(page, "retried")

    retry_run = next(run for run in await world.store.list_runs(5) if run.trigger == "retry")
    done = await world.stack.wait(retry_run.id, max_seconds=SETTLE_SECONDS)
    retried = {
        f"{INTEGRATION}:employees:{item.key}" for item in await world.store.outcomes(done.id)
    }
    assert retried == chosen, "exactly the filtered set, and nothing else"
    # Not fixed, so they failed again, now in the retry run; the rest were not touched.
    by_id = {failure.id: failure for failure in await world.store.failures.listing()}
    assert set(by_id) == set(failed)
    assert {i for i, f in by_id.items() if f.run_id == done.id} == chosen
    assert {i for i, f in by_id.items() if f.run_id == world.run.id} == set(failed) - chosen
    await page.goto(world.base + "/failures")
    await shots.take(page, "failures-after")


async def test_discard_removes_one(world: World, page: Page, shots: Screenshots) -> None:
    failed = world.failed()
    ident = sorted(failed)[0]
    await log_in(page, world, shots)
    await page.locator(row_of(page, ident)).get_by_role("button", name="Discard").click()
    await page.wait_for_url(re.compile(r"discarded=1"))
    await shots.take(page, "discarded")
    assert await page.get_by_role("status").inner_text() == "Discarded."
    assert await listed(page) == set(failed) - {ident}
    assert await world.store.failures.get(ident) is None


async def test_strangers_go_to_login_and_forms_without_csrf_are_refused(
    world: World, page: Page, shots: Screenshots
) -> None:
    failed = world.failed()
    ident = sorted(failed)[0]
    await page.goto(world.base + f"/runs/{world.run.id}")
    where = urlsplit(page.url)
    assert (where.path, parse_qs(where.query)["next"]) == ("/login", [f"/runs/{world.run.id}"])
    await shots.take(page, "sent-to-login")
    assert await page.get_by_label("Operator token").is_visible()

    await log_in(page, world, shots)
    # The page's own form, stripped of its CSRF field, as a forged cross-site form would be.
    await page.locator('form[action="/failures/retry"] input[name="csrf"]').evaluate(
        "field => field.remove()"
    )
    await page.locator(row_of(page, ident)).get_by_role("button", name="Discard").click()
    await page.wait_for_load_state()
    await shots.take(page, "csrf-refused")
    assert await page.get_by_role("heading", name="Form refused").is_visible()
    # The same with a request that shares the browser's session cookie.
    answer = await page.request.post(
        world.base + f"/failures/{quote(ident, safe='')}/retry", form={"id": ident}
    )
    assert answer.status == 403
    assert await world.store.failures.get(ident) is not None, "nothing was discarded"
    await page.goto(world.base + "/failures")
    assert ident in await listed(page)


async def _secrets(world: World) -> set[str]:
    """Every fødselsnummer and account number of the company, as Simployer One holds them."""
    data = await simployer_state(world.sims)
    found: set[str] = set()
    for row in data.employee:
        found.add(row.ssn or "")
        if row.bank_account is not None:
            found |= {row.bank_account.number or "", row.bank_account.iban or ""}
    return {value for value in found if len(value) >= 11}


async def test_masked_values_never_show_a_full_identifier(
    world: World, page: Page, shots: Screenshots
) -> None:
    secrets = await _secrets(world)
    assert len(secrets) > EMPLOYEES
    created = [item for item in world.outcomes if item.outcome == "created"]
    first = min(created, key=lambda item: int(item.employee_number))
    salary = next(change.new for change in first.diff if change.field == "salary")
    ssn = next(change.new for change in first.diff if change.field == "personnr")

    await log_in(page, world, shots, path=f"/runs/{world.run.id}?outcome=created")
    await shots.take(page, "created-records")
    # A record's row of the records table (its changes are a table of their own, inside it).
    row = page.locator("main > figure > table > tbody > tr").filter(
        has=page.get_by_role("cell", name=first.employee_number, exact=True)
    )
    await row.locator("summary").first.click()
    await shots.take(page, "changes-expanded", only=row)
    assert await row.get_by_text("•••••••" + ssn[-4:]).first.is_visible()
    # The salary's own <details>, inside the record's list of changes. It holds the salary, or
    # "•••" once the worker stores diffs masked (schemas.masking.mask_diff).
    salary_row = row.locator("details tr").filter(
        has=page.locator("code").filter(has_text=re.compile(r"^salary$"))
    )
    salary_text = salary_row.get_by_text(f"→ {salary}")
    assert not await salary_text.is_visible(), "salary hidden until expanded"
    await salary_row.locator("summary").click()
    assert await salary_text.is_visible()
    await shots.take(page, "salary-expanded", only=row)

    pages = [f"/runs/{world.run.id}?outcome=created&page={n}" for n in (1, 2)]
    pages += ["/failures", f"/runs/{world.run.id}", "/runs"]
    for path in pages:
        await page.goto(world.base + path)
        source = await page.content()
        leaked = sorted(secret for secret in secrets if secret in source)
        assert leaked == [], f"{path} shows a full identifier"
    await page.goto(world.base + pages[0])
    assert "•••••••" + ssn[-4:] in await page.content(), "masked, not missing"


async def test_select_all_then_retry_selected(world: World, page: Page, shots: Screenshots) -> None:
    failed = world.failed()
    kept = sorted(failed)[0]
    await log_in(page, world, shots)
    # The "select all" box is a progressive touch: present only with JavaScript.
    await page.get_by_label("Select all shown").check()
    boxes = page.locator('input[type="checkbox"][name="id"]')
    assert await boxes.count() == len(failed)
    assert all([await boxes.nth(n).is_checked() for n in range(len(failed))])
    await page.locator(row_of(page, kept)).get_by_role("checkbox").uncheck()
    await shots.take(page, "selected")
    await page.get_by_role("button", name="Retry selected").first.click()
    await page.wait_for_url(re.compile(rf"retried={len(failed) - 1}"))
    await shots.take(page, "retried")
    retry_run = next(run for run in await world.store.list_runs(5) if run.trigger == "retry")
    done = await world.stack.wait(retry_run.id, max_seconds=SETTLE_SECONDS)
    retried = {
        f"{INTEGRATION}:employees:{item.key}" for item in await world.store.outcomes(done.id)
    }
    assert retried == set(failed) - {kept}


async def test_absence_failures_show_their_leave_and_succeed_once_the_employee_is_fixed(
    world: World, page: Page, shots: Screenshots
) -> None:
    bad = next(item for item in world.outcomes if item.field == "ssn" and item.outcome == "failed")
    today = datetime.date.today()
    period = {"from": str(today - datetime.timedelta(days=330)), "to": str(today)}
    request = msgspec.convert(
        {"integration": INTEGRATION, "kind": "absences", "period": period}, SyncRequest
    )
    _, leaves = await world.stack.sync(request)
    blocked = {
        f"{INTEGRATION}:absences:{item.leave_id}"
        for item in leaves
        if item.outcome == "failed" and item.employee_number == bad.employee_number
    }
    assert blocked, "the broken employee's leaves wait for the employee"

    await log_in(page, world, shots, path=f"/failures?employee_number={bad.employee_number}")
    await shots.take(page, "employee-and-leaves")
    employee_failure = f"{INTEGRATION}:employees:{bad.employee_number}"
    assert await listed(page) == blocked | {employee_failure}
    for ident in blocked:
        leave_id = ident.rsplit(":", 1)[1]
        assert f"leave {leave_id}" in await page.locator(row_of(page, ident)).inner_text()

    # Fix the employee in Simployer One and retry it; then retry its leaves, all at once.
    data = await simployer_state(world.sims)
    row = next(e for e in data.employee if e.employee_number == bad.employee_number)
    assert row.ssn is not None
    await patch_simployer(
        world.sims, "employee", row.id, {"ssn": repaired(row.ssn, fodselsnummer.is_valid)}
    )
    await page.locator(row_of(page, employee_failure)).get_by_role("button", name="Retry").click()
    await page.wait_for_url(re.compile(r"retried=1"))
    await wait_until_gone(page, world, employee_failure, shots)
    await page.goto(world.base + f"/failures?employee_number={bad.employee_number}")
    await page.get_by_role("link", name=f"Retry all {len(blocked)} matching").click()
    await page.get_by_role("button", name=f"Retry {len(blocked)}").click()
    await page.wait_for_url(re.compile(rf"retried={len(blocked)}"))
    deadline = time.monotonic() + SETTLE_SECONDS
    while await listed(page):
        assert time.monotonic() < deadline, await listed(page)
        await asyncio.sleep(0.3)
        await page.reload()
    await shots.take(page, "leaves-retried")
    latest = next(run for run in await world.store.list_runs(5) if run.kind == "absences")
    assert latest.trigger == "retry"
    # An approved leave is created now; one still awaiting approval waits (the company's
    # leaves, and so their statuses, depend on the day it was generated).
    statuses = {leave.id: leave.status for leave in data.leave}
    expected = {
        ident.rsplit(":", 1)[1]: "created"
        if statuses[ident.rsplit(":", 1)[1]] in EXPORTED
        else "skipped"
        for ident in blocked
    }
    retried = {item.leave_id: item.outcome for item in await world.store.outcomes(latest.id)}
    assert retried == expected
