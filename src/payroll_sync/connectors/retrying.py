"""Retry one request (a page, a call) on a transient fault, with backoff: never the whole listing.

SPEC "Reading the two APIs": timeouts, 5xx and 429 are retried per request, so one failed page
is read again alone. A 429 waits what its Retry-After says and is not counted as a failure
(waiting for a rate limit never is); network errors, timeouts and 5xx wait an exponentially
growing, jittered delay (or the server's Retry-After). After `give_up_after` seconds of trying
one request the last `Retryable` is raised: the caller says "try again later".

Hand-written rather than a library (tenacity, backoff): the project has neither, and the rules
above (429 free, Retry-After honoured, a deadline per request) are a dozen lines.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import msgspec

from payroll_sync.errors import RateLimited, Retryable

T = TypeVar("T")

#: When the server names no delay for a 429, wait this long.
RATE_LIMITED_DEFAULT_WAIT: Final = 1.0

Sleep = Callable[[float], Awaitable[None]]
#: Called before each wait: the error, the attempt that failed (1, 2, ...) and the wait.
OnRetry = Callable[[Retryable, int, float], Awaitable[None]]


class ReadRetry(msgspec.Struct, kw_only=True, frozen=True):
    """How one request is retried."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    #: Seconds of retrying one request before its last error is raised.
    give_up_after: float = 600.0

    def backoff(self, failures: int) -> float:
        """The wait after the `failures`-th failure: doubling from `first_delay`, capped, with
        jitter (half to all of it) so that many processes do not retry in step."""
        ceiling: float = min(self.first_delay * 2.0 ** min(failures - 1, 30), self.max_delay)
        return ceiling * random.uniform(0.5, 1.0)


async def retried(
    call: Callable[[], Awaitable[T]],
    policy: ReadRetry,
    *,
    on_retry: OnRetry | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`call()`, again after each `Retryable` until it succeeds or `policy.give_up_after`."""
    deadline = clock() + policy.give_up_after
    failures = 0
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except RateLimited as error:
            caught: Retryable = error
            wait = error.delay if error.delay is not None else RATE_LIMITED_DEFAULT_WAIT
        except Retryable as error:
            caught = error
            failures += 1
            wait = error.delay if error.delay is not None else policy.backoff(failures)
        if clock() + wait > deadline:
            raise caught
        if on_retry is not None:
            await on_retry(caught, attempt, wait)
        await sleep(wait)
