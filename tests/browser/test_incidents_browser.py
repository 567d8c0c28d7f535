"""Open incidents in Chromium: an integration whose every record failed (a real worker, the
simulators) has a `failing` incident after one pass of the alerts' loop; the runs page lists it
with its numbers and a link to the integration's page, which shows it too; after a clean run
and the next pass it is gone from both, listed as resolved."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest

from payroll_sync.alerts.loop import AlertLoop
from payroll_sync.catalog import LiveCatalog
from payroll_sync.scheduler.slots import next_slot_at
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Scope, Worker
from payroll_sync.simulators import simployer as simployer_sim
from payroll_sync.simulators.generator import generate_company
from payroll_sync.stack import simulator_settings
from tests.browser.conftest import Screenshots
from tests.integration.conftest import StartSimulators
from tests.support.dashboard import OPERATOR_TOKEN, served_dashboard
from tests.support.stack import INTEGRATION, isolated_stack

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.integration

EMPLOYEES = 12


async def test_open_incidents_show_on_the_runs_page_and_the_integration_page(
    start_simulators: StartSimulators, page: Page, shots: Screenshots
) -> None:
    sims = start_simulators(
        employees=EMPLOYEES, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    settings, env = simulator_settings(
        sims,
        integration=INTEGRATION,
        rate_limit_per_second=200,
        scope=Scope(exclude=sorted(generate_company(EMPLOYEES, seed=1).broken)),
        worker=Worker(first_retry_seconds=0.2, max_retry_delay_seconds=2.0),
    )
    compensations = simployer_sim.store_of(sims.simployer_app).by_id["compensation"]
    salaries = {row_id: row["amount"] for row_id, row in compensations.items()}
    for pay in compensations.values():
        pay["amount"] = 1e9  # implausible: every record fails

    async with (
        isolated_stack(settings, env, worker_threads=4) as stack,
        aiohttp.ClientSession() as session,
    ):
        catalog = LiveCatalog.fixed(stack.settings, env)
        alerts = AlertLoop(
            catalog=catalog,
            redis=stack.redis,
            prefix=stack.prefix,
            next_slot=next_slot_at,
            enabled_since=ScheduleState(stack.redis, prefix=stack.prefix).enabled_since,
            environ={},
        )
        run, _ = await stack.sync(SyncRequest(integration=INTEGRATION), max_seconds=120)
        records = run.finished
        assert run.counts["failed"] == records > 0
        await alerts.tick(session)

        async with served_dashboard(stack.producer, catalog=catalog) as base:
            await page.goto(base + "/runs")
            await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
            await page.get_by_role("button", name="Log in").click()
            await page.wait_for_url(base + "/runs")
            section = page.get_by_role("region", name="Open incidents")
            row = section.locator("tr.incident-failing")
            assert await row.count() == 1
            text = await row.inner_text()
            assert "records failing" in text
            assert f"{records} of {records} records failed in the last run" in text
            await shots.take(page, "runs-with-incident")

            await row.get_by_role("link", name=INTEGRATION).click()
            await page.wait_for_url(f"{base}/integrations/{INTEGRATION}")
            own = page.get_by_role("region", name="Open incidents").locator("tr.incident-failing")
            assert await own.count() == 1
            assert "records failing" in await own.inner_text()
            await shots.take(page, "integration-with-incident")

            for row_id, amount in salaries.items():
                compensations[row_id]["amount"] = amount
            for _ in range(3):
                clean, _ = await stack.sync(SyncRequest(integration=INTEGRATION), max_seconds=120)
                assert clean.counts["failed"] == 0
            await alerts.tick(session)
            await page.goto(base + "/runs")
            section = page.get_by_role("region", name="Open incidents")
            assert await section.locator("tr.incident").count() == 0
            assert "Resolved in the last days (1)" in await section.inner_text()
            await shots.take(page, "runs-after-recovery")
