"""Submit a sync request: open the connections, expand it, enqueue its tasks.

Shared by the CLI, the demo and (later) the scheduler and the intake.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Mapping, Sequence
from typing import Final
from zoneinfo import ZoneInfo

import aiohttp
import structlog

from payroll_sync.config import credentials, integration
from payroll_sync.connectors.payroll import PayrollAuth, PayrollClient
from payroll_sync.connectors.ratelimit import RateLimit, SharedRateLimiter
from payroll_sync.connectors.simployer import SimployerClient
from payroll_sync.producer.expand import Expansion, expand_employee_sync
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import EmployeeTask, SyncRequest
from payroll_sync.schemas.settings import Settings

OSLO: Final = ZoneInfo("Europe/Oslo")

log = structlog.get_logger("payroll_sync.producer")


def oslo_today(now: float) -> datetime.date:
    """Scope dates (the 90-day grace for leavers) are Norwegian calendar dates."""
    return datetime.datetime.fromtimestamp(now, OSLO).date()


async def enqueue_employee_tasks(tasks: Sequence[EmployeeTask]) -> None:
    """Send each task to the employee actor (imported late: importing it sets up the broker)."""
    from payroll_sync.worker.actors import sync_employee_task
    from payroll_sync.worker.process_task import encode_task

    def send_all() -> None:
        for task in tasks:
            sync_employee_task.send(encode_task(task))

    # Dramatiq's broker client is synchronous.
    await asyncio.to_thread(send_all)


async def submit_sync(
    request: SyncRequest,
    *,
    settings: Settings,
    store: RunStore,
    limiter: SharedRateLimiter,
    env: Mapping[str, str] | None = None,
    now: float | None = None,
) -> Expansion:
    chosen = integration(settings, request.integration)
    tokens = credentials(chosen, env)
    started = time.time() if now is None else now
    limit = RateLimit(per_second=chosen.rate_limit_per_second, burst=chosen.burst)

    async def wait_for_slot() -> None:
        # The producer's bulk read counts against the same shared limit as the workers.
        await limiter.acquire(request.integration, limit)

    timeout = aiohttp.ClientTimeout(total=settings.worker.request_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        hr = SimployerClient(session, chosen.simployer_url, tokens.simployer_token, timeout=timeout)
        auth = PayrollAuth(
            session,
            chosen.payroll_url,
            tokens.payroll_token,
            before_request=wait_for_slot,
            timeout=timeout,
        )
        payroll_api = PayrollClient(
            session, chosen.payroll_url, auth, before_request=wait_for_slot, timeout=timeout
        )
        expansion = await expand_employee_sync(
            request,
            integration=chosen,
            hr=hr,
            payroll_api=payroll_api,
            store=store,
            enqueue=enqueue_employee_tasks,
            today=oslo_today(started),
            now=started,
        )
    log.info(
        "sync.requested",
        integration=request.integration,
        run_id=expansion.run_id,
        kind=request.kind,
        trigger=request.trigger,
        dry_run=request.dry_run,
        in_scope=expansion.in_scope,
        enqueued=expansion.enqueued,
        joined=expansion.joined,
    )
    return expansion
