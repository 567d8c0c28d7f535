"""Browser tests: Debian's Chromium driven by Playwright, against a served dashboard, a real
Dramatiq worker on the real Redis and both simulators.

Never `playwright install`: the browser is /usr/bin/chromium (`apt-get install chromium`).
Locally the tests skip when it (or the playwright package) is missing; with `CI` set they fail
instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

# The simulator fixtures, shared with the integration tests.
from tests.integration.conftest import http, sims, start_simulators
from tests.support.postgres import database_url, registry, secret_keys

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Locator, Page

__all__ = ["database_url", "http", "registry", "secret_keys", "sims", "start_simulators"]

CHROMIUM: Final = Path("/usr/bin/chromium")
SCREENSHOTS: Final = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the playwright package is missing (pip install -e '.[dev]')")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A page that fails the test on a script error or a Content-Security-Policy violation."""
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        # A 401 or 403 page is an expected answer, not a problem of the page.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", on_console)
    yield page
    assert problems == [], "errors in the browser console"


class Screenshots:
    """Saves numbered full-page screenshots under build/screenshots/<test name>-NN-<what>.png."""

    def __init__(self, name: str) -> None:
        self.name = re.sub(r"[^A-Za-z0-9_-]+", "_", name)
        self.taken: list[Path] = []

    async def take(self, page: Page, what: str, *, only: Locator | None = None) -> Path:
        """The whole page, or `only` one element of it (a row of a long table)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{len(self.taken) + 1:02d}-{what}.png"
        if only is None:
            await page.screenshot(path=str(path), full_page=True)
        else:
            await only.screenshot(path=str(path))
        self.taken.append(path)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(request.node.name)
