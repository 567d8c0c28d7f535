"""The mass-change brake in Chromium: a held run's page (its fields, counts, masked examples,
Approve and Cancel with their CSRF tokens), its confirmation, the runs page's count, all at a
1280-pixel screen.

The held runs are set up in the run store as the producer leaves them (tests/support/held_runs:
a real Redis, the status set directly; only the pages are under test here).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import redis.asyncio as aioredis

from payroll_sync.producer.producer import Producer
from payroll_sync.runs.store import RunStore
from tests.browser.conftest import Screenshots
from tests.support.dashboard import OPERATOR_TOKEN, served_dashboard
from tests.support.held_runs import EMPLOYEES, held_run
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.width import HEIGHT, WIDTH, assert_fits

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = pytest.mark.integration

# A fødselsnummer or account number, with or without separators; run ids (14 digits of a date
# and time, then a dash) are taken out of the page first.
ELEVEN_DIGITS = re.compile(r"(?<!\d)\d(?:[ .-]?\d){10}(?!\d)")
RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{8}")


@dataclass
class Held:
    base: str
    store: RunStore
    run_id: str
    decided_id: str


@pytest.fixture
async def held() -> AsyncIterator[Held]:
    redis = aioredis.Redis.from_url(REDIS_URL)
    producer = Producer(redis, unique_prefix("brakeui"))
    try:
        run_id = await held_run(producer.store)
        decided_id = await held_run(
            producer.store, decision="approved", by="dashboard:Kari Nordmann", status="done"
        )
        async with served_dashboard(producer) as base:
            yield Held(base=base, store=producer.store, run_id=run_id, decided_id=decided_id)
    finally:
        await producer.store.delete_everything()
        await redis.aclose()


@pytest.fixture
async def screen(browser: Browser) -> AsyncIterator[Page]:
    """A page at 1280 x 800, failing the test on a script error."""
    context = await browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield page
    finally:
        await context.close()
    assert problems == []


async def log_in(page: Page, base: str, path: str) -> None:
    await page.goto(base + path)
    await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(base + path)


async def no_identifier_in(page: Page) -> None:
    html = RUN_ID.sub("RUN", await page.content())
    found = ELEVEN_DIGITS.search(html)
    assert found is None, html[max(0, found.start() - 200) : found.end() + 50]


async def all_open(page: Page) -> None:
    """Every <details> open: the widest state, and every value in the HTML shown."""
    await page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")


async def test_a_held_run_shows_its_fields_masked_with_approve_and_cancel(
    held: Held, screen: Page, shots: Screenshots
) -> None:
    page = screen
    await log_in(page, held.base, f"/runs/{held.run_id}")
    await shots.take(page, "held-run")
    brake = page.get_by_role("region", name="Mass-change brake")
    alert = brake.get_by_role("alert")
    assert "Held for approval: nothing has been written." in await alert.inner_text()
    assert "Bank account" in await alert.inner_text()

    groups = brake.locator("article.brake-field")
    names = [await group.get_attribute("aria-label") for group in await groups.all()]
    # Tripped first, then the summary's order.
    assert names == ["Bank account", "Salary", "Fødselsnummer", "Employments ending"]
    account = brake.get_by_role("article", name="Bank account")
    text = await account.inner_text()
    assert f"{EMPLOYEES} of {EMPLOYEES} employees in 24SevenOffice (100.0 %) would change" in text
    assert "the brake holds at more than 20 %" in text
    assert "over the threshold" in text
    assert "and 10 more not listed here (the summary keeps 30 examples)." in text
    # Ten examples shown, the other 20 the summary keeps behind a click.
    rows = account.locator("tbody tr")
    assert await rows.count() == 30
    assert [await row.is_visible() for row in await rows.all()] == [True] * 10 + [False] * 20
    assert await rows.first.locator("td").all_inner_texts() == ["10000", "•••••••9071", "(empty)"]
    await account.get_by_text("20 more examples").click()
    assert await rows.nth(29).is_visible()
    assert await rows.nth(29).locator("td").all_inner_texts() == [
        "10029",
        "•••••••8903",
        "(empty)",
    ]
    personnr = brake.get_by_role("article", name="Fødselsnummer")
    assert "below the threshold" in await personnr.inner_text()
    assert await personnr.locator("tbody tr").first.locator("td").all_inner_texts() == [
        "10000",
        "•••••••0850",
        "•••••••0565",
    ]
    # A salary only behind a click, as in a record's diff.
    salary = brake.get_by_role("article", name="Salary")
    assert not await salary.get_by_text("41000.00").is_visible()
    await salary.get_by_text("hidden, show").first.click()
    await shots.take(page, "held-run-salary", only=salary)

    await all_open(page)
    await no_identifier_in(page)
    await assert_fits(page, "held run")

    # Approve: its form carries the session's CSRF token, asks who, and says what it writes.
    approve = page.locator("form#approve")
    csrf = await approve.locator('input[name="csrf"]').get_attribute("value")
    logout_csrf = await page.locator('form[action="/logout"] input[name="csrf"]').get_attribute(
        "value"
    )
    assert csrf
    assert csrf == logout_csrf
    button = approve.get_by_role("button", name=f"Approve: write {EMPLOYEES} records")
    assert await button.is_visible()
    # Without a name the browser does not send it.
    await button.click()
    assert page.url == f"{held.base}/runs/{held.run_id}"
    assert await approve.get_by_label("Your name").evaluate("e => !e.validity.valid")

    # Cancel asks first, on a page of its own.
    await brake.get_by_role("button", name="Cancel the run…").click()
    await page.wait_for_url(f"{held.base}/runs/{held.run_id}/cancel")
    await shots.take(page, "confirm-cancel")
    assert f"none of its {EMPLOYEES} records is written" in await page.locator("main").inner_text()
    form = page.locator("form#cancel")
    assert await form.locator('input[name="csrf"]').get_attribute("value") == csrf
    assert await form.get_by_role("button", name="Cancel the run, write nothing").is_visible()
    await no_identifier_in(page)
    await assert_fits(page, "confirm cancel")
    await page.get_by_role("link", name="Back to the run").click()
    await page.wait_for_url(f"{held.base}/runs/{held.run_id}")

    # Nothing was decided by looking.
    summary = await held.store.brake_summary(held.run_id)
    assert summary is not None
    assert summary.decision == "held"


async def test_the_runs_page_counts_held_runs_and_a_decided_one_is_collapsed(
    held: Held, screen: Page, shots: Screenshots
) -> None:
    page = screen
    await log_in(page, held.base, "/runs")
    banner = page.get_by_role("region", name="Runs awaiting approval")
    assert "1 run awaits approval" in await banner.inner_text()
    row = page.locator("tr", has=page.get_by_role("link", name=held.run_id))
    assert "waiting for approval" in await row.inner_text()
    await shots.take(page, "runs-with-held")
    await assert_fits(page, "runs")
    await banner.get_by_role("link").click()
    await page.wait_for_url(f"{held.base}/runs/{held.run_id}")

    await page.goto(f"{held.base}/runs/{held.decided_id}")
    brake = page.get_by_role("region", name="Mass-change brake")
    summary = brake.locator("details > summary").first
    assert re.fullmatch(
        r"Approved by dashboard:Kari Nordmann at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d; "
        r"over the threshold: Bank account",
        (await summary.inner_text()).strip(),
    )
    assert not await brake.get_by_role("article", name="Bank account").is_visible()
    assert await page.locator("form#approve").count() == 0
    await summary.click()
    assert await brake.get_by_role("article", name="Bank account").is_visible()
    await shots.take(page, "approved-run")
    await all_open(page)
    await no_identifier_in(page)
    await assert_fits(page, "approved run")
