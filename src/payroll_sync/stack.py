"""The whole service in one process: producer, an in-process Dramatiq worker, the run store.

Used by the demo, the integration tests and the benchmark against the simulators. With a Redis
URL it runs on the real Redis broker (its keys under a prefix of its own, removed afterwards);
without one it runs on Dramatiq's StubBroker and fakeredis (the `demo` extra, imported only
then), for machines without Redis.
Production runs the same pieces as separate processes (`payroll-sync worker`, `sync`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import ModuleType

import dramatiq
import redis.asyncio as aioredis
from dramatiq.brokers.redis import RedisBroker

from payroll_sync.catalog import LiveCatalog
from payroll_sync.errors import ConfigError
from payroll_sync.producer.enrol import Expansion
from payroll_sync.producer.producer import Producer
from payroll_sync.queue import broker as broker_setup
from payroll_sync.runs.store import RunStore, delete_keys
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome, Run
from payroll_sync.schemas.settings import Absences, Integration, Scope, Settings, Worker
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.worker.context import WorkerContext

SIMPLOYER_TOKEN_ENV = "STACK_SIMPLOYER_TOKEN"
PAYROLL_TOKEN_ENV = "STACK_PAYROLL_TOKEN"


def simulator_settings(
    sims: RunningSimulators,
    *,
    integration: str = "demo",
    rate_limit_per_second: float = 10.0,
    rate_limit_burst: int | None = None,
    scope: Scope | None = None,
    worker: Worker | None = None,
    absences: Absences | None = None,
) -> tuple[Settings, dict[str, str]]:
    """Settings for one integration against the simulators, and the environment with tokens."""
    settings = Settings(
        integrations={
            integration: Integration(
                simployer_url=sims.simployer_url,
                simployer_token_env=SIMPLOYER_TOKEN_ENV,
                payroll_url=sims.payroll_url,
                payroll_token_env=PAYROLL_TOKEN_ENV,
                rate_limit_per_second=rate_limit_per_second,
                rate_limit_burst=rate_limit_burst,
                scope=scope or Scope(),
                absences=absences or Absences(),
            )
        },
        worker=worker or Worker(),
    )
    env = {SIMPLOYER_TOKEN_ENV: sims.simployer_token, PAYROLL_TOKEN_ENV: sims.payroll_token}
    return settings, env


def import_fakeredis() -> ModuleType:
    """fakeredis, for running without a Redis server; a ConfigError saying what to install."""
    try:
        import fakeredis
    except ImportError:
        raise ConfigError(
            "no Redis server, and fakeredis (to run without one) is not installed: install the "
            "demo extra (pip install -e '.[demo]' in the checkout; `make demo` does), or set "
            "REDIS_URL to a Redis that answers"
        ) from None
    return fakeredis


async def redis_answers(url: str) -> bool:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        return bool(await client.ping())
    except (aioredis.RedisError, OSError):
        return False
    finally:
        await client.aclose()


@dataclass
class Stack:
    settings: Settings
    producer: Producer
    # The producer's Redis (real or fake), for tests that look at keys of their own.
    redis: aioredis.Redis
    broker: dramatiq.Broker
    uses_redis: bool
    worker: dramatiq.Worker | None = None
    runs: list[str] = field(default_factory=list)

    @property
    def store(self) -> RunStore:
        return self.producer.store

    @property
    def prefix(self) -> str:
        return self.store.prefix

    @property
    def env(self) -> Mapping[str, str]:
        """Where the integrations' tokens are read."""
        return self.producer.env or {}

    async def submit(self, request: SyncRequest) -> Expansion:
        expansion = await self.producer.submit(request, self.settings)
        self.runs.append(expansion.run_id)
        return expansion

    async def wait(self, run_id: str, *, max_seconds: float = 300.0) -> Run:
        return await self.store.wait_done(run_id, poll_seconds=0.05, max_seconds=max_seconds)

    async def sync(
        self, request: SyncRequest, *, max_seconds: float = 300.0
    ) -> tuple[Run, list[RecordOutcome]]:
        expansion = await self.submit(request)
        run = await self.wait(expansion.run_id, max_seconds=max_seconds)
        return run, await self.store.outcomes(run.id)


@asynccontextmanager
async def local_stack(
    settings: Settings,
    env: Mapping[str, str],
    *,
    redis_url: str | None,
    prefix: str | None = None,
    worker_threads: int = 8,
    start_worker: bool = True,
) -> AsyncIterator[Stack]:
    """Run the service in this process; on exit remove every key it wrote."""
    prefix = prefix or f"payroll-sync-{secrets.token_hex(4)}"
    if redis_url is None:
        fakeredis = import_fakeredis()
        server = fakeredis.FakeServer()

        def new_client() -> aioredis.Redis:
            client: aioredis.Redis = fakeredis.FakeAsyncRedis(server=server)
            return client
    else:

        def new_client() -> aioredis.Redis:
            return aioredis.Redis.from_url(redis_url)

    broker = broker_setup.installed()
    if broker is None:
        if redis_url is None:
            broker = broker_setup.install_stub()
        else:
            broker = broker_setup.install(
                broker_setup.redis_broker(redis_url, prefix=prefix, policy=settings.worker)
            )
    # Imported only now: importing the actors sets up a broker from the environment when none is.
    from payroll_sync.worker import actors

    redis = new_client()
    catalog = LiveCatalog.fixed(settings, env)
    producer = Producer(redis, prefix, env=env, tokens=catalog)
    # The worker's own client: connections belong to the event loop that uses them.
    actors.use_context(WorkerContext(catalog=catalog, redis=new_client(), prefix=prefix))
    worker = dramatiq.Worker(broker, worker_threads=worker_threads, worker_timeout=100)
    if start_worker:
        worker.start()
    stack = Stack(
        settings=settings,
        producer=producer,
        redis=redis,
        broker=broker,
        uses_redis=redis_url is not None,
        worker=worker if start_worker else None,
    )
    try:
        yield stack
    finally:
        if start_worker:
            await asyncio.to_thread(worker.stop)
        actors.use_context(None)
        await producer.store.delete_everything()
        if isinstance(broker, RedisBroker):
            # The queues of this broker's namespace (only ours: it carries a prefix of its own).
            await delete_keys(redis, f"{broker.namespace}:*")
        await redis.aclose()
