"""The 1280-pixel rule in Chromium: every dashboard page, filled with long realistic content
(many failures with long reasons, long diffs, many runs), fits a 1280 x 800 screen without
sideways scrolling, neither of the page nor of a table inside it.

Runs are seeded as a worker records them (no worker needed: only the layout is under test).
The pages that need the integration registry (the settings form, the removal's confirmation) are
measured over a registry in a PostgreSQL database of the test's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import pytest
import redis.asyncio as aioredis

from payroll_sync.catalog import LiveCatalog
from payroll_sync.config import Environment
from payroll_sync.producer.producer import Producer
from payroll_sync.registry.records import TokensUpdate
from payroll_sync.registry.store import Registry
from payroll_sync.schemas.absence_codes import ABSENCE_CODES
from payroll_sync.schemas.outcomes import FieldChange
from payroll_sync.schemas.settings import Absences, Integration, Schedule, Scope, Settings
from tests.browser.conftest import Screenshots
from tests.support.dashboard import OPERATOR_TOKEN, served_dashboard
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.postgres import database_url, registry, secret_keys
from tests.support.runs import Seed, seed_run
from tests.support.width import HEIGHT, WIDTH, assert_fits

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

__all__ = ["database_url", "registry", "secret_keys"]

pytestmark = pytest.mark.integration

LONG_NAME = "a-rather-long-company-name-ab"
LONG_REASONS = [
    "bank account 6011.46.39071 fails its modulus-11 check digit: fix the account number in "
    "Simployer One (Employee → Payment details → Bank account) and retry",
    "24SevenOffice refused the employment: the employment's start date 2026-02-30 is not a "
    "calendar date, and the position percentage 140 is outside 0–100 (Employment → Position)",
    "identity conflict: 24SevenOffice holds this person under employee number 104417 already; "
    "merge the two in 24SevenOffice or correct the employee number in Simployer One",
]
LONG_DIFF = [
    FieldChange(field="employment.occupation_code_description", old="", new="Konsulent " * 8),
    FieldChange(field="employment.employment_rate", old="80.00", new="100.00"),
    FieldChange(field="email", old="", new="kari.nordmann-hansen.long.address@example-company.no"),
    FieldChange(field="account", old="", new="60114639071"),
    FieldChange(field="salary", old="", new="67800.00"),
]


NAMES = [
    f"{number:02d}-{'a-company-with-a-very-long-integration-id-' * 2}"[:64] for number in range(30)
]
LONG_SETTINGS = Integration(
    simployer_url="https://api.simployer.example/v1/" + "tenant-0b8f3c5e7d/" * 4,
    simployer_token_env="A_VERY_LONG_ENVIRONMENT_VARIABLE_NAME_FOR_THE_SIMPLOYER_ONE_TOKEN",
    payroll_url="https://api.24sevenoffice.example/api/" + "client-4f1a9e/" * 5,
    payroll_token_env="A_VERY_LONG_ENVIRONMENT_VARIABLE_NAME_FOR_THE_24SO_PAYROLL_TOKEN",
    scope=Scope(
        departments=[f"department-{n:04d}-0b8f3c5e" for n in range(40)],
        offices=[f"office-{n:03d}" for n in range(30)],
        employees=[str(10_000 + n) for n in range(60)],
        exclude=[str(20_000 + n) for n in range(60)],
    ),
    schedule=Schedule(
        enabled=True,
        weekdays=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        times=["06:00", "09:30", "12:00", "15:45", "18:00", "21:15"],
        absences=True,
    ),
)


# In the registry: every code ticked, overrides with long leave type names. Its URLs lead to a
# closed port, so the form's pick lists say at once why they could not be read.
REGISTERED = msgspec.structs.replace(
    LONG_SETTINGS,
    simployer_url="http://127.0.0.1:9/v1/" + "tenant-0b8f3c5e7d/" * 4,
    simployer_token_env=None,
    payroll_url="http://127.0.0.1:9/api/" + "client-4f1a9e/" * 5,
    payroll_token_env=None,
    absences=Absences(
        codes=[row.code for row in ABSENCE_CODES],
        overrides={
            f"{row.leave_type} (local agreement, {'x' * 40})": row.code for row in ABSENCE_CODES
        },
    ),
)


@dataclass
class Seeded:
    base: str
    run_id: str
    absence_run_id: str


@pytest.fixture
async def seeded() -> AsyncIterator[Seeded]:
    """A dashboard over 60 failures with long reasons and diffs, and 50 runs."""
    redis = aioredis.Redis.from_url(REDIS_URL)
    producer = Producer(redis, unique_prefix("width"))
    try:
        records = [
            Seed(
                str(10_000 + number),
                reason=LONG_REASONS[number % len(LONG_REASONS)],
                field="employment.occupation_code_description_and_more",
                diff=LONG_DIFF,
                attempt=7,
            )
            for number in range(60)
        ]
        records += [Seed(str(20_000 + n), "updated", diff=LONG_DIFF) for n in range(20)]
        run_id = await seed_run(producer.store, records, integration=LONG_NAME)
        absence_run_id = await seed_run(
            producer.store,
            [
                Seed(f"leave-{n:08d}-{'x' * 24}", employee_number=str(30_000 + n), diff=LONG_DIFF)
                for n in range(10)
            ],
            kind="absences",
        )
        for _ in range(48):
            await seed_run(producer.store, [Seed("1", "created")])
        # The settings file of a deployment without a registry: 30 integrations with ids of
        # the longest kind, schedules on, scopes listed in full.
        catalog = LiveCatalog.fixed(Settings(integrations={name: LONG_SETTINGS for name in NAMES}))
        for name in NAMES[:5]:
            await seed_run(producer.store, records[:3], integration=name)
        async with served_dashboard(producer, catalog=catalog) as base:
            yield Seeded(base=base, run_id=run_id, absence_run_id=absence_run_id)
    finally:
        await producer.store.delete_everything()
        await redis.aclose()


@pytest.fixture
async def narrow_page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def visit(page: Page, url: str, what: str, shots: Screenshots) -> None:
    answer = await page.goto(url)
    assert answer is not None
    assert answer.ok, (url, answer.status)
    # Every <details> open: the widest state a person can put the page in.
    await page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    await shots.take(page, what)
    # The first table's first rows at full size, where a cut-off column would show.
    tables = page.locator("main table")
    if await tables.count():
        await shots.take(page, f"{what}-rows", only=tables.first.locator("tbody tr").first)
    await assert_fits(page, what)


async def test_every_existing_page_fits_1280_pixels(
    seeded: Seeded, narrow_page: Page, shots: Screenshots
) -> None:
    page = narrow_page
    await page.goto(seeded.base + "/login")
    await shots.take(page, "login")
    await assert_fits(page, "login")
    await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(seeded.base + "/runs")

    await visit(page, seeded.base + "/runs", "runs", shots)
    await visit(page, seeded.base + f"/runs/{seeded.run_id}", "run", shots)
    await visit(page, seeded.base + f"/runs/{seeded.absence_run_id}", "absence-run", shots)
    await visit(page, seeded.base + "/failures", "failures", shots)
    await visit(page, seeded.base + "/failures?reason=bank", "failures-filtered", shots)
    await visit(page, seeded.base + "/failures/retry-all", "confirm-retry-all", shots)
    await visit(page, seeded.base + "/integrations", "integrations", shots)
    await visit(page, seeded.base + f"/integrations/{NAMES[0]}", "integration", shots)
    await visit(page, seeded.base + f"/integrations/{NAMES[0]}/export", "export", shots)
    answer = await page.goto(seeded.base + "/runs/no-such-run")
    assert answer is not None
    assert answer.status == 404
    await assert_fits(page, "error")


async def test_the_pages_of_the_registry_fit_1280_pixels(
    tmp_path: Path,
    registry: Registry,
    database_url: str,
    secret_keys: str,
    narrow_page: Page,
    shots: Screenshots,
) -> None:
    """The settings form with every field filled at its longest, and the removal's
    confirmation, of an integration with an id of the longest kind."""
    name = NAMES[0]
    tokens = TokensUpdate(simployer_token="s-token-width", payroll_token="p-token-width")
    await registry.put(name, REGISTERED, tokens)
    config = tmp_path / "integrations.toml"
    config.write_text("")
    env = Environment(
        config_path=str(config), redis_url=REDIS_URL, prefix="unused", database_url=database_url
    )
    catalog = await LiveCatalog.open(env, environ={"PAYROLL_SYNC_SECRET_KEY": secret_keys})
    redis = aioredis.Redis.from_url(REDIS_URL)
    producer = Producer(redis, unique_prefix("width"))
    page = narrow_page
    try:
        async with served_dashboard(producer, catalog=catalog, registry=registry) as base:
            await page.goto(base + "/login")
            await page.get_by_label("Operator token").fill(OPERATOR_TOKEN)
            await page.get_by_role("button", name="Log in").click()
            await page.wait_for_url(base + "/runs")
            await visit(page, base + f"/integrations/{name}", "registered-integration", shots)
            await visit(page, base + f"/integrations/{name}/edit", "settings-form", shots)
            await visit(page, base + f"/integrations/{name}/remove", "confirm-remove", shots)
            # Refused (a wrong id typed), the page says so beside the form.
            await page.get_by_label("Type the integration's id").fill("not-" + name[:20])
            await page.get_by_role("button", name=f"Remove {name}").click()
            await page.get_by_role("alert").wait_for()
            await shots.take(page, "confirm-remove-refused")
            await assert_fits(page, "confirm-remove-refused")
            assert await registry.get(name) is not None
    finally:
        await producer.store.delete_everything()
        await redis.aclose()
        await catalog.close()
