"""Sync requests that arrive on the Dramatiq queue `requests` instead of over HTTP.

An upstream system (or anything with access to the broker) publishes the JSON of a
`SyncRequest`; a worker decodes it and submits it like the intake does. A body that is not a
request is logged (`request.malformed`) and dropped: retrying cannot fix it. A source that is
briefly unavailable is retried with backoff a bounded number of times; a refused request or a
configuration problem is logged and dropped.
"""

from __future__ import annotations

from typing import Any, Final

import dramatiq
import msgspec
import redis.asyncio as aioredis
import structlog

from payroll_sync.errors import Deferred, RequestRefused, Retryable, SyncError
from payroll_sync.producer.enrol import Expansion
from payroll_sync.producer.producer import Producer, Submit
from payroll_sync.queue import broker as broker_setup
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.worker.context import WorkerContext

log = structlog.get_logger("payroll_sync.producer")

#: A request whose source stays unavailable is given up after this many retries (~30 min).
MAX_REQUEST_RETRIES: Final = 12

_DECODER: Final = msgspec.json.Decoder(SyncRequest)


def retry_when(retries: int, exception: BaseException) -> bool:
    """Dramatiq's retry predicate: only what `handle_sync_request` asked to retry, and not
    forever (a bug or a refused request goes to the dead-letter queue at once)."""
    if not isinstance(exception, dramatiq.Retry):
        return False
    if retries >= MAX_REQUEST_RETRIES:
        log.error("request.gave_up", retries=retries, reason=str(exception))
        return False
    return True


#: Options of the `submit_sync_request` actor (registered in worker/actors.py).
ACTOR_OPTIONS: Final[dict[str, Any]] = {
    "queue_name": broker_setup.REQUEST_QUEUE,
    "retry_when": retry_when,
    "min_backoff": 2_000,
    "max_backoff": 300_000,
    # The bulk read of a large company, with rate-limit waits.
    "time_limit": 30 * 60 * 1000,
}


async def handle_sync_request(
    body: object,
    *,
    ctx: WorkerContext,
    submit: Submit | None = None,
) -> Expansion | None:
    """Submit the request in `body` with the worker's settings; the expansion, or None when it
    was dropped. `submit`: None for the deployment's `Producer` on the worker's Redis.

    Raises `dramatiq.Retry` when the source or Redis is briefly unavailable.
    """
    try:
        if not isinstance(body, str | bytes):
            raise msgspec.DecodeError(f"expected a JSON string, got {type(body).__name__}")
        request = _DECODER.decode(body)
    except msgspec.DecodeError as error:
        log.error("request.malformed", error=str(error))
        return None
    bound = log.bind(integration=request.integration, kind=request.kind, trigger=request.trigger)
    if submit is None:
        submit = Producer(ctx.redis, ctx.store.prefix, tokens=ctx.catalog).submit
    try:
        # A request for an integration added a moment ago may come before the next poll.
        await ctx.catalog.ensure(request.integration)
        expansion = await submit(request, ctx.settings)
    except RequestRefused as refused:
        bound.warning("request.refused", reason=str(refused))
        return None
    except (Retryable, Deferred) as busy:
        bound.warning("request.retrying", reason=busy.reason)
        delay = int(busy.delay * 1000) if busy.delay else None
        raise dramatiq.Retry(busy.reason, delay=delay) from None
    except SyncError as failed:
        bound.error("request.failed", reason=failed.reason)
        return None
    except aioredis.RedisError as error:
        bound.warning("request.retrying", reason=f"Redis: {type(error).__name__}")
        raise dramatiq.Retry("Redis is not answering") from None
    bound.info(
        "request.accepted",
        run_id=expansion.run_id,
        employees=len(request.employees) if request.employees else None,
        dry_run=request.dry_run,
        joined=expansion.joined,
        enqueued=expansion.enqueued,
    )
    return expansion
