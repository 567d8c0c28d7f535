"""The two API clients of one integration, built one way for the worker, producer and CLI."""

from __future__ import annotations

from typing import NamedTuple

import aiohttp

from payroll_sync.config import Credentials
from payroll_sync.connectors.http import BeforeRequest
from payroll_sync.connectors.payroll import PayrollAuth, PayrollClient
from payroll_sync.connectors.ratelimit import RateLimit, SharedRateLimiter
from payroll_sync.connectors.simployer import SimployerClient
from payroll_sync.schemas.settings import Integration


class IntegrationClients(NamedTuple):
    simployer: SimployerClient
    payroll: PayrollClient


def integration_clients(
    session: aiohttp.ClientSession,
    integration: Integration,
    tokens: Credentials,
    *,
    timeout: aiohttp.ClientTimeout,
    limiter: SharedRateLimiter | None = None,
    limiter_key: str = "",
) -> IntegrationClients:
    """Clients for `integration`; with a limiter, every 24SevenOffice request (the token
    exchange too) first waits for a slot of the integration's shared rate limit."""
    wait_for_slot: BeforeRequest | None = None
    if limiter is not None:
        limit = RateLimit(per_second=integration.rate_limit_per_second, burst=integration.burst)

        async def wait_for_slot() -> None:
            await limiter.acquire(limiter_key, limit)

    auth = PayrollAuth(
        session,
        integration.payroll_url,
        tokens.payroll_token,
        before_request=wait_for_slot,
        timeout=timeout,
    )
    return IntegrationClients(
        simployer=SimployerClient(
            session, integration.simployer_url, tokens.simployer_token, timeout=timeout
        ),
        payroll=PayrollClient(
            session,
            integration.payroll_url,
            auth,
            before_request=wait_for_slot,
            timeout=timeout,
        ),
    )
