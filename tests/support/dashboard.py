"""The dashboard as its integration and browser tests meet it: the operator token, the app
served on a loopback port, the CSRF token of a page, a broken identifier put right."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from payroll_sync.catalog import LiveCatalog
from payroll_sync.dashboard.app import create_app
from payroll_sync.producer.producer import Producer
from payroll_sync.registry.store import Registry

OPERATOR_TOKEN = "operator-token-for-tests-0b8f3c"


@asynccontextmanager
async def served_dashboard(
    producer: Producer,
    *,
    token: str = OPERATOR_TOKEN,
    catalog: LiveCatalog | None = None,
    registry: Registry | None = None,
) -> AsyncIterator[str]:
    """The dashboard on a free loopback port; yields its base URL (no trailing slash)."""
    app = create_app(
        producer=producer,
        operator_token=token,
        login_delay=0.0,
        catalog=catalog,
        registry=registry,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def repaired(number: str, is_valid: Callable[[str], bool]) -> str:
    """The generator breaks a fødselsnummer or account number by its last digit: put it right."""
    return next(number[:-1] + digit for digit in "0123456789" if is_valid(number[:-1] + digit))
