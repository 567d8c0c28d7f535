"""What a worker process holds open: settings, one aiohttp session, Redis, clients per integration.

Created lazily on the AsyncIO middleware's event loop (sessions and Redis connections belong to
the loop that made them) and closed when the worker shuts down.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import redis.asyncio as aioredis

from payroll_sync.config import credentials, integration
from payroll_sync.connectors.clients import IntegrationClients, integration_clients
from payroll_sync.connectors.ratelimit import SharedRateLimiter
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
        # The key layout, for what the worker keeps beside the runs (employment links, locks).
        self.keys = self.store.keys
        self.limiter = SharedRateLimiter.for_deployment(
            redis, prefix, max_wait=settings.worker.max_rate_wait_seconds
        )
        self._env = env
        self._timeout = aiohttp.ClientTimeout(total=settings.worker.request_timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[str, IntegrationClients] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Enough connections for every worker thread's record to have a request in flight.
            connector = aiohttp.TCPConnector(limit=100, limit_per_host=50)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    def integration(self, integration_id: str) -> Integration:
        return integration(self.settings, integration_id)

    def clients(self, integration_id: str) -> IntegrationClients:
        """This process's clients of one integration, made on first use and kept."""
        clients = self._clients.get(integration_id)
        if clients is None:
            settings = self.integration(integration_id)
            tokens = credentials(settings, self._env)
            clients = integration_clients(
                self.session,
                settings,
                tokens,
                timeout=self._timeout,
                limiter=self.limiter,
                limiter_key=integration_id,
            )
            self._clients[integration_id] = clients
        return clients

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.redis.aclose()
