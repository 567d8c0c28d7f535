"""The whole sync in this process (producer, Dramatiq worker threads, run store on the real
Redis) against running simulators, for the end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from payroll_sync.schemas.settings import Worker
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.stack import Stack, local_stack, simulator_settings
from tests.support.keys import REDIS_URL, unique_prefix

INTEGRATION: Final = "demo"


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
    async with local_stack(
        settings, env, redis_url=REDIS_URL, prefix=unique_prefix(), worker_threads=worker_threads
    ) as stack:
        yield stack
