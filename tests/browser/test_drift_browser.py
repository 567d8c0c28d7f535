"""The drift page in Chromium: a company synced by a real worker, one employee's account number
changed in the 24SevenOffice simulator, then **Check for drift now** pressed on the page, which
follows the dry run until it shows that employee's account as drift, masked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import msgspec
import pytest

from payroll_sync.catalog import LiveCatalog
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.simulators.serve import RunningSimulators
from tests.browser.conftest import Screenshots
from tests.support.dashboard import OPERATOR_TOKEN, served_dashboard
from tests.support.simulator_admin import payroll_state, put_payroll_state
from tests.support.stack import INTEGRATION, sync_stack

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = pytest.mark.integration

EDITED_ACCOUNT: Final = "15039912345"


async def test_check_for_drift_now_shows_a_payroll_edit_masked(
    sims: RunningSimulators, page: Page, shots: Screenshots
) -> None:
    async with sync_stack(sims) as stack:
        _, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        number = min((o.employee_number for o in outcomes if o.outcome == "created"), key=int)
        state = await payroll_state(sims)
        (before,) = [row for row in state.employee if row.emp_id == number]
        state.employee = [
            msgspec.structs.replace(row, account=EDITED_ACCOUNT) if row.emp_id == number else row
            for row in state.employee
        ]
        await put_payroll_state(sims, state)

        catalog = LiveCatalog.fixed(stack.settings, stack.env)
        async with served_dashboard(stack.producer, catalog=catalog) as base:
            await page.goto(f"{base}/integrations/{INTEGRATION}")
            await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
            await page.get_by_role("button", name="Log in").click()
            await page.wait_for_url(f"{base}/integrations/{INTEGRATION}")
            await page.get_by_role("button", name="Drift…").click()
            await page.wait_for_url(f"{base}/integrations/{INTEGRATION}/drift")
            message = page.locator("#drift-message")
            assert "not a dry run" in (await message.inner_text())
            await shots.take(page, "before")

            await page.get_by_role("button", name="Check for drift now").click()
            row = page.locator(f'tr[data-employee="{number}"][data-field="account"]')
            # The page reloads itself until the dry run is done.
            await row.wait_for(timeout=60_000)
            await shots.take(page, "drift")
            cells = await row.locator("td").all_inner_texts()
            assert cells[0] == number
            assert cells[1] == "•" * 7 + EDITED_ACCOUNT[-4:]
            assert cells[2] == "•" * 7 + before.account[-4:]
            assert await page.locator("tr[data-employee]").count() == 1
            content = await page.content()
            assert EDITED_ACCOUNT not in content
            assert before.account not in content
