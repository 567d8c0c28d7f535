"""What a worker process holds open: the live catalog, one aiohttp session, Redis, clients per
integration.

Created lazily on the AsyncIO middleware's event loop (sessions and Redis connections belong to
the loop that made them) and closed when the worker shuts down. The catalog is refreshed by a
task on that loop (`start_refreshing`); an integration's clients are made again when its
settings or tokens changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import aiohttp
import redis.asyncio as aioredis

from payroll_sync.catalog import Catalog, LiveCatalog
from payroll_sync.config import Credentials
from payroll_sync.connectors.clients import IntegrationClients, integration_clients
from payroll_sync.connectors.ratelimit import SharedRateLimiter
from payroll_sync.runs.store import RunStore
from payroll_sync.runs.written import WrittenValues
from payroll_sync.schemas.settings import Integration, Settings


class WorkerContext:
    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        prefix: str,
        catalog: LiveCatalog | None = None,
        settings: Settings | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`catalog`, or else `settings` (with the tokens' variables in `env`) that never
        change (tests, benchmarks)."""
        if catalog is None:
            if settings is None:
                raise TypeError("WorkerContext needs a catalog or settings")
            catalog = LiveCatalog.fixed(settings, env)
        self.catalog = catalog
        self.redis = redis
        self.store = RunStore(redis, prefix=prefix)
        # The key layout, for what the worker keeps beside the runs (employment links, locks).
        self.keys = self.store.keys
        # Digests of what we last wrote to 24SevenOffice (the drift report's, the brake's).
        self.written = WrittenValues(redis, prefix)
        worker = catalog.settings.worker
        self.limiter = SharedRateLimiter.for_deployment(
            redis, prefix, max_wait=worker.max_rate_wait_seconds
        )
        self._timeout = aiohttp.ClientTimeout(total=worker.request_timeout_seconds)
        self._session: aiohttp.ClientSession | None = None
        # id -> (the settings and tokens they were made with, the clients)
        self._clients: dict[str, tuple[Integration, Credentials, IntegrationClients]] = {}
        self._refresher: asyncio.Task[None] | None = None
        self._seen: Catalog = catalog.current

    @property
    def settings(self) -> Settings:
        """The settings in force now (they follow the catalog)."""
        return self.catalog.settings

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Enough connections for every worker thread's record to have a request in flight.
            connector = aiohttp.TCPConnector(limit=100, limit_per_host=50)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    def start_refreshing(self) -> None:
        """Follow the catalog from a task on the running loop (the worker's)."""
        if self._refresher is None:
            self._refresher = asyncio.get_running_loop().create_task(self.catalog.run())

    def integration(self, integration_id: str) -> Integration:
        return self.catalog.current.integration(integration_id)

    def clients(self, integration_id: str) -> IntegrationClients:
        """This process's clients of one integration, kept while its settings and tokens
        stay as they were."""
        current = self.catalog.current
        if current is not self._seen:
            # A new snapshot: the clients (and with them the tokens) of the integrations
            # removed from it go.
            self._seen = current
            known = current.settings.integrations
            for gone in [name for name in self._clients if name not in known]:
                del self._clients[gone]
        settings = current.integration(integration_id)
        tokens = current.credentials(integration_id)
        made = self._clients.get(integration_id)
        if made is not None and made[0] == settings and made[1] == tokens:
            return made[2]
        clients = integration_clients(
            self.session,
            settings,
            tokens,
            timeout=self._timeout,
            limiter=self.limiter,
            limiter_key=integration_id,
        )
        self._clients[integration_id] = (settings, tokens, clients)
        return clients

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        await self.catalog.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.redis.aclose()
