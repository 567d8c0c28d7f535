"""What a worker process holds open: settings, one aiohttp session, Redis, clients per integration.

Created lazily on the AsyncIO middleware's event loop (sessions and Redis connections belong to
the loop that made them) and closed when the worker shuts down.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import redis.asyncio as aioredis

from payroll_sync.config import credentials, integration
from payroll_sync.connectors.payroll import PayrollAuth, PayrollClient
from payroll_sync.connectors.ratelimit import RateLimit, SharedRateLimiter
from payroll_sync.connectors.simployer import SimployerClient
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.settings import Integration, Settings


class WorkerContext:
    def __init__(
        self,
        *,
        settings: Settings,
        redis: aioredis.Redis,
        prefix: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.store = RunStore(redis, prefix=prefix)
        self.limiter = SharedRateLimiter(
            redis,
            key_prefix=f"{prefix}:ratelimit",
            max_wait=settings.worker.max_rate_wait_seconds,
        )
        self._env = env
        self._timeout = aiohttp.ClientTimeout(total=settings.worker.request_timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._payroll: dict[str, PayrollClient] = {}
        self._simployer: dict[str, SimployerClient] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Enough connections for every worker thread's record to have a request in flight.
            connector = aiohttp.TCPConnector(limit=100, limit_per_host=50)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    def integration(self, integration_id: str) -> Integration:
        return integration(self.settings, integration_id)

    def rate_limit(self, integration_id: str) -> RateLimit:
        settings = self.integration(integration_id)
        return RateLimit(per_second=settings.rate_limit_per_second, burst=settings.burst)

    def payroll(self, integration_id: str) -> PayrollClient:
        client = self._payroll.get(integration_id)
        if client is None:
            settings = self.integration(integration_id)
            tokens = credentials(settings, self._env)
            limit = self.rate_limit(integration_id)

            async def wait_for_slot() -> None:
                await self.limiter.acquire(integration_id, limit)

            auth = PayrollAuth(
                self.session,
                settings.payroll_url,
                tokens.payroll_token,
                before_request=wait_for_slot,
                timeout=self._timeout,
            )
            client = PayrollClient(
                self.session,
                settings.payroll_url,
                auth,
                before_request=wait_for_slot,
                timeout=self._timeout,
            )
            self._payroll[integration_id] = client
        return client

    def simployer(self, integration_id: str) -> SimployerClient:
        client = self._simployer.get(integration_id)
        if client is None:
            settings = self.integration(integration_id)
            tokens = credentials(settings, self._env)
            client = SimployerClient(
                self.session,
                settings.simployer_url,
                tokens.simployer_token,
                timeout=self._timeout,
            )
            self._simployer[integration_id] = client
        return client

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.redis.aclose()
