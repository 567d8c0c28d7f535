"""Redis clients that ride out a short Redis outage (a restart, a failover, a network blip).

Every command is retried on a connection error or timeout with exponential backoff, for about
a minute in all, before its error reaches the caller: redis-py's own mechanism (`retry` and
`retry_on_error` on the client, https://redis.readthedocs.io/en/stable/retry.html). A restarted
Redis still loading its AOF answers BUSY LOADING, a `ConnectionError` too, so it is waited out.

What may be sent twice by a retry is safe to repeat: the run store's scripts record an outcome
once, and a task message sent twice runs once (`record.already_finished`).
"""

from __future__ import annotations

from typing import Final

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry

#: Waits of 0.5, 1, 2, then 4 s: 20 retries span about 70 s of outage.
BACKOFF_BASE_SECONDS: Final = 0.25
BACKOFF_CAP_SECONDS: Final = 4.0
RETRIES: Final = 20

#: For a worker's own asyncio client: retry until Redis answers. A record waiting on Redis
#: holds nothing another worker could use, and a stop cancels the wait (worker/stopping.py).
FOREVER: Final = -1

#: What counts as Redis being away rather than a command being wrong.
UNAVAILABLE: Final = (ConnectionError, TimeoutError)


def outage_span_seconds(retries: int = RETRIES) -> float:
    """How long a command keeps being retried before its error is raised."""
    backoff = ExponentialBackoff(cap=BACKOFF_CAP_SECONDS, base=BACKOFF_BASE_SECONDS)
    return sum(backoff.compute(failures) for failures in range(1, retries + 1))


def async_client(url: str, *, retries: int = RETRIES) -> aioredis.Redis:
    """An asyncio client (run store, rate limiter, links) that waits out an outage."""
    backoff = ExponentialBackoff(cap=BACKOFF_CAP_SECONDS, base=BACKOFF_BASE_SECONDS)
    return aioredis.Redis.from_url(
        url, retry=AsyncRetry(backoff, retries), retry_on_error=list(UNAVAILABLE)
    )


def sync_client(url: str, *, retries: int = RETRIES) -> redis.Redis:
    """A blocking client (Dramatiq's broker) that waits out an outage."""
    backoff = ExponentialBackoff(cap=BACKOFF_CAP_SECONDS, base=BACKOFF_BASE_SECONDS)
    return redis.Redis.from_url(
        url, retry=Retry(backoff, retries), retry_on_error=list(UNAVAILABLE)
    )
