"""What becomes of a record whose attempt raised: record it, retry it, or defer it. Pure.

`process_task` runs the record and applies the verdict; everything decided here is tested by
tables, with the clock and the jitter passed in.
"""

from __future__ import annotations

from typing import Final

import msgspec

from payroll_sync.errors import Deferred, RateLimited, Retryable
from payroll_sync.schemas.messages import Task
from payroll_sync.schemas.settings import Worker
from payroll_sync.worker.result import SyncResult

#: Seconds to wait after a 429 that did not say how long (no Retry-After).
RATE_LIMITED_DEFAULT_WAIT: Final = 1.0


class Record(msgspec.Struct, frozen=True):
    """Stop here: the record ends with this result."""

    result: SyncResult
    # The type of the unexpected exception that ended it, if one did (logged, never its text).
    crash: str = ""


class Retry(msgspec.Struct, frozen=True):
    """Send `task`, the next attempt, after `delay` seconds."""

    task: Task
    delay: float
    reason: str


class Defer(msgspec.Struct, frozen=True):
    """Put `task` back for `delay` seconds: a wait, not a failed attempt. `penalise`: push the
    shared 24SevenOffice limiter back by as long (its own 429), so no worker sends before."""

    task: Task
    delay: float
    reason: str = ""
    penalise: bool = False


Verdict = Record | Retry | Defer


def retry_delay(
    *,
    attempt: int,
    first_attempt_at: float,
    now: float,
    server_delay: float | None,
    policy: Worker,
    jitter: float,
) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when the retry time is used up.

    Exponential backoff from `first_retry_seconds`, capped at `max_retry_delay_seconds`, spread
    by `jitter` (0..1, up to +25%) so records that failed together do not return together; never
    sooner than the server asked (Retry-After).
    """
    backoff = policy.first_retry_seconds * 2.0 ** max(attempt - 1, 0)
    delay = min(backoff, policy.max_retry_delay_seconds) * (1.0 + 0.25 * jitter)
    if server_delay is not None:
        delay = max(delay, server_delay)
    if now + delay - first_attempt_at > policy.retry_for_hours * 3600.0:
        return None
    return delay


def verdict(
    error: Exception, task: Task, *, started: float, now: float, policy: Worker, jitter: float
) -> Verdict:
    """The verdict on `task`, whose attempt began at `started` and raised `error`."""
    window = task.window_start(started=started)
    hours = f"{policy.retry_for_hours:g}"
    match error:
        case Deferred(delay=delay) | RateLimited(delay=delay) if _window_used_up(
            window, now + (delay or RATE_LIMITED_DEFAULT_WAIT), policy
        ):
            # A wait is not a failed attempt, but it does not go on for ever: an API that keeps
            # answering 429 (a rate limit set above the company's real one) would otherwise
            # keep the record, and its run, unfinished.
            waited = f"still rate limited after {task.deferrals} waits in {hours} h"
            return Record(SyncResult(outcome="failed", reason=f"{waited}: {_why(error)}"))
        case Deferred(delay=delay):
            return Defer(task.deferral(started=started), delay)
        case RateLimited(delay=delay, api=api, reason=reason):
            # A 429 is a wait, never a failed attempt; without Retry-After, wait a little.
            wait = delay or RATE_LIMITED_DEFAULT_WAIT
            return Defer(task.deferral(started=started), wait, reason, penalise=api == "payroll")
        case Retryable(delay=server_delay, reason=reason):
            backoff = retry_delay(
                attempt=task.attempt,
                first_attempt_at=window,
                now=now,
                server_delay=server_delay,
                policy=policy,
                jitter=jitter,
            )
            if backoff is not None:
                return Retry(task.next_attempt(started=started), backoff, reason)
            gave_up = f"gave up after {task.attempt} attempts in {hours} h: {reason}"
            return Record(SyncResult(outcome="failed", reason=gave_up))
        case _:
            # A bug, not a data problem (the runners return data problems as results): the
            # record still ends, visible and retryable.
            crash = type(error).__name__
            internal = f"internal error ({crash}); retry it later"
            return Record(SyncResult(outcome="failed", reason=internal), crash=crash)


def _window_used_up(window: float, until: float, policy: Worker) -> bool:
    return until - window > policy.retry_for_hours * 3600.0


def _why(error: Exception) -> str:
    """What kept the record waiting, in words that name no value."""
    if isinstance(error, RateLimited):
        return f"{error.reason}; lower the integration's rate limit (rate_limit_per_second)"
    return "the integration's shared rate limit had no free slot"
