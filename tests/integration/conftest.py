"""Fixtures of the integration tests: both simulators on real loopback sockets (in a thread of
their own), the real Redis under a prefix per test, and the dashboard app on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from payroll_sync.dashboard.app import create_app
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import Task
from payroll_sync.simulators.serve import RunningSimulators, SimulatorOptions, SimulatorThread
from tests.support.dashboard import OPERATOR_TOKEN
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.postgres import database_url, registry, secret_keys  # noqa: F401 (fixtures)
from tests.support.recorders import Recorder

StartSimulators = Callable[..., RunningSimulators]


@pytest.fixture
def start_simulators() -> Iterator[StartSimulators]:
    """Start simulators with the given SimulatorOptions fields; all stop after the test."""
    with ExitStack() as stack:

        def start(**options: Any) -> RunningSimulators:
            options.setdefault("employees", 20)
            return stack.enter_context(SimulatorThread(SimulatorOptions(**options)))

        yield start


@pytest.fixture
def sims(start_simulators: StartSimulators) -> RunningSimulators:
    """Small company, no rate limit: for tests of API behaviour, not of throttling."""
    return start_simulators(
        employees=20, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    """A client of the real Redis."""
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def store(redis: aioredis.Redis) -> AsyncIterator[RunStore]:
    """A run store on the real Redis under a prefix of this test's own, emptied afterwards."""
    run_store = RunStore(redis, prefix=unique_prefix())
    yield run_store
    await run_store.delete_everything()


@pytest.fixture
def recorder() -> Recorder[Task]:
    """The dashboard's enqueue: what its retries would queue."""
    return Recorder()


@pytest.fixture
async def client(
    redis: aioredis.Redis, store: RunStore, recorder: Recorder[Task]
) -> AsyncIterator[TestClient[Any, Any]]:
    """The dashboard app behind aiohttp's test client, on the real Redis under `store`'s prefix."""
    producer = Producer(redis, store.prefix, enqueue=recorder)
    app = create_app(producer=producer, operator_token=OPERATOR_TOKEN, login_delay=0)
    async with TestClient(TestServer(app)) as client:
        yield client
