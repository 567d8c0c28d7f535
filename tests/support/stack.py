"""The whole sync in this process (producer, Dramatiq worker threads, run store on the real
Redis) against running simulators, for the end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

from payroll_sync.schemas.settings import Settings, Worker
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.stack import Stack, local_stack, simulator_settings
from tests.support.keys import REDIS_URL, unique_prefix

INTEGRATION: Final = "demo"


@asynccontextmanager
async def isolated_stack(
    settings: Settings, env: Mapping[str, str], **options: Any
) -> AsyncIterator[Stack]:
    """`local_stack` on the real Redis under a key prefix of its own, removed when it stops;
    `options` as `local_stack` takes them (worker threads, no worker)."""
    async with local_stack(
        settings, env, redis_url=REDIS_URL, prefix=unique_prefix(), **options
    ) as stack:
        yield stack


@asynccontextmanager
async def sync_stack(
    sims: RunningSimulators,
    *,
    rate_limit_per_second: float = 200.0,
    worker: Worker | None = None,
    worker_threads: int = 8,
) -> AsyncIterator[Stack]:
    """The stack under a key prefix of its own, removed when it stops; retries come quickly."""
    settings, env = simulator_settings(
        sims,
        integration=INTEGRATION,
        rate_limit_per_second=rate_limit_per_second,
        worker=worker or Worker(first_retry_seconds=0.2, max_retry_delay_seconds=2.0),
    )
    async with isolated_stack(settings, env, worker_threads=worker_threads) as stack:
        yield stack
