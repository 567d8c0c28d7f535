"""The two API clients of one integration, built one way for the worker, producer and CLI."""

from __future__ import annotations

from typing import NamedTuple

import aiohttp

from payroll_sync.config import Credentials
from payroll_sync.connectors.http import BeforeRequest
from payroll_sync.connectors.payroll import PayrollAuth, PayrollClient
from payroll_sync.connectors.ratelimit import RateLimit, SharedRateLimiter
from payroll_sync.connectors.retrying import OnRetry, ReadRetry
from payroll_sync.connectors.simployer import SimployerClient
from payroll_sync.errors import RateLimited, Retryable
from payroll_sync.metrics.definitions import RATE_LIMIT_WAIT, RATE_LIMIT_WAITED
from payroll_sync.schemas.settings import Integration


def simployer_limit_key(integration_id: str) -> str:
    """The shared limiter's key for an integration's Simployer One reads (24SevenOffice's is
    the integration id itself; an id holds no colon, so the two never meet)."""
    return f"{integration_id}:simployer"


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
    read_retry: ReadRetry | None = None,
    on_retry: OnRetry | None = None,
) -> IntegrationClients:
    """Clients for `integration`; with a limiter, every 24SevenOffice request (the token
    exchange too) first waits for a slot of the integration's shared rate limit, and every
    Simployer One request for one of its own (`simployer_limit_key`), which a 429 from
    Simployer One pushes back. `read_retry`: Simployer One requests are retried one by one
    (the producer's bulk reads; see connectors/retrying.py), `on_retry` hearing of each."""
    wait_for_slot: BeforeRequest | None = None
    wait_for_read: BeforeRequest | None = None
    heard = on_retry
    if limiter is not None:
        limit = RateLimit(per_second=integration.rate_limit_per_second, burst=integration.burst)
        read_limit = RateLimit(
            per_second=integration.simployer_rate_limit_per_second,
            burst=integration.simployer_burst,
        )
        read_key = simployer_limit_key(limiter_key)

        def counted_wait(key: str, rate: RateLimit, api: str) -> BeforeRequest:
            # The seconds each request waited for its slot (a deferral is counted by the worker).
            waits = RATE_LIMIT_WAIT.labels(api)
            waited_in_all = RATE_LIMIT_WAITED.labels(limiter_key, api)

            async def wait() -> None:
                waited = max(0.0, await limiter.acquire(key, rate))
                waits.observe(waited)
                waited_in_all.inc(waited)

            return wait

        wait_for_slot = counted_wait(limiter_key, limit, "payroll")
        wait_for_read = counted_wait(read_key, read_limit, "simployer")

        async def heard(error: Retryable, attempt: int, wait: float) -> None:
            if isinstance(error, RateLimited):
                # No process of the deployment reads before Retry-After.
                await limiter.penalise(read_key, wait)
            if on_retry is not None:
                await on_retry(error, attempt, wait)

    auth = PayrollAuth(
        session,
        integration.payroll_url,
        tokens.payroll_token,
        before_request=wait_for_slot,
        timeout=timeout,
        integration=limiter_key,
    )
    return IntegrationClients(
        simployer=SimployerClient(
            session,
            integration.simployer_url,
            tokens.simployer_token,
            timeout=timeout,
            before_request=wait_for_read,
            retry=read_retry,
            on_retry=heard,
            integration=limiter_key,
        ),
        payroll=PayrollClient(
            session,
            integration.payroll_url,
            auth,
            before_request=wait_for_slot,
            timeout=timeout,
        ),
    )
