"""Issue 16's brake end to end from the dashboard, in Chromium: both simulators over HTTP, the
producer and a Dramatiq worker (the local stack's, on the real Redis), and the dashboard.

Every bank account blanked in Simployer One: the next sync holds; the run's page shows it with
nothing written; **Approve** (with a name) -> the run goes on and 24SevenOffice gets the blank
accounts. The accounts put back: the next sync holds again; **Cancel the run…** -> confirmed ->
the run is `cancelled` and 24SevenOffice gets no write. A page still showing Approve for that
cancelled run is answered with the refusal, not a 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import msgspec
import pytest

from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import Run
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.stack import Stack
from tests.browser.conftest import Screenshots
from tests.integration.conftest import StartSimulators
from tests.support.dashboard import OPERATOR_TOKEN, served_dashboard
from tests.support.simulator_admin import (
    payroll_requests,
    payroll_rows,
    put_simployer_state,
    reset_payroll_requests,
    simployer_rows,
)
from tests.support.stack import INTEGRATION, sync_stack
from tests.support.waiting import wait_for
from tests.support.width import HEIGHT, WIDTH, assert_fits

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = pytest.mark.integration

EMPLOYEES: Final = 20
SETTLE_SECONDS: Final = 120.0
WRITES: Final = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class World:
    sims: RunningSimulators
    stack: Stack
    base: str


@pytest.fixture
async def world(start_simulators: StartSimulators) -> AsyncIterator[World]:
    """The company synced once (nothing held: nothing to compare yet), the dashboard on it."""
    sims = start_simulators(
        employees=EMPLOYEES, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    async with sync_stack(sims, worker_threads=4) as stack:
        first, _ = await stack.sync(SyncRequest(integration=INTEGRATION))
        assert first.status == "done", first
        assert first.counts["created"] > 0
        async with served_dashboard(stack.producer) as base:
            yield World(sims=sims, stack=stack, base=base)


@pytest.fixture
async def screen(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def accounts(sims: RunningSimulators) -> dict[str, str]:
    rows = await payroll_rows(sims)
    return {str(row["empId"]): str(row.get("account") or "") for row in rows["employee"]}


async def payroll_writes(sims: RunningSimulators) -> list[str]:
    report = await payroll_requests(sims, log=True)
    return [
        f"{entry['method']} {entry['path']}"
        for entry in report.get("log", [])
        if entry.get("method") in WRITES
    ]


async def held_sync(world: World) -> Run:
    """A sync that the brake holds; the payroll simulator's request log starts afresh."""
    await reset_payroll_requests(world.sims)
    run, _ = await world.stack.sync(SyncRequest(integration=INTEGRATION))
    assert run.status == "awaiting_approval", run
    assert await payroll_writes(world.sims) == []
    return run


async def settled(world: World, run_id: str) -> Run:
    async def done() -> bool:
        run = await world.stack.store.get_run(run_id)
        return run is not None and run.status == "done"

    await wait_for(done, f"run {run_id} done", within=SETTLE_SECONDS, every=0.1)
    run = await world.stack.store.get_run(run_id)
    assert run is not None
    return run


async def test_approve_writes_the_held_run_and_cancel_writes_nothing(
    world: World, screen: Page, shots: Screenshots
) -> None:
    sims, page = world.sims, screen
    before = await accounts(sims)
    with_account = {number for number, account in before.items() if account}
    assert with_account

    # Every bank account blanked in Simployer One, as a damaged import would.
    original = msgspec.json.decode(await simployer_rows(sims))
    blanked = msgspec.json.decode(await simployer_rows(sims))
    for row in blanked["employee"]:
        row["bankAccount"] = None
    await put_simployer_state(sims, blanked)
    held = await held_sync(world)

    # The runs page says so; the run's page shows the accounts, masked, and nothing written.
    await page.goto(world.base + "/runs")
    await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(world.base + "/runs")
    banner = page.get_by_role("region", name="Runs awaiting approval")
    assert "1 run awaits approval" in await banner.inner_text()
    await banner.get_by_role("link").click()
    await page.wait_for_url(f"{world.base}/runs/{held.id}")
    await shots.take(page, "held")
    brake = page.get_by_role("region", name="Mass-change brake")
    assert "Held for approval: nothing has been written." in await brake.inner_text()
    account = brake.get_by_role("article", name="Bank account")
    n = len(with_account)
    assert f"{n} of {n} employees in 24SevenOffice (100.0 %) would change" in (
        await account.inner_text()
    )
    html = await page.content()
    for number in with_account:
        assert before[number] not in html
    await assert_fits(page, "held run")

    # Approve, with a name: back on the run's page, which says so; the run writes.
    await brake.get_by_label("Your name").fill("Kari Nordmann")
    await brake.get_by_role("button", name=f"Approve: write {held.total} records").click()
    await page.wait_for_url(f"{world.base}/runs/{held.id}?decided=approved")
    notice = page.get_by_role("status")
    assert (await notice.inner_text()).startswith("Approved by dashboard:Kari Nordmann")
    done = await settled(world, held.id)
    assert done.counts["updated"] == n
    after = await accounts(sims)
    assert {after[number] for number in with_account} == {""}
    # Each employee with an account got its write (the held run's other records too).
    writes = set(await payroll_writes(sims))
    assert {f"POST /api/employee/v2/{number}" for number in with_account} <= writes
    summary = await world.stack.store.brake_summary(held.id)
    assert summary is not None
    assert (summary.decision, summary.decided_by) == ("approved", "dashboard:Kari Nordmann")
    await page.reload()
    await shots.take(page, "approved")
    assert (
        "Approved by dashboard:Kari Nordmann at"
        in await page.get_by_role("region", name="Mass-change brake")
        .locator("summary")
        .first.inner_text()
    )

    # The accounts put back in Simployer One: every one changes again, and the sync holds.
    await put_simployer_state(sims, original)
    again = await held_sync(world)
    await page.goto(f"{world.base}/runs/{again.id}")
    # A second tab left on the held run's page, its Approve form still showing.
    stale = await page.context.new_page()
    await stale.goto(f"{world.base}/runs/{again.id}")

    await page.get_by_role("button", name="Cancel the run…").click()
    await page.wait_for_url(f"{world.base}/runs/{again.id}/cancel")
    await shots.take(page, "confirm-cancel")
    await page.get_by_label("Your name").fill("Ola")
    await page.get_by_role("button", name="Cancel the run, write nothing").click()
    await page.wait_for_url(f"{world.base}/runs/{again.id}?decided=cancelled")
    await shots.take(page, "cancelled")
    assert "Cancelled by dashboard:Ola: nothing was written to 24SevenOffice." in (
        await page.get_by_role("status").inner_text()
    )
    cancelled = await world.stack.store.get_run(again.id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"
    assert "cancelled" in await page.locator("main table").first.inner_text()

    # Approving it from the stale tab is refused with the producer's words, not a 500.
    await stale.get_by_label("Your name").fill("Kari")
    async with stale.expect_response(f"{world.base}/runs/{again.id}/approve") as answer:
        await stale.get_by_role("button", name=f"Approve: write {again.total} records").click()
    assert (await answer.value).status == 409
    alert = await stale.get_by_role("alert").first.inner_text()
    assert "not awaiting approval" in alert, alert
    await shots.take(stale, "refused")
    await stale.close()

    # Nothing was written for the cancelled run: none of its records was ever sent.
    assert await payroll_writes(sims) == []
    assert await accounts(sims) == after
    final = await world.stack.store.get_run(again.id)
    assert final is not None
    assert (final.status, final.finished) == ("cancelled", 0)
