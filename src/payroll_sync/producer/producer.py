"""The producer: a sync request becomes a run and one queued task per record; failures are
retried.

One `Producer` per process, called by everything that starts work: the CLI's `sync`, the
scheduler, the intake (over HTTP and from the `requests` queue), the dashboard's retries and the
local stack.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Final
from zoneinfo import ZoneInfo

import aiohttp
import redis.asyncio as aioredis
import structlog

from payroll_sync.catalog import TokenSource
from payroll_sync.config import credentials, integration
from payroll_sync.connectors.clients import integration_clients
from payroll_sync.connectors.ratelimit import SharedRateLimiter
from payroll_sync.connectors.retrying import ReadRetry
from payroll_sync.errors import Retryable
from payroll_sync.producer.approval import approve_run, cancel_run
from payroll_sync.producer.brake import brake_count
from payroll_sync.producer.enrol import Enqueue, Expansion
from payroll_sync.producer.expand import expand_employee_sync
from payroll_sync.producer.expand_absences import expand_absence_sync
from payroll_sync.producer.retried_payroll import RetriedPayroll
from payroll_sync.producer.retry import RetryResult, retry_failures
from payroll_sync.queue.send import enqueue_tasks
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.brake import BrakeSummary
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Settings

OSLO: Final = ZoneInfo("Europe/Oslo")
#: The producer may wait this long for a slot of a shared rate limit: its bulk read must not be
#: deferred half-way (on the `requests` queue it holds one worker thread meanwhile).
PRODUCER_MAX_RATE_WAIT: Final = 120.0
#: Each bulk-read request (a page, a call) is retried alone on a transient fault for this long
#: before the request is given up as "try again later" (SPEC: never the whole listing).
READ_RETRY_FOR_SECONDS: Final = 600.0
#: The longest wait between two tries of one request (or the worker's setting, if shorter).
READ_RETRY_MAX_DELAY: Final = 30.0

#: What `Producer.submit` is, for those that only submit (the scheduler, the `requests` queue).
Submit = Callable[[SyncRequest, Settings], Awaitable[Expansion]]

log = structlog.get_logger("payroll_sync.producer")


def read_retry(settings: Settings) -> ReadRetry:
    """How the producer retries one request of its bulk reads."""
    return ReadRetry(
        first_delay=settings.worker.first_retry_seconds,
        max_delay=min(settings.worker.max_retry_delay_seconds, READ_RETRY_MAX_DELAY),
        give_up_after=READ_RETRY_FOR_SECONDS,
    )


def oslo_today(now: float) -> datetime.date:
    """Scope dates (the 90-day grace for leavers) are Norwegian calendar dates."""
    return datetime.datetime.fromtimestamp(now, OSLO).date()


class Producer:
    """Starts runs in the deployment whose Redis keys live under `prefix`.

    `tokens` hands out the integrations' tokens (the process's live catalog); without it they
    are read from the variables the settings name, in `env` (None: the process environment).
    `enqueue`
    sends tasks to the workers' queues: it is handed the tasks of a run in chunks (at most
    `enrol.ENQUEUE_CHUNK`) as the pages of the bulk read come in, each after it was enrolled.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str,
        *,
        env: Mapping[str, str] | None = None,
        enqueue: Enqueue = enqueue_tasks,
        tokens: TokenSource | None = None,
    ) -> None:
        self.store = RunStore(redis, prefix=prefix)
        # The bulk reads count against the same shared limit as the workers, but may wait
        # longer for it (PRODUCER_MAX_RATE_WAIT).
        self.limiter = SharedRateLimiter.for_deployment(
            redis, prefix, max_wait=PRODUCER_MAX_RATE_WAIT
        )
        self.env = env
        self.enqueue = enqueue
        self.tokens = tokens

    async def submit(self, request: SyncRequest, settings: Settings) -> Expansion:
        """Read both systems in bulk, and join or start the run, queueing its tasks as the
        pages come in.

        `settings` are those in force now (the scheduler re-reads its file while running).
        Raises `Retryable` only when one request kept failing for READ_RETRY_FOR_SECONDS (try
        again later); `ConfigError`/`RequestRefused` when a person must fix something.
        """
        chosen = integration(settings, request.integration)
        if self.tokens is not None:
            tokens = self.tokens.credentials(request.integration)
        else:
            tokens = credentials(chosen, self.env)
        started = time.time()
        timeout = aiohttp.ClientTimeout(total=settings.worker.request_timeout_seconds)
        policy = read_retry(settings)

        async def heard(error: Retryable, attempt: int, wait: float) -> None:
            log.info(
                "sync.read_retrying",
                integration=request.integration,
                kind=request.kind,
                attempt=attempt,
                delay_s=round(wait, 2),
                reason=error.reason,
            )

        async with aiohttp.ClientSession(timeout=timeout) as session:
            clients = integration_clients(
                session,
                chosen,
                tokens,
                timeout=timeout,
                limiter=self.limiter,
                limiter_key=request.integration,
                read_retry=policy,
                on_retry=heard,
            )
            payroll_api = RetriedPayroll(
                clients.payroll,
                policy,
                limiter=self.limiter,
                key=request.integration,
                on_retry=heard,
            )
            expand = expand_absence_sync if request.kind == "absences" else expand_employee_sync
            expansion = await expand(
                request,
                integration=chosen,
                hr=clients.simployer,
                payroll_api=payroll_api,
                store=self.store,
                enqueue=self.enqueue,
                today=oslo_today(started),
                # When the reads begin: snapshots are judged by it.
                now=started,
                brake=brake_count(request, chosen, settings.limits, self.store),
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
            held=expansion.held,
        )
        return expansion

    async def approve(self, run_id: str, *, by: str, now: float | None = None) -> BrakeSummary:
        """Release a run held by the mass-change brake: its records go to the workers.

        `by` says who ("dashboard:<operator>", "api:<caller>"). `RequestRefused` (saying the
        run's status) when the run is not awaiting approval (producer/approval.py)."""
        return await approve_run(
            run_id,
            by=by,
            store=self.store,
            enqueue=self.enqueue,
            now=time.time() if now is None else now,
        )

    async def cancel(self, run_id: str, *, by: str, now: float | None = None) -> BrakeSummary:
        """End a run held by the mass-change brake without writing anything (status
        `cancelled`). `RequestRefused` when the run is not awaiting approval."""
        return await cancel_run(
            run_id, by=by, store=self.store, now=time.time() if now is None else now
        )

    async def retry(self, ids: Iterable[str], *, now: float | None = None) -> list[RetryResult]:
        """Retry the failures `ids` (see producer/retry.py); one result per distinct id."""
        return await retry_failures(
            ids, store=self.store, enqueue=self.enqueue, now=time.time() if now is None else now
        )
