"""Test an integration's two tokens now (the wizard's "Next" step).

One cheap authenticated read on each side, both at once, through the clients the sync itself
uses: Simployer One's `check()` (one employee id), and 24SevenOffice's (the token exchange, then
the absence types). A person is waiting, so there is one attempt per side and a deadline of
`CHECK_SECONDS`; no retry. What went wrong is worded by `side_reason`, a pure function of the
error, so each reason is tested without a server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Final
from urllib.parse import urlsplit

import aiohttp
import structlog

from payroll_sync.config import Credentials
from payroll_sync.connectors.answers import API_NAMES, Api
from payroll_sync.connectors.clients import integration_clients
from payroll_sync.errors import ConfigError, RateLimited, Retryable, SyncError
from payroll_sync.registry.records import ConnectionCheck, SideCheck
from payroll_sync.schemas.settings import Integration

log = structlog.get_logger("payroll_sync.wizard")

#: How long a side may take before it "did not answer".
CHECK_SECONDS: Final = 10.0
# Each request's own timeout is longer, so that a slow side always ends at the deadline above
# (worded "did not answer within 10 s") and a transport error always means "no connection".
_REQUEST_TIMEOUT: Final = aiohttp.ClientTimeout(total=CHECK_SECONDS + 5)
_URL_FIELD: Final[dict[Api, str]] = {"simployer": "simployer_url", "payroll": "payroll_url"}


async def check_connection(
    integration: Integration,
    credentials: Credentials,
    *,
    session: aiohttp.ClientSession,
    now: float,
    timeout_seconds: float = CHECK_SECONDS,
) -> ConnectionCheck:
    """One cheap authenticated read on each side, both at once; each side's `reason` says what
    went wrong in words a person can act on ("24SevenOffice refused the token (HTTP 401)",
    "Simployer One did not answer within 10 s")."""
    clients = integration_clients(session, integration, credentials, timeout=_REQUEST_TIMEOUT)
    simployer, payroll = await asyncio.gather(
        _side("simployer", clients.simployer.check(), integration, timeout_seconds),
        _side("payroll", clients.payroll.check(), integration, timeout_seconds),
    )
    return ConnectionCheck(checked_at=now, simployer=simployer, payroll=payroll)


async def _side(
    api: Api, probe: Awaitable[None], integration: Integration, timeout_seconds: float
) -> SideCheck:
    url = integration.simployer_url if api == "simployer" else integration.payroll_url
    try:
        await asyncio.wait_for(probe, timeout_seconds)
    except TimeoutError:
        return SideCheck(ok=False, reason=did_not_answer(api, url, timeout_seconds))
    except SyncError as error:
        return SideCheck(ok=False, reason=side_reason(api, error, url))
    except Exception as error:  # a bug of ours: the person still gets an answer
        log.error("wizard.check_crashed", api=api, error_type=type(error).__name__)
        return SideCheck(ok=False, reason=f"{API_NAMES[api]}: the check failed unexpectedly")
    return SideCheck(ok=True)


def host_of(url: str) -> str:
    """`host:port` of a base URL (never its path, query or any user info)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def place_of(url: str) -> str:
    """`host:port/path` of a base URL: where it points, without any user info or query."""
    return host_of(url) + urlsplit(url).path


def did_not_answer(api: Api, url: str, seconds: float) -> str:
    return f"{API_NAMES[api]} did not answer within {seconds:g} s at {host_of(url)}"


def side_reason(api: Api, error: SyncError, url: str) -> str:
    """What a failed check of one side means, for the person who typed the settings. Pure."""
    name, field = API_NAMES[api], _URL_FIELD[api]
    status = error.status
    if isinstance(error, ConfigError) and status in (401, 403):
        return f"{name} refused the token (HTTP {status}); check {api}_token"
    if status == 404:
        return f"{name} was not found at {place_of(url)} (HTTP 404); check {field}"
    if isinstance(error, RateLimited):
        return f"{name} is busy (rate limit, HTTP 429); try again shortly"
    if status is not None and (status >= 500 or status == 408):
        return f"{name} is not working right now (HTTP {status}); try again later"
    if status is None and isinstance(error, Retryable):
        # No answer at all: connection refused, unknown host, a reset (timeouts end earlier).
        return f"{name} did not answer at {host_of(url)} (no connection); check {field}"
    # Another 4xx, or a 2xx in a shape the API never sends: something else answers at the URL.
    return f"{name} gave an unexpected answer ({error.reason}); check {field}"
